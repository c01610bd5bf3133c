"""Three text logs of stacks the corpus had no entry of, unreadable or misread before their reader (issue 8, blind
healthy logs of unseen stacks): RWKV-LM's `train_log.txt` (_rwkv_train_log.py), aenet's `train.x` output
(_aenet_train.py) and FLAML's AutoML search console (_flaml_automl.py). Each: the corpus entry read whole, a real
excerpt, and lines of other formats the parser must leave alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from textlog_support import points, write_run_dir
from traindoc.ingest.loader import load_run
from traindoc.ingest.readers._aenet_train import parse_aenet_train
from traindoc.ingest.readers._flaml_automl import parse_flaml_automl
from traindoc.ingest.readers._rwkv_train_log import parse_rwkv_train_log
from traindoc.ingest.readers.textlog_formats import State

REALWORLD = Path(__file__).parent / "corpus" / "realworld"

# lines of other formats, none of which any of the three parsers may read
OTHER_FORMATS = [
    "iter 10: loss 4.2312, time 31.02ms, mfu 12.10%",  # nanoGPT
    "0.693147 0.693147            1            1.0  -1.0000   0.0000       38",  # Vowpal Wabbit
    "      0      1.05e+01    1.10e+01      6.72e-01    6.79e-01      3.31e-01    3.44e-01    1.0e-03",  # DeePMD
    "59/59 [==============================] - 45s 754ms/step - loss: 1.8432 - accuracy: 0.3421",  # Keras
    "[10]\ttrain-rmse:0.45123\teval-rmse:0.50211",  # XGBoost
    "2 0.512 0.530 0.801 0.790",  # a bare table of numbers
    "completed step: 5, seconds: 0.278, TFLOP/s: 54.058, loss: 9.663",  # MaxText
]


# ---------------------------------------------------------------------------------------------- RWKV-LM train_log

RWKV = """0 4.875856 131.0863 0.00059975 2025-04-24 02:23:42.481256 0
1 4.028621 56.1834 0.00059899 2025-04-24 02:28:16.674463 1
2 3.801625 44.7739 0.00059773 2025-04-24 02:32:51.059568 2
3 3.663070 38.9808 0.00059597 2025-04-24 02:37:25.409892 3
"""


def test_rwkv_corpus_entry_reads_loss_and_lr_per_mini_epoch() -> None:
    run = load_run([REALWORLD / "rwkv7-minipile-readme-train-log" / "run"])
    loss = points(run, "loss", 6)
    assert len(loss) == 12 and loss[0] == (0, 4.875856) and loss[-1] == (11, 3.295895)
    assert points(run, "lr", 8)[0] == (0, 0.00059975)
    assert sorted(run.metrics) == ["loss", "lr"]


def test_rwkv_excerpt_and_a_resumed_run(tmp_path: Path) -> None:
    # a resumed run keeps counting mini-epochs in the first column while the last restarts at 0
    text = RWKV + "NEW RUN 2025-04-24-04-00-00\n4 3.578974 35.8368 0.00059371 2025-04-24 04:41:59.711315 0\n"
    run = load_run([write_run_dir(tmp_path, text, "train_log.txt")])
    assert points(run, "loss", 6) == [(0, 4.875856), (1, 4.028621), (2, 3.801625), (3, 3.66307), (4, 3.578974)]


def test_rwkv_line_whose_third_number_is_not_exp_of_the_second_is_not_claimed() -> None:
    st = State()
    assert parse_rwkv_train_log("0 4.875856 56.1834 0.00059975 2025-04-24 02:23:42.481256 0", st) is None
    assert parse_rwkv_train_log("NEW RUN 2025-04-24-02-18-33", st) is None


# ---------------------------------------------------------------------------------------------- aenet train.x

AENET = """ Weight optimization for 10 epochs using the Adaptive Moment Estimation (Adam) method.

        |------------TRAIN-----------|  |------------TEST------------|
epoch             MAE          <RMSE>             MAE          <RMSE>
     0    2.150739E+00    2.346867E+00    2.653921E+00    2.718389E+00 <
     1    1.922196E+00    2.093266E+00    2.374289E+00    2.430859E+00 <
     2    1.714063E+00    1.860964E+00    2.108215E+00    2.154571E+00 <
     3    1.522756E+00    1.640675E+00    1.870729E+00    1.902153E+00 <

 Training finished.

     4    9.9E+00    9.9E+00    9.9E+00    9.9E+00
