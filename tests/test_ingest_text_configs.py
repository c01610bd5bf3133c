"""Config readers: every value with its file, line and exact source text, so a fix can replace it byte-exactly."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from traindoc.ingest.model import Run
from traindoc.ingest.readers import config_files as cf
from traindoc.ingest.registry import ReadError

DATA = Path(__file__).parent / "data" / "configs"


def read(reader, path: Path) -> Run:
    run = Run()
    reader(path, run)
    return run


def assert_exact(cv, path: Path) -> None:
    """The recorded text really is what the file says on the recorded line."""
    assert cv.text and cv.text in path.read_text().splitlines()[cv.line - 1]


def test_yaml_values_lines_and_text():
    path = DATA / "phase1_config.yaml"
    assert cf.sniff_yaml(path, path.read_bytes()) >= 0.5
    run = read(cf.read_yaml, path)
    lr = run.config["optim.muon_lr"]
    assert (lr.value, lr.line, lr.text, lr.kind) == (0.01, 8, "1e-2", "yaml")  # YAML 1.1 string coerced
    assert run.config["model.tie_embeddings"].value is True
    assert run.config["optim.betas"].value == [0.9, 0.95]
    assert run.config["data.name"].text == '"reasoning-curriculum"'
    assert run.config["data.stages.1.steps"].value == 200
    assert run.config_value("muon_lr") is lr
    for cv in run.config.values():
        assert_exact(cv, path)


def test_yaml_wandb_wrappers_and_python_tags(tmp_path):
    p = tmp_path / "config.yaml"
    p.write_text("learning_rate:\n  desc: null\n  value: 5e-05\n_wandb:\n  value:\n    cli_version: 0.16.0\n"
                 "model: !!python/object:argparse.Namespace\n  lr: 0.1\n")
    run = read(cf.read_yaml, p)
    assert run.config["learning_rate"].value == 5e-05 and run.config["learning_rate"].line == 3
    assert run.config["model.lr"].value == 0.1  # the tag is composed, never constructed


def test_json_values_lines_and_text():
    path = DATA / "training_args.json"
    assert cf.sniff_json(path, path.read_bytes()) >= 0.5
    run = read(cf.read_json, path)
    lr = run.config["training_args.learning_rate"]
    assert (lr.value, lr.line, lr.text) == (5e-05, 3, "5e-05")
    assert run.config["training_args.report_to"].value == ["tensorboard"]
    assert run.config["training_args.fp16"].value is False
    for cv in run.config.values():
        assert_exact(cv, path)


def test_json_nan_and_trainer_state_is_not_a_config(tmp_path):
    p = tmp_path / "hparams.json"
    p.write_text('{"a": {"b": NaN, "c": -Infinity}, "d": [1, {"e": 2}]}')
    run = read(cf.read_json, p)
    assert run.config["a.b"].text == "NaN" and run.config["a.c"].value == float("-inf")
    assert run.config["d"].value == [1, {"e": 2}]
    state = tmp_path / "trainer_state.json"
    state.write_text('{"log_history": []}')
    assert cf.sniff_json(state, state.read_bytes()) == 0.0


def test_python_module_assignments_nanogpt_style():
    path = DATA / "config" / "train_shakespeare_char.py"
    assert cf.sniff_python(path, path.read_bytes()) >= 0.5
    run = read(cf.read_python, path)
    lr = run.config["learning_rate"]
    assert (lr.value, lr.line, lr.text, lr.kind) == (1e-3, 13, "1e-3", "python_assign")
    assert run.config["tokens_per_iter"].value == 4096 and run.config["tokens_per_iter"].text == "2**10 * 4"
    assert run.config["out_dir"].text == "'out-shakespeare-char'"
    for cv in run.config.values():
        assert_exact(cv, path)


def test_python_dataclass_and_argparse_defaults():
    path = DATA / "train_args.py"
    run = read(cf.read_python, path)
    muon = run.config["OptimConfig.muon_lr"]
    assert (muon.value, muon.line, muon.text, muon.kind) == (1e-2, 8, "1e-2", "dataclass_default")
    assert run.config["OptimConfig.adam_lr"].text == "3e-4"  # field(default=...)
    lr = run.config["args.lr"]
    assert (lr.value, lr.line, lr.text, lr.kind) == (6e-4, 17, "6e-4", "argparse_default")
    assert run.config["args.warmup_steps"].value == 0
    assert run.config["args.batch_size"].value == 32  # dest= wins over the flag
    for cv in run.config.values():
        assert_exact(cv, path)


def test_python_sniff_ignores_plain_code(tmp_path):
    p = tmp_path / "model.py"
    p.write_text("import torch\n\nclass Block(torch.nn.Module):\n    def forward(self, x):\n        return x\n")
    assert cf.sniff_python(p, p.read_bytes()) == 0.0


def test_training_args_bin_real_transformers(tmp_path):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    args = transformers.TrainingArguments(output_dir=str(tmp_path / "o"), learning_rate=1e-2, warmup_steps=0,
                                          max_grad_norm=0.0, report_to=[])
    p = tmp_path / "training_args.bin"
    torch.save(args, p)  # exactly what Trainer._save does
    assert cf.sniff_training_args_bin(p, p.read_bytes()[:100]) > 0.5
    run = read(cf.read_training_args_bin, p)
    assert run.config["training_args.learning_rate"].value == 1e-2
    assert run.config["training_args.max_grad_norm"].value == 0.0
    assert run.config["training_args.lr_scheduler_type"].value == "linear"  # an enum, kept as its value
    assert run.config["training_args.learning_rate"].kind == "pickle"


class _Evil:
    def __reduce__(self):
        import os

        return (os.system, ("touch PWNED",))


def test_training_args_bin_never_runs_code(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    p = tmp_path / "training_args.bin"
    p.write_bytes(pickle.dumps({"learning_rate": 0.1, "x": _Evil()}))
    run = read(cf.read_training_args_bin, p)
    assert not (tmp_path / "PWNED").exists()
    assert run.config["training_args.learning_rate"].value == 0.1


@pytest.mark.parametrize("reader, name, content", [
    (cf.read_yaml, "c.yaml", b"a: [1, 2\nb: {"),
    (cf.read_json, "c.json", b'{"a": 1, "b": '),
    (cf.read_json, "c.json", b"[1, 2]"),
    (cf.read_python, "c.py", b"x = (1,\n"),
    (cf.read_training_args_bin, "training_args.bin", b"\x80\x04garbage"),
    (cf.read_yaml, "c.yaml", b"\x00\x01\x02binary"),
])
def test_broken_configs_raise_one_line(tmp_path, reader, name, content):
    p = tmp_path / name
    p.write_bytes(content)
    with pytest.raises(ReadError) as err:
        reader(p, Run())
    assert "\n" not in str(err.value)


def test_yaml_merge_keys_and_block_lists(tmp_path):
    p = tmp_path / "exp.yaml"
    p.write_text("defaults: &d\n  lr: 1.0e-3\n  warmup: 100\nrun:\n  <<: *d\n  lr: 5.0e-3\n  betas:\n    - 0.9\n"
                 "    - 0.95\n")
    run = read(cf.read_yaml, p)
    assert run.config["run.lr"].value == 5e-3 and run.config["run.lr"].line == 6  # explicit key beats the merge
    assert run.config["run.warmup"].value == 100 and run.config["run.warmup"].line == 3
    assert run.config["run.betas"].value == [0.9, 0.95]


def test_python_dicts_calls_absl_and_click(tmp_path):
    p = tmp_path / "exp_config.py"
    p.write_text(
        "import click\nfrom absl import flags\n"
        "config = {\n    'optim': {'lr': 3e-4, 'betas': (0.9, 0.95)},\n    'warmup': 0,\n}\n"
        "model_cfg = GPTConfig(n_layer=12, vocab_size=50257)\n"
        "flags.DEFINE_float('learning_rate', 1e-3, 'peak LR')\n"
        "@click.command()\n@click.option('--grad-clip', default=0.0)\ndef main(grad_clip):\n    pass\n")
    run = read(cf.read_python, p)
    lr = run.config["config.optim.lr"]
    assert (lr.value, lr.line, lr.text) == (3e-4, 4, "3e-4")
    assert run.config["config.warmup"].line == 5
    assert run.config["model_cfg.vocab_size"].value == 50257 and run.config["model_cfg.vocab_size"].text == "50257"
    assert run.config["flags.learning_rate"].value == 1e-3
    assert run.config["args.grad_clip"].value == 0.0
    for cv in run.config.values():
        assert_exact(cv, p)
