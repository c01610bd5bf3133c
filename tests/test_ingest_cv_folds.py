"""Cross-validation folds printed one after the other in one log (_cv_fold.py): each fold is a new training whose
epochs start over, so the last fold is read as the run, never a splice of folds on shared steps. First met in the
blind real-world healthy logs of issue 8, session 32 (tests/corpus/realworld/theoviel-*: five folds of 20-30
epochs each under "-------------   Fold k / 5  -------------" banners, read as 150 records on 30 steps)."""

from __future__ import annotations

from pathlib import Path

from textlog_support import points, read_text
from traindoc.ingest.loader import load_run
from traindoc.ingest.readers._cv_fold import fold_banner, fold_key

REALWORLD = Path(__file__).parent / "corpus" / "realworld"

# The first epochs of two folds of the real birdcall log (theoviel-birdcall-resnext50-5fold-30ep), tabs and all,
# cut after epoch 3 of fold 1 and epoch 2 of fold 2: folds of unequal length, as early stopping leaves them.
FOLDS = (
    "-------------   Fold 1 / 5  -------------\n\n"
    "    -> 40479 training birds\n    -> 4275 validation birds\n"
    "Using cache found in /home/theo/.cache/torch/hub/pytorch_vision_v0.6.0\n    -> 23520840 trainable parameters\n\n"
    "Epoch 1/30 \t lr=6.7e-04 \t t=1121s  \t loss=0.0810 \t val_loss=0.0232 \t micro_f1=0.028 \t samples_f1=0.014\n"
    "Epoch 2/30 \t lr=9.8e-04 \t t=1135s  \t loss=0.0281 \t val_loss=0.0229 \t micro_f1=0.063 \t samples_f1=0.039\n"
    "Epoch 3/30 \t lr=9.5e-04 \t t=1119s  \t loss=0.0248 \t val_loss=0.0177 \t micro_f1=0.228 \t samples_f1=0.137\n\n"
    " -> Saving weights to ../checkpoints/2020-09-08/resnext50_32x4d_extra_0.pt\n\n\n"
    "-------------   Fold 2 / 5  -------------\n\n"
    "    -> 40479 training birds\n    -> 4275 validation birds\n"
    "Using cache found in /home/theo/.cache/torch/hub/pytorch_vision_v0.6.0\n    -> 23520840 trainable parameters\n\n"
    "Epoch 1/30 \t lr=6.7e-04 \t t=1098s  \t loss=0.0809 \t val_loss=0.0233 \t micro_f1=0.042 \t samples_f1=0.022\n"
    "Epoch 2/30 \t lr=9.8e-04 \t t=1090s  \t loss=0.0281 \t val_loss=0.0190 \t micro_f1=0.109 \t samples_f1=0.058\n"
)


def test_real_excerpt_reads_the_last_fold_alone(tmp_path):
    run = read_text(tmp_path, FOLDS)
    # fold 2's two epochs, and not fold 1's third epoch spliced after them at step 3
    assert points(run, "loss") == [(1, 0.0809), (2, 0.0281)]
    assert points(run, "eval_loss") == [(1, 0.0233), (2, 0.019)]
    assert run.epoch_starts == [(1, 1), (2, 2)]
    assert [e.tag for e in run.events] == ["cv_fold"]


def test_corpus_entries_read_their_last_fold():
    run = load_run([REALWORLD / "theoviel-birdcall-resnext50-5fold-30ep" / "run"])
    loss = run.series("eval_loss")
    assert loss is not None and len(loss) == 30
    assert round(float(loss.values[0]), 4) == 0.0229 and round(float(loss.values[-1]), 4) == 0.0066  # fold 5
    cls = load_run([REALWORLD / "theoviel-nfl-resnet18-cls-5fold-auc" / "run"])
    auc = cls.series("auc")
    assert auc is not None and len(auc) == 20 and round(float(auc.values[0]), 3) == 0.776  # fold 5's epoch 1
    assert any(e.tag == "cv_fold" and e.count == 4 for e in cls.events)


