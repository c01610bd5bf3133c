"""Four console formats met in blind healthy real-world logs of unseen stacks (issue 8, session 30, g5), each read by
its own module: a pandas DataFrame print, wrapped into column blocks (H2O-3's score_history(); _pandas_frame_print.py),
SuperGradients' `SUMMARY OF EPOCH N` trees (_super_gradients_summary.py), Ludwig's box-drawn epoch tables
(_ludwig_console.py) and Microsoft Recommenders' LightGCN epoch line (_recommenders_epoch.py). Synthetic logs in each
layout, the guards against other families' lines, and the corpus entries read as their formats."""

from __future__ import annotations

import math
from pathlib import Path

from textlog_support import write_run_dir
from traindoc.ingest.loader import load_run
from traindoc.ingest.readers._ludwig_console import parse_ludwig
from traindoc.ingest.readers._pandas_frame_print import parse_pandas_frame
from traindoc.ingest.readers._recommenders_epoch import parse_recommenders_epoch
from traindoc.ingest.readers._super_gradients_summary import parse_super_gradients
from traindoc.ingest.readers.textlog_formats import State

REALWORLD = Path(__file__).parent / "corpus" / "realworld"


def _steps(run, name):
    s = run.series(name)
    assert s is not None, f"{name} not read: {sorted(run.metrics)}"
    return [int(x) for x in s.steps], [float(v) for v in s.values]


# --- pandas DataFrame prints ----------------------------------------------------------------------------------------

_WRAPPED = """\
      epochs  iterations  training_logloss  \\
0   0.000000           0               NaN
1   1.000000           1          0.601859
2   2.000000           2          0.472563
3   3.000000           3          0.440366
4   3.000000           3          0.472563

   validation_logloss  validation_classification_error
0                 NaN                              NaN
1            0.620557                         0.274556
2            0.499657                         0.213509
3            0.462811                         0.190350
4            0.499657                         0.213509
"""


def test_pandas_wrapped_frame_reads_each_block_by_index(tmp_path):
    run = load_run([write_run_dir(tmp_path, _WRAPPED, "history.txt")])
    steps, values = _steps(run, "loss")
    # row 0 (all NaN: pandas' missing marker) and row 4 (its counters do not rise: a repeat) are no points
    assert steps == [1, 2, 3] and values == [0.601859, 0.472563, 0.440366]
    assert _steps(run, "eval_loss")[1] == [0.620557, 0.499657, 0.462811]
    assert _steps(run, "eval_classification_error")[0] == [1, 2, 3]
    assert not {"epochs", "iterations"} & set(run.metrics)


def test_pandas_one_column_block_is_not_read_as_step_value_lines(tmp_path):
    # the last block of a wrapped frame can hold one column: its rows look like `step value` prints
    text = _WRAPPED.replace("validation_logloss  validation_classification_error", "validation_logloss  \\") + (
        "\n   validation_rmse  \n0              NaN  \n1         0.448377  \n2         0.397575  \n"
        "3         0.376495  \n4         0.397575  \n")
    run = load_run([write_run_dir(tmp_path, text, "history.txt")])
    assert _steps(run, "eval_rmse") == ([1, 2, 3], [0.448377, 0.397575, 0.376495])
    assert _steps(run, "loss")[0] == [1, 2, 3]  # no NaN at 0, no value at 4 from the one-column rows


def test_pandas_keras_history_frame_and_a_nan_beside_values():
    st = State()
    assert parse_pandas_frame("       loss  accuracy  val_loss  val_accuracy", st) is None
    rec = parse_pandas_frame("0  0.693147  0.500000  0.690000      0.510000", st)
    assert rec is not None and rec.step == 0 and rec.metrics == {
        "loss": 0.693147, "accuracy": 0.5, "eval_loss": 0.69, "eval_accuracy": 0.51}
    rec = parse_pandas_frame("1       NaN  0.500000  0.700000      0.500000", st)
    assert rec is not None and math.isnan(rec.metrics["loss"])  # a NaN beside measured values is the value


def test_pandas_frame_does_not_claim_other_tables():
    st = State()
    # fastai's table titles its first column: its epoch sits under the title, not left of it
    assert parse_pandas_frame("epoch     train_loss  valid_loss  accuracy  time", st) is None
    assert parse_pandas_frame("0         2.345678    1.234567    0.400000  00:01", st) is None
    st = State()
    assert parse_pandas_frame("  step  loss", st) is None  # a header, then a row that does not fit its edges
    assert parse_pandas_frame("100 2.5", st) is None
    st = State()
    assert parse_pandas_frame("12 0.5", st) is None  # rows before any header
    assert parse_pandas_frame("Epoch 1/10", st) is None


