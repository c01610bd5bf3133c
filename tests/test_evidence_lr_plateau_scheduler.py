"""The LR-collapse reading (not_learning.detect_lr_collapse) against a plateau scheduler's cuts (plateau_driven):
ReduceLROnPlateau halves the LR only after the monitored loss stalls, so its LR at ~0 with half the run left is a
converged run, not a misuse; the same cuts while the loss still sets lows are a schedule too fast."""

from __future__ import annotations

from pathlib import Path

from traindoc.evidence.detectors import not_learning as nl
from traindoc.ingest.loader import load_run

CUTS = [26, 32, 38, 44, 50, 56, 62, 68, 74, 80, 86, 92]  # 12 halvings: 1e-3 -> 2.4e-7 by epoch 92 of 200


def _log(tmp_path: Path, val_loss) -> Path:
    lines = []
    lr = 1e-3
    for e in range(1, 121):
        lines.append(f"Epoch [{e}/200], Train Loss: {0.02 / e ** 0.5:.4f}, Train L1 Loss: {0.5 / e ** 0.3:.4f}")
        lines.append(f"Epoch [{e}/200], Validation Loss: {val_loss(e):.4f}, Validation L1: {0.5 / e ** 0.2:.4f}")
        if e in CUTS:
            lr /= 2
            lines.append(f"Epoch {e:05d}: reducing learning rate of group 0 to {lr:.4e}.")
    p = tmp_path / "train.log"
    p.write_text("\n".join(lines) + "\n")
    return p


def _stalls(e: int) -> float:
    # improves until epoch 20, then sits at its level: every cut follows an evaluation that set no new low
    return 0.02 / min(e, 20) ** 0.5 + (0.0004 if e % 3 == 0 else 0.0002)


def _keeps_improving(e: int) -> float:
    return 0.02 / e ** 0.5  # a new low at every evaluation: the cuts are a fixed schedule, not answers to a stall


def test_lr_collapse_silent_on_a_plateau_scheduler_answering_stalls(tmp_path: Path) -> None:
    run = load_run([_log(tmp_path, _stalls)])
    c = nl.lr_collapse(run)
    assert c is not None  # the LR did collapse with more than half the planned run to go
    got = nl.plateau_driven(run, c)
    assert got is not None and got[0] == got[1] and got[2] == "eval_loss"
    assert nl.detect_lr_collapse(run) == []


def test_lr_collapse_fires_on_the_same_cuts_while_the_loss_still_sets_lows(tmp_path: Path) -> None:
    run = load_run([_log(tmp_path, _keeps_improving)])
    c = nl.lr_collapse(run)
    assert c is not None and nl.plateau_driven(run, c) is None
    (f,) = nl.detect_lr_collapse(run)
    assert f.cause == "scheduler_misuse" and f.strength >= 0.75
