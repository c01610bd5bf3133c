"""Readings of epoch-level loss/accuracy curves without grad norms (evidence/detectors/epoch_curves.py, and the LR
collapse seen from an epoch-end LR in evidence/context.py): each fires at its known step and stays silent on the
look-alikes (docs/diagnose.md, "Epoch-level histories")."""

from __future__ import annotations

import numpy as np

from traindoc.evidence.context import configured_lrs
from traindoc.evidence.detectors import epoch_curves
from traindoc.evidence.detectors.not_learning import detect_lr_collapse, detect_lr_too_low, lrs_below_reference
from traindoc.ingest.model import ConfigValue, Run, Series


def _run(**series: list[float]) -> Run:
    """A per-epoch history: epoch i is step i (as a Keras CSVLogger gives it)."""
    run = Run()
    for name, vals in series.items():
        v = np.asarray(vals, dtype=np.float64)
        run.metrics[name] = Series(name, np.arange(len(v), dtype=np.int64), v)
    return run


# a classifier whose first epoch blew up (mean 27 over the epoch) and that then fell back to chance ln(8) = 2.08
BLOWN = [27.29, 16.22, 13.34, 11.41, 3.55, 2.26, 2.12, 2.09, 2.08, 2.08]
ACC = [0.117, 0.125, 0.098, 0.129, 0.125, 0.117, 0.117, 0.125, 0.117, 0.141]


def test_first_loss_blowup_fires_at_the_first_epoch():
    f = epoch_curves.detect_first_loss_blowup(_run(loss=BLOWN, eval_accuracy=ACC))
    assert [x.cause for x in f] == ["lr_too_high"] and f[0].step == 0
    assert f[0].numbers["fall"] > 10


def test_first_loss_blowup_is_silent_on_its_look_alikes():
    # no accuracy: the loss may be a regression's or a summed one, whose scale says nothing
    assert not epoch_curves.detect_first_loss_blowup(_run(loss=BLOWN))
    # a per-sequence (CTC) loss starts above ln 1e6 and falls a few-fold over a healthy run
    ctc = [22.9, 12.1, 8.4, 6.9, 5.8, 5.0, 4.6, 4.3, 4.0, 3.9]
    assert not epoch_curves.detect_first_loss_blowup(_run(loss=ctc, accuracy=list(np.linspace(0.1, 0.8, 10))))
    # a healthy classifier starts under the bound
    healthy = [2.1, 1.2, 0.8, 0.6, 0.5, 0.45, 0.42, 0.4, 0.39, 0.38]
    assert not epoch_curves.detect_first_loss_blowup(_run(loss=healthy, eval_accuracy=ACC))
    # a loss that climbs to its maximum later is a divergence, read by detect_lr_too_high
    assert not epoch_curves.detect_first_loss_blowup(_run(loss=[2.1, 40.0, 3.0, 2.5, 2.2], eval_accuracy=ACC[:5]))
    # with grad norms logged, their rules tell a blow-up's cause apart
    assert not epoch_curves.detect_first_loss_blowup(_run(loss=BLOWN, eval_accuracy=ACC, grad_norm=[1.0] * 10))


# a classifier thrown off its scale in its first epoch that never came back: epoch means of millions of nats, the
# accuracy at chance (1/14) throughout (shaped on a Keras CSVLogger history of adamw at LR 3.28)
NEVER_BACK = [2.08e6, 6.89e6, 3.04e6, 1.10e6, 5.88e5, 4.11e5, 7.21e5, 4.76e6, 1.41e7, 9.34e6]
NEVER_BACK_ACC = [0.080, 0.068, 0.068, 0.073, 0.087, 0.073, 0.082, 0.073, 0.083, 0.080]


def test_loss_never_back_fires_at_the_first_epoch():
    f = epoch_curves.detect_loss_never_back(_run(loss=NEVER_BACK, accuracy=NEVER_BACK_ACC))
    assert [x.cause for x in f] == ["lr_too_high"] and f[0].step == 0
    assert f[0].strength == epoch_curves.BLOWUP_STRENGTH and f[0].numbers["lowest_loss"] == 4.11e5
    # the recovered blow-up is not read again here (it comes back under the bound)
    assert not epoch_curves.detect_loss_never_back(_run(loss=BLOWN, eval_accuracy=ACC))


def test_loss_never_back_is_only_listed_for_a_steady_summed_level():
    # `epoch_loss += loss.item()` over 100 batches of a 10-class classifier that never learns: ~230 nats, steady
    summed = [230.4, 229.8, 230.9, 230.1, 229.5, 230.6, 230.2, 229.9]
    chance = [0.10, 0.11, 0.10, 0.09, 0.10, 0.10, 0.11, 0.10]
    f = epoch_curves.detect_loss_never_back(_run(loss=summed, accuracy=chance))
    assert len(f) == 1 and f[0].strength < 0.5 and "listed only" in f[0].evidence[-1]
    # the same level to every digit is a printed cap (exp(min(loss, 100))), not a sum of scattering batch means
    f = epoch_curves.detect_loss_never_back(_run(loss=[100.0] * 8, accuracy=chance))
    assert len(f) == 1 and f[0].strength == epoch_curves.BLOWUP_STRENGTH