"""


def test_aenet_corpus_entry_reads_train_and_test_errors_per_epoch() -> None:
    run = load_run([REALWORLD / "aenet-chebyshev-tio2-train-lbfgs-5000ep" / "run"])
    loss = points(run, "loss", 9)
    assert len(loss) == 5001 and loss[0] == (0, 0.5044585) and loss[-1] == (5000, 0.002159856)
    assert points(run, "eval_loss", 9)[-1] == (5000, 0.003691766)
    assert points(run, "val_mae", 7)[3] == (3, 0.1779562)
    assert sorted(run.metrics) == ["eval_loss", "loss", "mae", "val_mae"]


def test_aenet_excerpt_reads_under_the_header_until_training_finished(tmp_path: Path) -> None:
    run = load_run([write_run_dir(tmp_path, AENET, "train.out")])
    assert points(run, "loss", 6) == [(0, 2.346867), (1, 2.093266), (2, 1.860964), (3, 1.640675)]
    assert points(run, "mae", 6)[-1] == (3, 1.522756)
    assert points(run, "val_mae", 6)[0] == (0, 2.653921)


def test_aenet_rows_without_the_header_are_not_claimed() -> None:
    st = State()
    assert parse_aenet_train("     0    2.150739E+00    2.346867E+00    2.653921E+00    2.718389E+00 <", st) is None


# ---------------------------------------------------------------------------------------------- FLAML AutoML

FLAML = """[flaml.automl: 11-15 19:46:44] {1540} INFO - Minimizing error metric: 1-r2
[flaml.automl: 11-15 19:46:44] {1826} INFO - iteration 0, current learner lgbm
[flaml.automl: 11-15 19:46:44] {1944} INFO - Estimated sufficient time budget=3232s. Estimated necessary time budget=3s.
[flaml.automl: 11-15 19:46:44] {2029} INFO -  at 0.5s,\testimator lgbm's best error=0.7383,\tbest estimator lgbm's best error=0.7383
[flaml.automl: 11-15 19:46:44] {1826} INFO - iteration 1, current learner lgbm
[flaml.automl: 11-15 19:46:44] {2029} INFO -  at 0.6s,\testimator lgbm's best error=0.4774,\tbest estimator lgbm's best error=0.4774
[flaml.automl: 11-15 19:46:44] {1826} INFO - iteration 2, current learner lgbm
[flaml.automl: 11-15 19:46:44] {2029} INFO -  at 0.7s,\testimator lgbm's best error=0.4774,\tbest estimator lgbm's best error=0.4774
[flaml.automl: 11-15 19:46:44] {1826} INFO - iteration 3, current learner lgbm
[flaml.automl: 11-15 19:46:44] {2029} INFO -  at 0.9s,\testimator lgbm's best error=0.2985,\tbest estimator lgbm's best error=0.2985
"""  # noqa: E501 - the log's own lines


def test_flaml_corpus_entry_reads_the_best_error_per_trial() -> None:
    run = load_run([REALWORLD / "flaml-docs-lightgbm-houses-sample-output" / "run"])
    err = points(run, "val_error")
    assert len(err) == 14 and err[0] == (0, 0.7383) and err[-1] == (13, 0.1564)
    assert sorted(run.metrics) == ["val_error"]  # not the search clock, nor the retrained model's parameters


def test_flaml_excerpt_and_the_overall_best_of_two_learners(tmp_path: Path) -> None:
    text = FLAML + ("[flaml.automl.logger: 08-09 02:30:10] {2292} INFO - iteration 4, current learner rf\n"
                    "[flaml.automl.logger: 08-09 02:30:10] {2476} INFO -  at 1.1s,\testimator rf's best error=0.3012,"
                    "\tbest estimator lgbm's best error=0.2985\n")
    run = load_run([write_run_dir(tmp_path, text, "automl.log")])
    assert points(run, "val_error") == [(0, 0.7383), (1, 0.4774), (2, 0.4774), (3, 0.2985), (4, 0.2985)]


@pytest.mark.parametrize("line", OTHER_FORMATS + [
    "Trial 3 finished with value: 0.2985 and parameters: {'lr': 0.1}. Best is trial 3 with value: 0.2985.",
    "INFO - iteration 0 loss 0.52",
])
def test_no_parser_claims_another_formats_line(line: str) -> None:
    table = State()
    parse_aenet_train("epoch             MAE          <RMSE>             MAE          <RMSE>", table)
    assert parse_aenet_train(line, table) is None  # even inside the error table
    assert parse_rwkv_train_log(line, State()) is None
    assert parse_flaml_automl(line, State()) is None
