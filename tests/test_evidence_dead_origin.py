"""Dead units killed by an oversized update rank below what killed them (evidence/dead_origin.py); units dead from
the first step stay the cause. Small constructed runs, each under a second."""

from __future__ import annotations

import math

import numpy as np

from traindoc.evidence import dead_origin, run_detectors
from traindoc.evidence.detectors import not_learning as nl
from traindoc.ingest.model import ConfigValue, Run, Series

STEPS = np.arange(1, 301, 5)  # 60 logged points
LEVEL = math.sqrt((1 - 1 / 8) / 32)  # the bias-only grad norm at chance, 8 classes, batches of 32: 0.165


def build(grad: np.ndarray, config: dict[str, object], loss: np.ndarray | None = None) -> Run:
    run = Run()
    rng = np.random.default_rng(0)
    run.add_series(Series("loss", STEPS, loss if loss is not None else math.log(8) * (1 + 0.01 * rng.standard_normal(
        STEPS.size)), "run/train.log"))
    run.add_series(Series("grad_norm", STEPS, grad, "run/train.log"))
    run.add_series(Series("eval_accuracy", STEPS[5::6], 0.129 + 0.002 * (-1) ** np.arange(STEPS[5::6].size),
                          "run/train.log"))
    for k, v in config.items():
        run.put_config(ConfigValue(k, v, "run/train.log", 1, "log_line", str(v)))
    return run.finalize()


def scores(findings: list) -> dict[str, float]:
    out: dict[str, float] = {}
    for f in findings:
        out[f.cause] = 1 - (1 - out.get(f.cause, 0.0)) * (1 - f.strength)
    return out


def alive_then_dead(at: int = 10) -> np.ndarray:
    """3x the bias level for the first `at` points (weights get gradient), then at the bias level."""
    g = np.full(STEPS.size, 0.95 * LEVEL)
    g[:at] = 3 * LEVEL
    return g


def test_units_alive_then_dead_under_an_lr_far_above_its_range_rank_below_the_lr():
    """Adam at lr 0.05 (over 10x the top of its range): the grad norm falls from 3x the bias level to it at step 51;
    dead_units drops to the cap, below lr_too_high, with the death step and the LR cited."""
    run = build(alive_then_dead(), {"lr": 0.05, "optimizer": "adam", "batch_size": 32})
    step, ev = dead_origin.died_later(run)
    assert step == int(STEPS[10]) and "alive at first" in ev
    got = run_detectors(run)
    s = scores(got)
    assert s["dead_units"] <= dead_origin.KILLED_LATER + 1e-9 and s["dead_units"] < s["lr_too_high"]
    (f,) = [f for f in got if f.cause == "dead_units"]
    assert f.numbers["killed_by"] == "lr_too_high" and "reference range" in f.evidence[-1]


def test_units_dead_from_the_first_logged_step_under_an_lr_far_above_its_range_are_its_damage():
    """The same LR, but the grad norm sits at the bias-only level from step 1: no death step in the log, yet Adam at
    over 10x the top of its range moves every weight by ~lr on its first update, enough to kill ReLUs before the first
    logged point: the stated LR is named first and the constant output's dead units are listed below it."""
    run = build(np.full(STEPS.size, 0.95 * LEVEL), {"lr": 0.05, "optimizer": "adam", "batch_size": 32})
    assert dead_origin.died_later(run) is None
    got = run_detectors(run)
    s = scores(got)
    assert s["dead_units"] <= dead_origin.KILLED_LATER + 1e-9 and s["dead_units"] < s["lr_too_high"]
    assert all(f.numbers.get("killed_by") == "lr_too_high" for f in got if f.cause == "dead_units")
    # alive then dead with an LR inside Adam's range and no spike: no origin in the log, dead_units is left as it was
    calm = build(alive_then_dead(), {"lr": 3e-4, "optimizer": "adam", "batch_size": 32})
    assert dead_origin.died_later(calm) is not None
    assert scores(run_detectors(calm))["dead_units"] >= nl.CONSTANT_OUTPUT


def test_a_grad_collapse_right_after_a_spike_is_the_spikes_damage():
    """A grad norm at ~1, a spike to 80 at step 146, then 1e-5 (a >= 1000x collapse): the blow-up killed the units;
    without the spike the same collapse stays dead_units' own finding (>= 0.5)."""
    g = np.concatenate([np.full(29, 1.0), [80.0], np.full(30, 1e-5)])
    loss = np.concatenate([np.linspace(2.0, 1.5, 30), np.full(30, 1.6)])
    cfg = {"lr": 1e-3, "optimizer": "adam"}
    got = run_detectors(build(g, cfg, loss))
    (f,) = [f for f in got if f.cause == "dead_units"]
    assert f.strength <= dead_origin.KILLED_LATER and "spiked to 80" in f.evidence[-1]
    g[29] = 1.0
    (f,) = [f for f in run_detectors(build(g, cfg, loss)) if f.cause == "dead_units"]
    assert f.strength >= 0.5 and "killed_by" not in f.numbers