def test_loss_never_back_is_silent_on_its_look_alikes():
    # no accuracy: a regression's or a summed loss has a scale of its own
    assert not epoch_curves.detect_loss_never_back(_run(loss=NEVER_BACK))
    # a summed loss far above the bound that falls while the task improves
    summed = [4100.0, 2600.0, 1900.0, 1500.0, 1200.0, 1000.0, 900.0, 820.0, 760.0, 720.0]
    assert not epoch_curves.detect_loss_never_back(_run(loss=summed, accuracy=list(np.linspace(0.1, 0.8, 10))))
    # a clipped cross-entropy frozen at hard 0/1 guesses: (1 - 1/8) x 16.1 = 14.1 nats, the saturated-output reading
    saturated = [14.1] * 10
    assert not epoch_curves.detect_loss_never_back(_run(loss=saturated, accuracy=[0.125] * 10))
    # a loss that comes down under the bound once
    assert not epoch_curves.detect_loss_never_back(_run(loss=[*NEVER_BACK[:5], 20.0, *NEVER_BACK[6:]],
                                                        accuracy=NEVER_BACK_ACC))
    # two points are no history
    assert not epoch_curves.detect_loss_never_back(_run(loss=NEVER_BACK[:2], accuracy=NEVER_BACK_ACC[:2]))
    # with grad norms logged, their rules tell a blow-up's cause apart
    assert not epoch_curves.detect_loss_never_back(_run(loss=NEVER_BACK, accuracy=NEVER_BACK_ACC,
                                                        grad_norm=[1.0] * 10))


# a margin softmax (ArcFace, s = 64) starts at tens of nats and falls a few percent per logged interval while the
# verification accuracy climbs (shaped on g17-arcface-torch: 56.4, 55.9, 53.9, ... 3.7)
MARGIN = [56.4, 55.9, 53.9, 51.4, 47.6, 44.5, 40.7, 33.5, 26.6, 18.0, 11.2, 7.9, 5.6, 4.4, 3.8]
MARGIN_ACC = [0.62, 0.71, 0.80, 0.86, 0.90, 0.93, 0.95, 0.96, 0.97, 0.975, 0.98, 0.985, 0.99, 0.99, 0.99]


def test_first_loss_blowup_fires_on_a_sharp_first_drop_even_while_accuracy_climbs():
    # the first interval's mean far above the next (the dev flax lr_too_high run: 6475 -> 28.7): a spike, then back
    sharp = [6475.4, 28.65, 3.68, 5.15, 4.28, 5.11, 2.14, 2.13, 2.11, 2.10]
    f = epoch_curves.detect_first_loss_blowup(_run(loss=sharp, accuracy=list(np.linspace(0.2, 0.6, 10))))
    assert [x.cause for x in f] == ["lr_too_high"] and f[0].step == 0


def test_first_loss_blowup_is_silent_on_a_margin_loss_that_falls_steadily_while_learning():
    assert not epoch_curves.detect_first_loss_blowup(_run(loss=MARGIN, eval_accuracy=MARGIN_ACC))
    # the same steady fall with an accuracy at chance throughout is a blown-up network falling back: still read
    flat = [0.12, 0.13, 0.11, 0.12, 0.125, 0.12, 0.118, 0.13, 0.12, 0.12, 0.13, 0.12, 0.12, 0.125, 0.12]
    assert [x.cause for x in epoch_curves.detect_first_loss_blowup(_run(loss=MARGIN, eval_accuracy=flat))] \
        == ["lr_too_high"]


# GPT-2 at an LR 1000x too small: the held-out loss falls in the 5th digit at every evaluation
CREEP = [2.660595, 2.660496, 2.660397, 2.660324, 2.660315, 2.660305, 2.660296, 2.660295, 2.660294, 2.660294]
NOISY_FLAT = [2.6573, 2.6582, 2.6593, 2.6570, 2.6583, 2.6577, 2.6594, 2.6568, 2.6570, 2.6584]


def test_creeping_heldout_fires_as_lr_too_low():
    f = epoch_curves.detect_creeping_heldout(_run(loss=NOISY_FLAT, eval_loss=CREEP))
    assert [x.cause for x in f] == ["lr_too_low"] and f[0].step == 0 and f[0].strength < 0.5
    # an epoch history with training-loss gaps (5 points): first against last logged point
    gappy = _run(eval_loss=CREEP)
    gappy.metrics["loss"] = Series("loss", np.array([0, 1, 4, 6, 9]), np.array([2.942, 2.946, 2.9415, 2.941, 2.9418]))
    assert [x.cause for x in epoch_curves.detect_creeping_heldout(gappy)] == ["lr_too_low"]


