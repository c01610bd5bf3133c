"""Counters of the examples trained on in a metrics CSV (OpenAI's logger writes `samples`, (step + 1) * batch, beside
`step` in progress.csv) are a second clock, not metrics (ingest/readers/csv_metrics.py, _COUNTER_COLUMNS), first met
in a real-world healthy log (issue 8, session 35:
tests/corpus/realworld/g15s35-improved-diffusion-kernel-prior-progress-csv-10k-steps)."""

from __future__ import annotations

from pathlib import Path

from traindoc.ingest.loader import load_run

REALWORLD = Path(__file__).parent / "corpus" / "realworld"


def test_corpus_entry_reads_no_samples_series() -> None:
    run = load_run([REALWORLD / "g15s35-improved-diffusion-kernel-prior-progress-csv-10k-steps" / "run"])
    assert "samples" not in run.metrics
    assert {"loss", "grad_norm", "loss_q0", "loss_q3"} <= set(run.metrics)
    assert len(run.metrics["loss"]) == 1039


def test_openai_logger_progress_csv(tmp_path: Path) -> None:
    rows = "".join(f"{1.0 / (s + 1):.4f},{0.5},{(s + 1) * 64},{s}\n" for s in range(0, 200, 10))
    (tmp_path / "progress.csv").write_text("loss,grad_norm,samples,step\n" + rows)
    run = load_run([tmp_path])
    assert "samples" not in run.metrics and len(run.metrics["loss"]) == 20


def test_a_metric_named_after_samples_is_kept(tmp_path: Path) -> None:
    rows = "".join(f"{s},{1.0 / (s + 1):.4f},{100.0 + s}\n" for s in range(8))
    (tmp_path / "metrics.csv").write_text("step,loss,samples_per_second\n" + rows)
    run = load_run([tmp_path])
    assert {"loss", "samples_per_second"} <= set(run.metrics)
