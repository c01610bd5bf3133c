"""A YAML config printed under a lone "Config:" line (a Flax script logging its ml_collections ConfigDict) is read
as configuration, not as one-point metric series (ingest/readers/_config_block.py)."""

from __future__ import annotations

from pathlib import Path

from textlog_support import read_text
from traindoc.ingest.loader import load_run

REALLIB = Path(__file__).parent / "corpus" / "reallib"


def test_flax_config_block_is_configuration():
    run = load_run([str(REALLIB / "flax-scheduler_misuse-s0" / "run")])
    assert run.series("lr") is None and run.series("norm_eps") is None and run.series("seed") is None
    lr = run.config["lr"]
    assert lr.value == 0.03189993060202582 and lr.line == 11  # "lr: 0.03189993060202582", line 11 of the log
    assert run.config["optimizer"].value == "sgd" and run.config["bias_init"].value is None
    # the epoch lines after the block are still metrics
    assert len(run.series("loss")) == 19 and run.series("eval_loss") is not None


def test_nested_sections_get_dotted_keys_and_the_block_ends_at_a_metric_line(tmp_path):
    run = read_text(tmp_path, (
        "I1206 00:58:34.851924 1401 main.py:80] Config:\n"
        "model:\n"
        "  depth: 4\n"
        "  act: gelu\n"
        "optim:\n"
        "  lr: 0.001\n"
        "  betas: [0.9, 0.95]\n"
        "batch: 32\n"
        "I1206 00:58:35.000000 1401 main.py:90] epoch:  1, train_loss: 0.9, test_loss: 0.8\n"
        "I1206 00:58:36.000000 1401 main.py:90] epoch:  2, train_loss: 0.7, test_loss: 0.7\n"
    ))
    assert run.config["model.depth"].value == 4 and run.config["optim.lr"].value == 0.001
    assert run.config["optim.betas"].value == "[0.9, 0.95]" and run.config["batch"].value == 32
    assert run.series("lr") is None and run.series("depth") is None
    assert run.series("loss") is not None and len(run.series("loss")) == 2


def test_key_value_lines_without_a_header_stay_metrics(tmp_path):
    # silent: no lone "Config:" line opens a block, so bare "loss: x" lines keep their metric reading
    run = read_text(tmp_path, "starting\nloss: 0.9\nloss: 0.8\nloss: 0.7\n")
    assert run.series("loss") is not None and len(run.series("loss")) == 3
    assert "loss" not in run.config


def test_a_header_with_text_after_it_opens_no_block(tmp_path):
    # silent: "Config: loaded from x.yaml" is a message, not the header of a printed block
    run = read_text(tmp_path, "Config: loaded from x.yaml\nloss: 0.9\nloss: 0.8\n")
    assert run.series("loss") is not None and len(run.series("loss")) == 2
