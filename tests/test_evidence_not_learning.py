"""Runs that do not learn and their look-alikes (evidence/detectors/not_learning.py): each rule fires at a known
step on a constructed series or a real corpus run, and stays silent on a run that learns."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from traindoc.evidence.detectors import not_learning as nl
from traindoc.ingest.loader import load_run
from traindoc.ingest.model import ConfigValue, Run, Series

CORPUS = Path(__file__).parent / "corpus" / "reallib"
STEPS = np.arange(1, 301, 5)  # 60 logged points, every 5 steps, as the small trainers print


def chance_loss(k: int = 8, seed: int = 0) -> np.ndarray:
    """Minibatch losses of a model at chance: ln k with the ~1 % noise of a 16-sample batch."""
    return math.log(k) * (1 + 0.01 * np.random.default_rng(seed).standard_normal(STEPS.size))


def learning_loss(seed: int = 0) -> np.ndarray:
    """A slow but real learner: from ln 8 to 1.99 (4 % below chance), noise as above."""
    base = math.log(8) - (math.log(8) - 1.99) * (1 - np.exp(-STEPS / 100))
    return base * (1 + 0.005 * np.random.default_rng(seed).standard_normal(STEPS.size))


def build(loss: np.ndarray, config: dict[str, object] | None = None, lr: np.ndarray | None = None,
          accuracy: float | None = None, summary: dict | None = None) -> Run:
    run = Run()
    run.add_series(Series("loss", STEPS, loss, "run/train.log"))
    run.add_series(Series("grad_norm", STEPS, np.full(STEPS.size, 0.2), "run/train.log"))
    if lr is not None:
        run.add_series(Series("lr", STEPS, lr, "run/train.log"))
    if accuracy is not None:
        ev = STEPS[5::6]
        # a held-out accuracy that moves in its last digits: identical at every evaluation is its own reading
        # (predictions that never change, test_an_unchanging_heldout_accuracy_...)
        wobble = 0.002 * (-1) ** np.arange(ev.size)
        run.add_series(Series("eval_accuracy", ev, accuracy + wobble, "run/train.log"))
    for k, v in (config or {"lr": 3e-4, "optimizer": "adam"}).items():
        run.put_config(ConfigValue(k, v, "run/train.log", 1, "log_line", str(v)))
    if summary:
        run.meta["param_summary"] = {**summary, "source": "run/train.log"}
    return run.finalize()


def causes(run: Run) -> dict[str, float]:
    out: dict[str, float] = {}
    for det in nl.DETECTORS:
        for f in det(run):
            out[f.cause] = max(out.get(f.cause, 0.0), f.strength)
    return out


def test_never_learned_on_a_noisy_loss_at_chance():
    got = nl.never_learned(build(chance_loss(8), accuracy=0.129))
    assert got is not None and got.k == 8 and got.k_source == "accuracy"
    assert got.first_step == 1  # at chance from the first logged step


def test_never_learned_silent_on_a_slow_learner_and_off_chance_plateaus():
    assert nl.never_learned(build(learning_loss(), accuracy=0.3)) is None
    flat = 1.87 * (1 + 0.01 * np.random.default_rng(3).standard_normal(STEPS.size))  # between ln 6 and ln 7
    assert nl.never_learned(build(flat)) is None


def test_ambiguous_not_learning_lists_the_look_alikes_below_half():
    got = causes(build(chance_loss(6), accuracy=0.17))
    # the LR is known and in range, so lr_too_low is no candidate
    assert set(got) == {"dead_units", "frozen_params", "data_pipeline_bug", "vanishing_gradients"}
    assert all(0.3 <= s < 0.5 for s in got.values())
    assert got["dead_units"] > got["frozen_params"] > got["data_pipeline_bug"] > got["vanishing_gradients"]
    # each is a look-alike listing (ranking.LISTING's shared calibration), not evidence for its cause
    run = build(chance_loss(6), accuracy=0.17)
    assert all(f.numbers.get("listing") for det in nl.DETECTORS for f in det(run))
    assert causes(build(learning_loss())) == {}


def test_lr_collapse_fires_where_a_per_batch_step_lr_drops_below_1e3_of_its_peak():
    lr = 1e-3 * 0.1 ** np.floor(STEPS / 5)  # StepLR(step_size=5, gamma=0.1) stepped every batch
    (f,) = nl.detect_lr_collapse(build(chance_loss(), lr=lr))
    assert f.step == int(STEPS[np.argmax(lr < nl.COLLAPSE_RATIO * lr.max())]) == 21 and f.strength >= 0.8
    assert causes(build(chance_loss(), lr=lr))["dead_units"] < 0.2  # explained: dead_units stays context


def test_lr_collapse_silent_on_schedules_people_plan():
    t = (STEPS - 1) / (STEPS[-1] - 1)
    cosine = 1e-3 * 0.5 * (1 + np.cos(np.pi * t))  # to exactly 0 at the last step
    linear = 1e-3 * (1 - t)
    resnet = 0.1 * 0.1 ** np.searchsorted([0.33, 0.67, 0.89], t, side="right")  # drops at 30/60/80 of 90 epochs
    for lr in (cosine, linear, resnet):
        assert nl.detect_lr_collapse(build(learning_loss(), lr=lr)) == []


def test_saturating_depth_fires_on_a_deep_sigmoid_net_at_chance():
    cfg = {"lr": 3e-4, "optimizer": "adam", "act": "sigmoid", "depth": 12, "norm": "none"}
    (f,) = nl.detect_saturating_depth(build(chance_loss(), cfg, accuracy=0.125))
    assert f.strength >= 0.7 and f.step == 1
    assert nl.detect_saturating_depth(build(learning_loss(), cfg))[0].strength <= 0.3  # a risk only
    for change in ({"act": "relu"}, {"depth": 3}, {"norm": "batch"}, {"act": "tanh", "depth": 8}):
        assert nl.detect_saturating_depth(build(chance_loss(), {**cfg, **change})) == []


def test_dead_init_fires_on_relu_with_negative_bias_at_chance():
    cfg = {"lr": 3e-4, "optimizer": "adam", "act": "relu", "bias_init": -3.0}
    (f,) = nl.detect_dead_init(build(chance_loss(), cfg, accuracy=0.125))
    assert f.strength >= 0.7 and any("bias_init=-3.0" in e for e in f.evidence)
    for change in ({"bias_init": 0.0}, {"act": "gelu"}):
        assert nl.detect_dead_init(build(chance_loss(), {**cfg, **change})) == []


def test_frozen_params_from_printed_counts():
    (f,) = nl.detect_frozen_params(build(chance_loss(), summary={"trainable": 8, "total": 5800}))
    assert f.strength >= 0.9 and f.numbers["trainable_share"] < 0.01
    (f,) = nl.detect_frozen_params(build(chance_loss(), summary={"trainable": 6}))  # HF prints no total
    assert f.strength >= 0.6 and "bias vector" in f.evidence[0]
    assert nl.detect_frozen_params(build(learning_loss(), summary={"trainable": 5800, "total": 5800})) == []
    assert nl.detect_frozen_params(build(learning_loss(), summary={"trainable": 1102})) == []


def test_real_runs_told_apart():
    """Real runs of the corpus (tools/make_reallib_corpus.py): each look-alike named by its own trace."""
    def top(name: str) -> str:
        got = causes(load_run([CORPUS / name / "run"]))
        return max(got, key=got.get) if got else "none"

    assert top("plain_pytorch-dead_units-s0") == "dead_units"  # act=relu bias_init=-3.0 in the config line
    assert top("plain_pytorch-scheduler_misuse-s4") == "scheduler_misuse"
    assert top("lightning-frozen_params-s2") == "frozen_params"  # "Trainable params: 8" of 5.8 K
    assert top("lightning-vanishing_gradients-s0") == "vanishing_gradients"
    assert causes(load_run([CORPUS / "plain_pytorch-healthy-s16" / "run"])) == {}


def test_scheduler_misuse_fires_on_an_lr_of_zero_throughout():
    (f,) = nl.detect_scheduler_misuse(build(chance_loss(), lr=np.zeros(STEPS.size)))
    assert f.step == 1 and f.strength >= 0.8 and "lr=0.0003 is configured" in f.evidence[0]
    assert nl.detect_scheduler_misuse(build(learning_loss(), lr=np.full(STEPS.size, 3e-4))) == []


def test_scheduler_misuse_an_lr_of_zero_on_two_epoch_lines_is_enough():
    # ViTPose issue 9: two epoch lines, "LR 0.00000000" on both; a warmup from 0 is above 0 after one update
    run = Run()
    run.add_series(Series("loss", np.array([0, 1]), np.array([0.0029, 0.0037]), "run/train.log"))
    run.add_series(Series("lr", np.array([0, 1]), np.zeros(2), "run/train.log"))
    (f,) = nl.detect_scheduler_misuse(run.finalize())
    assert f.step == 0 and 0.5 <= f.strength < 0.7
    # one point at 0 is where a warmup from 0 starts: silent
    one = Run()
    one.add_series(Series("loss", np.array([0]), np.array([2.3]), "run/train.log"))
    one.add_series(Series("lr", np.array([0]), np.zeros(1), "run/train.log"))
    assert nl.detect_scheduler_misuse(one.finalize()) == []
    # and 0 then a positive LR is that warmup moving
    up = Run()
    up.add_series(Series("loss", np.array([0, 1]), np.array([2.3, 2.2]), "run/train.log"))
    up.add_series(Series("lr", np.array([0, 1]), np.array([0.0, 1e-4]), "run/train.log"))
    assert nl.detect_scheduler_misuse(up.finalize()) == []


def test_frozen_share_by_design_stays_quiet():
    """A head trained on a frozen backbone that learns, and a LoRA adapter, are designs, not faults."""
    (f,) = nl.detect_frozen_params(build(learning_loss() * np.linspace(1, 0.6, STEPS.size),
                                         summary={"trainable": 5_000, "total": 11_000_000}))
    assert f.strength <= 0.25
    peft = build(chance_loss(), summary={"trainable": 294_912, "total": 124_734_720, "adapter": True})
    assert nl.frozen_share(peft) is None  # PEFT's "trainable params: ... || all params: ..." line
    lora = build(chance_loss(), {"lr": 3e-4, "optimizer": "adam", "lora_r": 8},
                 summary={"trainable": 294_912, "total": 124_734_720})
    assert nl.frozen_share(lora) is None


def test_lr_too_low_is_only_a_risk_when_the_loss_learns():
    cfg = {"learning_rate": 1e-5, "optimizer": "adamw"}  # whisper/BERT fine-tuning LRs
    (f,) = nl.detect_lr_too_low(build(learning_loss() * np.linspace(1, 0.5, STEPS.size), cfg))
    assert f.strength <= 0.25
    (f,) = nl.detect_lr_too_low(build(chance_loss(), {"learning_rate": 1e-7, "optimizer": "adamw"}, accuracy=0.125))
    assert f.strength >= 0.9


def test_a_run_that_never_learns_is_never_healthy_even_when_no_cause_reaches_half():
    """Issue 8: with nothing in the log to tell the look-alikes apart, every candidate stays below 0.5, but the
    verdict says the run does not learn and lists what to check; a slow learner stays healthy."""
    from traindoc.diagnosis.build import diagnose

    doc = diagnose(build(chance_loss(6), accuracy=0.17))
    assert doc["verdict"] == "problems_found"
    assert doc["root_causes"] and all(rc["confidence"] < 0.5 for rc in doc["root_causes"])
    assert "does not learn" in doc["summary"]
    assert diagnose(build(learning_loss(), accuracy=0.3))["verdict"] == "healthy"
    from traindoc.diagnosis.render import to_markdown

    text = to_markdown(doc)
    assert "does not learn" in text and "`dead_units`" in text and "Healthy" not in text


def test_scheduler_order_warning_alone_is_a_candidate_below_half():
    """torch prints "lr_scheduler.step() before optimizer.step()" for a wrong call order and also when an AMP loss
    scaler skips the first step: alone it lists scheduler_misuse below 0.5; a run without it stays silent."""
    from traindoc.ingest.model import LogEvent

    quiet = build(learning_loss())
    assert not [f for f in nl.detect_scheduler_misuse(quiet)]
    warned = build(learning_loss())
    warned.events.append(LogEvent("warning", "UserWarning: Detected call of `lr_scheduler.step()` before "
                                  "`optimizer.step()`.", 12, "scheduler_before_optimizer", "run/train.log", 40))
    (f,) = nl.detect_scheduler_misuse(warned)
    assert f.cause == "scheduler_misuse" and 0.3 <= f.strength < 0.5 and f.step == 12


def test_look_alikes_the_log_rules_out_are_not_listed():
    """All parameters trainable by the printed counts: not frozen; ReLU over 2 layers: no vanishing gradient;
    GELU: no dead units. What is left (and labels detached from inputs) stays listed below 0.5."""
    cfg = {"lr": 3e-4, "optimizer": "adam", "act": "relu", "depth": 2}
    run = build(chance_loss(6), cfg, accuracy=0.17, summary={"trainable": 5800, "total": 5800})
    assert set(nl.ruled_out(run)) == {"frozen_params", "vanishing_gradients"}
    got = causes(run)
    assert set(got) == {"dead_units", "data_pipeline_bug"} and all(0.3 <= s < 0.5 for s in got.values())
    assert set(causes(build(chance_loss(6), {**cfg, "act": "gelu"}, accuracy=0.17))) == {
        "frozen_params", "data_pipeline_bug"}


def test_a_network_worth_of_trainable_parameters_rules_out_freezing():
    """HF's banner prints the trainable count alone: 1,102 trainable parameters (>= 100) cannot leave a network at
    chance by freezing the rest (a head on frozen features learns); a bias vector (8) can."""
    run = build(chance_loss(6), {"lr": 3e-4, "optimizer": "adam"}, accuracy=0.17, summary={"trainable": 1102})
    assert "frozen_params" in nl.ruled_out(run)
    assert "frozen_params" not in causes(run) and {"dead_units", "data_pipeline_bug"} <= set(causes(run))
    tiny = build(chance_loss(6), {"lr": 3e-4, "optimizer": "adam"}, accuracy=0.17, summary={"trainable": 8})
    assert "frozen_params" not in nl.ruled_out(tiny) and causes(tiny)["frozen_params"] >= 0.5


def test_look_alikes_stay_listed_when_the_log_cannot_rule_them_out():
    for cfg, summary in (({"lr": 3e-4, "optimizer": "adam", "act": "sigmoid", "depth": 12}, None),
                         ({"lr": 3e-4, "optimizer": "adam", "act": "relu"}, {"trainable": 8, "total": 5800}),
                         ({"lr": 3e-4, "optimizer": "adam", "act": "relu", "depth": 30}, None)):
        assert "vanishing_gradients" not in nl.ruled_out(build(chance_loss(6), cfg, summary=summary))
        assert "frozen_params" not in nl.ruled_out(build(chance_loss(6), cfg, summary=summary))


EVALS = STEPS[5::6]  # 10 evaluations, the first at step 26


def memorising(k: int = 8, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random labels fitted slowly: train loss from ln k to 12 % below it; held-out loss a touch above ln k and
    held-out accuracy at 1/k with evaluation noise."""
    rng = np.random.default_rng(seed)
    train = math.log(k) * (1 - 0.12 * (STEPS - 1) / (STEPS[-1] - 1)) * (1 + 0.01 * rng.standard_normal(STEPS.size))
    held = math.log(k) * (1.005 + 0.01 * np.linspace(0, 1, EVALS.size))
    acc = 1 / k + 0.01 * rng.standard_normal(EVALS.size)
    return train, held, acc