def test_a_dead_init_keeps_dead_units_the_cause():
    """A ReLU bias init of -4 with a loss that never left chance: dead from the start, nothing demoted even with an
    accumulation reading and a death step beside it."""
    from traindoc.evidence.finding import Finding

    fs = [Finding("detect_dead_init", "dead_units", 0.7, "dead init"),
          Finding("detect_dead_units", "dead_units", 0.7, "collapse", step=100),
          Finding("detect_learned_then_lost", "grad_accum_bug", 0.4, "oversized steps")]
    run = build(alive_then_dead(), {"lr": 3e-4, "optimizer": "adam", "batch_size": 32})
    assert dead_origin.demote(run, fs) == fs
    # without the init finding the accumulation reading is the origin and the collapse is capped below it
    out = dead_origin.demote(run, fs[1:])
    assert out[0].strength <= dead_origin.BELOW_ORIGIN * 0.4 + 1e-9 and out[0].numbers["killed_by"] == "grad_accum_bug"


def test_a_loss_that_climbed_before_it_froze_names_the_step_size():
    """A loss from 2.0 up to 9.0 by step 36 (4.5x its first value), then bit-identical from step 51: the updates
    overshot before the units died; with gradient_accumulation_steps 4 configured the accumulation is named, without it
    the LR. A loss that only fell before it froze keeps dead_units' own 0.65."""
    from traindoc.evidence.detectors.unchanged_loss import detect_loss_froze_after_moving

    loss = np.concatenate([[2.0, 4.0, 6.0, 8.0, 9.0, 7.0, 5.0, 3.0, 2.5, 2.4], np.full(50, 2.302585)])
    for cfg, named in (({"lr": 1e-3, "optimizer": "adam", "gradient_accumulation_steps": 4}, "grad_accum_bug"),
                       ({"lr": 1e-3, "optimizer": "adam"}, "lr_too_high")):
        run = build(np.full(STEPS.size, 0.5), cfg, loss)
        fs = detect_loss_froze_after_moving(run)
        assert fs and fs[0].step == int(STEPS[10])
        org = dead_origin.origin(run, [], fs[0].step)
        assert org is not None and org.cause == named and "4.5x its first value" in org.evidence
        (f,) = dead_origin.demote(run, fs)
        assert f.strength == dead_origin.KILLED_LATER and f.numbers["killed_by"] == named
    fell = np.concatenate([np.linspace(2.4, 2.31, 10), np.full(50, 2.302585)])
    run = build(np.full(STEPS.size, 0.5), {"lr": 1e-3, "optimizer": "adam"}, fell)
    fs = detect_loss_froze_after_moving(run)
    assert fs and dead_origin.demote(run, fs) == fs and fs[0].strength == 0.65


def test_an_output_that_saturated_after_the_first_epoch_is_the_step_sizes_damage():
    """A Keras-style history: loss 0.69 / accuracy 0.55 at epoch 1, then 5.5 / 0.655 frozen (16 nats per error, a
    clipped saturated output) from epoch 2: the loss climbed 8x into saturation, so dead_units (0.6) drops below the
    step size. Frozen from the first epoch with no LR stated, the same output is listed at the tie level beside the
    step size and the inputs (dead_origin.tie); with an LR stated inside its range it stays dead_units' own finding."""
    from traindoc.evidence.detectors.epoch_curves import detect_saturated_output

    def history(first: tuple[float, float] | None, lr: bool = False) -> Run:
        run = Run()
        if lr:  # Adam at 1e-3, inside its range
            run.config["lr"] = ConfigValue("lr", 1e-3, "run/config.yaml", 1, "yaml", "1e-3")
            run.config["optimizer"] = ConfigValue("optimizer", "adam", "run/config.yaml", 2, "yaml", "adam")
        ep = np.arange(1, 9)
        loss, acc = np.full(8, 5.52), np.full(8, 0.6552)
        if first is not None:
            loss[0], acc[0] = first
        run.add_series(Series("loss", ep, loss, "run/train.log"))
        run.add_series(Series("accuracy", ep, acc, "run/train.log"))
        return run.finalize()

    run = history((0.69, 0.55))
    fs = detect_saturated_output(run)
    assert fs and fs[0].step == 2
    (f,) = dead_origin.demote(run, fs)
    assert f.strength == dead_origin.KILLED_LATER and f.numbers["killed_by"] == "lr_too_high"
    pinned = history(None)
    fs = detect_saturated_output(pinned)
    assert fs and fs[0].step == 1
    (f,) = dead_origin.demote(pinned, fs)
    assert f.strength <= nl.CONSTANT_TIE + 1e-9 and f.numbers["listing"] and "killed_by" not in f.numbers
    pinned = history(None, lr=True)
    fs = detect_saturated_output(pinned)
    assert dead_origin.demote(pinned, fs) == fs