def test_pandas_truncated_frame_reads_both_ends_and_a_split_suffix():
    # NeuralProphet's fit frame (issue 8, session 31, the corpus entry below): pandas' dot row between the first and
    # last rows, the held-out split written after the name
    run = load_run([REALWORLD / "neuralprophet-tutorial10-validation-healthy" / "run"])
    steps, values = _steps(run, "eval_loss")
    assert steps == [0, 1, 2, 3, 4, 180, 181, 182, 183, 184]
    assert values[0] == 2.067798 and values[-1] == 0.011789
    assert _steps(run, "loss")[1][-1] == 0.004225
    assert "eval_MAE" in run.metrics and "MAE" in run.metrics


def test_pandas_dot_row_only_inside_a_frame():
    st = State()
    assert parse_pandas_frame("..        ...       ...", st) is None  # no header before it
    assert parse_pandas_frame("          MAE      Loss  epoch", st) is None
    assert parse_pandas_frame("0    67.432861  0.789800      0", st) is not None
    rec = parse_pandas_frame("..        ...       ...    ...", st)
    assert rec is not None and rec.claimed and not rec.metrics
    rec = parse_pandas_frame("99   4.838150  0.016487     99", st)
    assert rec is not None and rec.step == 99 and rec.metrics == {"MAE": 4.83815, "loss": 0.016487}


# --- SuperGradients -------------------------------------------------------------------------------------------------

def _sg_epoch(epoch: int, train: float, val: float, acc: float) -> list[str]:
    lines = ["===========================================================", f"SUMMARY OF EPOCH {epoch}",
             "├── Train", f"│   ├── CrossEntropyLoss = {train}"]
    if epoch:
        lines += [f"│   │   ├── Epoch N-1      = {train + 1} (\x1b[32m↘ -1.0\x1b[0m)",
                  f"│   │   └── Best until now = {train + 1} (\x1b[32m↘ -1.0\x1b[0m)"]
    lines += [f"│   └── Accuracy = {acc}", "└── Validation", f"    ├── CrossEntropyLoss = {val}",
              f"    └── Accuracy = {acc}", ""]
    return lines


def test_super_gradients_summary_tree(tmp_path):
    lines = ["The console stream is now moved to /tmp/console.txt"]
    for e in range(6):
        lines += _sg_epoch(e, 2.0 / (e + 1), 2.2 / (e + 1), 0.2 + 0.1 * e)
    lines += ["==========================================================="]
    run = load_run([write_run_dir(tmp_path, "\n".join(lines) + "\n", "console.log")])
    steps, values = _steps(run, "loss")
    assert steps == list(range(6)) and values[0] == 2.0 and values[1] == 1.0  # no Epoch N-1 / Best until now
    assert _steps(run, "eval_loss")[1][0] == 2.2
    assert _steps(run, "eval_accuracy")[0] == list(range(6))


def test_super_gradients_guards():
    st = State()
    assert parse_super_gradients("├── Train", st) is None
    assert parse_super_gradients("│   ├── Loss = 0.5", st) is None  # a tree with no summary banner
    assert parse_super_gradients("SUMMARY OF EPOCH 3", st) is None
    assert parse_super_gradients("├── Validation", st) is None
    rec = parse_super_gradients("    ├── PPYoloELoss/loss = 2.75", st)
    assert rec is not None and rec.step == 3 and rec.eval and rec.metrics == {"eval_PPYoloELoss/loss": 2.75}
    assert parse_super_gradients("SUMMARY OF EPOCH 0", st) is None  # a second training in the same console
    assert parse_super_gradients("├── Train", st) is None
    assert parse_super_gradients("│   ├── Loss = 0.5", st) is None


# --- Ludwig ---------------------------------------------------------------------------------------------------------

def _ludwig_epoch(epoch: int, loss: float) -> list[str]:
    return [f"Epoch {epoch:3d}", "Training: 100% 5/5 [00:00<00:00, 10.08it/s]", "Took 0.5719s",
            "╒════════════╤════════╤════════════╕", "│ Survived   │   loss │   accuracy │",
            "╞════════════╪════════╪════════════╡", f"│ train      │ {loss:.4f} │     0.3968 │",
            "├────────────┼────────┼────────────┤", f"│ vali       │ {loss + 0.1:.4f} │     0.3827 │",
            "├────────────┼────────┼────────────┤", f"│ test       │ {loss + 0.2:.4f} │     0.3667 │",
            "╘════════════╧════════╧════════════╛", "Validation loss on combined improved, model saved", ""]