def with_evals(loss: np.ndarray, held: np.ndarray, acc: np.ndarray) -> Run:
    run = build(loss)
    run.add_series(Series("eval_loss", EVALS, held, "run/train.log"))
    run.add_series(Series("eval_accuracy", EVALS, acc, "run/train.log"))
    return run.finalize()


def test_memorised_noise_labels_fire_at_the_first_evaluation():
    (f,) = nl.detect_memorised_noise_labels(with_evals(*memorising()))
    assert f.cause == "data_pipeline_bug" and f.step == int(EVALS[0]) and f.strength >= 0.6
    train, held, acc = memorising(6, seed=1)
    assert nl.detect_memorised_noise_labels(with_evals(train, held, acc))[0].strength >= 0.6


def test_memorised_noise_labels_silent_when_something_transfers_or_nothing_is_fitted():
    train, held, acc = memorising()
    learns = np.linspace(0.125, 0.6, EVALS.size)  # held-out accuracy leaves chance: the labels mean something
    assert nl.detect_memorised_noise_labels(with_evals(train, held, learns)) == []
    assert nl.detect_memorised_noise_labels(with_evals(chance_loss(8), held, acc)) == []  # train at chance too
    lower = held * np.linspace(1.0, 0.8, EVALS.size)  # held-out loss falls below chance
    assert nl.detect_memorised_noise_labels(with_evals(train, lower, acc)) == []
    collapsed = train * np.maximum(np.exp(-(STEPS - 1) / 20), 0.005)  # ~0: the shortcut (leakage) reading first
    assert nl.detect_memorised_noise_labels(with_evals(collapsed, held, acc))[0].strength < 0.5


