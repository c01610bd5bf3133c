"""DeepXDE's loss.dat (readers/_deepxde_loss_dat.py) and the regression objective its reader reports to the
label-leakage collapse reading (detectors/data.regression_run)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.test_evidence_detectors import T, fire, healthy_arrays, make_run
from tests.textlog_support import read_text

from traindoc.evidence.detectors import data
from traindoc.ingest.loader import load_run
from traindoc.ingest.readers._deepmd_lcurve import parse_deepmd_lcurve
from traindoc.ingest.readers._deepxde_loss_dat import parse_deepxde_loss_dat
from traindoc.ingest.readers.textlog_formats import State

CORPUS = Path(__file__).parent / "corpus" / "realworld"
HEADER = "# step, loss_train, loss_test, metrics_test"


def _load(entry: str):
    return load_run([CORPUS / entry / "run"])


def test_navier_stokes_pinn_reads_the_term_sums_as_loss_and_validation_loss() -> None:
    run = _load("g16s35-deepxde-navier-stokes-2d-adam-lbfgs-loss-dat")
    loss, ev = run.series("loss"), run.series("eval_loss")
    assert loss is not None and ev is not None
    # 14 display steps 0..13000; step 10000 is written twice (Adam's last row, L-BFGS's first) and read once
    assert list(loss.steps) == list(range(0, 13001, 1000))
    assert loss.values[0] == pytest.approx(1.10507, abs=1e-5)  # the 9 terms: 3 PDE residuals, 6 Dirichlet conditions
    assert loss.values[-1] == pytest.approx(0.0091068, rel=1e-4)
    assert ev.values[-1] == pytest.approx(0.0084278, rel=1e-4)
    assert run.meta.get("regression_loss") is True


def test_repressilator_pinn_keeps_the_lbfgs_step_after_the_repeated_row() -> None:
    run = _load("g16s35-deepxde-repressilator-pinn-adam-lbfgs-loss-dat")
    loss = run.series("loss")
    assert loss is not None
    assert list(loss.steps[-3:]) == [9000, 10000, 10018]
    assert loss.values[0] == pytest.approx(318.415, rel=1e-5)  # 3 ODE residuals + 3 initial conditions (1, 1, 1.44)


def test_deeponet_reads_its_one_metric_as_a_validation_error() -> None:
    run = _load("g16s35-deepxde-deeponet-oscillatory-integrals-loss-dat")
    err = run.series("val_error")
    assert err is not None and len(err) == 11
    assert err.values[-1] == pytest.approx(2.7898e-6, rel=1e-4)


def test_split_pairs_identical_condition_terms_across_the_halves() -> None:
    # 8 values: n=4, m=0 pairs nothing; n=3, m=2 pairs the three terms (a condition term is the same on both halves)
    st = State()
    parse_deepxde_loss_dat(HEADER, st)
    rec = parse_deepxde_loss_dat("0.0e+00 1.0e+00 2.0e+00 3.0e+00 1.0e+00 2.0e+00 3.0e+00 5.0e-01 7.0e-01", st)
    assert rec is not None
    assert rec.metrics == {"loss": 6.0, "val_loss": 6.0, "val_error_1": 0.5, "val_error_2": 0.7}


def test_without_its_header_a_row_of_numbers_is_not_read() -> None:
    st = State()
    assert parse_deepxde_loss_dat("0.0e+00 1.0e+00 2.0e+00", st) is None


@pytest.mark.parametrize("line", [
    "#  step      rmse_val    rmse_trn    rmse_e_val  rmse_e_trn    rmse_f_val  rmse_f_trn         lr",
    "# step loss val_loss",
    "epoch 1 loss 0.5",
])
def test_parser_silent_on_other_headers(line: str) -> None:
    assert parse_deepxde_loss_dat(line, State()) is None


def test_deepmd_parser_does_not_claim_the_deepxde_header() -> None:
    assert parse_deepmd_lcurve(HEADER, State()) is None


def test_other_number_tables_leave_no_regression_mark(tmp_path: Path) -> None:
    run = read_text(tmp_path, "#  step  rmse_val  rmse_trn  lr\n      0  1.0e+01  1.1e+01  1.0e-03\n"
                    "    100  7.6e+00  9.6e+00  1.0e-03\n", name="lcurve.out")
    assert "regression_loss" not in run.meta


def _collapse_with_held_out() -> dict[str, np.ndarray]:
    a = healthy_arrays()
    a["loss"] = 0.05 * np.exp(-T / 20) + 1e-6  # an MSE on scaled targets: 0.05 -> 1e-6 inside the first 10 %
    return a


def test_label_leakage_collapse_fires_without_a_regression_mark() -> None:
    # no metric names a regression and the reader said nothing: the collapse reads as a leak, as before
    a = _collapse_with_held_out()
    f = fire(data.detect_label_leakage, make_run(a, eval_loss=a["loss"] * 1.4))
    assert f.strength >= 0.5


def test_label_leakage_collapse_silent_on_a_reader_marked_regression_whose_held_out_loss_falls_with_it() -> None:
    # DeepXDE's mean squared residuals: the held-out loss falls with the training loss, a fit of a smooth target
    a = _collapse_with_held_out()
    run = make_run(a, eval_loss=a["loss"] * 1.4)
    run.meta["regression_loss"] = True
    assert data.detect_label_leakage(run) == []


def test_label_leakage_still_fires_on_a_reader_marked_regression_with_a_held_out_gap() -> None:
    a = _collapse_with_held_out()
    run = make_run(a, eval_loss=np.full(len(T), 0.04))
    run.meta["regression_loss"] = True
    assert data.detect_label_leakage(run)


def test_a_row_whose_step_is_not_finite_is_no_row() -> None:
    from traindoc.ingest.readers._deepxde_loss_dat import parse_deepxde_loss_dat
    from traindoc.ingest.readers.textlog_formats import State

    st = State()
    parse_deepxde_loss_dat("# step, loss_train, loss_test, metrics_test", st)
    assert parse_deepxde_loss_dat("inf 0.5 0.6 0.4", st) is None
    assert parse_deepxde_loss_dat("nan 0.5 0.6 0.4", st) is None
    rec = parse_deepxde_loss_dat("1000 0.5 0.6 0.4", st)
    assert rec is not None and rec.step == 1000 and rec.metrics["loss"] == 0.5
