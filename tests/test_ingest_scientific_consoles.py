"""Eight training outputs first met in real-world healthy logs of unseen stacks and domains (issue 8, session 31),
each read by its own module: scikit-learn's t-SNE trace (_tsne_verbose.py), Stan's ADVI table (_stan_advi.py),
DeePMD-kit's lcurve.out (_deepmd_lcurve.py), GPUMD's NEP loss.out (_gpumd_nep_loss.py), NequIP's `log`
(_nequip_log.py), MACE's console and results file (_mace_console.py, _mace_results.py) and Chemprop v1's verbose
log (_chemprop_log.py). Blind, five were unreadable, t-SNE's was read by the generic rules with the KL divergence as
`error` and a timing as a metric, MACE's results file kept each epoch's last batch loss, and Chemprop's validation
scores were not read. The "reads" cases load the corpus entries; the silent cases
call the parsers on lines of other formats."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.textlog_support import points, write_run_dir

from traindoc.ingest.loader import load_run
from traindoc.ingest.readers._chemprop_log import parse_chemprop_log
from traindoc.ingest.readers._deepmd_lcurve import parse_deepmd_lcurve
from traindoc.ingest.readers._gpumd_nep_loss import parse_gpumd_nep_loss
from traindoc.ingest.readers._mace_console import parse_mace_console
from traindoc.ingest.readers._mace_results import sniff_mace_results
from traindoc.ingest.readers._nequip_log import parse_nequip_log
from traindoc.ingest.readers._stan_advi import parse_stan_advi
from traindoc.ingest.readers._tsne_verbose import parse_tsne_verbose
from traindoc.ingest.readers.textlog_formats import State

REALWORLD = Path(__file__).parent / "corpus" / "realworld"


def _run(entry: str):
    return load_run([REALWORLD / entry / "run"])


# --- t-SNE ---------------------------------------------------------------------------------------------------------


def test_tsne_reads_the_kl_divergence_after_early_exaggeration_as_the_loss():
    run = _run("g3s31-kepler-mapper-sklearn-tsne-digits-verbose")
    loss = points(run, "loss")
    assert loss[0] == (300, 1.0604) and loss[-1] == (1000, 0.75) and len(loss) == 15
    kl = points(run, "exaggerated_kl")
    assert kl[0] == (50, 75.2772) and kl[-1] == (250, 61.856) and len(kl) == 5
    assert len(points(run, "grad_norm")) == 20
    assert not any("iterations" in name or name in ("angle", "perplexity") for name in run.metrics)


def test_tsne_iteration_before_the_phase_line_is_exaggerated():
    st = State()
    rec = parse_tsne_verbose("[t-SNE] Iteration 25: error = 1.7617760, gradient norm = 0.0080711", st)
    assert rec is not None and rec.step == 25 and rec.metrics == {"exaggerated_kl": 1.761776, "grad_norm": 0.0080711}
    assert parse_tsne_verbose("[t-SNE] KL divergence after 100 iterations with early exaggeration: 1.234676", st)
    rec = parse_tsne_verbose("[t-SNE] Iteration 125: error = 1.1260014, gradient norm = 0.0014051", st)
    assert rec is not None and rec.metrics["loss"] == 1.1260014


@pytest.mark.parametrize("line", [
    "[t-SNE] Computed conditional probabilities for sample 1000 / 1797",
    "[t-SNE] KL divergence after 1000 iterations: 0.749952",
    "[t-SNE] Mean sigma: 8.121136",
    "Iteration 50: error = 75.2, gradient norm = 0.12",
    "Epoch 3: loss = 0.5",
])
def test_tsne_parser_silent_on_other_lines(line: str):
    assert parse_tsne_verbose(line, State()) is None


# --- Stan ADVI -----------------------------------------------------------------------------------------------------


def test_stan_advi_reads_the_negative_elbo_as_the_loss():
    run = _run("g3s31-pepi-cmdstanr-advi-multirates-vignette")
    loss = points(run, "loss", 3)
    assert loss[0] == (100, 4217.949) and loss[10] == (1100, 62.939) and loss[-1] == (2400, 50.887)
    assert len(loss) == 24
    assert points(run, "delta_elbo_med", 3)[-1] == (2400, 0.009)


def test_stan_advi_reads_rstan_chain_prefixed_rows(tmp_path: Path):
    text = ("Chain 1: Begin stochastic gradient ascent.\n"
            "Chain 1:   iter             ELBO   delta_ELBO_mean   delta_ELBO_med   notes \n"
            "Chain 1:    100        -4003.375             1.000            1.000\n"
            "Chain 1:    200        -3725.256             0.537            1.000\n"
            "Chain 1:    300        -3709.548             0.360            0.075\n"
            "Chain 1:    400        -3702.257             0.270            0.075   MEAN ELBO CONVERGED\n"
            "Chain 1: Drawing a sample of size 1000 from the approximate posterior... \n")
    run = load_run([write_run_dir(tmp_path, text)])
    assert points(run, "loss", 3) == [(100, 4003.375), (200, 3725.256), (300, 3709.548), (400, 3702.257)]


@pytest.mark.parametrize("line", [
    "   100        -4217.949             1.000            1.000 ",  # a row without its header
    "Iteration: 250 / 250 [100%]  (Adaptation)",
    "Success! Found best value [eta = 0.1].",
    "  Iter      log prob        ||dx||      ||grad||       alpha      alpha0  # evals  Notes ",
])
def test_stan_advi_parser_silent_without_its_header(line: str):
    assert parse_stan_advi(line, State()) is None


# --- DeePMD-kit lcurve.out ----------------------------------------------------------------------------------------


def test_deepmd_lcurve_reads_total_and_per_term_errors():
    run = _run("g3s31-deepmd-starter-kit-water-lcurve")
    assert points(run, "loss")[0] == (0, 11.0) and points(run, "loss")[-1] == (10000, 0.129)
    assert points(run, "eval_loss")[-1] == (10000, 0.139) and len(points(run, "eval_loss")) == 101
    assert points(run, "rmse_f")[-1] == (10000, 0.0431) and points(run, "val_rmse_e")[0] == (0, 0.672)
    assert points(run, "lr", 10)[-1] == (10000, 3.5e-08)


def test_deepmd_lcurve_old_tst_header_and_a_train_only_header():
    st = State()
    assert parse_deepmd_lcurve("# batch      l2_tst    l2_trn    l2_e_tst  l2_e_trn         lr", st) is not None
    rec = parse_deepmd_lcurve("    100      2.57e+01    2.56e+01      1.87e+00    1.88e+00    1.0e-03", st)
    assert rec is not None and rec.metrics == {"val_loss": 25.7, "loss": 25.6, "val_l2_e": 1.87, "l2_e": 1.88,
                                               "lr": 1e-3}
    st = State()
    assert parse_deepmd_lcurve("#  step      rmse_tst    rmse_trn    rmse_e_tst  rmse_e_trn         lr", st) is not None
    rec = parse_deepmd_lcurve("    100      2.57e+01    2.56e+01      1.87e+00    1.88e+00    1.0e-03", st)
    assert rec is not None and rec.metrics == {"val_loss": 25.7, "loss": 25.6, "val_rmse_e": 1.87, "rmse_e": 1.88,
                                               "lr": 1e-3}
    st = State()
    parse_deepmd_lcurve("# step rmse_trn rmse_e_trn rmse_f_trn lr", st)
    rec = parse_deepmd_lcurve("  0  3.41e+01  1.03e+01  8.72e-01  1.0e-03", st)
    assert rec is not None and rec.metrics == {"loss": 34.1, "rmse_e": 10.3, "rmse_f": 0.872, "lr": 1e-3}


@pytest.mark.parametrize("line", [
    "      0      1.05e+01    1.10e+01      6.72e-01    6.79e-01      3.31e-01    3.44e-01    1.0e-03",  # no header
    "# step loss acc lr",
    "#  epoch  train_loss  val_loss",
])
def test_deepmd_lcurve_parser_silent_on_other_lines(line: str):
    st = State()
    assert not parse_deepmd_lcurve(line, st) or not parse_deepmd_lcurve(line, st).metrics


# --- GPUMD NEP loss.out --------------------------------------------------------------------------------------------


def test_gpumd_nep_loss_reads_every_column_per_generation():
    run = _run("g3s31-gpumd-nep-vconi-loss-out")
    loss = points(run, "loss")
    assert loss[0] == (100, 0.9593) and loss[-1] == (500000, 0.2026) and len(loss) == 5000
    assert points(run, "l2_reg")[-1] == (500000, 0.0451)
    assert points(run, "eval_rmse_force")[0] == (100, 0.3944)


def test_gpumd_nep_loss_six_column_dipole_rows():
    st = State()
    rec = parse_gpumd_nep_loss("100     0.51930    0.00924    0.01130    0.19357      0.19436", st)
    assert rec is not None and rec.step == 100 and rec.metrics["loss"] == 0.5193 and rec.metrics["test_rmse"] == 0.19436
    assert parse_gpumd_nep_loss("200     0.41930    0.00924    0.01130    0.18357      0.18436", st) is not None


@pytest.mark.parametrize("lines", [
    # a 10-column table of other numbers: its first counter is no 100, or it does not step by 100
    ["1 0.5 0.4 0.3 0.2 0.1 0.5 0.4 0.3 0.2"],
    ["100 0.95930 0.00924 0.01130 0.19357 0.59372 0.72047 0.11414 0.39436 0.36893",
     "150 0.95930 0.00924 0.01130 0.19357 0.59372 0.72047 0.11414 0.39436 0.36893"],
    # a negative value (no loss or RMSE is) or an integer column
    ["100 -0.95930 0.00924 0.01130 0.19357 0.59372 0.72047 0.11414 0.39436 0.36893"],
    ["100 1 2 3 4 5 6 7 8 9"],
    ["100 0.5 0.4 0.3 0.2 0.1 0.5 0.4"],  # eight columns: a headerless DeePMD row
])
def test_gpumd_nep_loss_parser_silent_on_other_tables(lines: list[str]):
    st = State()
    got = [parse_gpumd_nep_loss(line, st) for line in lines]
    assert got[-1] is None


# --- NequIP log ----------------------------------------------------------------------------------------------------


def test_nequip_log_alone_reads_train_and_validation_rows(tmp_path: Path):
    text = (REALWORLD / "g3s31-nequip-si-aimd-50-epochs" / "run" / "log").read_text()
    run = load_run([write_run_dir(tmp_path, text, name="log")])
    loss = points(run, "loss", 6)
    assert loss[0] == (1, 0.825) and loss[-1] == (50, 0.00048) and len(loss) == 50
    val = points(run, "eval_loss", 6)
    assert val[0] == (0, 3.1) and val[1] == (1, 0.219) and val[-1] == (50, 0.000418) and len(val) == 51
    assert points(run, "val_f_mae")[-1] == (50, 0.0144) and points(run, "lr")[0] == (1, 0.005)
    assert "wal" not in run.metrics and "val_lr" not in run.metrics


def test_nequip_metrics_csv_wall_column_is_the_clock_not_a_metric():
    # metrics_epoch.csv's second column, `wall`, is seconds since the start (8.08, 12.75, ...): it climbs with time
    run = _run("g3s31-nequip-si-aimd-50-epochs")
    assert "wall" not in run.metrics
    assert len(points(run, "loss")) == 50


@pytest.mark.parametrize("line", [
    "      1    16        0.217        0.178       0.0382        0.289        0.383",  # a per-batch row
    "! Best model        1    0.219",
    "! Train               1    8.080    0.005         0.46",  # a summary row before any header
    "Wall time: 8.081096608999815",
])
def test_nequip_log_parser_silent_on_other_lines(line: str):
    assert parse_nequip_log(line, State()) is None


# --- MACE ----------------------------------------------------------------------------------------------------------


def test_mace_results_reads_epoch_means_and_validation_errors():
    run = _run("g3s31-mace-tutorial-solvent-xtb-mace01")
    loss = points(run, "loss", 3)
    assert loss[0] == (0, 329.262) and loss[-1] == (49, 3.537) and len(loss) == 50
    val = points(run, "eval_loss", 4)
    assert val[0] == (0, 30.7212) and val[-1] == (48, 0.4545) and len(val) == 25
    assert points(run, "eval_rmse_f", 3)[-1] == (48, 0.207) and points(run, "eval_rmse_f_mev", 1)[-1] == (48, 206.8)
    assert not any(name.startswith(("with energy", "forces weight", "and learning")) for name in run.metrics)


def test_mace_console_alone_reads_validation_lines(tmp_path: Path):
    text = ("2026-02-25 13:49:37.362 INFO: Initial: head: Default, loss=1.92412590, RMSE_E_per_atom=  276.31 meV, "
            "RMSE_F=  404.35 meV / A\n"
            "2026-02-25 13:49:45.983 INFO: Epoch 0: head: Default, loss=1.99465336, RMSE_E_per_atom=   54.74 meV, "
            "RMSE_F=  405.85 meV / A\n"
            "2026-02-25 13:49:48.496 INFO: Epoch 1: head: Default, loss=0.53195376, RMSE_E_per_atom=   30.81 meV, "
            "RMSE_F=  210.86 meV / A\n"
            "2026-02-25 13:49:50.606 INFO: Epoch 2: head: Default, loss=0.46904881, RMSE_E_per_atom=   21.52 meV, "
            "RMSE_F=  190.10 meV / A\n")
    run = load_run([write_run_dir(tmp_path, text, name="mace_run-123.log")])
    assert points(run, "eval_loss", 4) == [(0, 1.9947), (1, 0.532), (2, 0.469)]
    assert points(run, "eval_rmse_f_mev", 2)[-1] == (2, 190.1)


@pytest.mark.parametrize("line", [
    "2024-07-21 14:16:41.934 INFO: Epoch None: loss=71.3685, RMSE_E_per_atom=6269.3 meV, RMSE_F=2604.0 meV / A",
    "2024-07-21 14:16:39.920 INFO: WeightedEnergyForcesLoss(energy_weight=1.000, forces_weight=100.000)",
    "Epoch 3: loss = 0.52",
    "Epoch 3: train_loss=0.52",
])
def test_mace_console_parser_silent_on_other_lines(line: str):
    assert not parse_mace_console(line, State())


def test_mace_results_sniff_only_mace_modes():
    assert sniff_mace_results(Path("x.txt"), b'{"loss": 2.0, "mode": "eval", "epoch": null}\n'
                                             b'{"loss": 3.0, "time": 1.0, "mode": "opt", "epoch": 0}\n') > 0.8
    assert sniff_mace_results(Path("x.jsonl"), b'{"loss": 2.0, "mode": "train", "epoch": 0}\n'
                                               b'{"loss": 1.0, "mode": "val", "epoch": 0}\n') == 0.0
    assert sniff_mace_results(Path("x.jsonl"), b'{"loss": 2.0, "step": 1}\n{"loss": 1.0, "step": 2}\n') == 0.0


# --- Chemprop ------------------------------------------------------------------------------------------------------


def test_chemprop_reads_every_loss_line_and_the_validation_score():
    run = _run("g3s31-chemprop-v1-mve-regression-30ep-verbose-log")
    loss = points(run, "loss")
    assert loss[0] == (1, 1.7687) and loss[-1] == (36, 0.4396) and len(loss) == 36
    val = points(run, "val_rmse")
    assert val[0] == (1, 1.497) and val[-1] == (36, 0.6783) and len(val) == 30
    assert points(run, "param_norm")[0] == (1, 42.7364) and points(run, "lr", 6)[-1] == (36, 0.0001)


def test_chemprop_classification_metric_and_lines_before_any_epoch():
    st = State()
    assert parse_chemprop_log("Loss = 1.6347e+00, PNorm = 34.0559, GNorm = 2.8431, lr_0 = 1.2475e-04", st) is None
    assert parse_chemprop_log("Epoch 0", st) is not None
    rec = parse_chemprop_log("Loss = 6.9340e-01, PNorm = 34.0559, GNorm = 2.8431, lr_0 = 1.2475e-04", st)
    assert rec is not None and rec.step == 1 and rec.metrics["grad_norm"] == 2.8431
    rec = parse_chemprop_log("Validation prc-auc = 0.812000", st)
    assert rec is not None and rec.eval and rec.metrics == {"val_prc_auc": 0.812}


@pytest.mark.parametrize("line", [
    "Model 0 best validation rmse = 0.655130 on epoch 27",
    "Model 0 test rmse = 0.658663",
    "Overall test rmse = 0.658663 +/- 0.000000",
    "Epoch 3: loss = 0.5",
    "Loss = 0.52",
])
def test_chemprop_parser_silent_on_other_lines(line: str):
    st = State()
    parse_chemprop_log("Epoch 0", st)
    assert not parse_chemprop_log(line, st)