def test_memorised_noise_labels_fire_when_the_heldout_loss_climbs_from_chance():
    """Memorised random labels turn confidently wrong on held-out data: the held-out loss rises from ln k to 3 x ln k
    while the held-out accuracy stays at 1/k (chance read from the held-out loss's first, lowest evaluation)."""
    train, _, acc = memorising(10, seed=2)
    climbing = math.log(10) * np.linspace(1.003, 3.0, EVALS.size)
    (f,) = nl.detect_memorised_noise_labels(with_evals(train, climbing, acc))
    assert f.cause == "data_pipeline_bug" and f.step == int(EVALS[0]) and f.strength >= 0.6
    assert abs(f.numbers["chance_level"] - math.log(10)) < 1e-9


def test_memorised_noise_labels_silent_when_the_climb_starts_under_chance_or_accuracy_transfers():
    train, _, acc = memorising(10, seed=2)
    # the held-out loss starts half way under ln 10 (no chance level k fits it) before it climbs: something transferred
    off_chance = math.log(10) * np.linspace(0.5, 3.0, EVALS.size)
    assert nl.detect_memorised_noise_labels(with_evals(train, off_chance, acc)) == []
    climbing = math.log(10) * np.linspace(1.003, 3.0, EVALS.size)
    learns = np.linspace(0.1, 0.6, EVALS.size)  # overfitting: the held-out accuracy left chance first
    assert nl.detect_memorised_noise_labels(with_evals(train, climbing, learns)) == []