def test_creeping_heldout_is_silent_on_its_look_alikes():
    # a healthy held-out curve falls by percents
    healthy = [0.53, 0.30, 0.21, 0.19, 0.17, 0.168, 0.165, 0.164, 0.1639, 0.1638]
    assert not epoch_curves.detect_creeping_heldout(_run(loss=NOISY_FLAT, eval_loss=healthy))
    # weights that move without improving (frozen body, random features) wander up and down
    wander = [2.0738, 2.0736, 2.0739, 2.0725, 2.0718, 2.0718, 2.0718, 2.0718, 2.0718, 2.0718]
    assert not epoch_curves.detect_creeping_heldout(_run(loss=NOISY_FLAT, eval_loss=wander))
    # exactly constant: the weights never change (detect_heldout_unchanged's reading)
    assert not epoch_curves.detect_creeping_heldout(_run(loss=NOISY_FLAT, eval_loss=[2.6606] * 10))
    # a training loss that learns: the updates are not negligible
    falling = list(np.linspace(2.66, 1.2, 10))
    assert not epoch_curves.detect_creeping_heldout(_run(loss=falling, eval_loss=CREEP))
    # at chance ln(8) with accuracy 1/8: the look-alikes are listed side by side by not_learning
    chance = [2.0794 + 0.004 * (-1) ** i for i in range(10)]
    at_chance = [2.0841, 2.0839, 2.0838, 2.0838, 2.0837, 2.0837, 2.0837, 2.0837, 2.0837, 2.0837]
    assert not epoch_curves.detect_creeping_heldout(_run(loss=chance, eval_loss=at_chance,
                                                         eval_accuracy=[0.125] * 10))
    # grad norms logged: their rules say whether the gradient or the step is tiny
    assert not epoch_curves.detect_creeping_heldout(_run(loss=NOISY_FLAT, eval_loss=CREEP, grad_norm=[0.1] * 10))


def test_an_lr_collapsing_before_its_first_epoch_end_is_a_schedule_not_a_low_lr():
    # StepLR(step_size=1, gamma=0.1) stepped per batch, 4 batches an epoch: the epoch-end LR falls 1e4x per epoch
    lr = [4.91e-7 * 1e-4 ** i for i in range(10)]
    run = _run(loss=[1.93, 1.88, 1.86, 1.87, 1.87, 1.88, 1.87, 1.88, 1.88, 1.88], lr=lr)
    assert [c.peak_seen for c in configured_lrs(run)] == [False]
    assert not lrs_below_reference(run)
    assert all(f.strength < 0.5 for f in detect_lr_too_low(run))
    f = detect_lr_collapse(run)
    assert [x.cause for x in f] == ["scheduler_misuse"] and f[0].step == 1 and f[0].strength >= 0.75


def test_a_constant_tiny_lr_and_a_normal_step_decay_keep_their_peak():
    low = _run(loss=[2.08] * 10, lr=[5.9e-8] * 10)
    assert [c.peak_seen for c in configured_lrs(low)] == [True] and lrs_below_reference(low)
    steps = _run(loss=list(np.linspace(2.0, 0.5, 10)), lr=[0.1, 0.1, 0.1, 0.01, 0.01, 0.01, 1e-3, 1e-3, 1e-3, 1e-3])
    assert [c.peak_seen for c in configured_lrs(steps)] == [True]


# HF Trainer with an epoch scheduler stepped per batch: the LR reached 0 within two epochs, the weights froze
FROZEN = [1.7625648975, 1.7625000477, 1.7625002861, 1.7625002861, 1.7625002861, 1.7625002861, 1.7625002861,
          1.7625002861, 1.7625002861, 1.7625002861]
MOVING = [1.7679, 1.7578, 1.7558, 1.7603, 1.7469, 1.7714, 1.7532, 1.7595, 1.7725, 1.7398]


def test_heldout_frozen_midrun_fires_at_the_first_frozen_evaluation():
    f = epoch_curves.detect_heldout_frozen_midrun(_run(loss=MOVING, eval_loss=FROZEN))
    assert [x.cause for x in f] == ["scheduler_misuse"] and f[0].step == 2
    # the same freeze is not read as tiny updates
    assert not epoch_curves.detect_creeping_heldout(_run(loss=MOVING, eval_loss=FROZEN))


def test_heldout_frozen_midrun_is_context_when_a_look_alike_is_located():
    # the same freeze in a net whose ReLUs were initialised dead (bias -4): the dead units stop the updates, their own
    # detector carries the diagnosis, and the freeze stays listed below the report threshold
    run = _run(loss=MOVING, eval_loss=FROZEN)
    for k, v in {"act": "relu", "bias_init": -4.0}.items():
        run.put_config(ConfigValue(k, v, "run/train.log", 1, "log_line", str(v)))
    (f,) = epoch_curves.detect_heldout_frozen_midrun(run)
    assert f.step == 2 and f.strength < 0.5 and f.numbers["explained_by"] == ["dead_units"]
    # a ReLU with a zero bias is no dead-unit trace: the freeze is the schedule's reading again
    run.put_config(ConfigValue("bias_init", 0.0, "run/train.log", 1, "log_line", "0.0"))
    (f,) = epoch_curves.detect_heldout_frozen_midrun(run)
    assert f.strength == epoch_curves.FROZEN_STRENGTH and not f.numbers["explained_by"]


