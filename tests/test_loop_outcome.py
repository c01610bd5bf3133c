"""The whole loop's own verdict (verify/loop.py), without training: it passes only when something was fixed (or a
healthy run stayed healthy), and it finds the new run a framework names at run time as the one new folder the
retrain wrote."""

from __future__ import annotations

import json
import math
from pathlib import Path

from traindoc.verify.loop import folders, new_folder, run_loop

# A launch script and a stand-in trainer writing a smooth, healthy loss curve (no torch: the loop's verdict is what
# is tested here; tests/test_userproj_loop.py runs it with real training)
TRAIN = '''import argparse, json, math, pathlib
p = argparse.ArgumentParser()
p.add_argument("--out", default="runs/exp")
out = pathlib.Path(p.parse_args().out)
out.mkdir(parents=True, exist_ok=True)
with open(out / "metrics.jsonl", "w") as f:
    for s in range(1, 201):
        f.write(json.dumps({"step": s, "loss": 1.0 + 2.0 * math.exp(-s / 40) + 0.01 * ((s * 7) % 5)}) + "\\n")
'''


def project(tmp: Path) -> Path:
    (tmp / "train.py").write_text(TRAIN)
    (tmp / "train.sh").write_text("python train.py --out runs/exp1\n")
    return tmp


def test_a_run_that_could_not_be_diagnosed_is_not_a_fixed_loop(tmp_path: Path) -> None:
    """The measured case: the first run had failed (no log), the retrain wrote a healthy run, and the loop said
    "passed" with nothing diagnosed, planned or fixed."""
    root = project(tmp_path)
    (root / "runs/exp1").mkdir(parents=True)
    (root / "runs/exp1/metrics.jsonl").write_text('{"step": 1, "loss": 3.0}\n')
    result = run_loop(root, run_dir="runs/exp1", diagnose_paths=["runs/exp1"], retrain_timeout=120)
    assert result["verdict"] == "insufficient_data" and result["fixed_causes"] == []
    assert result["retrain_exit"] == 0 and result["verify"]["new_verdict"] == "healthy"
    assert result["passed"] is False


def test_a_healthy_run_that_stays_healthy_passes_with_nothing_planned(tmp_path: Path) -> None:
    root = project(tmp_path)
    lines = [{"step": s, "loss": 1.0 + 2.0 * math.exp(-s / 40) + 0.01 * ((s * 3) % 5)} for s in range(1, 201)]
    (root / "runs/exp1").mkdir(parents=True)
    (root / "runs/exp1/metrics.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    result = run_loop(root, run_dir="runs/exp1", diagnose_paths=["runs/exp1"], retrain_timeout=120)
    assert result["verdict"] == "healthy" and result["fixed_causes"] == [] and result["passed"] is True
    assert result["new_run"] == str(root / "runs/exp1-fixed") and result["new_run_source"] == "named by the plan"


def test_new_folder_is_the_outermost_new_one_holding_files(tmp_path: Path) -> None:
    (tmp_path / "outputs/2026-12-04/21-00-00").mkdir(parents=True)
    (tmp_path / "outputs/2026-12-04/21-00-00/train.log").write_text("x")
    before = folders(tmp_path)
    # Hydra on a new day: outputs/<day>/ holds only the time folder, which holds the run's files
    run = tmp_path / "outputs/2026-12-05/09-30-00"
    (run / ".hydra").mkdir(parents=True)
    (run / "train.log").write_text("x")
    (run / ".hydra/config.yaml").write_text("x")
    assert new_folder(before, folders(tmp_path)) == (run, "")
    # two new runs: which one is the retrain's cannot be told, and the loop says so
    (tmp_path / "wandb/offline-run-1").mkdir(parents=True)
    (tmp_path / "wandb/offline-run-1/run-1.wandb").write_text("x")
    found, why = new_folder(before, folders(tmp_path))
    assert found is None and "2 new folders holding files" in why and str(run) in why