def test_memorised_noise_labels_fire_when_the_held_out_loss_climbs_above_chance():
    """Random labels memorised until the held-out answers are confident: the held-out loss starts at ln 8, never
    goes below it, and climbs 40 % above it (keras-data_pipeline_bug-s2's picture) while the held-out accuracy stays
    at 1/8. k is read from the held-out loss's lowest evaluation (the late level is far from any ln k); fires at the
    first evaluation."""
    train, _, acc = memorising()
    climbing = math.log(8) * (1.002 + 0.4 * np.linspace(0, 1, EVALS.size) ** 2)
    (f,) = nl.detect_memorised_noise_labels(with_evals(train, climbing, acc))
    assert f.strength >= 0.6 and f.step == int(EVALS[0]) and "climbs above" in f.evidence[1]
    # silent when the same climb follows a held-out loss that first fell below chance (memorisation after learning,
    # overfitting's picture), or when the held-out accuracy left chance on the way
    learned = climbing * np.concatenate([np.linspace(1.0, 0.7, 4), np.full(EVALS.size - 4, 1.0)])
    assert nl.detect_memorised_noise_labels(with_evals(train, learned, acc)) == []
    assert nl.detect_memorised_noise_labels(with_evals(train, climbing, np.linspace(0.125, 0.5, EVALS.size))) == []


def test_an_output_constant_for_every_input_reads_as_dead_units():
    """A loss pinned at ln 2 to the printed digits: the output ignores the input. Frozen random weights leave a loss
    that varies batch to batch (crossed off); labels detached from their inputs converge to the label marginal, a
    constant output too, so they stay listed, below dead units (issue 8, session 27)."""
    pinned = np.concatenate([[0.68, 2.46, 5.34, 1.02, 10.7, 1.99], np.full(STEPS.size - 6, 0.6931)])
    run = build(pinned, {"lr": 3e-4, "optimizer": "adam"})
    assert nl.never_learned(run).constant
    got = causes(run)
    assert "frozen_params" not in got and got["data_pipeline_bug"] < got["dead_units"]
    assert got["dead_units"] == max(got.values()) and got["dead_units"] < 0.5
    assert not nl.never_learned(build(chance_loss(6), accuracy=0.17)).constant  # noisy chance: any look-alike


def test_learned_then_lost_fires_at_the_lowest_loss_and_rules_out_the_never_learners():
    """The loss falls to 0.8 (55 % under ln 6) by step 56, then blows up and settles at chance: it learned, so
    frozen weights, vanishing gradients, detached labels and a too-low LR are crossed off; oversized steps are
    listed."""
    low = np.concatenate([np.linspace(math.log(6), 0.8, 12), [3.0, 6.0]])
    loss = np.concatenate([low, chance_loss(6)[low.size:]])
    run = build(loss, accuracy=0.17)
    (f,) = nl.detect_learned_then_lost(run)
    # the 3-point smoothed minimum: one point before the spike pulls the mean of the lowest point up
    assert f.cause == "grad_accum_bug" and f.step == int(STEPS[10]) == 51 and 0.3 <= f.strength < 0.5
    assert {"frozen_params", "vanishing_gradients", "data_pipeline_bug"} <= set(nl.ruled_out(run))
    assert set(causes(run)) == {"dead_units", "grad_accum_bug"}
    # the grad norm far above the output bias's level over batches of 256 crosses dead units off too: the run is
    # still one that does not learn (the finding carries its chance level), never healthy
    big = build(loss, {"lr": 3e-4, "optimizer": "adam", "batch_size": 256}, accuracy=0.17)
    assert set(causes(big)) == {"grad_accum_bug"}
    assert nl.detect_learned_then_lost(big)[0].numbers["chance_classes"] == 6


def test_learned_then_lost_silent_on_runs_that_never_learned_or_still_learn():
    assert nl.detect_learned_then_lost(build(chance_loss(6), accuracy=0.17)) == []
    assert nl.detect_learned_then_lost(build(learning_loss(), accuracy=0.3)) == []


def _epoch_history(best_accuracy: float) -> Run:
    """Ten epoch rows as a Keras CSVLogger keeps them: the first epoch's mean loss 1.25 and held-out accuracy
    `best_accuracy`, then every epoch at chance for 6 classes (loss ~ln 6, accuracy ~1/6)."""
    ep = np.arange(10)
    rng = np.random.default_rng(0)
    loss = np.concatenate([[1.25], math.log(6) * (1 + 0.003 * rng.standard_normal(9))])
    acc = np.concatenate([[best_accuracy], 1 / 6 + 0.01 * rng.standard_normal(9)])
    run = Run()
    run.add_series(Series("loss", ep, loss, "run/training.csv"))
    run.add_series(Series("eval_loss", ep, loss + 0.01, "run/training.csv"))
    run.add_series(Series("eval_accuracy", ep, acc, "run/training.csv"))
    return run


def test_learned_then_lost_read_from_the_heldout_accuracy_of_an_epoch_history():
    """One epoch mean under chance is smoothed away, but the held-out accuracy 0.77 at epoch 0 (0.6 above chance
    1/6) that falls back to ~1/6 says the run learned: oversized steps listed, dead units (which cannot learn
    from the start) kept below them."""
    run = _epoch_history(0.77)
    (f,) = nl.detect_learned_then_lost(run)
    assert f.cause == "grad_accum_bug" and f.step == 0 and f.strength == 0.4
    assert "eval_accuracy reached 0.77" in f.evidence[0]
    got = causes(run)
    assert got["dead_units"] < got["grad_accum_bug"]
    assert "frozen_params" in nl.ruled_out(run)


def test_learned_then_lost_silent_when_the_heldout_accuracy_never_got_far_above_chance():
    run = _epoch_history(0.35)  # 0.35 < 1/6 + 0.25 = 0.42: within what a small held-out set's noise can give
    assert nl.detect_learned_then_lost(run) == []
    assert "frozen_params" not in nl.ruled_out(run)


def test_lr_collapse_against_the_planned_epochs_a_log_prints(tmp_path):
    # the log ends where the LR reaches 0, at epoch 5 of the 50 its counter announces: 88 % of the run is left
    lines = [f"TRAIN [epoch: {e}/50] || train_loss: {400 / (e + 1):.3f} || lr: {4e-5 * (1 - e / 5):.0e} || time: 190"
             for e in range(6)]
    p = tmp_path / "train.log"
    p.write_text("\n".join(lines) + "\n")
    run = load_run([p])
    assert run.meta["planned_epochs"] == 50
    (f,) = nl.detect_lr_collapse(run)
    assert f.step == 5 and f.strength >= 0.5 and any("88% of the 50 planned epochs" in e for e in f.evidence)
    # the same log planned for 6 epochs: a schedule that ends with the run
    p.write_text("\n".join(s.replace("/50]", "/6]") for s in lines) + "\n")
    assert nl.detect_lr_collapse(load_run([p])) == []