def _with_config(run: Run, **cfg: object) -> Run:
    for k, v in cfg.items():
        run.put_config(ConfigValue(k, v, "run/train.log", 1, "log_line", str(v)))
    return run


def test_heldout_frozen_midrun_with_a_configured_decay_names_the_schedule():
    # fires: the same freeze beside a config naming a step decay (optax / torch StepLR), the mechanism that turns an
    # LR to ~0 when counted in updates: named above the plain freeze, with the config line cited
    for name in ("step", "StepLR", "cosine", "exponential_decay", "linear", "ExponentialDecay", "CosineAnnealingLR",
                 "warmup_cosine_decay_schedule"):
        (f,) = epoch_curves.detect_heldout_frozen_midrun(_with_config(_run(loss=MOVING, eval_loss=FROZEN),
                                                                      schedule=name))
        assert f.strength == epoch_curves.FROZEN_SCHEDULED_STRENGTH and f.step == 2, name
        assert any("decaying schedule" in e for e in f.evidence)


def test_heldout_frozen_midrun_without_a_decay_keeps_the_plain_reading():
    # silent (no lift): a constant or absent schedule decays nothing, and a located look-alike still wins
    for cfg in ({"schedule": "constant"}, {"lr_scheduler_type": "constant_with_warmup"},
                {"scheduler": "ReduceLROnPlateau"}, {"scheduler": "CyclicLR"}, {}):
        (f,) = epoch_curves.detect_heldout_frozen_midrun(_with_config(_run(loss=MOVING, eval_loss=FROZEN), **cfg))
        assert f.strength == epoch_curves.FROZEN_STRENGTH, cfg
    run = _with_config(_run(loss=MOVING, eval_loss=FROZEN), schedule="step", act="relu", bias_init=-4.0)
    (f,) = epoch_curves.detect_heldout_frozen_midrun(run)
    assert f.strength == epoch_curves.FROZEN_EXPLAINED_STRENGTH
    # and no freeze, no finding, whatever the config says
    assert not epoch_curves.detect_heldout_frozen_midrun(_with_config(_run(loss=MOVING, eval_loss=MOVING),
                                                                      schedule="step"))


def test_heldout_frozen_midrun_is_silent_on_its_look_alikes():
    # a 4-decimal print of a converged model repeats too: no evidence that the weights stopped
    printed = [1.7914, 1.7913, 1.7913, 1.7912, 1.7912, 1.7912, 1.7912, 1.7912, 1.7912, 1.7912]
    assert not epoch_curves.detect_heldout_frozen_midrun(_run(loss=MOVING, eval_loss=printed))
    # frozen only at the very end (a schedule decaying to 0 over the whole run): less than half the evaluations
    late = FROZEN[:2] + [1.762, 1.7615, 1.761, 1.7605, 1.7601] + [1.7600002861] * 3
    assert not epoch_curves.detect_heldout_frozen_midrun(_run(loss=MOVING, eval_loss=late))
    # identical from the first evaluation: detect_heldout_unchanged's reading
    assert not epoch_curves.detect_heldout_frozen_midrun(_run(loss=MOVING, eval_loss=[1.7625002861] * 10))
    # a training loss that stopped too: a constant or pinned loss, another rule's
    assert not epoch_curves.detect_heldout_frozen_midrun(_run(loss=[1.76] * 10, eval_loss=FROZEN))
    # with the LR logged, the LR rules read the schedule directly
    assert not epoch_curves.detect_heldout_frozen_midrun(_run(loss=MOVING, eval_loss=FROZEN, lr=[1e-3] * 10))


# A Keras binary classifier whose output unit died at 0: every positive costs -ln(1e-7) = 16.12 nats, every negative
# ~0, so loss = 0.2753 x 16.12 with accuracy 0.7247 frozen from the first epoch (the shape of keras-team/keras#4784)
SAT_LOSS = [4.4380] * 8
SAT_ACC = [0.7247] * 8


def test_saturated_output_fires_as_dead_units_from_the_first_frozen_point():
    run = _run(loss=SAT_LOSS, accuracy=SAT_ACC)
    f = epoch_curves.detect_saturated_output(run)
    assert [x.cause for x in f] == ["dead_units"] and f[0].strength >= 0.5 and f[0].step == 0
    assert abs(f[0].numbers["nats_per_error"] - 16.12) < 0.05
    # the origins are listed below it, never confirmed
    origins = epoch_curves.detect_saturation_blowup(run) + epoch_curves.detect_saturation_inputs(run)
    assert [x.cause for x in origins] == ["lr_too_high", "data_pipeline_bug"]
    assert all(x.strength < 0.5 and x.step == 0 for x in origins)
    # learned first, then saturated at epoch 4 (a blow-up): the freeze is dated where it starts; accuracy in percent
    later = epoch_curves.detect_saturated_output(_run(loss=[0.9, 0.7, 0.6, 0.5] + [14.5063] * 6,
                                                      accuracy=[60.0, 70.0, 75.0, 80.0] + [10.0] * 6))
    assert later[0].cause == "dead_units" and later[0].step == 4


