"""Phase 1 config: YAML file + --set overrides round-trip through the saved effective config."""

from __future__ import annotations

import pytest
import yaml

from phase1.config import ConfigError, build_config, config_from_dict, dump_yaml, load_yaml


def test_yaml_and_set_overrides_round_trip(tmp_path):
    user = tmp_path / "user.yaml"
    user.write_text("optim:\n  muon_lr: 0.01\n  warmup_steps: 0\ntrain.epochs: 7\n")  # nested and dotted keys
    cfg = build_config("memory", yaml_path=user, sets=["optim.grad_clip=0", "model.tie_embeddings=false",
                                                       "optim.adam_betas=[0.8, 0.99]"])
    assert cfg.optim.muon_lr == 0.01 and cfg.optim.warmup_steps == 0 and cfg.train.epochs == 7
    assert cfg.optim.grad_clip == 0.0 and cfg.model.tie_embeddings is False
    assert cfg.optim.adam_betas == (0.8, 0.99)
    assert cfg.model.act_max_steps == 2  # from the memory preset

    saved = tmp_path / "config.yaml"
    dump_yaml(cfg, saved)
    tree = yaml.safe_load(saved.read_text())
    assert set(tree) == {"model", "optim", "data", "train"} and tree["optim"]["muon_lr"] == 0.01
    assert config_from_dict(tree) == cfg
    assert build_config("reasoning", yaml_path=saved) == cfg  # the dump alone reproduces the run's config
    assert load_yaml(saved)["optim.grad_clip"] == 0.0


def test_set_beats_yaml_and_types_are_enforced(tmp_path):
    user = tmp_path / "c.yaml"
    user.write_text("optim.muon_lr: 0.01\n")
    assert build_config(yaml_path=user, sets=["optim.muon_lr=5e-3"]).optim.muon_lr == 5e-3
    with pytest.raises(ConfigError, match="unknown config key"):
        build_config(sets=["optim.muon_lrr=1"])
    with pytest.raises(ConfigError, match="expected a number"):
        build_config(sets=["optim.muon_lr=fast"])
    with pytest.raises(ConfigError, match="integer"):
        build_config(sets=["train.epochs=2.5"])
    with pytest.raises(ConfigError, match="key=value"):
        build_config(sets=["optim.muon_lr"])
    with pytest.raises(ConfigError, match="divisible"):
        build_config(sets=["model.n_heads=7"])
    user.write_text("optim: [1, 2\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        build_config(yaml_path=user)


def test_cli_reports_a_bad_key_in_one_line(capsys):
    from phase1.train_phase1 import main

    assert main(["--test", "--set", "optim.nope=1", "--out", "unused"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("phase1-train: unknown config key") and "\n" not in err