def test_lr_collapse_against_the_planned_steps_a_log_prints(tmp_path):
    # "iter i/2000": the log stops at step 100 where the LR reached 0, with 95 % of the planned run still to go
    lines = [f"iter {i}/2000 loss {3 - i / 100:.3f} lr {max(0.0, 1e-3 * (1 - i / 60)):.2e}" for i in range(10, 110, 10)]
    p = tmp_path / "train.log"
    p.write_text("\n".join(lines) + "\n")
    run = load_run([p])
    assert run.meta["planned_steps"] == 2000
    (f,) = nl.detect_lr_collapse(run)
    assert f.step == 60 and any("of the 2000 planned steps" in e for e in f.evidence)
    p.write_text("\n".join(s.replace("/2000", "/100") for s in lines) + "\n")  # planned for 100: it ends with the run
    assert nl.detect_lr_collapse(load_run([p])) == []


def _warmup_excerpt(planned: int | None, warmup: int) -> Run:
    """100 logged steps of a run whose counter prints its planned length (or not), warmup_steps configured."""
    run = build(learning_loss(), config={"lr": 3e-4, "optimizer": "adam", "warmup_steps": warmup},
                lr=3e-4 * np.minimum(1.0, STEPS / warmup))
    if planned is not None:
        run.meta["planned_steps"] = planned
    return run


def test_warmup_longer_than_the_planned_run_fires():
    # the log is an excerpt (300 steps) of a run planned for 400, with a warmup of 500: it never finishes
    (f,) = nl.detect_scheduler_misuse(_warmup_excerpt(400, 500))
    assert f.strength >= 0.7 and any("planned run (400 steps" in e for e in f.evidence)
    # without the planned length, the logged run (296 steps) is what it is compared to
    (f,) = nl.detect_scheduler_misuse(_warmup_excerpt(None, 500))
    assert any("longer than the run (296 steps)" in e for e in f.evidence)


def test_warmup_shorter_than_the_planned_run_is_silent_on_an_excerpt():
    # the first 300 steps of a 10k-step run with a 500-step warmup: a normal warmup the excerpt does not reach
    assert nl.detect_scheduler_misuse(_warmup_excerpt(10_000, 500)) == []


def with_heldout(loss: np.ndarray, held: np.ndarray) -> Run:
    run = build(loss, {"lr": 3e-4, "optimizer": "adam"})
    run.add_series(Series("eval_loss", EVALS, held, "run/train.log"))
    return run.finalize()


def test_heldout_loss_above_chance_is_still_not_learning_and_rules_out_constant_outputs():
    """Train loss at ln 2, held-out loss 4-6 % above it at every evaluation: worse than the uniform guess, which
    an output that ignores its input cannot score; dead and saturated units are crossed off. The gap to the training
    loss is within a held-out set's sampling error, so detached labels and frozen random weights stay listed."""
    held = math.log(2) * np.linspace(1.04, 1.06, EVALS.size)
    run = with_heldout(chance_loss(2), held)
    got = nl.never_learned(run)
    assert got is not None and got.k == 2 and got.heldout_above and got.first_step == 1
    assert {"dead_units", "vanishing_gradients"} <= set(nl.ruled_out(run))
    assert "frozen_params" not in nl.ruled_out(run)
    assert set(causes(run)) == {"frozen_params", "data_pipeline_bug"}


def test_heldout_loss_far_above_a_training_loss_at_chance_reads_as_memorised_detached_labels():
    """Train loss at ln 2, held-out loss 10-15 % of ln 2 above it (plain_pytorch-data_pipeline_bug-s2: 0.686 against
    0.804): weights that barely move score both sets alike, so frozen weights and a tiny step are crossed off and
    labels detached from their inputs are the one reading left, at the report threshold, from the first step."""
    run = with_heldout(chance_loss(2), math.log(2) * np.linspace(1.10, 1.15, EVALS.size))
    assert {"frozen_params", "lr_too_low", "dead_units", "vanishing_gradients"} <= set(nl.ruled_out(run))
    assert "data_pipeline_bug" not in nl.ruled_out(run)
    assert causes(run) == {"data_pipeline_bug": nl.SOLE_READING}
    (f,) = nl.detect_chance_labels(run)
    assert f.step == 1 and any("does not transfer" in e for e in f.evidence)


def test_heldout_loss_under_chance_or_that_first_learned_is_not_above_chance():
    # held-out loss falls under chance: the model learns (never_learned stays silent)
    assert nl.never_learned(with_heldout(chance_loss(2), math.log(2) * np.linspace(0.95, 0.8, EVALS.size))) is None
    # held-out loss first under chance, then far above it (memorisation after learning): not "above chance"
    dipped = math.log(2) * np.r_[0.9, np.full(EVALS.size - 1, 1.2)]
    got = nl.never_learned(with_heldout(chance_loss(2), dipped))
    assert got is None or not got.heldout_above
    # held-out loss at chance: the constant-output look-alikes stay listed
    at = nl.never_learned(with_heldout(chance_loss(2), math.log(2) * np.full(EVALS.size, 1.005)))
    assert at is not None and not at.heldout_above


def test_heldout_loss_repeating_from_the_first_evaluation_means_the_weights_never_change():
    """No LR logged; the held-out loss is 2.8646 at all 10 evaluations while the train batches' loss moves: no
    update reaches the weights (an LR decayed to 0), listed below 0.5 from the first evaluation."""
    run = with_heldout(chance_loss(17), np.full(EVALS.size, 2.8646))
    (f,) = nl.detect_heldout_unchanged(run)
    assert f.cause == "scheduler_misuse" and f.step == int(EVALS[0]) and 0.3 <= f.strength < 0.5


