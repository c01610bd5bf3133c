"""A JSON-lines log that more than one process appends to (jsonl_metrics.COPY_WINDOW): LLaMA-Factory's
trainer_log.jsonl of a two-GPU run holds every logging step twice ("current_steps": 10 twice, losses 0.8548 and
0.8547), later with one process a few rows behind (1510, 1500, 1520, 1510, ...). A row with the step and fields of one
of the last few rows is that step's copy: the first is read. A resumed run's return to its checkpoint, dozens of rows
back, is no copy: its rows are the last logged and win, as before. First met in the real-world healthy log
tests/corpus/realworld/g11s34-llamafactory-qwen25-3b-full-sft-acereason-2rank-log."""

from __future__ import annotations

from pathlib import Path

from traindoc.ingest.model import Run
from traindoc.ingest.readers.jsonl_metrics import read_jsonl

REALWORLD = Path(__file__).parent / "corpus" / "realworld"
TWO = REALWORLD / "g11s34-llamafactory-qwen25-3b-full-sft-acereason-2rank-log" / "run" / "trainer_log.jsonl"
ONE = REALWORLD / "g11s34-llamafactory-qwen25-7b-qlora-medical-sft" / "run" / "trainer_log.jsonl"
ROWS = TWO.read_text().splitlines(keepends=True)


def _read(tmp_path: Path, text: str):
    path = tmp_path / "trainer_log.jsonl"
    path.write_text(text)
    run = Run()
    src = read_jsonl(path, run)
    run.finalize()
    loss = run.metrics["loss"]
    return src, [(int(s), float(v)) for s, v in zip(loss.steps, loss.values, strict=True)]


def _copies(src) -> bool:
    return any("more than one process" in w for w in src.warnings)


def test_pairs_of_rows_read_once(tmp_path):
    src, loss = _read(tmp_path, "".join(ROWS[:6]))  # steps 10, 10, 20, 20, 30, 30
    assert loss == [(10, 0.8547), (20, 0.7463), (30, 0.7308)]
    assert src.records == 3 and _copies(src)


def test_process_a_row_behind_is_a_copy(tmp_path):
    src, loss = _read(tmp_path, "".join(ROWS[299:309]))  # 1510, 1500, 1520, 1510, ... (file lines 300-309)
    assert [s for s, _ in loss] == [1500, 1510, 1520, 1530, 1540, 1550]
    assert dict(loss)[1510] == 0.5366  # the last row of step 1510
    assert src.records == 6


def test_whole_two_process_log_keeps_the_resume(tmp_path):
    src, loss = _read(tmp_path, TWO.read_text())
    steps = [s for s, _ in loss]
    assert len(steps) == len(set(steps)) == 656
    # the resumed run (elapsed time back at 0:02:38, 47 rows after step 5010 was first logged) is no copy: counted
    assert dict(loss)[5010] == 0.394
    assert src.records == 1360 - 679


def test_detectron2_start_repeated_keeps_the_later_record(tmp_path):
    # detectron2's metrics.json of a run started twice: its iteration-19 record twice, the second start's is the run's
    path = REALWORLD / "g13-detectron2-balloon-metrics-json-300it" / "run" / "metrics.json"
    (tmp_path / "metrics.json").write_text(path.read_text())
    run = Run()
    src = read_jsonl(tmp_path / "metrics.json", run)
    run.finalize()
    assert _copies(src)
    assert round(float(run.metrics["loss_cls"].values[0]), 4) == 0.7157  # the later record (the first gave 0.7250)


def test_one_process_log_has_no_copies(tmp_path):
    src, _ = _read(tmp_path, ONE.read_text())
    assert not _copies(src)
    assert src.records == len([r for r in ONE.read_text().splitlines() if r.strip()])