def test_saturated_output_is_silent_on_its_look_alikes():
    assert not epoch_curves.detect_saturation_blowup(_run(loss=[2.3026] * 8, accuracy=[0.1] * 8))
    assert not epoch_curves.detect_saturation_inputs(_run(loss=[2.3026] * 8, accuracy=[0.1] * 8))
    # a loss pinned at chance ln(10) with accuracy 1/10: 2.303 / 0.9 = 2.6 nats per error, not saturated
    assert not epoch_curves.detect_saturated_output(_run(loss=[2.3026] * 8, accuracy=[0.1] * 8))
    # a converged model repeating its 4 printed digits: errors cost ~2 nats, a soft output
    assert not epoch_curves.detect_saturated_output(_run(loss=[0.0312] * 8, accuracy=[0.9905] * 8))
    # a loss that still moves while the ratio happens to pass 16 nats once
    moving = [4.44, 4.10, 3.80, 3.50, 3.20, 2.90]
    assert not epoch_curves.detect_saturated_output(_run(loss=moving, accuracy=[0.7247] * 6))
    # a frozen loss with no accuracy logged: the ratio cannot be read
    assert not epoch_curves.detect_saturated_output(_run(loss=SAT_LOSS))
    # a perfect classifier: no errors to cost anything
    assert not epoch_curves.detect_saturated_output(_run(loss=[0.0001] * 8, accuracy=[1.0] * 8))
    # beyond float64's clip (ln 1/2.2e-16 = 36): not a clipped probability
    assert not epoch_curves.detect_saturated_output(_run(loss=[20.0] * 8, accuracy=[0.5] * 8))
# an uncleared gradient buffer seen per epoch (hf_trainer-zero_grad_missing-s0 as an epoch history, 4 digits): the
# first epoch is sane, every later one less stable, the held-out loss climbs with it
CLIMB = [2.35, 3.023, 6.932, 16.37, 34.99, 60.62, 43.55, 61.22, 41.28, 58.43]
CLIMB_VAL = [2.857, 3.172, 12.22, 24.59, 45.1, 59.78, 47.51, 52.63, 50.0, 56.68]


def test_steady_climb_fires_as_zero_grad_missing_from_its_lowest_epoch():
    f = epoch_curves.detect_steady_climb(_run(loss=CLIMB, eval_loss=CLIMB_VAL))
    assert [x.cause for x in f] == ["zero_grad_missing"] and f[0].step == 0 and f[0].strength == 0.5
    # a run that learns for two epochs first: the climb is read from its lowest point, epoch 2
    later = [2.0, 1.5, 1.4, 2.5, 4.2, 6.0, 9.0, 8.5, 9.5, 9.2]
    f = epoch_curves.detect_steady_climb(_run(loss=later))
    assert [x.cause for x in f] == ["zero_grad_missing"] and f[0].step == 2
    # a constant logged LR does not explain a step that grows
    assert epoch_curves.detect_steady_climb(_run(loss=CLIMB, eval_loss=CLIMB_VAL, lr=[1e-3] * 10))


def test_steady_climb_is_silent_on_its_look_alikes():
    # a first epoch that already blew up and then recovers: an LR beyond the stable range (the blow-up rule)
    assert not epoch_curves.detect_steady_climb(_run(loss=BLOWN, eval_accuracy=ACC))
    # one jump of an order of magnitude, then a plateau: an overshoot, not a step that grows every update
    assert not epoch_curves.detect_steady_climb(_run(loss=[2.0, 1.8, 1.7, 25.0, 24.0, 26.0, 25.5, 26.2, 25.8, 26.0]))
    # a climb that comes back down: a spike
    assert not epoch_curves.detect_steady_climb(_run(loss=[2.0, 3.0, 5.0, 8.0, 12.0, 3.0, 2.0, 1.9, 1.8, 1.7]))
    # up and down by turns: rises at only 5 of 9 epochs
    assert not epoch_curves.detect_steady_climb(_run(loss=[1.0, 2.0, 1.2, 2.4, 1.4, 2.8, 1.6, 3.2, 1.8, 3.3]))
    # an LR warming up into the climb: the LR rules read it
    assert not epoch_curves.detect_steady_climb(_run(loss=CLIMB, lr=[1e-4 * (i + 1) for i in range(10)]))
    # the held-out loss does not follow
    assert not epoch_curves.detect_steady_climb(_run(loss=CLIMB, eval_loss=[2.8] * 10))
    # overfitting: the training loss falls while the held-out loss rises
    assert not epoch_curves.detect_steady_climb(_run(loss=[2.0, 1.2, 0.8, 0.5, 0.3, 0.2, 0.1, 0.07, 0.05, 0.03],
                                                     eval_loss=[2.1, 1.5, 1.4, 1.6, 2.0, 2.6, 3.3, 4.1, 5.0, 6.2]))
    # grad norms logged: the accumulation rules read the ramp itself
    assert not epoch_curves.detect_steady_climb(_run(loss=CLIMB, grad_norm=[1.0] * 10))
    # a per-step log longer than an epoch history
    assert not epoch_curves.detect_steady_climb(_run(loss=list(np.geomspace(1.0, 40.0, 60))))
    # one constant factor from the first logged point (gradient descent past its stable step on one weight, the
    # Grokking Deep Learning ch. 4 demonstration: x9 per update): the LR's reading, not a step that grows
    assert not epoch_curves.detect_steady_climb(_run(loss=[0.04 * 9.0 ** k for k in range(12)]))


