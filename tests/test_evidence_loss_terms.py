"""A run that logs only named loss terms (multi-task heads, detection losses) is still read as a training loss: the
terms' sum stands in for the total (evidence/context.py: loss_terms, loss_series), so NaN/Inf and divergence
evidence sees it; an epoch and iteration counter glued by "_" gives the step; a climbing loss before a NaN needs
enough points (or a blow-up) to be a lead. Fires/silent tests on constructed runs and on a real-world log."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from traindoc.evidence.context import divergence, loss_series, loss_terms, nan_context
from traindoc.evidence.detectors import numerics
from traindoc.ingest.loader import load_run
from traindoc.ingest.model import Run, Series
from traindoc.ingest.readers.textlog_formats import State, parse_generic

REALWORLD = Path(__file__).parent / "corpus" / "realworld"
PCGRAD = REALWORLD / "pytorch-pcgrad-7-zero-grad-norm-division-nan" / "run"


def terms_run(series: dict[str, np.ndarray], steps: np.ndarray | None = None) -> Run:
    run = Run()
    for name, v in series.items():
        st = steps if steps is not None else np.arange(len(v))
        run.add_series(Series(name, st, v, "run/train.log", name))
    return run.finalize()


def test_glued_epoch_iter_counter_gives_the_step() -> None:
    rec = parse_generic("===> Epoch: 4_Iter:11  seg_loss: nan grade_loss: 0.5", State())
    assert rec is not None and rec.step == 11 and rec.epoch == 4
    assert np.isnan(rec.metrics["seg_loss"]) and rec.metrics["grade_loss"] == 0.5
    # a metric name with digits and "_step" is no glued counter: nothing is split
    rec = parse_generic("epoch 2 loss_1_step: 0.3", State())
    assert rec is not None and "loss_1_step" in rec.metrics


def test_pcgrad_multi_task_nan_is_read_as_a_nan_and_not_as_healthy() -> None:
    run = load_run([PCGRAD])
    assert run.series("loss") is None
    assert {t.name for t in loss_terms(run)} == {"seg_loss", "grade_loss", "idh_loss"}
    loss = loss_series(run)
    assert loss is not None and loss.steps.tolist() == [8, 9, 10, 11, 12, 13]
    ctx = nan_context(run)
    assert ctx is not None and ctx.step == 11 and ctx.loss_nan and not ctx.recovers
    # three finite points climbing 1.7x are within minibatch noise: no lead, so the log cannot tell the cause
    assert ctx.loss_rising is None
    f = numerics.detect_nan_inf(run)
    assert f and f[0].step == 11 and f[0].strength < 0.5


def test_terms_sum_propagates_a_nan_in_any_term() -> None:
    a = np.linspace(2.0, 1.0, 20)
    b = np.linspace(1.0, 0.5, 20)
    b[12:] = np.nan
    run = terms_run({"loss_cls": a, "loss_bbox": b, "loss_scale": np.full(20, 65536.0)})
    loss = loss_series(run)
    assert loss is not None and loss.name == "loss"
    assert "loss_scale" not in loss.raw_name  # the scaler's value is no loss term
    assert int(loss.steps[int(np.argmax(~np.isfinite(loss.values)))]) == 12


def test_terms_divergence_fires_on_the_sum_and_stays_silent_on_a_falling_sum() -> None:
    t = np.arange(200)
    falling = 2.0 * np.exp(-t / 50) + 0.3
    rising = np.where(t < 100, falling, falling[100] * (1 + (t - 100) / 20.0))
    d = divergence(terms_run({"seg_loss": rising, "cls_loss": falling}))
    assert d is not None and 80 <= d.min_step <= 110
    assert divergence(terms_run({"seg_loss": falling, "cls_loss": falling})) is None


def test_no_terms_when_a_total_exists_or_for_eval_and_adversarial_losses() -> None:
    v = np.linspace(2.0, 1.0, 20)
    assert loss_terms(terms_run({"loss": v, "loss_cls": v})) == []
    assert loss_series(terms_run({"eval_loss": v, "val/box_loss": v})) is None
    # a GAN's two players minimise opposing objectives: their sum is no total
    assert loss_series(terms_run({"d_loss": v, "g_loss": v})) is None


def test_short_climb_is_a_lead_only_when_it_is_a_blow_up() -> None:
    noisy = terms_run({"loss": np.array([2.0, 3.3, 3.5, np.nan, np.nan, np.nan])})
    ctx = nan_context(noisy)
    assert ctx is not None and ctx.loss_rising is None
    blown = terms_run({"loss": np.array([2.0, 40.0, 900.0, np.nan, np.nan, np.nan])})
    ctx = nan_context(blown)
    assert ctx is not None and ctx.loss_rising is not None
    steady_climb = terms_run({"loss": np.array([2.0, 2.1, 2.3, 2.6, 2.9, np.nan, np.nan])})
    ctx = nan_context(steady_climb)
    assert ctx is not None and ctx.loss_rising is not None


GAN_TUTORIAL = REALWORLD / "g6-golbin-tf-tutorials-42-gan-tf-log-nan-epoch-564" / "run"
VAE_GLUED = REALWORLD / "g6-kvfrans-vae-5-log-eps-1e-8-nan-epoch-432" / "run"


def test_glued_term_names_are_terms_but_glued_split_and_player_names_are_not_summed() -> None:
    v = np.linspace(2.0, 1.0, 20)
    # a VAE script's "genloss"/"latloss" are its two terms: their sum is the loss it minimises
    loss = loss_series(terms_run({"genloss": v, "latloss": v}))
    assert loss is not None and loss.raw_name == "genloss + latloss"
    # a glued split name is that split's curve, not a training term
    assert loss_series(terms_run({"valloss": v, "testloss": v})) is None
    # glued players of an adversarial game ("dloss"/"gloss") give no total, as "d_loss"/"g_loss" do not
    assert loss_series(terms_run({"dloss": v, "gloss": v})) is None


def test_nan_in_a_player_loss_of_an_adversarial_game_fires_and_finite_players_stay_silent() -> None:
    d = np.linspace(-0.3, -0.5, 30)
    g = np.linspace(-2.9, -2.6, 30)
    g_nan = g.copy()
    g_nan[17:] = np.nan
    d_nan = d.copy()
    d_nan[21:] = np.nan
    run = terms_run({"D loss": d_nan, "G loss": g_nan})
    assert loss_series(run) is None  # still no total: the NaN is read from the players themselves
    f = numerics.detect_nan_inf(run)
    assert f and f[0].step == 17  # the player that went non-finite first
    assert any(e.startswith("G loss is nan at step 17") for e in f[0].evidence)
    assert numerics.detect_nan_inf(terms_run({"D loss": d, "G loss": g})) == []


def test_real_gan_and_vae_logs_whose_losses_end_nan_are_not_read_as_healthy() -> None:
    gan = load_run([GAN_TUTORIAL])
    f = numerics.detect_nan_inf(gan)
    assert f and f[0].step == 564
    vae = load_run([VAE_GLUED])
    loss = loss_series(vae)
    assert loss is not None and loss.raw_name == "genloss + latloss"
    ctx = nan_context(vae)
    assert ctx is not None and ctx.step == 432


VRNN = REALWORLD / "g6-vrnn-emited-2-kld-nll-nan-epoch3" / "run"


def test_pytorch_examples_batch_line_with_named_loss_parts_keeps_its_sample_step() -> None:
    from traindoc.ingest.readers.textlog_formats import parse_pytorch_examples

    st = State()
    rec = parse_pytorch_examples("Train Epoch: 3 [2800/60000 (21%)]\t KLD Loss: 2.976363 \t NLL Loss: 78.757454", st)
    assert rec is not None and rec.step == 2 * 60000 + 2800 and rec.epoch == 3
    assert rec.metrics == {"KLD Loss": 2.976363, "NLL Loss": 78.757454}
    # the usual line is read as before; a bracket with no value after it is no record
    rec = parse_pytorch_examples("Train Epoch: 1 [640/60000 (1%)]\tLoss: 2.279\tLR: 0.1", State())
    assert rec is not None and rec.step == 640 and rec.metrics == {"loss": 2.279, "LR": 0.1}
    assert parse_pytorch_examples("Train Epoch: 1 [640/60000 (1%)]", State()) is None


def test_real_vrnn_log_nan_is_placed_inside_epoch_3_after_finite_batches() -> None:
    run = load_run([VRNN])
    loss = loss_series(run)
    assert loss is not None and loss.raw_name == "KLD Loss + NLL Loss"
    ctx = nan_context(run)
    assert ctx is not None and ctx.step == 2 * 60000 + 8400 and ctx.finite_before == 3
