"""`traindoc verify`: a real diagnosis of a broken run, checked against a healthy re-run (passes, exit 0) and
against the broken run itself (fails, exit 1), with before/after side by side."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from traindoc.cli import main


def write_run(folder: Path, nan_from: int | None, seed: int = 0, n: int = 300) -> Path:
    """A phase1-format metrics.jsonl: loss decaying with noise, warmup + cosine LR, evals; NaN from `nan_from`."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    lines = [{"type": "meta", "config": {"optim": {"muon_lr": 5e-3, "warmup_steps": 10, "grad_clip": 1.0}},
              "seed": seed, "optimizer": "mugrokfast", "model": "reasoning", "precision": "fp32",
              "device": "cpu", "world_size": 1}]
    for step in range(1, n + 1):
        loss = 1.0 + 3.0 * math.exp(-step / 60) * 1.0
        loss *= float(np.exp(0.02 * rng.standard_normal()))
        grad = 1.5 * float(np.exp(0.1 * rng.standard_normal()))
        if nan_from is not None and step >= nan_from:
            loss, grad = float("nan"), float("nan")
        f = min(1.0, step / 10) * (0.1 + 0.45 * (1 + math.cos(math.pi * step / n)))
        lines.append({"type": "step", "step": step, "epoch": 1 + 3 * (step - 1) // n, "stage": "Foundation",
                      "loss": loss, "grad_norm": grad, "lr": {"muon": 5e-3 * f, "adam": 3e-3 * f},
                      "act": {"halt_mean": 0.4, "halt_var": 0.02, "steps_mean": 2.5}, "tokens_per_s": 5000.0,
                      "time": step * 0.1})
        if step % 50 == 0:
            lines.append({"type": "eval", "step": step, "epoch": 1, "stage": "Foundation",
                          "val_loss": loss * 1.05, "train_loss": loss})
    status = "diverged" if nan_from is not None else "completed"
    lines.append({"type": "end", "step": n, "status": status, "message": ""})
    (folder / "metrics.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    return folder


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("verify")
    bad = write_run(tmp / "bad", nan_from=200)
    good = write_run(tmp / "good", nan_from=None, seed=1)
    diag = tmp / "diagnosis.json"
    assert main(["diagnose", str(bad), "--json", "-o", str(diag)]) == 0
    return tmp, bad, good, diag


def test_broken_run_is_diagnosed_with_checkable_outcomes(runs) -> None:
    *_, diag = runs
    doc = json.loads(diag.read_text())
    reported = [rc for rc in doc["root_causes"] if rc["confidence"] > 0.5]
    assert reported and any(rc["cause"] == "nan_inf" for rc in reported), doc["root_causes"]
    assert all(rc["expected_outcome"] for rc in reported)


def test_verify_passes_on_the_healthy_rerun(runs, capsys: pytest.CaptureFixture[str]) -> None:
    _, _, good, diag = runs
    assert main(["verify", str(diag), str(good)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("## Verification PASSED") and "| no NaN/Inf loss |" in out
    assert main(["verify", str(diag), str(good), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    nan_check = next(c for c in result["checks"] if c["description"] == "no NaN/Inf loss")
    assert nan_check["before"] > 0 and nan_check["after"] == 0 and nan_check["holds"]


def test_verify_fails_on_a_new_run_that_still_breaks(runs, capsys: pytest.CaptureFixture[str]) -> None:
    tmp, _, _, diag = runs
    again = write_run(tmp / "bad-again", nan_from=180, seed=2)
    assert main(["verify", str(diag), str(again)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("## Verification FAILED") and "✗" in out


def test_verify_refuses_the_diagnosed_run_itself(runs, capsys: pytest.CaptureFixture[str]) -> None:
    """Grading the old run would say nothing about the fix (tests/test_userproj_loop.py covers copies and runs
    older than the applied fix)."""
    _, bad, _, diag = runs
    assert main(["verify", str(diag), str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("traindoc verify: refused: the new run is the diagnosed run's own folder")
    assert f"diagnosed run: {bad}; new run: {bad}" in err


def test_verify_bad_inputs_are_one_line_errors(runs, capsys: pytest.CaptureFixture[str]) -> None:
    tmp, _, good, diag = runs
    assert main(["verify", str(tmp / "nope.json"), str(good)]) == 2
    assert main(["verify", str(diag), str(tmp / "no-run")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("traindoc verify:") for line in err)


def hf_run(folder: Path, lr: float) -> Path:
    """An HF Trainer output folder (trainer_state.json + training_args.json) of a smooth run under AdamW with a
    linear warmup-decay schedule: at lr 0.03 the LR alone (100x AdamW's reference, no symptom) lists lr_too_high as a
    candidate (its detector's cap for an LR with no instability, 0.45), below 0.5 whatever the calibration."""
    folder.mkdir(parents=True)
    # the jitter: minibatch scatter of a few hundredths, as every real loss curve has ((s * 7) % 5 was meant so, but
    # is 0 for every multiple of 5: a curve that fell at every logged step, the scatter-free signature of one batch
    # trained over and over, which data_pipeline_bug's rule then lists beside the LR)
    hist = [{"step": s, "loss": 1.0 + 2.0 * math.exp(-s / 40) + 0.01 * ((s // 5 * 7) % 5),
             "grad_norm": 0.5 + 0.01 * (s % 3), "learning_rate": lr * min(s / 16, (160 - s) / 144)}
            for s in range(5, 165, 5)]
    (folder / "trainer_state.json").write_text(json.dumps({"log_history": hist, "global_step": 160, "max_steps": 160}))
    (folder / "training_args.json").write_text(json.dumps({"learning_rate": lr, "optim": "adamw_torch",
                                                           "warmup_steps": 16, "max_grad_norm": 1.0,
                                                           "lr_scheduler_type": "linear", "max_steps": 160}))
    return folder


def test_a_candidate_the_plan_chose_is_checked_and_gone_only_when_no_longer_listed(tmp_path: Path) -> None:
    """`plan --fix 1` on a cause listed below 0.5: verify grades it (it used to check nothing and pass on any
    healthy-looking run), and "gone" means no longer listed, since "below 0.5" held before the fix already."""
    from traindoc.verify.check import verify

    old = hf_run(tmp_path / "output", 0.03)
    diag = tmp_path / "diagnosis.json"
    assert main(["diagnose", str(old), "--json", "-o", str(diag)]) == 0
    doc = json.loads(diag.read_text())
    assert [(rc["cause"], rc["confidence"] < 0.5) for rc in doc["root_causes"]] == [("lr_too_high", True)]
    still, fixed = hf_run(tmp_path / "output-same-lr", 0.03), hf_run(tmp_path / "output-fixed", 3e-4)
    (still / "trainer_state.json").write_text((still / "trainer_state.json").read_text() + "\n")  # not a byte copy
    # no plan: a candidate decides nothing, the verdict is the new run's health
    assert verify(doc, [str(still)], diagnosis_path=str(diag))["causes"] == []
    (tmp_path / "plan.json").write_text(json.dumps({"diagnosis": str(diag), "root": str(tmp_path), "changes": [],
                                                    "fixes": [{"rank": 1, "cause": "lr_too_high", "planned": True}]}))
    same = verify(doc, [str(still)], diagnosis_path=str(diag))
    assert not same["passed"] and [(c["cause"], c["gone"]) for c in same["causes"]] == [("lr_too_high", False)]
    ok = verify(doc, [str(fixed)], diagnosis_path=str(diag))
    assert ok["passed"] and [(c["cause"], c["gone"], c["after"]) for c in ok["causes"]] == [("lr_too_high", True, 0.0)]


def test_a_differential_candidate_is_no_finding_for_gone():
    """A cause listed only as a differential candidate of a symptom in the new run (a loss that rose 15 %) does not
    keep a fixed candidate 'not gone': nothing in the log points at it."""
    from traindoc.verify.check import found_causes

    new = {"root_causes": [{"cause": "grad_explosion", "confidence": 0.06},
                           {"cause": "grad_accum_bug", "confidence": 0.05, "differential": "diverged"}]}
    assert found_causes(new) == {"grad_explosion"}
    assert found_causes({"root_causes": []}) == set()