# hf_trainer-grad_explosion-s1 as an epoch history: 1.2, then two orders of magnitude and more per epoch, twice
COMPOUND = [1.217, 2.079e9, 1.533e16, 8.834e16, 4.002e15, 2.444e14, 1.867e13, 2.058e12, 3.616e11, 8.51e10]


def test_epoch_compounding_fires_as_grad_explosion_at_the_first_jump():
    f = epoch_curves.detect_epoch_compounding(_run(loss=COMPOUND))
    assert [x.cause for x in f] == ["grad_explosion"] and f[0].step == 1 and f[0].strength == 0.55
    # ended by a NaN after the two jumps
    f = epoch_curves.detect_epoch_compounding(_run(loss=[0.9, 1.1, 250.0, 4e5, float("nan"), float("nan")]))
    assert [x.step for x in f] == [2]


def test_epoch_compounding_is_silent_on_its_look_alikes():
    # the first epoch already beyond any classifier's loss: the first updates blew up (an LR beyond the stable range)
    assert not epoch_curves.detect_epoch_compounding(_run(loss=[6.6e8, 6.9e35, float("nan"), float("nan")]))
    # one jump that settles back: a spike
    assert not epoch_curves.detect_epoch_compounding(_run(loss=[0.72, 26.7, 39.6, 2.8, 0.70, 0.59, 0.46, 0.41]))
    # a steady climb without orders of magnitude per epoch
    assert not epoch_curves.detect_epoch_compounding(_run(loss=CLIMB))
    # >= 5 points each >= 1.5x: the per-step compounding rule (detect_grad_explosion) reads it
    assert not epoch_curves.detect_epoch_compounding(_run(loss=[0.5, 12.0, 8e4, 1.5e9, 2.6e13, 4.7e17]))
    # grad norms logged: their rules read the growth itself
    assert not epoch_curves.detect_epoch_compounding(_run(loss=COMPOUND, grad_norm=[1.0] * 10))


def test_epoch_compounding_from_a_regression_loss_at_its_held_out_scale():
    # flax-grad_explosion-s0 (development corpus, an MSE regression): the first epoch's mean 234 is 3.3x the held-out
    # loss 71.1 scored at its end, a sane epoch at its own scale; then 2e12x and 9e19x per epoch, then NaN
    nan = float("nan")
    f = epoch_curves.detect_epoch_compounding(
        _run(loss=[234.1755, 5.001e14, 4.609e34, nan, nan], test_loss=[71.0785, 5.131e16, float("inf"), nan, nan]))
    assert [x.cause for x in f] == ["grad_explosion"] and f[0].step == 1
    assert "3.3x the held-out loss" in f[0].evidence[0]


def test_epoch_compounding_from_a_large_first_row_stays_silent_without_a_held_out_scale():
    nan = float("nan")
    # no held-out loss: a first row beyond ln 1e6 may itself be the first updates' overshoot
    assert not epoch_curves.detect_epoch_compounding(_run(loss=[234.1755, 5.001e14, 4.609e34, nan, nan]))
    # a first row 33x its end-of-epoch held-out loss: the weights blew up within that epoch (the LR's reading)
    assert not epoch_curves.detect_epoch_compounding(
        _run(loss=[2341.755, 5.001e14, 4.609e34, nan, nan], eval_loss=[71.0785, 5.131e16, float("inf"), nan, nan]))


# hf_trainer-lr_too_high-s2 as an epoch history (4 digits): the first epoch's mean 1635 against a held-out loss of
# 2.54 at its end, no accuracy logged
FIRST_ROW = [1635.0, 2.38, 1.943, 2.227, 1.814, 1.808, 1.81, 1.806, 1.788, 1.79]
FIRST_VAL = [2.538, 2.115, 2.93, 1.798, 1.811, 1.811, 1.814, 1.798, 1.797, 1.799]


def test_first_epoch_above_heldout_fires_as_lr_too_high_at_the_first_row():
    f = epoch_curves.detect_first_epoch_above_heldout(_run(loss=FIRST_ROW, eval_loss=FIRST_VAL))
    assert [x.cause for x in f] == ["lr_too_high"] and f[0].step == 0 and f[0].strength < 0.5
    assert f[0].numbers["first_over_heldout"] > 600


