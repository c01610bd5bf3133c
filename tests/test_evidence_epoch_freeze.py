"""An epoch history whose held-out loss and training epoch mean both repeat to every printed digit after the
training mean moved: the weights stopped changing mid-run (epoch_curves._epoch_history_frozen, scheduler_misuse)."""

from __future__ import annotations

from pathlib import Path

from traindoc.evidence.detectors.epoch_curves import detect_heldout_frozen_midrun
from traindoc.ingest.loader import load_run
from traindoc.ingest.model import Run
from traindoc.ingest.readers import text_log

REALLIB = Path(__file__).parent / "corpus" / "reallib"


def read_text(tmp_path: Path, rows: list[tuple[float, float]]) -> Run:
    path = tmp_path / "train.log"
    path.write_text("".join(f"epoch: {e}, train_loss: {a:.4f}, test_loss: {b:.4f}\n" for e, (a, b) in
                            enumerate(rows, 1)))
    run = Run()
    text_log.read(path, run)
    return run.finalize()


def test_frozen_from_the_second_evaluation():
    """flax-scheduler_misuse-s0 (a step decay counted in updates, meant per epoch): test_loss 1.5089 at epoch 1,
    1.5069 at epochs 2-19; train_loss 1.6722, 1.4912, then 1.4908 at epochs 3-18 (1.4810 on the partial last)."""
    run = load_run([str(REALLIB / "flax-scheduler_misuse-s0" / "run")])
    (f,) = detect_heldout_frozen_midrun(run)
    assert f.cause == "scheduler_misuse" and f.step == 2 and f.numbers["frozen_evals"] == 18


def test_frozen_within_the_first_epoch():
    """flax-scheduler_misuse-s2: test_loss 2.7125 at all 10 epochs; train_loss 2.7674 at epoch 1, then 2.7270: the
    weights moved during epoch 1 and never after."""
    run = load_run([str(REALLIB / "flax-scheduler_misuse-s2" / "run")])
    (f,) = detect_heldout_frozen_midrun(run)
    assert f.step == 1 and f.numbers["frozen_evals"] == 10


def test_training_mean_that_still_wobbles_is_silent(tmp_path):
    # silent: the held-out loss repeats at 4 decimals, but the training epoch mean moves in its last digit
    rows = [(0.9, 0.85), (0.6, 0.61)] + [(0.5012 + 0.0003 * (i % 3), 0.5501) for i in range(8)]
    assert detect_heldout_frozen_midrun(read_text(tmp_path, rows)) == []


def test_a_memorised_one_digit_loss_is_silent(tmp_path):
    # silent: 0.0002 repeated is a 4-decimal print of a converged loss, not >= 4 significant digits
    rows = [(0.9, 0.85), (0.1, 0.5)] + [(0.0002, 0.0003)] * 8
    assert detect_heldout_frozen_midrun(read_text(tmp_path, rows)) == []


def test_weights_that_never_moved_are_silent(tmp_path):
    # silent: every training mean and held-out loss identical from the first row: nothing ever moved (a constant
    # loss is the data rules' reading, not a schedule that decayed)
    assert detect_heldout_frozen_midrun(read_text(tmp_path, [(1.2345, 1.3456)] * 10)) == []
