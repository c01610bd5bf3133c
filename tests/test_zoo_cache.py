"""tests/zoo_cache.py's shared trainings hand an asker the run a training in its own folder would have produced: the
same numbers as a fresh training of the same files, its warnings citing the asker's files, and no second training
(the copy carries the first training's wall-clock times). A tiny form of a scenario that warns at every step."""

from __future__ import annotations

from pathlib import Path

import pytest

from zoo_cache import scenarios, shared_training

pytestmark = pytest.mark.slow
TINY = {"train.epochs": 1, "train.steps_per_epoch": 3, "train.batch_size": 2}


def _records(run: Path, kind: str) -> list[dict]:
    return [r for r in scenarios.read_records(run) if r["type"] == kind]


def test_a_shared_run_is_the_training_of_the_askers_files(tmp_path: Path) -> None:
    first, second, fresh = (scenarios.materialise("act_variance_collapse", tmp_path / n, reduced=True, extra=TINY)
                            for n in ("first", "second", "fresh"))
    assert shared_training(first, ["--out", "run"], timeout=300).returncode == 0
    assert shared_training(second, ["--out", "run-fixed"], timeout=300).returncode == 0
    assert scenarios.train_workspace(fresh, out=fresh / "run", quiet=True, timeout=300) == 0
    steps = [_records(ws / out, "step") for ws, out in ((first, "run"), (second, "run-fixed"), (fresh, "run"))]
    assert steps[0] and [r["loss"] for r in steps[1]] == [r["loss"] for r in steps[2]]
    assert [r["time"] for r in steps[1]] == [r["time"] for r in steps[0]]  # copied, not trained again
    warned = {r["filename"] for r in _records(second / "run-fixed", "warning")}
    assert warned and all(f.startswith(str(second.resolve() / "phase1")) for f in warned), warned


def test_an_out_folder_that_holds_files_is_trained_into_not_shared(tmp_path: Path) -> None:
    ws = scenarios.materialise("act_variance_collapse", tmp_path / "ws", reduced=True, extra=TINY)
    assert shared_training(ws, ["--out", "run"], timeout=300).returncode == 0
    first = [r["time"] for r in _records(ws / "run", "step")]
    (ws / "run-2").mkdir()
    (ws / "run-2" / "notes.txt").write_text("a user's file\n")
    shared_training(ws, ["--out", "run-2"], timeout=300)
    assert (ws / "run-2" / "notes.txt").read_text() == "a user's file\n"
    second = _records(ws / "run-2", "step")
    assert not second or [r["time"] for r in second] != first  # whatever the trainer did, it was not a copy