def test_heldout_unchanged_silent_when_the_weights_move_or_the_lr_is_logged():
    moving = 2.8646 - 1e-4 * np.arange(EVALS.size)  # changes in the 4th decimal: the weights move
    assert nl.detect_heldout_unchanged(with_heldout(chance_loss(17), moving)) == []
    late = np.r_[2.9, 2.88, np.full(EVALS.size - 2, 2.8646)]  # a plateau reached later is a converged model
    assert nl.detect_heldout_unchanged(with_heldout(chance_loss(17), late)) == []
    logged = with_heldout(chance_loss(17), np.full(EVALS.size, 2.8646))
    logged.add_series(Series("lr", STEPS, np.full(STEPS.size, 3e-4), "run/train.log"))
    assert nl.detect_heldout_unchanged(logged.finalize()) == []
    tiny = build(chance_loss(17), {"lr": 1e-9, "optimizer": "adam"})  # an LR far under Adam's range explains it
    tiny.add_series(Series("eval_loss", EVALS, np.full(EVALS.size, 2.8646), "run/train.log"))
    assert nl.detect_heldout_unchanged(tiny.finalize()) == []


def test_never_learned_widens_the_inferred_band_by_the_medians_own_noise():
    """A binary loss with batch noise of ~4.5 % whose late median lands 2.4 % under ln 2 (the HF binary run with
    labels sorted apart from its inputs: 0.677 against 0.693), held-out loss above chance: two standard errors of
    that median cover the gap, so the run is at chance from the first point. The same level with 0.5 % noise is a
    real plateau off chance: silent."""
    level = math.log(2) * 0.976
    held = np.full(EVALS.size, math.log(2) * 1.09)
    swing = np.tile([1.0, -1.0], STEPS.size // 2)  # batch-to-batch noise with a known spread, median exactly `level`
    got = nl.never_learned(with_heldout(level * (1 + 0.045 * swing), held))
    assert got is not None and got.k == 2 and got.heldout_above and got.first_step == int(STEPS[0])
    quiet = with_heldout(level * (1 + 0.005 * swing), held)
    assert nl.never_learned(quiet) is None
    assert nl._inferred_tol(2, 0.0, 20) == nl.INFERRED_REL_TOL  # no noise: the fixed band
    assert nl._inferred_tol(10, 1.0, 5) < nl.CHANCE_REL_TOL  # half-way to ln 11 caps it where levels crowd


def test_a_grad_norm_at_the_output_bias_level_reads_as_units_that_pass_nothing():
    """At chance over batches of 32 labels in 8 classes the output bias alone gets a gradient of RMS norm
    sqrt(7/8 / 32) = 0.165; a grad norm of 0.2 (1.2x) leaves the weights none: detached labels, saturated units and
    a small LR are crossed off, dead units lead (0.48) beside frozen-all-but-the-bias. With a network's worth of
    trainable parameters printed, dead units are the one reading left."""
    cfg = {"lr": 3e-4, "optimizer": "adam", "batch_size": 32}
    run = build(chance_loss(8), cfg, accuracy=0.129)
    gl = nl.grad_level(run)
    assert gl is not None and nl.BIAS_ONLY_BAND[0] <= gl.ratio <= nl.BIAS_ONLY_BAND[1] and gl.batch == 32
    assert {"data_pipeline_bug", "vanishing_gradients", "lr_too_low"} <= set(nl.ruled_out(run))
    assert causes(run) == {"dead_units": nl.CONSTANT_OUTPUT, "frozen_params": nl.UNEXPLAINED["frozen_params"]}
    sole = build(chance_loss(8), cfg, accuracy=0.129, summary={"trainable": 5000})
    (f,) = nl.detect_loss_at_chance(sole)
    assert f.strength == nl.SOLE_READING and f.step == int(STEPS[0]) and causes(sole) == {"dead_units": nl.SOLE_READING}
    # the sole reading and the constant output are evidence for dead units: calibrated as its own, not as a listing
    assert not f.numbers["listing"] and not nl.detect_loss_at_chance(run)[0].numbers["listing"]
    # a constant output is listed, never reported (the log does not show the units); the one reading left is reported
    assert nl.UNEXPLAINED["dead_units"] < nl.CONSTANT_OUTPUT < 0.5 <= nl.SOLE_READING


def test_a_grad_norm_well_above_the_bias_level_crosses_off_dead_and_frozen():
    """Batches of 256: the bias-only level is 0.058 and a grad norm of 0.2 is 3.4x it: weights get gradient through
    live activations, so dead units and a freeze are crossed off; detached labels and vanishing gradients stay."""
    run = build(chance_loss(8), {"lr": 3e-4, "optimizer": "adam", "batch_size": 256}, accuracy=0.129)
    assert nl.grad_level(run).ratio >= nl.WEIGHTS_GET_GRADIENT
    assert causes(run) == {"data_pipeline_bug": 0.39, "vanishing_gradients": 0.38}


def test_grad_level_silent_without_a_batch_or_under_the_bias_level():
    look_alikes = {"dead_units", "frozen_params", "data_pipeline_bug", "vanishing_gradients"}
    no_batch = build(chance_loss(8), accuracy=0.129)
    assert nl.grad_level(no_batch) is None and set(causes(no_batch)) == look_alikes
    # batches of 4: the bias alone would get 0.47, more than the 0.2 logged: the loss averages over more than the
    # stated batch (tokens, a summed loss), so the level says nothing
    tiny = build(chance_loss(8), {"lr": 3e-4, "optimizer": "adam", "batch_size": 4}, accuracy=0.129)
    assert nl.grad_level(tiny).ratio < nl.BIAS_ONLY_BAND[0] and set(causes(tiny)) == look_alikes
    assert nl.grad_level(build(learning_loss(), {"lr": 3e-4, "optimizer": "adam", "batch_size": 32})) is None
    # a vocabulary-sized k is a per-token loss: the stated batch of sequences does not count what it averages over
    vocab = build(chance_loss(1000), {"lr": 3e-4, "optimizer": "adam", "batch_size": 32, "vocab_size": 1000})
    assert nl.never_learned(vocab) is not None and nl.grad_level(vocab) is None


def test_a_pinned_tail_whose_last_point_sits_off_its_median_is_read_without_an_error():
    """The tail's spread is within 2 x PIN_TOL but its last point is > PIN_TOL off the median: the pinned stretch
    is the tail (an epoch history's last row, a mean over a shorter epoch, does this)."""
    loss = np.array([2.3, 2.2, 2.1, 2.0794, 2.0794, 2.0794, 2.0794, 2.0794, 2.0794, 2.0808])
    run = Run()
    run.add_series(Series("loss", np.arange(loss.size), loss, "run/training.csv"))
    got = nl.never_learned(run.finalize())
    assert got is not None and got.constant and got.k == 8 and got.first_step == 5  # the 5-point tail
    # off by more than the spread allows: not pinned
    loss[-1] = 2.0830
    run = Run()
    run.add_series(Series("loss", np.arange(loss.size), loss, "run/training.csv"))
    got = nl.never_learned(run.finalize())
    assert got is None or not got.constant


def _with_heldout_accuracy(loss: np.ndarray, acc: list[float]) -> Run:
    run = Run()
    run.add_series(Series("loss", STEPS, loss, "run/train.log"))
    ev = STEPS[9::10][:len(acc)]
    run.add_series(Series("eval_accuracy", ev, np.asarray(acc, dtype=np.float64), "run/train.log"))
    return run.finalize()


def test_an_unchanging_heldout_accuracy_beside_a_loss_at_chance_lists_dead_units_first():
    """lightning-dead_units-s0's held-out accuracy, 0.16796875 at every evaluation, beside a loss at ln 6: the
    predicted classes never change. A constant output is listed first; labels detached from the inputs give the
    majority class every time too, and a freeze leaving a sliver trainable, or a tiny LR, keep them too (all listed)."""
    run = _with_heldout_accuracy(chance_loss(6), [0.16796875] * 6)
    got = nl.never_learned(run)
    assert got is not None and got.k == 6 and got.unchanging and not got.constant
    assert any("never change" in e for e in got.evidence)
    c = causes(run)
    assert c["dead_units"] == max(c.values()) < 0.5
    assert {"frozen_params", "lr_too_low", "vanishing_gradients", "data_pipeline_bug"} <= set(c)


def test_a_heldout_accuracy_that_moves_or_is_too_short_is_not_a_constant_output():
    # predictions that flip between evaluations: an output that follows its input
    moving = [0.1289, 0.1289, 0.1367, 0.1328, 0.1445, 0.1367]
    assert not nl.never_learned(_with_heldout_accuracy(chance_loss(8), moving)).unchanging
    # four evaluations are too few; an accuracy far from 1/k is not chance
    assert not nl.never_learned(_with_heldout_accuracy(chance_loss(8), [0.125] * 4)).unchanging
    got = nl.never_learned(_with_heldout_accuracy(chance_loss(8), [0.3] * 6))
    assert got is None or not got.unchanging


def test_unchanging_heldout_predictions_stand_down_when_the_heldout_loss_is_identical_too():
    # plain_pytorch-scheduler_misuse-s4 as an epoch history: the held-out loss is 2.092 at every evaluation, so the
    # weights never changed (detect_heldout_unchanged's reading); the unchanged predictions add nothing
    run = _with_heldout_accuracy(chance_loss(8), [0.1094] * 6)
    run.add_series(Series("eval_loss", STEPS[9::10], np.full(6, 2.092), "run/train.log"))
    got = nl.never_learned(run.finalize())
    assert got is not None and not got.unchanging


def test_a_stated_live_relu_init_crosses_off_dead_units_at_the_bias_level():
    """A grad norm at the output-bias level (batches of 32, 8 classes: 0.2 is 1.2x) on a ReLU net whose config states
    the default bias init and an Adam LR inside its range: the units cannot have been born dead or killed later, so
    the one look-alike left is a freeze that leaves only the bias (reported at SOLE_READING)."""
    cfg = {"lr": 3e-4, "optimizer": "adam", "batch_size": 32, "act": "relu", "bias_init": None, "depth": 2}
    run = build(chance_loss(8), cfg, accuracy=0.129)
    assert "dead_units" in nl.ruled_out(run)
    assert causes(run) == {"frozen_params": nl.SOLE_READING}
    (f,) = nl.detect_frozen_params(run)
    assert f.step == int(STEPS[0]) and "bias_init" in f.evidence[-1]


def test_a_live_relu_init_does_not_cross_off_dead_units_when_something_could_kill_them():
    base = {"lr": 3e-4, "optimizer": "adam", "batch_size": 32, "act": "relu", "bias_init": None}
    for change in ({"bias_init": -3.0}, {"lr": 5.0}, {"act": "sigmoid"}, {"depth": 40}):
        run = build(chance_loss(8), {**base, **change}, accuracy=0.129)
        assert "dead_units" not in nl.ruled_out(run) or change == {"act": "sigmoid"}, change
        assert nl._live_relu_init(run) is None, change
    no_init = {k: v for k, v in base.items() if k != "bias_init"}
    assert nl._live_relu_init(build(chance_loss(8), no_init, accuracy=0.129)) is None
    assert nl.CONSTANT_OUTPUT == causes(build(chance_loss(8), no_init, accuracy=0.129))["dead_units"]


def test_a_bias_vector_that_learns_the_prior_is_no_head_by_design():
    """The loss falls 40 % (a skewed init settling on the label prior) with 8 parameters of 5,800 trainable, or 8
    printed alone (HF's banner): too few for a head, so the head-by-design cap does not apply; a head of 5,000
    trainable weights on a learning loss still gets it."""
    falling = learning_loss() * np.linspace(1, 0.6, STEPS.size)
    (f,) = nl.detect_frozen_params(build(falling, summary={"trainable": 8, "total": 5800}))
    assert f.strength >= 0.8 and "too few for a head" in f.evidence[-1]
    (f,) = nl.detect_frozen_params(build(falling, summary={"trainable": 8}))
    assert f.strength >= 0.6 and "too few for a head" in f.evidence[-1]
    (f,) = nl.detect_frozen_params(build(falling, summary={"trainable": 5_000, "total": 11_000_000}))
    assert f.strength <= 0.25


def relaxing_loss(k: int = 15, excess: float = 0.2, seed: int = 0) -> np.ndarray:
    """A vocabulary-sized head whose only trainable part is its bias: it starts `excess` nats above chance (an
    untrained head's logit spread) and relaxes onto ln k within ~100 steps, then stays (1 % minibatch noise)."""
    base = math.log(k) + excess * np.exp(-STEPS / 40)
    return base * (1 + 0.01 * np.random.default_rng(seed).standard_normal(STEPS.size))


RELU2 = {"lr": 0.08, "optimizer": "sgd", "act": "relu", "depth": 2, "bias_init": "None"}


def test_a_loss_that_relaxes_from_just_above_chance_onto_ln_k_never_learned():
    # 15 classes: inferred only with an accuracy at 1/15 beside the loss, and the fall (> MAX_DROP) allowed because
    # it starts within INIT_EXCESS of ln 15 and ends on it
    run = build(relaxing_loss(15), config=RELU2, accuracy=1 / 15 * 1.06)
    got = nl.never_learned(run)
    assert got is not None and got.k == 15 and got.k_source == "accuracy"
    # dead units and vanishing gradients are crossed off by the config; frozen_params is listed, below 0.5
    got = causes(run)
    assert "frozen_params" in got and got["frozen_params"] < 0.5
    assert "dead_units" not in got and "vanishing_gradients" not in got


def test_a_relaxing_loss_is_not_at_chance_without_an_agreeing_accuracy_or_from_a_blow_up():
    # a learner's accuracy (2.2 / k), an accuracy that names another class count (1/22 for a loss at ln 15, over
    # BIG_K_ACC_REL off: an output not yet uniform), no accuracy at all (a loss alone can land on some ln k), a
    # start 1.5 nats above
    for acc in (2.2 / 15, 1 / 22, None):
        assert nl.never_learned(build(relaxing_loss(15), config=RELU2, accuracy=acc)) is None
    assert nl.never_learned(build(relaxing_loss(15, excess=1.5), config=RELU2, accuracy=1 / 15)) is None
    # k <= 10: the fall from above chance needs the accuracy too, not the held-out or first loss alone
    assert nl.never_learned(build(relaxing_loss(8, excess=0.3), config=RELU2)) is None
    assert nl.never_learned(build(relaxing_loss(8, excess=0.3), config=RELU2, accuracy=0.126)) is not None


def _accuracy_only(acc: list[float]) -> Run:
    """A log with no loss, only a running training accuracy (correct / seen so far) printed as training goes."""
    run = Run()
    run.add_series(Series("accuracy", np.arange(1, len(acc) + 1), np.asarray(acc, dtype=np.float64), "run/train.log"))
    return run.finalize()


def test_a_running_accuracy_pinned_at_chance_after_its_first_print_never_learned():
    """s30-g8-udacity-dl-sentiment-project3's shape: the first print covers one review (1 of 1 correct, 100 %), then
    "Training Accuracy:50.0%" at every print: the predictions stopped changing at chance after the first sample."""
    got = nl.never_learned(_accuracy_only([100.0] + [50.0] * 10))
    assert got is not None and got.constant and got.k == 2 and got.first_step == 2
    assert "after the first" in got.evidence[0]


def test_a_running_accuracy_after_its_first_print_is_not_pinned_when_it_moves_converges_or_is_short():
    # a learner: moves in the last digit
    assert nl.never_learned(_accuracy_only([100.0, 50.0, 52.1, 55.3, 58.0, 61.2, 63.9, 66.0])) is None
    # converged and printed with few digits: constant far from any 1/k chance level
    assert nl.never_learned(_accuracy_only([0.61, 0.98, 0.98, 0.98, 0.98, 0.98, 0.98])) is None
    # under CHANCE_ACC_POINTS identical prints is too short to read after a first point that differs
    assert nl.never_learned(_accuracy_only([1.0] + [0.5] * (nl.CHANCE_ACC_POINTS - 1))) is None


def test_ungated_rnn_at_chance_reads_as_vanishing_gradients():
    cfg = {"lr": 1e-4, "optimizer": "adam", "rnn_cell": "rnn"}
    (f,) = nl.detect_saturating_depth(build(chance_loss(2), cfg, accuracy=0.5))
    assert f.cause == "vanishing_gradients" and f.strength >= 0.7 and f.step == 1
    assert "vanishing_gradients" in nl._explained(build(chance_loss(2), cfg, accuracy=0.5))
    # a vanilla RNN that learns is no finding, and a gated cell at chance is not this reading
    assert nl.detect_saturating_depth(build(learning_loss(), cfg)) == []
    assert nl.detect_saturating_depth(build(chance_loss(2), {**cfg, "rnn_cell": "lstm"}, accuracy=0.5)) == []


def _prior_loss_run(train_acc: np.ndarray, eval_acc: np.ndarray, floor: float = 0.325) -> Run:
    """A sigmoid cross-entropy over 10 one-hot outputs that falls to the label prior's 0.325 and stays (not ln 10),
    beside a per-batch training accuracy and a held-out accuracy every 4th point."""
    rng = np.random.default_rng(5)
    loss = floor + 0.36 * np.exp(-STEPS / 8) + 0.002 * rng.standard_normal(STEPS.size)
    run = Run()
    run.add_series(Series("loss", STEPS, loss, "run/train.log"))
    run.add_series(Series("accuracy", STEPS, train_acc, "run/train.log"))
    run.add_series(Series("eval_accuracy", STEPS[::4][:eval_acc.size], eval_acc, "run/train.log"))
    return run.finalize()


def test_heldout_accuracy_at_chance_beside_a_loss_not_at_ln_k():
    rng = np.random.default_rng(6)
    train = np.clip(0.1 + 0.04 * rng.standard_normal(STEPS.size), 0.0, 1.0)  # a batch of 64 at chance
    held = 0.1 + 0.012 * rng.standard_normal(15)
    got = nl.never_learned(_prior_loss_run(train, held))
    assert got is not None and got.k == 10 and got.k_source == "accuracy" and got.first_step == 1
    assert not math.isfinite(got.level)  # the loss gives no chance level; the accuracy does
    assert nl.learned_then_lost(_prior_loss_run(train, held)) is None  # 0.325 is no fall "under ln 10"


def test_heldout_accuracy_at_chance_silent_when_the_training_set_is_learned_or_the_heldout_rises():
    rng = np.random.default_rng(6)
    held = 0.1 + 0.012 * rng.standard_normal(15)
    memorising = np.linspace(0.1, 0.8, STEPS.size)  # labels detached from inputs: the training accuracy climbs
    assert nl.never_learned(_prior_loss_run(memorising, held)) is None
    train = np.clip(0.1 + 0.04 * rng.standard_normal(STEPS.size), 0.0, 1.0)
    assert nl.never_learned(_prior_loss_run(train, np.linspace(0.1, 0.6, 15))) is None  # held-out accuracy rises
    # a loss that a softmax cross-entropy at that accuracy could score (here 4 % above ln 6, an output not yet
    # uniform) is no loss of another kind: the rules for a cross-entropy read it, or nothing does
    six = np.clip(1 / 6 + 0.03 * rng.standard_normal(STEPS.size), 0.0, 1.0)
    assert nl.never_learned(_prior_loss_run(six, 1 / 6 + 0.01 * rng.standard_normal(15), floor=1.86)) is None
