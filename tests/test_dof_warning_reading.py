"""torch's "std()/var(): degrees of freedom is <= 0" warning: read with the source line Python echoes under it, it is
an ACT halting-variance sign only where the run is an ACT run, and the located NaN op otherwise
(evidence/dof_warning.py; docs/diagnose.md, "A variance over one element")."""

from __future__ import annotations

from pathlib import Path

from traindoc.evidence.detectors import architecture, numerics
from traindoc.evidence.dof_warning import dof_reading
from traindoc.ingest import load_run

WARN = ("UserWarning: std(): degrees of freedom is <= 0. Correction should be strictly less than the reduction factor "
        "(input numel divided by output numel).")


def _hf_log(tmp_path: Path, source_line: str | None) -> Path:
    # an HF Trainer console log: a Python warning, its echoed source line, then NaN rows (loss 0.0, grad_norm nan)
    rows = [f"{{'loss': {v}, 'grad_norm': {g}, 'learning_rate': 1e-06, 'epoch': {e}}}"
            for v, g, e in [(0.0, "nan", 0.01), (0.0, "nan", 0.02), (0.0, "nan", 0.03), (0.0, "nan", 0.04)]]
    lines = [WARN] + ([f"  {source_line}"] if source_line else []) + rows
    run_dir = tmp_path / "run"
    run_dir.mkdir(parents=True)
    (run_dir / "train.log").write_text("\n".join(lines) + "\n")
    return run_dir


def _text_log(tmp_path: Path, source_line: str) -> Path:
    # a plain text log: "file.py:N: UserWarning: ..." with its source line, then loss lines going NaN
    lines = [f"step {i} loss {v}" for i, v in enumerate([2.3, 2.2, 2.1, 2.0])]
    lines += [f"model.py:88: {WARN}", f"  {source_line}"]
    lines += [f"step {i} loss nan" for i in range(4, 12)]
    run_dir = tmp_path / "run"
    run_dir.mkdir(parents=True)
    (run_dir / "train.log").write_text("\n".join(lines) + "\n")
    return run_dir


def test_source_line_is_kept_with_the_warning_in_both_readers(tmp_path: Path) -> None:
    code = "std_grouped_rewards = rewards.view(-1, self.num_generations).std(dim=1)"
    hf = load_run([_hf_log(tmp_path / "a", code)])
    text = load_run([_text_log(tmp_path / "b", code)])
    for run in (hf, text):
        (w,) = [e for e in run.events if e.tag == "var_dof"]
        assert w.detail == code
    assert dof_reading(hf) is not None and dof_reading(hf).elsewhere


def test_std_over_one_reward_is_the_nan_op_not_act(tmp_path: Path) -> None:
    run = load_run([_hf_log(tmp_path, "std_grouped_rewards = rewards.view(-1, self.num_generations).std(dim=1)")])
    (nan,) = numerics.detect_nan_inf(run)
    assert nan.strength >= 0.7 and any("std_grouped_rewards" in e for e in nan.evidence)
    (act,) = architecture.detect_act_variance_collapse(run)
    assert act.strength <= 0.1


def test_halting_variance_warning_stays_act_evidence(tmp_path: Path) -> None:
    run = load_run([_hf_log(tmp_path, "halt_var = p_halt.var(dim=-1)")])
    (act,) = architecture.detect_act_variance_collapse(run)
    assert act.strength >= 0.6
    (nan,) = numerics.detect_nan_inf(run)
    assert nan.strength < 0.7 and not any("one element" in e for e in nan.evidence)


def test_warning_without_source_or_halting_metric_is_only_a_candidate(tmp_path: Path) -> None:
    run = load_run([_hf_log(tmp_path, None)])
    (act,) = architecture.detect_act_variance_collapse(run)
    assert act.strength < 0.5
    (nan,) = numerics.detect_nan_inf(run)
    assert nan.strength < 0.7