def test_ludwig_epoch_tables(tmp_path):
    lines = ["ludwig v0.1.1 - Experiment"]
    for e in range(1, 9):
        lines += _ludwig_epoch(e, 8.0 - e)
    run = load_run([write_run_dir(tmp_path, "\n".join(lines) + "\n", "experiment.log")])
    steps, values = _steps(run, "loss")
    assert steps == list(range(1, 9)) and values[0] == 7.0
    assert _steps(run, "eval_loss")[1][0] == 7.1 and _steps(run, "test_loss")[1][0] == 7.2
    assert _steps(run, "eval_accuracy")[1][0] == 0.3827


def test_ludwig_guards():
    st = State()
    assert parse_ludwig("│ train      │ 7.9026 │     0.3968 │", st) is None  # no banner yet
    assert parse_ludwig("Epoch   2", st) is None
    assert parse_ludwig("│ train      │ 7.9026 │     0.3968 │", st) is None  # no header row yet
    assert parse_ludwig("| Survived | loss | accuracy |", st) is None  # a Markdown table
    assert parse_ludwig("│ Survived   │   loss │   accuracy │", st) is None
    assert parse_ludwig("│ Age        │   loss │", st) is None  # a second output feature's header
    rec = parse_ludwig("│ vali       │ 0.25 │", st)
    assert rec is not None and rec.step == 2 and rec.metrics == {"eval_Age_loss": 0.25}
    assert parse_ludwig("Epoch   1", st) is None  # the epoch went back: another training
    assert parse_ludwig("│ Survived   │   loss │   accuracy │", st) is None
    assert parse_ludwig("│ train      │ 7.9026 │     0.3968 │", st) is None


# --- Microsoft Recommenders (LightGCN) ------------------------------------------------------------------------------

def test_recommenders_lightgcn_epoch_lines(tmp_path):
    lines = []
    for e in range(1, 11):
        line = f"Epoch {e} (train)0.9s: train loss = {0.5 / e:.5f} = (mf){0.5 / e - 0.001:.5f} + (embed)0.00100"
        if e % 5 == 0:
            line = line.replace("s: train", "s + (eval)0.2s: train") + f", recall = {0.1 + e / 100:.5f}, ndcg = 0.35"
        lines.append(line)
    lines.append("Took 47.25114500336349 seconds for training.")
    run = load_run([write_run_dir(tmp_path, "\n".join(lines) + "\n")])
    steps, values = _steps(run, "loss")
    assert steps == list(range(1, 11)) and values[0] == 0.5
    assert _steps(run, "eval_recall") == ([5, 10], [0.15, 0.2])
    assert _steps(run, "embed_loss")[1][0] == 0.001


def test_recommenders_guards():
    st = State()
    assert parse_recommenders_epoch("Epoch 1 (train)0.9s: train loss = 0.47 = (mf)0.46 + (embed)0.01", st).step == 1
    assert parse_recommenders_epoch("Epoch 2 (train)0.9s: train loss = 0.47", st) is None  # not the whole print
    assert parse_recommenders_epoch("Epoch 2: train loss = 0.4 = (mf)0.39 + (embed)0.01", st) is None
    assert parse_recommenders_epoch("Epoch 1 (train)0.9s: train loss = 0.3 = (mf)0.29 + (embed)0.01", st) is None
    assert parse_recommenders_epoch("Epoch 5 (train)0.9s: train loss = 0.3 = (mf)0.29 + (embed)0.01", st) is None


# --- the corpus entries ---------------------------------------------------------------------------------------------

def test_corpus_entries_read_as_their_formats():
    h2o = load_run([REALWORLD / "h2o-tutorials-deeplearning-covtype-score-history" / "run"])
    steps, values = _steps(h2o, "loss")
    assert steps == list(range(1, 14)) and values[0] == 0.601859 and all(math.isfinite(v) for v in values)
    assert _steps(h2o, "eval_classification_error")[1][-1] == 0.160589
    sg = load_run([REALWORLD / "super-gradients-notebook-transfer-learning-classification-15-epochs" / "run"])
    assert _steps(sg, "loss")[1][0] == 2.6516 and _steps(sg, "eval_loss")[1][0] == 35.9988
    assert len(_steps(sg, "eval_accuracy")[0]) == 15
    lw = load_run([REALWORLD / "ludwig-011-titanic-experiment-100-epochs" / "run"])
    steps, values = _steps(lw, "loss")
    assert steps == list(range(1, 101)) and values[0] == 7.9026 and values[-1] == 1.3368
    assert _steps(lw, "eval_accuracy")[1][-1] == 0.716
    lg = load_run([REALWORLD / "recommenders-lightgcn-movielens100k-50-epochs" / "run"])
    assert _steps(lg, "loss")[0] == list(range(1, 51)) and _steps(lg, "eval_ndcg")[1][-1] == 0.453
