"""tools/excerpt_eval.py: the excerpt views of a run folder (not their figures): which lines each view keeps, that
only line-oriented log files are cut, and that the views are written outside the run folder."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import excerpt_eval  # noqa: E402


def test_each_view_keeps_its_part_of_the_lines() -> None:
    lines = [str(i) for i in range(12)]
    assert excerpt_eval.cut(lines, "tail") == lines[9:]
    assert excerpt_eval.cut(lines, "head") == lines[:3]
    assert excerpt_eval.cut(lines, "gap") == lines[:4] + ["..."] + lines[8:]
    assert excerpt_eval.cut(lines, "whole") == lines


def test_only_log_files_are_cut_and_the_run_folder_is_left_alone(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    log = "\n".join(f"step {i} loss {1 / (i + 1):.4f}" for i in range(40)) + "\n"
    (run / "train.log").write_text(log, encoding="utf-8")
    state = json.dumps({"log_history": [{"step": i, "loss": 1.0} for i in range(40)]}, indent=1)
    (run / "trainer_state.json").write_text(state, encoding="utf-8")
    out = excerpt_eval.write_view(run, "tail", tmp_path / "views" / "tail")
    assert (out / "train.log").read_text(encoding="utf-8").splitlines()[0] == "step 30 loss 0.0323"
    assert (out / "trainer_state.json").read_text(encoding="utf-8") == state  # a JSON document is never split
    assert (run / "train.log").read_text(encoding="utf-8") == log
