"""Identifier columns of a generic CSV table (the run's seed, a cross-validation fold, a process rank) are not read
as metrics (ingest/readers/csv_metrics.py, _ID_COLUMNS), as the text-log reader drops the same keys."""

from __future__ import annotations

from pathlib import Path

from traindoc.ingest.loader import load_run

HEADER = "pathology,seed,epoch,train_loss,eval_loss,pair_acc\n"
ROWS = "".join(f"high_weight_decay,0,{e},{4.0 / (e + 1):.4f},{4.2 / (e + 1):.4f},0.5\n" for e in range(6))


def test_a_seed_column_is_not_a_metric(tmp_path: Path) -> None:
    (tmp_path / "results.csv").write_text(HEADER + ROWS)
    run = load_run([tmp_path])
    assert "seed" not in run.metrics
    assert {"loss", "eval_loss", "pair_acc"} <= set(run.metrics)
    assert len(run.metrics["loss"]) == 6


def test_a_metric_that_only_contains_an_identifier_word_is_kept(tmp_path: Path) -> None:
    (tmp_path / "results.csv").write_text("epoch,loss,seed_loss,rank_acc\n" +
                                          "".join(f"{e},{1.0 / (e + 1)},{0.5 / (e + 1)},0.{e}\n" for e in range(5)))
    run = load_run([tmp_path])
    assert {"loss", "seed_loss", "rank_acc"} <= set(run.metrics)
