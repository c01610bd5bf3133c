"""A fix must edit the config a person edits, not the copy a run saved beside its outputs."""

import json
from pathlib import Path

from traindoc.ingest.loader import load_run


def _project(tmp_path: Path, run_value: str = "0.01") -> Path:
    (tmp_path / "config.yaml").write_text("optim:\n  muon_lr: 1e-2\n  adam_lr: 3e-4\n")
    run = tmp_path / "run"
    run.mkdir()
    # the effective config the trainer saved with its logs (same values, other notation and line)
    (run / "config.yaml").write_text(f"# effective\noptim:\n  adam_lr: 0.0003\n  muon_lr: {run_value}\n")
    steps = [{"type": "step", "step": i, "epoch": 0, "stage": "foundation", "loss": 3.0 - i * 0.01,
              "grad_norm": 1.0, "lr": {"muon": 0.01, "adam": 3e-4}} for i in range(1, 40)]
    (run / "metrics.jsonl").write_text("\n".join(json.dumps(s) for s in steps) + "\n")
    return tmp_path


def test_project_config_outranks_the_runs_saved_copy(tmp_path):
    root = _project(tmp_path)
    run = load_run([root])
    cv = run.config_value("muon_lr")
    assert cv is not None and Path(cv.file) == root / "config.yaml" and cv.line == 2 and cv.text == "1e-2"
    assert len(run.config_sites["optim.muon_lr"]) == 2


def test_when_values_disagree_the_effective_one_stays(tmp_path):
    # the run was launched with an override: its saved config is the truth about what trained
    root = _project(tmp_path, run_value="0.05")
    run = load_run([root])
    cv = run.config_value("muon_lr")
    assert cv is not None and Path(cv.file) == root / "run" / "config.yaml" and float(cv.value) == 0.05