def test_fold_and_seed_on_the_metric_line_are_no_metrics(tmp_path):
    # the multi-seed k-fold print of a tabular competition notebook (constructed in its shape)
    text = "".join(f"seed: {s}, FOLD: {f}, EPOCH: {e}, train_loss: {0.6 / (e + 1):.6f}, "
                   f"valid_loss: {0.2 / (e + 1) + 0.001 * f:.6f}\n"
                   for s in (0, 1) for f in (0, 1, 2) for e in (0, 5, 10))
    run = read_text(tmp_path, text)
    assert sorted(run.metrics) == ["eval_loss", "loss"]
    assert points(run, "eval_loss") == [(0, 0.202), (5, 0.0353), (10, 0.0202)]  # seed 1, fold 2


def test_a_resume_without_a_fold_keeps_the_earlier_steps(tmp_path):
    text = "".join(f"Epoch {e}/6 loss={1 / e:.4f}\n" for e in (1, 2, 3, 4)) + \
        "".join(f"Epoch {e}/6 loss={0.9 / e:.4f}\n" for e in (3, 4, 5, 6))
    run = read_text(tmp_path, text)
    assert [s for s, _ in points(run, "loss")] == [1, 2, 3, 4, 5, 6]
    assert [e.tag for e in run.events] == ["restart"]


def test_fold_summaries_after_training_change_nothing(tmp_path):
    train = "".join(f"-- Fold {f} --\n" + "".join(f"Epoch {e} loss={1 / e + f:.4f}\n" for e in (1, 2, 3))
                    for f in (0, 1))
    summary = "Fold 0 auc: 0.81\nFold 1 auc: 0.83\n"
    run = read_text(tmp_path, train + summary)
    assert points(run, "loss") == [(1, 2.0), (2, 1.5), (3, 1.3333)]  # fold 1, kept through the summary lines


def test_a_global_step_across_folds_stays_one_curve(tmp_path):
    text = "".join(f"fold {f} step {f * 100 + s} loss {1 / (s + 1):.4f}\n" for f in (0, 1) for s in (10, 50, 90))
    run = read_text(tmp_path, text)
    assert [s for s, _ in points(run, "loss")] == [10, 50, 90, 110, 150, 190]
    assert not any(e.tag == "cv_fold" for e in run.events)


def test_banner_and_key_shapes():
    assert fold_banner("-------------   Fold 2 / 5  -------------") == 2
    assert fold_banner("========== fold: 1 training ==========") == 1
    assert fold_banner("=== FOLD 0 STARTED ===") == 0
    assert fold_banner("Training fold 4") == 4
    for other in ("n_folds: 5", "5-fold cross-validation", "folder 3", "Fold 1 auc: 0.81", "Epoch 3/30 loss=0.1"):
        assert fold_banner(other) is None
    assert fold_key("seed: 0, FOLD: 3, EPOCH: 10, train_loss: 0.1") == (0, 3)
    assert fold_key("[fold 1] epoch 3 loss 0.2") == (-1, 1)
    assert fold_key("n_folds: 5 loss: 0.2") is None and fold_key("5-fold loss: 0.2") is None


def test_lightgbm_folds_named_by_a_training_line(tmp_path):
    # the real avito-18th-lgb-10fold-rmse-early-stop console, cut: fold 1 (no banner) stops at 300 rounds, fold 2
    # ("training in fold 2") at 200; before, fold 1's round 300 was spliced after fold 2's rounds
    text = ("Training until validation scores don't improve for 200 rounds.\n"
            "[100]\ttrain's rmse: 0.224799\tvalid's rmse: 0.227289\n"
            "[200]\ttrain's rmse: 0.217056\tvalid's rmse: 0.221856\n"
            "[300]\ttrain's rmse: 0.211977\tvalid's rmse: 0.2193\n"
            "save model ...\nModel Evaluation Stage\ncalculating RMSE ...\nRMSE: 0.21447509387860322\n"
            "training in fold 2\nModeling Stage ...\n"
            "Training until validation scores don't improve for 200 rounds.\n"
            "[100]\ttrain's rmse: 0.224328\tvalid's rmse: 0.22624\n"
            "[200]\ttrain's rmse: 0.216252\tvalid's rmse: 0.220803\n"
            "training in fold 3\ntraining in fold 4\nmean rmse is: 0.2142232427752151\n")
    run = read_text(tmp_path, text)
    assert [s for s, _ in points(run, "eval_loss")] == [100, 200]
    assert points(run, "eval_loss")[-1] == (200, 0.2208)