def test_first_epoch_above_heldout_reads_the_gap_against_the_one_the_run_ends_with():
    # MACE's results file (tests/corpus/realworld/g3s31-mace-*, epoch means of its batch losses): the training loss
    # stays 8-11x the validation loss from the first epoch to the last, a scale of its own, not a blow-up
    mace_train = [329.3, 188.1, 93.95, 60.91, 49.54, 48.06, 34.62, 25.92, 21.67, 18.21, 13.92, 12.84]
    mace_val = [30.72, 18.0, 8.41, 6.5, 4.86, 3.9, 2.67, 2.3, 1.86, 1.75, 1.7, 1.45]
    assert not epoch_curves.detect_first_epoch_above_heldout(_run(loss=mace_train, eval_loss=mace_val))
    # a first row 100x above where the same run's 8x gap would put it still reads as a blow-up
    blown = [33000.0] + mace_train[1:]
    f = epoch_curves.detect_first_epoch_above_heldout(_run(loss=blown, eval_loss=mace_val))
    assert [x.cause for x in f] == ["lr_too_high"] and f[0].step == 0


def test_first_epoch_above_heldout_is_silent_on_its_look_alikes():
    # a leaked label fits almost perfectly within the first epoch: 0.81 -> 0.002 by learning alone
    leak = [0.8135, 0.001975, 0.0009095, 0.0007734, 0.0007265, 0.000709, 0.0007033, 0.0006905]
    leak_val = [0.002302, 0.0005131, 0.0003759, 0.0003318, 0.0003261, 0.0003209, 0.0003168, 0.0003163]
    assert not epoch_curves.detect_first_epoch_above_heldout(_run(loss=leak, eval_loss=leak_val))
    # a healthy epoch mean sits a few times above its end-of-epoch held-out loss
    healthy = [2.1, 1.2, 0.8, 0.6, 0.5, 0.45, 0.42, 0.4, 0.39, 0.38]
    assert not epoch_curves.detect_first_epoch_above_heldout(_run(loss=healthy, eval_loss=[0.9] + healthy[2:]))
    # a summed loss far above its held-out mean that falls only a few-fold over the run
    summed = [161.0, 90.0, 70.0, 55.0, 45.0, 40.0, 36.0, 34.0]
    assert not epoch_curves.detect_first_epoch_above_heldout(_run(loss=summed, eval_loss=[1.0] * 8))
    # a classifier: its scale is read by detect_first_loss_blowup; no held-out loss; grad norms logged
    assert not epoch_curves.detect_first_epoch_above_heldout(_run(loss=FIRST_ROW, eval_loss=FIRST_VAL,
                                                                  eval_accuracy=ACC))
    assert not epoch_curves.detect_first_epoch_above_heldout(_run(loss=FIRST_ROW))
    assert not epoch_curves.detect_first_epoch_above_heldout(_run(loss=FIRST_ROW, eval_loss=FIRST_VAL,
                                                                  grad_norm=[1.0] * 10))


# plain_pytorch-grad_explosion-s0 as an epoch history: a sane first epoch, then two epochs 37-55x above it, then back
SPIKE = [0.7218, 26.7, 39.6, 2.797, 0.7046, 0.5852, 0.4582, 0.4102, 0.3125, 0.3935]


def test_epoch_spike_fires_as_grad_explosion_at_the_jump():
    f = epoch_curves.detect_epoch_spike(_run(loss=SPIKE))
    assert [x.cause for x in f] == ["grad_explosion"] and f[0].step == 1 and f[0].strength < 0.5
    assert f[0].numbers["recovered_step"] == 4


def test_epoch_spike_is_silent_on_its_look_alikes():
    # a converged loss near 0 jumps 10x by noise without going back above its start
    assert not epoch_curves.detect_epoch_spike(_run(loss=[1.0, 0.1, 0.01, 0.001, 0.0004, 0.005, 0.0005, 0.0004]))
    # a jump that stays up: a divergence, the LR rules' and the climb's
    assert not epoch_curves.detect_epoch_spike(_run(loss=[0.7, 26.7, 39.6, 30.0, 28.0, 35.0]))
    # the first epoch already the worst: the blow-up rules
    assert not epoch_curves.detect_epoch_spike(_run(loss=BLOWN, eval_accuracy=ACC))
    # a jump from a loss already climbing (1.0 -> 3.0 before it): the climb is the reading, not a burst
    assert not epoch_curves.detect_epoch_spike(_run(loss=[1.0, 2.0, 3.0, 40.0, 1.2, 1.0]))
    # grad norms logged; a per-step log longer than an epoch history
    assert not epoch_curves.detect_epoch_spike(_run(loss=SPIKE, grad_norm=[1.0] * 10))
    assert not epoch_curves.detect_epoch_spike(_run(loss=SPIKE * 6))


# A Keras progress bar's running means within one epoch of a ReLU output under binary cross-entropy (the shape of
# realworld g25-geeksmental-dsse-relu-output-bce-acc-0.5): loss and accuracy move, every error costs 16.12 nats and
# the accuracy sits at chance 1/2, ~11x chance ln 2 in the loss
RUNNING_ACC = [0.6000, 0.5391, 0.5121, 0.5081, 0.5180, 0.5096, 0.5142]
RUNNING_LOSS = [round((1 - a) * 16.1181, 4) for a in RUNNING_ACC]


