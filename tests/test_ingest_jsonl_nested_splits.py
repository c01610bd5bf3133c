"""JSON lines whose records nest the metrics under the split's name (protonets' trace.txt), and the options dump
beside them (opt.json)."""

from __future__ import annotations

from pathlib import Path

import pytest

from traindoc.ingest.loader import load_run
from traindoc.ingest.readers import config_files, jsonl_metrics

ROOT = Path(__file__).resolve().parent / "corpus" / "realworld"
TRACE = (  # g17s35-protonets-omniglot-60way-trace-35ep, the first two lines (exact)
    '{"train": {"loss": 0.5534006308019165, "acc": 0.8444333371520043}, "val": {"loss": 0.05277129630242599, '
    '"acc": 0.9844000053405763}, "epoch": 1}\n'
    '{"train": {"loss": 0.23278831832110877, "acc": 0.9341333335638046}, "val": {"loss": 0.03217298003524775, '
    '"acc": 0.9890666711330415}, "epoch": 2}\n'
)


def test_a_nested_split_trace_is_claimed_by_the_jsonl_reader(tmp_path):
    p = tmp_path / "trace.txt"
    p.write_text(TRACE)
    # judged by its flattened keys (train.loss, val.loss): above the text-log reader's 0.55 for a .txt of pairs
    assert jsonl_metrics.sniff_jsonl(p, p.read_bytes()) >= 0.7
    run = load_run([tmp_path])
    assert run.series("loss").values.tolist() == pytest.approx([0.5534006308019165, 0.23278831832110877])
    assert run.series("eval_loss").values.tolist() == pytest.approx([0.05277129630242599, 0.03217298003524775])
    assert run.series("eval_accuracy").values[-1] == pytest.approx(0.9890666711330415)


def test_the_real_trace_and_its_options():
    run = load_run([ROOT / "g17s35-protonets-omniglot-60way-trace-35ep" / "run"])
    assert len(run.series("loss")) == len(run.series("eval_loss")) == 35
    # opt.json is the run's options, not 16 one-point metric series
    assert run.config["data.way"].value == 60 and run.config["train.learning_rate"].value == 0.001
    assert run.series("data.way") is None


def test_flat_records_and_one_line_results_score_as_before(tmp_path):
    flat = tmp_path / "log.txt"
    flat.write_text('{"train_loss": 10.4, "train_lr": 0.0, "epoch": 0}\n{"train_loss": 10.5, "train_lr": 1e-4, '
                    '"epoch": 1}\n')
    assert jsonl_metrics.sniff_jsonl(flat, flat.read_bytes()) == pytest.approx(0.7)
    # a nested record with no metric under it (a config's sections) gains nothing
    cfg = tmp_path / "events.txt"
    cfg.write_text('{"data": {"path": "x", "size": 3}, "model": {"depth": 4}}\n'
                   '{"data": {"path": "y", "size": 5}, "model": {"depth": 2}}\n')
    assert jsonl_metrics.sniff_jsonl(cfg, cfg.read_bytes()) == pytest.approx(0.5)


@pytest.mark.parametrize("name", ["opt.json", "opts.json", "options.json"])
def test_options_dumps_are_configs(tmp_path, name):
    p = tmp_path / name
    p.write_text('{"data.way": 60, "train.learning_rate": 0.001, "train.epochs": 10000}')
    assert config_files.sniff_json(p, p.read_bytes()) == 0.65
    # the jsonl reader's one-record score stays below it
    assert jsonl_metrics.sniff_jsonl(p, p.read_bytes()) < 0.65