def test_saturated_output_at_chance_fires_while_loss_and_accuracy_move():
    from traindoc.diagnosis.build import does_not_learn, never_healthy

    run = _run(loss=RUNNING_LOSS, accuracy=RUNNING_ACC)
    f = epoch_curves.detect_saturated_output(run)
    assert [x.cause for x in f] == ["dead_units"] and f[0].step == 0
    assert f[0].numbers["saturated_classes"] == 2 and abs(f[0].numbers["nats_per_error"] - 16.12) < 0.05
    assert "chance" in f[0].summary
    # the origins are listed below it, as for the frozen output
    assert [x.cause for x in epoch_curves.detect_saturation_blowup(run)] == ["lr_too_high"]
    # a run that does not learn: never healthy, frozen or not
    assert does_not_learn(f) and never_healthy(run, f)
    frozen = epoch_curves.detect_saturated_output(_run(loss=SAT_LOSS, accuracy=SAT_ACC))
    assert does_not_learn(frozen)
    # a configured class count sets the chance level: ten classes, accuracy ~0.1, every error 16.12 nats
    acc10 = [0.09, 0.11, 0.10, 0.12, 0.095, 0.105]
    run10 = _run(loss=[round((1 - a) * 16.1181, 4) for a in acc10], accuracy=acc10)
    run10.config["num_classes"] = ConfigValue("num_classes", 10, "config.yaml", 1)
    f10 = epoch_curves.detect_saturated_output(run10)
    assert f10 and f10[0].numbers["saturated_classes"] == 10


def test_saturated_output_at_chance_is_silent_on_its_look_alikes():
    # the same hard outputs with an accuracy well above chance: a saturated output that still scores, no chance reading
    acc = [0.80, 0.84, 0.86, 0.88, 0.90, 0.91]
    assert not epoch_curves.detect_saturated_output(_run(loss=[round((1 - a) * 16.1181, 4) for a in acc],
                                                         accuracy=acc))
    # a soft output at chance: a binary loss moving around ln 2 costs ~1.4 nats per error
    assert not epoch_curves.detect_saturated_output(_run(loss=[0.70, 0.69, 0.695, 0.693, 0.691, 0.694, 0.692],
                                                         accuracy=RUNNING_ACC))
    # a loss ~10x chance that is no constant cost per error (an unclipped output: errors cost what their margin is)
    wobbly = [8.1, 7.2, 8.9, 7.6, 8.4, 7.9, 8.6]
    assert not epoch_curves.detect_saturated_output(_run(loss=wobbly, accuracy=RUNNING_ACC))
    # accuracy at chance for some points, then learning: the tail is not at chance
    learning = [0.50, 0.52, 0.55, 0.62, 0.70, 0.78, 0.85]
    assert not epoch_curves.detect_saturated_output(_run(loss=[round((1 - a) * 16.1181, 4) for a in learning],
                                                         accuracy=learning))


# an unscaled regression output descending from its own starting scale, orders of magnitude per interval for many
# intervals (shaped on realworld g10-dd-fingerprint-resmlp24-*: MSE 2.2e11 at the untrained first evaluation), with an
# accuracy-named side metric at chance: no one-interval spike
DESCENT = [2.2e11, 1.55e9, 8.7e6, 7.2e5, 9.4e4, 1.2e4, 922.0, 22.9, 3.9, 2.3, 1.9, 2.9, 3.7, 4.0]


def test_first_loss_blowup_is_silent_on_a_descent_from_its_own_scale():
    flat = [0.0] * len(DESCENT)
    assert not epoch_curves.detect_first_loss_blowup(_run(loss=DESCENT, eval_accuracy=flat))
    # the same start back near its floor within the first STEADY_POINTS points is the one-interval spike: read
    spike = [2.2e11, 40.0, 9.0, 3.0, 2.5, 2.3, 2.1, 2.0, 1.9, 1.9]
    f = epoch_curves.detect_first_loss_blowup(_run(loss=spike, eval_accuracy=[0.0] * len(spike)))
    assert [x.cause for x in f] == ["lr_too_high"] and f[0].step == 0


def test_loss_never_back_is_silent_on_a_loss_lower_at_every_point():
    # an unscaled regression output at a tiny LR: lower at every evaluation, 4900x in all (shaped on realworld
    # g10-dd-fingerprint-resmlp24-adam-lr1e-6-*), beside an accuracy-named side metric that never moves
    slow = [2.2e11, 2.09e11, 1.97e11, 1.85e11, 1.75e11, 1.64e11, 1.45e11, 1.2e11, 8.3e10, 5.1e10, 1.4e10, 1.4e9,
            3.7e8, 1.7e8, 7.5e7, 4.5e7]
    assert not epoch_curves.detect_loss_never_back(_run(loss=slow, accuracy=[0.0] * len(slow)))
    # the same values out of order (one rise) wander off scale: read
    wander = [*slow[:8], 3e11, *slow[8:]]
    assert [x.cause for x in epoch_curves.detect_loss_never_back(_run(loss=wander, accuracy=[0.0] * len(wander)))] \
        == ["lr_too_high"]
