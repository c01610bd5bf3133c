"""smdebug-style detector tests: a synthetic series where each detector must fire at a known step, and a
near-miss / healthy series where it must stay silent."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from traindoc.evidence import all_detectors, context, precision, run_detectors
from traindoc.evidence.detectors import (
    accumulation,
    architecture,
    code_lint,
    data,
    not_learning,
    numerics,
    optimisation,
    systems,
)
from traindoc.ingest.model import ConfigValue, LogEvent, ParamCounts, Run, Sample, Series, Source

N = 1000
T = np.arange(N)


def healthy_arrays(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    loss = (4.0 - 0.8) * np.exp(-T / 150) + 0.8
    loss = loss * np.exp(0.03 * rng.standard_normal(N))
    grad = 1.5 * (1 + np.exp(-T / 100)) * np.exp(0.15 * rng.standard_normal(N))
    lr = 5e-3 * np.minimum(1, (T + 1) / 20) * (0.1 + 0.45 * (1 + np.cos(np.pi * T / N)))
    return {"loss": loss, "grad_norm": grad, "lr/muon": lr}


def make_run(arrays: dict[str, np.ndarray] | None = None, config: dict[str, tuple[object, str]] | None = None,
             eval_loss: np.ndarray | None = None, **extra: object) -> Run:
    arrays = arrays if arrays is not None else healthy_arrays()
    run = Run()
    for name, v in arrays.items():
        run.add_series(Series(name, T[: len(v)], v, "run/metrics.jsonl"))
    if eval_loss is not None:
        idx = np.arange(49, N, 50)
        run.add_series(Series("eval_loss", T[idx], eval_loss[idx], "run/metrics.jsonl", "val_loss"))
    cfg = {"optim.muon_lr": (5e-3, "5e-3"), "optim.adam_lr": (3e-3, "3e-3"), "optim.grokfast_lambda": (0.5, "0.5"),
           "optim.grokfast_alpha": (0.98, "0.98"), "optim.warmup_steps": (20, "20"), "optim.grad_clip": (1.0, "1.0")}
    cfg.update(config or {})
    for i, (k, (v, text)) in enumerate(cfg.items(), 1):
        run.config[k] = ConfigValue(k, v, "ws/config.yaml", i, "yaml", text)
    run.meta["optimizer"] = "mugrokfast"
    for k, v in extra.items():
        setattr(run, k, v)
    return run.finalize()


def fire(detector, run: Run):
    out = detector(run)
    assert out, f"{detector.__name__} stayed silent"
    return out[0]


def test_every_detector_silent_on_healthy_runs() -> None:
    for seed in range(3):
        run = make_run(healthy_arrays(seed), eval_loss=healthy_arrays(seed)["loss"] * 1.05)
        run.samples = [Sample("the sum of two and three is five", s, "Q:", "s.jsonl") for s in (100, 500, 900)]
        loud = [f for f in run_detectors(run) if f.strength >= 0.3]
        assert not loud, [(f.detector, f.strength, f.evidence) for f in loud]


def test_all_causes_have_a_detector() -> None:
    import json
    from importlib import resources

    schema = json.loads(resources.files("traindoc").joinpath("schemas/diagnosis.schema.json").read_text())
    causes = set(schema["$defs"]["cause"]["enum"])
    covered = set()
    from traindoc.evidence import synthetic

    for label in synthetic.BUILDERS:
        if label == "healthy":
            continue
        for f in run_detectors(synthetic.make(label, 1)):
            covered.add(f.cause)
    assert causes <= covered, causes - covered
    assert len(all_detectors()) >= 23


# --------------------------------------------------------------------------------------------- optimisation


def test_lr_too_high_fires_at_the_spike_after_the_stage_switch() -> None:
    a = healthy_arrays()
    a["grad_norm"][600] = 45.2
    a["loss"][600:] *= np.linspace(1, 1.6, N - 600)
    run = make_run(a, {"optim.muon_lr": (1e-2, "1e-2")}, stages=[(0, "foundation"), (597, "advanced")])
    f = fire(optimisation.detect_lr_too_high, run)
    assert f.step == 600
    assert f.strength > 0.7
    assert any("45.2 at step 600" in e for e in f.evidence)
    assert any("muon_lr=1e-2 is 2x the reference 5e-3" in e and "config.yaml:1" in e for e in f.evidence)
    assert any("advanced" in e for e in f.evidence)
    assert f.fix_sites[0]["before"] == "1e-2" and f.fix_sites[0]["after"] == "5e-3"


def _epochs_run(loss: list[float]) -> Run:
    """A ten-epoch log with no LR and no config: one loss point per epoch."""
    run = Run()
    run.add_series(Series("loss", np.arange(1, len(loss) + 1), np.array(loss), "run/train.log"))
    return run.finalize()


def test_lr_too_high_a_last_point_bump_is_not_instability() -> None:
    # ten epochs falling, the last one twice the one before: one point is noise as often as a trend
    bump = [1.6, 1.1, 0.8, 0.6, 0.5, 0.42, 0.36, 0.3, 0.26, 0.55]
    assert fire(optimisation.detect_lr_too_high, _epochs_run(bump)).strength < 0.3
    # the same rise sustained over four epochs is the divergence the rule is for
    rise = [1.6, 1.1, 0.8, 0.6, 0.5, 0.42, 0.5, 0.62, 0.8, 1.05]
    f = fire(optimisation.detect_lr_too_high, _epochs_run(rise))
    assert f.strength >= 0.45 and f.step == 8  # the smoothed rise begins at epoch 8


def test_lr_too_high_a_rebound_that_keeps_most_of_the_progress_is_weak() -> None:
    # 2.0 -> 0.3, then up 60 % to ~0.48 over the last quarter: a rise, but the run keeps ~90 % of its progress
    fall = list(np.linspace(2.0, 0.3, 30))
    rebound = fall + list(np.linspace(0.3, 0.48, 10))
    f = fire(optimisation.detect_lr_too_high, _epochs_run(rebound))
    assert f.strength < 0.45 and any("keeps most of what it learned" in e for e in f.evidence)
    # the same fall, then back above the first loss: training undone, the LR's textbook signature
    undone = fall + list(np.linspace(0.3, 2.6, 10))
    g = fire(optimisation.detect_lr_too_high, _epochs_run(undone))
    assert g.step == 31 and g.strength > 0.55 and g.numbers.get("undone")  # rising from the epoch after the minimum
    assert any("undid the training" in e for e in g.evidence)
    # in between (a third of the progress given back): a divergence, no more
    third = fall + list(np.linspace(0.3, 0.9, 10))
    h = fire(optimisation.detect_lr_too_high, _epochs_run(third))
    assert f.strength < h.strength <= 0.55 and not h.numbers.get("undone")


def test_lr_too_high_silent_at_reference_lr_and_mild_bump() -> None:
    a = healthy_arrays()
    a["grad_norm"][600] *= 2.0  # a 2x blip is within the noise of a healthy run
    assert optimisation.detect_lr_too_high(make_run(a)) == []


def _hf_like_run(loss: list[float], lr: float) -> Run:
    """An HF Trainer state (no optimiser named: its default is AdamW) with a constant logged LR."""
    run = Run()
    st = np.arange(1, len(loss) + 1) * 5
    run.add_series(Series("loss", st, np.array(loss), "run/trainer_state.json"))
    run.add_series(Series("lr", st, np.full(len(loss), lr), "run/trainer_state.json"))
    run.sources.append(Source("run/trainer_state.json", "hf_trainer_state"))
    return run.finalize()


def test_lr_too_high_does_not_assume_the_stack_default_for_a_run_that_trains() -> None:
    # lr 0.06 would be 20x AdamW's range, but the loss falls 1.9 -> 0.4 with no blow-up and a late 60 % bump:
    # the run evidently uses another optimiser, and 0.06 is within the wide unknown range
    trains = [1.9, 1.8, 1.6, 1.3, 1.0, 0.8, 0.6, 0.5, 0.42, 0.35, 0.3, 0.33, 0.42, 0.5, 0.48]
    f = fire(optimisation.detect_lr_too_high, _hf_like_run(trains, 0.06))
    assert f.strength < 0.6 and f.numbers["lr_over_reference_high"] == 0.0
    assert any("not assumed" in e for e in f.evidence)
    # the same LR in a run that blows up: 20x AdamW's range if the default ran, inside SGD's if not; the log does
    # not say which, so a candidate below the report threshold
    blows = [1.9, 1.8, 40.0, 900.0, 3e4, 2e5, 1e5, 8e4, 5e4, 6e4, 4e4, 3e4, 5e4, 4e4, 3e4]
    g = fire(optimisation.detect_lr_too_high, _hf_like_run(blows, 0.06))
    assert 0.3 <= g.strength < 0.5 and g.numbers["lr_over_reference_high"] > 10
    assert any("does not name its optimiser" in e for e in g.evidence)
    # an LR above what any common optimiser uses blows up: the LR, whatever the optimiser
    assert fire(optimisation.detect_lr_too_high, _hf_like_run(blows, 2.0)).strength >= 0.9


def _hf_finetune_run(loss: list[float] | np.ndarray, lr: float, config: dict[str, object]) -> Run:
    """An HF Trainer state with a constant logged LR, no optimiser named, and the given keys in its config.json."""
    run = Run()
    st = np.arange(1, len(loss) + 1) * 5
    run.add_series(Series("loss", st, np.asarray(loss, dtype=float), "run/trainer_state.json"))
    run.add_series(Series("lr", st, np.full(len(loss), lr), "run/trainer_state.json"))
    run.sources.append(Source("run/trainer_state.json", "hf_trainer_state"))
    for i, (k, v) in enumerate(config.items(), 1):
        run.put_config(ConfigValue(k, v, "run/config.json", i, "json", str(v)))
    return run.finalize()


def test_lr_too_high_a_fine_tune_on_the_hf_trainer_runs_its_default_adamw() -> None:
    # lr 0.06 that blows up: with no sign of a fine-tune the optimiser may be one passed in code (a candidate,
    # test above); fine-tuning a published checkpoint runs the Trainer's default AdamW, 0.06 is far above its range
    blows = [1.9, 1.8, 40.0, 900.0, 3e4, 2e5, 1e5, 8e4, 5e4, 6e4, 4e4, 3e4, 5e4, 4e4, 3e4]
    f = fire(optimisation.detect_lr_too_high, _hf_finetune_run(blows, 0.06, {"model_name_or_path": "gpt2"}))
    assert f.strength >= 0.9 and f.step == 15
    assert any("HF Trainer's default" in e and "model_name_or_path=gpt2" in e for e in f.evidence)
    assert not any("does not name its optimiser" in e for e in f.evidence)


def test_lr_too_high_the_llamafactory_lora_at_lr_005_is_the_lr() -> None:
    # LLaMA-Factory #2810 (development corpus): the log's `llmtuner.extras.callbacks` logger names a fine-tuning stack
    # on the HF Trainer, so AdamW at 0.05 is 50x the top of a fine-tune's range, with a NaN from the first line
    run = _corpus_run("llamafactory-2810-lora-lr-0.05-loss0-gradnan")
    assert run.meta["finetune_stack"] == "LLaMA-Factory"
    f = fire(optimisation.detect_lr_too_high, run)
    assert f.strength >= 0.9 and f.step == 1
    assert any("AdamW fine-tuning a pretrained model" in e for e in f.evidence)


def test_lr_too_high_fine_tune_ranges() -> None:
    # 1e-3 is inside AdamW's from-scratch range; for the whole of a pretrained transformer it is 3x the top of the
    # fine-tuning range (Devlin et al. 2019 fine-tune BERT at 2e-5..5e-5), and a run that climbs with it is the LR's
    climbs = np.array([2.0, 1.8, 1.7, 1.9, 2.6, 4.0, 6.5, 9.0, 14.0, 20.0])
    full = fire(optimisation.detect_lr_too_high, _hf_finetune_run(climbs, 1e-3, {"_name_or_path": "bert-base-cased"}))
    assert full.strength >= 0.5 and any("AdamW fine-tuning a pretrained model" in e for e in full.evidence)
    scratch = fire(optimisation.detect_lr_too_high, _hf_finetune_run(climbs, 1e-3, {}))
    assert scratch.strength < 0.5 and scratch.numbers["lr_over_reference_high"] == 0.0
    # LoRA adapters train at 1e-4..1e-3 (Hu et al. 2021): 1e-3 is in their range
    lora = fire(optimisation.detect_lr_too_high, _hf_finetune_run(climbs, 1e-3, {"_name_or_path": "bert-base-cased",
                                                                                 "lora_r": 8}))
    assert lora.strength < 0.5 and lora.numbers["lr_over_reference_high"] == 0.0


def test_lr_too_low_fine_tune_ranges() -> None:
    # a flat loss at 2e-5: far under AdamW's from-scratch range (1e-4..3e-3), inside a full fine-tune's (Devlin et
    # al. 2019), under LoRA's (Hu et al. 2021: 1e-4..5e-4) by 5x
    flat = np.full(20, 2.0) * (1 - 0.001 * np.arange(20))
    assert fire(not_learning.detect_lr_too_low, _hf_finetune_run(flat, 2e-5, {})).strength >= 0.5
    full = not_learning.detect_lr_too_low(_hf_finetune_run(flat, 2e-5, {"model_name_or_path": "bert-base-cased"}))
    assert full == [] or full[0].strength < 0.3
    lora = fire(not_learning.detect_lr_too_low, _hf_finetune_run(flat, 2e-5, {"model_name_or_path": "llama",
                                                                              "lora_r": 8}))
    assert lora.strength >= 0.5 and any("AdamW training LoRA/PEFT adapters" in e for e in lora.evidence)


def test_lr_too_low_a_short_log_whose_loss_halves_learns() -> None:
    # ChatGLM-Tuning #89 (development corpus): four lines, the loss 6.48 -> 2.06 -> 0.63 -> 0.20 at lr 2e-5: too few
    # points for the progress measure, but a loss that falls at every point to under half is learning
    f = fire(not_learning.detect_lr_too_low, _corpus_run("chatglm-tuning-89-lora-loss-0.2-at-epoch-16"))
    assert f.strength <= 0.25 and any("fell at every logged point" in e for e in f.evidence)
    # four flat points at the same LR stay a finding
    flat = fire(not_learning.detect_lr_too_low, _hf_finetune_run([2.0, 2.01, 1.99, 2.0], 2e-6, {}))
    assert flat.strength > 0.25


def test_lr_too_low_is_no_reading_of_a_loss_never_finite() -> None:
    # Informer #193 (development corpus): "Updating learning rate to 1e-06" each epoch, every loss NaN from the first
    # epoch: the LR is read (1e-6, far under any range) but a small step does not make a loss NaN
    f = fire(not_learning.detect_lr_too_low, _corpus_run("informer-193-nan-from-epoch1"))
    assert f.strength <= 0.2 and any("never finite" in e for e in f.evidence)
    # the same LR with a flat finite loss stays a finding
    assert fire(not_learning.detect_lr_too_low, _sgd_run(1e-6, {}, np.full(20, 2.0))).strength >= 0.5


def test_lr_too_high_overshoot_in_the_first_steps() -> None:
    # LR 13.5 (45x even the wide range): the loss climbs 8x its first value at the third point, then hovers
    loss = [8.0, 20.0, 65.0, 21.0, 9.5, 20.0, 19.0, 15.0, 9.8, 15.0, 11.0, 13.0, 14.0, 16.0, 12.0]
    f = fire(optimisation.detect_lr_too_high, _hf_like_run(loss, 13.5))
    assert f.step == 15 and f.strength >= 0.9 and any("overshoot" in e for e in f.evidence)
    # a loss that starts high and falls is initialisation, not an overshoot
    falls = [8.0, 5.0, 3.0, 2.5, 2.2, 2.0, 1.9, 1.8, 1.7, 1.6, 1.5, 1.45, 1.4, 1.35, 1.3]
    assert not any("overshoot" in e for e in fire(optimisation.detect_lr_too_high, _hf_like_run(falls, 13.5)).evidence)


def test_lr_too_high_a_tenfold_rise_on_one_point_is_a_divergence() -> None:
    blowup = [1.6, 1.1, 0.8, 0.6, 0.5, 0.42, 0.36, 0.3, 0.26, 1.6e18]
    assert fire(optimisation.detect_lr_too_high, _epochs_run(blowup)).strength >= 0.5


def _ppl_run(loss: np.ndarray, ppl: np.ndarray) -> Run:
    run = Run()
    st = np.arange(1, len(loss) + 1) * 50
    run.add_series(Series("loss", st, loss, "run/train.log"))
    run.add_series(Series("ppl", st, ppl, "run/train.log"))
    return run.finalize()


def test_lr_too_high_a_per_token_loss_beyond_any_vocabulary_is_a_divergence() -> None:
    # OpenNMT prints perplexity at its cap exp(100) from the first report: 100 nats per token, worse than uniform
    # guessing over any vocabulary
    f = fire(optimisation.detect_lr_too_high, _ppl_run(np.full(6, 100.0), np.full(6, np.exp(100.0))))
    assert f.step == 50 and f.strength >= 0.5 and any("beyond ln of any vocabulary" in e for e in f.evidence)
    # a summed cost (Marian's ce-sum) is large but is not ln(perplexity): no divergence read from its level
    cost = np.linspace(120.0, 80.0, 6)
    assert optimisation.detect_lr_too_high(_ppl_run(cost, np.exp(cost / 30))) == []


def test_lr_too_high_a_stretch_beyond_any_vocabulary_is_a_divergence() -> None:
    # a word LM that climbs from ~12 to 15-17 nats per token mid-run (median ~13): three points in a row above
    # ln 1e6 = 13.8 are worse than uniform over any vocabulary
    loss = np.array([12.3, 12.0, 12.3, 12.8, 12.2, 12.9, 14.9, 15.0, 15.1, 13.2, 12.5, 12.4])
    f = fire(optimisation.detect_lr_too_high, _ppl_run(loss, np.exp(loss)))
    assert f.step == 350 and f.numbers.get("undone") and any("consecutive points" in e for e in f.evidence)
    # one batch past 13.8 between ordinary ones is no stretch
    spike = np.array([12.3, 12.0, 12.3, 12.8, 12.2, 14.9, 12.2, 12.1, 12.0, 11.9, 11.8, 11.7])
    found = optimisation.detect_lr_too_high(_ppl_run(spike, np.exp(spike)))
    assert not any("vocabulary" in e for fd in found for e in fd.evidence)


def test_lr_too_high_one_overflowed_perplexity_is_a_divergence() -> None:
    # OpenNMT-tf: one evaluation with loss 148890.7 and perplexity inf (exp overflows above 709): only exp of that
    # very loss prints inf, so the per-token reading holds from one point
    f = fire(optimisation.detect_lr_too_high, _ppl_run(np.array([148890.71875]), np.array([np.inf])))
    assert any("beyond ln of any vocabulary" in e for e in f.evidence)
    # a finite perplexity beside one large loss proves nothing from a single point
    assert optimisation.detect_lr_too_high(_ppl_run(np.array([148890.71875]), np.array([5.0]))) == []


def test_lr_too_high_an_unnamed_optimiser_at_lr_20_that_trains_is_a_candidate() -> None:
    # PyTorch's word_language_model: plain SGD (not named in its log) at lr 20 with clipping, the loss falling
    loss = [8.1, 6.8, 6.3, 6.1, 6.0, 5.9, 5.8, 5.7, 5.6, 5.5]
    run = Run()
    st = np.arange(1, 11) * 200
    run.add_series(Series("loss", st, np.array(loss), "run/train.log"))
    run.add_series(Series("lr", st, np.full(10, 20.0), "run/train.log"))
    f = fire(optimisation.detect_lr_too_high, run.finalize())
    assert f.strength < 0.5 and any("not named" in e for e in f.evidence)
    # the same LR under an optimiser the run names (AdamW at 20) is a cause on its own
    run2 = Run()
    run2.add_series(Series("loss", st, np.array(loss), "run/train.log"))
    run2.add_series(Series("lr", st, np.full(10, 20.0), "run/train.log"))
    run2.meta["optimizer"] = "adamw"
    assert fire(optimisation.detect_lr_too_high, run2.finalize()).strength >= 0.5


def _sgd_run(lr: float, config: dict[str, object], loss: np.ndarray) -> Run:
    """A plain loop's log with its settings on the command line: SGD, the LR and whatever batch flags are given."""
    run = Run()
    run.add_series(Series("loss", np.arange(1, loss.size + 1) * 10, loss, "run/train.log"))
    for k, v in {"optimizer": "sgd", "lr": lr, **config}.items():
        run.put_config(ConfigValue(k, v, "run/train.log", 1, "command_line", str(v)))
    return run.finalize()


def test_lr_reference_scales_linearly_with_the_sgd_batch() -> None:
    # SGD at 0.1 on one GPU with 2 images: the reference 0.05 at 128 is 0.00078 there, the ceiling 0.5 / 8
    blows = np.array([2.0, 1.8, 1.7, 1.9, 2.6, 4.0, 6.5, 9.0, 14.0, 20.0])
    f = fire(optimisation.detect_lr_too_high, _sgd_run(0.1, {"samples_per_gpu": 2}, blows))
    assert f.strength >= 0.5 and f.step is not None
    assert any("at batch 2 (samples_per_gpu=2" in e and "scaled linearly" in e for e in f.evidence)
    # the same LR and divergence at 8 GPUs x 2 images: the LR is in its range, lr_too_high stays a candidate
    g = fire(optimisation.detect_lr_too_high, _sgd_run(0.1, {"samples_per_gpu": 2, "num_gpus": 8}, blows))
    assert g.strength < 0.5 and not g.fix_sites
    # and with no batch stated, 0.1 is inside SGD's unscaled range
    assert fire(optimisation.detect_lr_too_high, _sgd_run(0.1, {}, blows)).strength < 0.5
    # a run that trains without instability at batch 2: the lowered ceiling is contradicted, the LR alone weighs
    # what it weighs against the batch-free range (a risk below 0.35)
    falls = 2.0 * np.exp(-np.arange(10) / 4) + 0.2
    quiet = fire(optimisation.detect_lr_too_high, _sgd_run(1.0, {"samples_per_gpu": 2}, falls))
    assert quiet.strength == fire(optimisation.detect_lr_too_high, _sgd_run(1.0, {}, falls)).strength <= 0.35


def test_lr_above_only_the_batch_lowered_ceiling_with_clipping_off_is_a_candidate() -> None:
    # SGD at 0.5 with 16 samples diverging: above the ceiling lowered for the batch (0.5 x sqrt(16/128) = 0.18)
    # but inside SGD's batch-free range; clipping stated off makes the missing clipping the located cause
    blows = np.array([2.0, 1.8, 1.7, 1.9, 2.6, 4.0, 6.5, 9.0, 14.0, 20.0])
    off = fire(optimisation.detect_lr_too_high, _sgd_run(0.5, {"batch_size": 16, "max_grad_norm": 0.0}, blows))
    assert off.strength <= 0.45
    assert any("gradient clipping is off" in e for e in off.evidence)
    # the same run with no word on clipping: the scaled ceiling decides, the LR is the cause
    assert fire(optimisation.detect_lr_too_high, _sgd_run(0.5, {"batch_size": 16}, blows)).strength >= 0.5
    # clipping off does not excuse an LR above even the batch-free range (2.0 > 0.5 x 1.25)
    far = fire(optimisation.detect_lr_too_high, _sgd_run(2.0, {"batch_size": 16, "max_grad_norm": 0.0}, blows))
    assert far.strength >= 0.5


def test_lr_reference_scales_by_the_square_root_of_the_adam_batch() -> None:
    falls = 2.0 * np.exp(-np.arange(10) / 4) + 0.2
    run = _sgd_run(8e-3, {"optimizer": "adamw", "batch_size": 64, "gradient_accumulation_steps": 8}, falls)
    # 512 samples per update: the ceiling 3e-3 at batch 32 becomes 1.2e-2, so 8e-3 is inside it
    assert optimisation.detect_lr_too_high(run) == []
    f = fire(optimisation.detect_lr_too_high, _sgd_run(8e-3, {"optimizer": "adamw"}, falls))  # batch unknown
    assert f.strength < 0.5  # above the unscaled ceiling, a risk only: the run trains


def test_lr_floor_falls_with_a_small_batch_and_is_never_raised() -> None:
    flat = np.full(10, 2.0) * (1 - 0.001 * np.arange(10))
    # SGD at 1e-4 with batch 8: the floor 1e-3 at batch 128 falls to 6.25e-5, so 1e-4 is not far below it
    assert not_learning.detect_lr_too_low(_sgd_run(1e-4, {"batch_size": 8}, flat)) == [] or \
        fire(not_learning.detect_lr_too_low, _sgd_run(1e-4, {"batch_size": 8}, flat)).strength < 0.3
    assert fire(not_learning.detect_lr_too_low, _sgd_run(1e-4, {}, flat)).strength >= 0.5
    # a very large batch does not raise the floor: 3e-4 at 4096 samples is judged against the unscaled 1e-3 floor
    big = fire(not_learning.detect_lr_too_low, _sgd_run(3e-4, {"global_batch_size": 4096}, flat))
    unknown = fire(not_learning.detect_lr_too_low, _sgd_run(3e-4, {}, flat))
    assert big.strength == unknown.strength


def _corpus_run(name: str, config: dict[str, object] | None = None) -> Run:
    from pathlib import Path

    from traindoc.ingest.loader import load_run

    run = load_run([Path(__file__).parent / "corpus" / "realworld" / name / "run"])
    for k, v in (config or {}).items():
        run.put_config(ConfigValue(k, v, "run/train.log", 1, "log_line", str(v)))
    return run


def test_lr_too_high_is_listed_for_a_nan_nothing_explains() -> None:
    # PaddleSlim: loss 2.3 at iteration 0, NaN from iteration 10 on, no LR, optimiser or precision in the log
    f = fire(optimisation.detect_lr_too_high, _corpus_run("paddleslim-1582-loss-nan-after-iter0"))
    # an early NaN with nothing stated: the LR is the first reading, listed above fp16 and the op (0.25 each) but
    # not a confident one from the log alone (evidence/nan_prior.py)
    assert 0.45 <= f.strength <= 0.55 and f.step == 10
    assert any("commonest reading of an unexplained NaN" in e for e in f.evidence)
    # float16 stated: overflow comes first, the LR stays listed lower
    half = _corpus_run("paddleslim-1582-loss-nan-after-iter0", {"precision": "16-mixed"})
    assert fire(optimisation.detect_lr_too_high, half).strength <= 0.3


def _steps_run(points: list[tuple[int, str]]) -> Run:
    run = Run()
    steps = np.array([p[0] for p in points], dtype=float)
    vals = np.array([float(p[1]) for p in points])
    run.add_series(Series("loss", steps, vals, "run/train.log"))
    return run


def test_nan_one_update_after_a_finite_loss_is_not_the_lr() -> None:
    """Fires: finite at step 0, NaN from step 1 on (litgpt's 16-true run): one update cannot leave fp32's range at
    any LR, so the LR is not the first reading; fp16 and the op stay listed."""
    from traindoc.evidence.nan_prior import after_one_update, lr_first

    run = _steps_run([(0, "2.31")] + [(s, "nan") for s in range(1, 12)])
    assert after_one_update(run) is not None and not lr_first(run)
    assert optimisation.detect_lr_too_high(run) == []
    g = fire(numerics.detect_fp16_overflow, run)
    assert g.strength < 0.5 and any("one update later" in e for e in g.evidence)
    # the unexplained-NaN summary names fp16 and the op, not the LR
    from traindoc.diagnosis import unexplained_nan

    op = fire(numerics.detect_nan_inf, run)
    assert op.numbers["one_update"] and "lr_too_high" not in unexplained_nan.candidates(op)


def test_nan_several_updates_after_a_finite_loss_keeps_the_lr_first() -> None:
    """Silent: four updates between the finite loss and the NaN (a log every 5 steps), or two finite losses before
    it: the LR stays the first reading of an unexplained early NaN."""
    from traindoc.evidence.nan_prior import after_one_update, lr_first

    for points in ([(1, "2.31")] + [(s, "nan") for s in range(5, 60, 5)],
                   [(0, "2.31"), (1, "2.29")] + [(s, "nan") for s in range(2, 12)]):
        run = _steps_run(points)
        assert after_one_update(run) is None and lr_first(run)
    # steps that count epochs (Keras: one finite epoch, then NaN): a whole epoch of updates between them
    epochs = _steps_run([(1, "0.62")] + [(s, "nan") for s in range(2, 8)])
    epochs.epoch_starts = [(s, s) for s in range(1, 8)]
    assert after_one_update(epochs) is None


def test_lr_too_high_not_listed_for_a_nan_an_lr_in_range_or_full_precision_rules_out() -> None:
    for config in ({"optimizer": "adamw", "lr": 3e-4}, {"precision": "bf16-mixed"}):
        run = _corpus_run("paddleslim-1582-loss-nan-after-iter0", config)
        assert optimisation.detect_lr_too_high(run) == []


def test_lr_too_low_fires() -> None:
    a = healthy_arrays()
    a["loss"] = 4.0 * np.exp(0.01 * np.random.default_rng(1).standard_normal(N))
    f = fire(not_learning.detect_lr_too_low, make_run(a, {"optim.muon_lr": (5e-6, "5e-6"),
                                                           "optim.adam_lr": (3e-6, "3e-6")}))
    assert f.strength >= 0.6
    assert f.fix_sites[0]["after"] == "5e-3"


def test_lr_too_low_needs_the_logged_peak_and_a_loss_left_to_learn() -> None:
    def hf(lr: list[float], loss: list[float]) -> Run:
        run = Run()
        st = np.arange(1, len(lr) + 1) * 10
        run.add_series(Series("lr", st, np.array(lr), "run/trainer_state.json"))
        run.add_series(Series("loss", st, np.array(loss), "run/trainer_state.json"))
        run.sources.append(Source("run/trainer_state.json", "hf_trainer_state"))
        return run.finalize()

    flat = [2.3, 2.3, 2.29, 2.3, 2.3, 2.29]
    # a constant logged LR 1e-7 with a flat loss, or a warmup that reached its plateau: the LR is what the run used
    assert fire(not_learning.detect_lr_too_low, hf([1e-7] * 6, flat)).strength >= 0.5
    assert fire(not_learning.detect_lr_too_low, hf([1e-8, 5e-8, 1e-7, 1e-7, 1e-7, 1e-7], flat)).strength >= 0.5
    # one logged point 3 steps into a warmup, or a warmup still climbing at the end: the peak is not in the log
    for lr, loss in (([3.3e-7], [2.3]), ([1e-8, 2e-8, 3e-8, 4e-8, 5e-8, 6e-8], flat)):
        assert not any("below the reference" in e for f in not_learning.detect_lr_too_low(hf(lr, loss))
                       for e in f.evidence)
    # a loss of exactly 0 throughout: nothing to learn, no LR explains it
    assert fire(not_learning.detect_lr_too_low, hf([6.7e-6, 0.0], [0.0, 0.0])).strength <= 0.2


def test_lr_too_low_silent_when_learning() -> None:
    assert not_learning.detect_lr_too_low(make_run()) == []


def test_no_warmup_fires_at_the_early_jump() -> None:
    a = healthy_arrays()
    a["lr/muon"] = np.full(N, 5e-3)
    a["grad_norm"][5] = 60.0
    f = fire(optimisation.detect_no_warmup, make_run(a, {"optim.warmup_steps": (0, "0")}))
    assert f.step == 5 and f.strength >= 0.6


def test_no_warmup_early_jump_that_recurs_later_is_the_runs_instability() -> None:
    # warmup = 0 and the loss and grad norm jump at step 5, but they jump as high again at steps 400 and 700: the
    # whole run is unstable, which warmup would not fix; the early jump alone no longer makes no_warmup a cause
    a = healthy_arrays()
    a["lr/muon"] = np.full(N, 5e-3)
    for i in (5, 400, 700):
        a["grad_norm"][i], a["loss"][i] = 60.0, 20.0
    f = fire(optimisation.detect_no_warmup, make_run(a, {"optim.warmup_steps": (0, "0")}))
    assert f.strength < 0.5 and f.step is None and any("jumps as high later" in e for e in f.evidence)


def test_no_warmup_loss_jump_with_a_grad_norm_that_keeps_spiking_is_the_runs_instability() -> None:
    # the loss jumps once at step 5 and settles, but the grad norm jumps at 5, 400 and 700 (an RNN whose gradients
    # explode): the run is unstable beyond its first steps, so the early jump is not the warmup's
    a = healthy_arrays()
    a["lr/muon"] = np.full(N, 5e-3)
    a["loss"][5] = 20.0
    for i in (5, 400, 700):
        a["grad_norm"][i] = 60.0
    f = fire(optimisation.detect_no_warmup, make_run(a, {"optim.warmup_steps": (0, "0")}))
    assert f.strength < 0.5 and f.step is None and not any("jumped" in e for e in f.evidence)


def test_no_warmup_loss_that_settles_above_its_start_is_the_lr() -> None:
    # AdamW at lr 1 (a user-project layout): the loss leaps from 3.4 to 43 at step 3 and then settles near 7, twice
    # where it started: training at that LR undoes progress beyond the first steps, so the jump is not the warmup's
    a = _continued_run(0.03)
    a["loss"] = 7.1 * np.exp(0.03 * np.random.default_rng(1).standard_normal(N))
    a["loss"][0], a["loss"][3] = 3.4, 43.0
    f = fire(optimisation.detect_no_warmup, make_run(a, {"optim.warmup_steps": (0, "0")}))
    assert f.strength < 0.5 and f.step is None and any("settles at" in e for e in f.evidence)


def test_no_warmup_early_jump_with_one_later_blip_still_counts() -> None:
    # one later point at 0.6x the early jump is one batch, not the run's instability: the jump still counts (a
    # trained model continued without warmup, docs/plan-apply-verify.md: a 2.4x-median blip at step 26)
    a = healthy_arrays()
    a["lr/muon"] = np.full(N, 5e-3)
    a["grad_norm"][5], a["grad_norm"][400] = 60.0, 36.0
    f = fire(optimisation.detect_no_warmup, make_run(a, {"optim.warmup_steps": (0, "0")}))
    assert f.step == 5 and not any("jumps as high later" in e for e in f.evidence)


def test_no_warmup_grad_transient_alone_is_context() -> None:
    # no warmup key in the config; the logged LR is at its peak at the first point and the grad norm has an early
    # transient: ordinary in the first steps of a healthy run, so at most context
    a = healthy_arrays()
    a["lr/muon"] = np.full(N, 5e-3)
    a["grad_norm"][5] = 60.0
    run = make_run(a)
    del run.config["optim.warmup_steps"]
    assert fire(optimisation.detect_no_warmup, run).strength < 0.5
    # the loss itself jumps in the first steps: that is the harm a missing warmup does
    a["loss"][5] = 40.0
    run = make_run(a)
    del run.config["optim.warmup_steps"]
    f = fire(optimisation.detect_no_warmup, run)
    assert f.step == 5 and f.strength >= 0.5


def test_no_warmup_small_grad_transient_with_warmup_zero_stays_a_candidate() -> None:
    # warmup = 0 stated, the grad norm 4x its later level at step 5 (it falls as the loss falls), the loss smooth
    a = healthy_arrays()
    a["lr/muon"] = np.full(N, 5e-3)
    a["grad_norm"][5] = 4 * float(np.median(a["grad_norm"][50:250]))
    f = fire(optimisation.detect_no_warmup, make_run(a, {"optim.warmup_steps": (0, "0")}))
    assert f.step == 5 and f.strength < 0.5


def _continued_run(noise: float, seed: int = 0) -> dict[str, np.ndarray]:
    # a trained model continued at full LR: the loss sits near 1.05 from the first step, the grad norm near 1
    rng = np.random.default_rng(seed)
    loss = 1.05 * np.exp(noise * rng.standard_normal(N))
    grad = np.exp(0.15 * rng.standard_normal(N))
    return {"loss": loss, "grad_norm": grad, "lr": np.full(N, 1e-2)}


def test_no_warmup_loss_doubling_outside_the_noise_is_a_jump() -> None:
    # warmup = 0 stated; the loss doubles at step 2 (1.05 -> 2.3, as a trained model continued at AdamW 1e-2
    # without warmup does, docs/plan-apply-verify.md) and settles back: under the grad norm's 3x, but 2.2x a loss
    # whose batch-to-batch noise is 3 %: the harm a missing warmup does, so above the reporting line
    a = _continued_run(0.03)
    a["loss"][2] = 2.3
    f = fire(optimisation.detect_no_warmup, make_run(a, {"optim.warmup_steps": (0, "0")}))
    assert f.step == 2 and f.strength >= 0.6 and any("loss jumped" in e for e in f.evidence)


def test_no_warmup_loss_doubling_inside_the_noise_is_no_jump() -> None:
    # the same single 2.2x point in a per-step loss that wanders by 25 % batch to batch: later batches reach half
    # its height above the settled level again and again, so it is one noisy batch, not a jump
    a = _continued_run(0.25)
    a["loss"][0] = 1.05
    a["loss"][2] = 2.3 * float(np.median(a["loss"][50:250]))
    f = fire(optimisation.detect_no_warmup, make_run(a, {"optim.warmup_steps": (0, "0")}))
    assert f.strength < 0.5 and not any("loss jumped" in e for e in f.evidence)
    assert any("loss jumps as high later" in e for e in f.evidence)


def test_no_warmup_silent_with_warmup() -> None:
    a = healthy_arrays()
    a["grad_norm"][5] = 60.0
    assert optimisation.detect_no_warmup(make_run(a)) == []


def test_scheduler_misuse_fires_on_constant_logged_lr() -> None:
    a = healthy_arrays()
    a["lr/muon"] = np.full(N, 5e-3)
    f = fire(not_learning.detect_scheduler_misuse, make_run(a))
    assert f.step == 0 and f.strength >= 0.8


def test_scheduler_misuse_silent_when_lr_follows_schedule() -> None:
    assert not_learning.detect_scheduler_misuse(make_run()) == []


def _two_lines(grad: list[float], loss: list[float]) -> Run:
    """Two mmengine log lines 50 iterations apart (an excerpt pasted into an issue)."""
    run = Run()
    run.add_series(Series("grad_norm", np.array([838, 888]), np.array(grad), "run/train.log"))
    run.add_series(Series("loss", np.array([838, 888]), np.array(loss), "run/train.log"))
    return run.finalize()


def test_grad_explosion_a_thousandfold_jump_between_two_lines() -> None:
    f = fire(optimisation.detect_grad_explosion, _two_lines([3.4572, 31101415.5974], [1.5043, 63.1261]))
    assert f.step == 888 and f.strength >= 0.6 and any("loss jumped with it" in e for e in f.evidence)


def test_grad_explosion_silent_on_a_spike_two_lines_cannot_call_an_explosion() -> None:
    # a 50x spike: large, but within what healthy runs show (PaLM's recovered spikes)
    assert optimisation.detect_grad_explosion(_two_lines([3.4572, 172.86], [1.5043, 1.62])) == []


def test_grad_explosion_fires_without_clipping() -> None:
    a = healthy_arrays()
    a["grad_norm"][500:] *= np.exp(np.arange(N - 500) / 50)
    f = fire(optimisation.detect_grad_explosion, make_run(a, {"optim.grad_clip": (0.0, "0")}))
    expected = int(np.argmax(a["grad_norm"] > 10 * np.median(a["grad_norm"][:100])))
    assert 500 < expected < N and f.step == expected and f.strength >= 0.7
    assert any("clipping is off" in e for e in f.evidence)


def test_grad_explosion_silent_on_bounded_norm() -> None:
    a = healthy_arrays()
    a["grad_norm"][500:] *= 5
    # clipping off without an explosion is only a weak risk-factor finding
    found = optimisation.detect_grad_explosion(make_run(a, {"optim.grad_clip": (0.0, "0")}))
    assert len(found) == 1 and found[0].strength < 0.5 and found[0].numbers["risk_only"]
    assert optimisation.detect_grad_explosion(make_run(a)) == []


def test_grad_explosion_a_large_first_grad_norm_is_not_growth() -> None:
    # the network's gradient at initialisation is its largest; the run then trains at a steady norm: no growth
    rng = np.random.default_rng(0)
    grad = np.concatenate([[3000.0], 5.0 * np.exp(0.2 * rng.standard_normal(40))])
    loss = np.concatenate([[2.0], np.linspace(1.0, 0.3, 40)])
    assert optimisation.detect_grad_explosion(_sparse_run(grad, loss)) == []


def test_grad_explosion_after_a_large_first_grad_norm_names_the_later_burst() -> None:
    # a 600x gradient at initialisation and a 16x burst later at log point 20 (step 101): the finding is the burst
    rng = np.random.default_rng(1)
    grad = np.concatenate([[3000.0], 5.0 * np.exp(0.1 * rng.standard_normal(40))])
    grad[20:23] = [60.0, 80.0, 30.0]
    loss = np.concatenate([[2.0], np.linspace(1.0, 0.3, 40)])
    f = fire(optimisation.detect_grad_explosion, _sparse_run(grad, loss))
    assert f.step == 101 and f.numbers["growth"] > 10 and f.strength <= 0.45
    assert any("at initialisation, not growth" in e for e in f.evidence)


def test_grad_explosion_reallib_rnn_names_the_burst_not_the_first_step() -> None:
    # plain_pytorch-grad_explosion-s0 (development corpus): grad norm 3724 at step 1, ~5 at steps 5-20, then a burst
    # to 118 at step 45 (crossing 10x its level at step 40) while the loss climbs 0.43 -> 132
    from pathlib import Path

    from traindoc.ingest.loader import load_run

    run = load_run([Path(__file__).parent / "corpus" / "reallib" / "plain_pytorch-grad_explosion-s0" / "run"])
    f = fire(optimisation.detect_grad_explosion, run)
    assert f.step == 40 and "118 at step 45" in f.evidence[0]


def _burst_run(loss_at_burst: float, lr: float) -> Run:
    """SGD at `lr` (its range tops out at 0.5), a 600x gradient at initialisation, a 16x burst at log points 20-22
    (steps 101-111), the loss ~1 before it and `loss_at_burst` during it, then both settle back."""
    rng = np.random.default_rng(1)
    grad = np.concatenate([[3000.0], 5.0 * np.exp(0.1 * rng.standard_normal(40))])
    grad[20:23] = [60.0, 80.0, 30.0]
    loss = np.concatenate([[2.0], np.linspace(1.0, 0.3, 40)])
    loss[20:23] = [loss_at_burst, 1.5 * loss_at_burst, 0.5 * loss_at_burst]
    run = _sparse_run(grad, loss, lr)
    run.put_config(ConfigValue("optimizer", "sgd", "run/train.log", 1, "command_line", "sgd"))
    run.put_config(ConfigValue("lr", lr, "run/train.log", 1, "command_line", str(lr)))
    return run.finalize()


def test_grad_explosion_a_second_departure_with_the_loss_at_an_in_range_lr_is_not_capped_as_a_spike() -> None:
    # the network leaves its range twice (600x at initialisation, a 16x burst) and the loss jumps 20x+ with the burst
    # at an SGD LR inside its range: not an overshoot or one bad batch, the cliff of exploding gradients
    f = fire(optimisation.detect_grad_explosion, _burst_run(20.0, 0.05))
    assert f.step == 101 and f.strength >= 0.5 and any("left its range twice" in e for e in f.evidence)
    assert not any("a spike more than an explosion" in e for e in f.evidence)


def test_grad_explosion_a_second_departure_stays_a_spike_when_the_loss_holds_or_the_lr_is_too_high() -> None:
    # the loss barely moves with the burst (1.5x): a harmless spike
    f = fire(optimisation.detect_grad_explosion, _burst_run(1.5, 0.05))
    assert f.strength <= 0.45 and any("a spike more than an explosion" in e for e in f.evidence)
    # the same burst with the loss at 20x, but SGD at 2.0 (4x the top of its range): an LR overshoot reads the same
    f = fire(optimisation.detect_grad_explosion, _burst_run(20.0, 2.0))
    assert f.strength <= 0.45 and not any("left its range twice" in e for e in f.evidence)


def _sparse_run(grad: np.ndarray, loss: np.ndarray, lr: float = 0.07) -> Run:
    """A run logged every 5 steps (the sparse logging of most real loops), LR constant, no config."""
    run = Run()
    st = np.arange(len(grad)) * 5 + 1
    run.add_series(Series("grad_norm", st, grad, "run/metrics.jsonl"))
    run.add_series(Series("loss", st, loss, "run/metrics.jsonl"))
    run.add_series(Series("lr", st, np.full(len(grad), lr), "run/metrics.jsonl"))
    run.finalize()
    return run


def test_grad_explosion_fires_on_compounding_growth_before_a_nan() -> None:
    # a tanh RNN whose recurrence amplifies: the grad norm multiplies log point after log point, then NaN
    grad = np.array([3.0, 2.5, 2.8, 3.1, 40.0, 900.0, 3e4, 8e5, 2e7, 6e8, np.nan, np.nan, np.nan])
    loss = np.array([0.9, 0.8, 0.85, 0.8, 2.0, 30.0, 700.0, 1e4, 3e5, 8e6, np.nan, np.nan, np.nan])
    f = fire(optimisation.detect_grad_explosion, _sparse_run(grad, loss))
    assert f.step == 16 and f.strength >= 0.6 and any("compounds" in e for e in f.evidence)


def test_grad_explosion_silent_on_linear_growth_and_one_jump() -> None:
    # accumulated gradients grow linearly (n, n+1, ...): ratios shrink towards 1, no compounding
    lin = 1.0 + np.arange(12, dtype=float)
    assert optimisation.detect_grad_explosion(_sparse_run(lin, np.full(12, 1.0))) == []
    # an LR overshoot: one jump, then it settles back: a spike, at most a weak candidate
    jump = np.array([1.0, 1.2, 900.0, 40.0, 5.0, 2.0, 1.5, 1.2, 1.1, 1.0, 1.0, 0.9])
    f = fire(optimisation.detect_grad_explosion, _sparse_run(jump, np.full(12, 1.0)))
    assert f.strength < 0.5 and not any("compounds" in e for e in f.evidence)


def test_grad_explosion_from_a_compounding_loss_when_no_grad_norm_is_logged() -> None:
    loss = [0.9, 0.8, 0.85, 60.0, 3e6, 1e12, 5e17, 2e23, 9e28, np.nan, np.nan, np.nan]
    f = fire(optimisation.detect_grad_explosion, _epochs_run(loss))
    assert f.step == 3 and 0.5 <= f.strength < 0.65 and f.numbers["loss_only"]
    # a loss that jumps once and comes back is no compounding
    assert optimisation.detect_grad_explosion(_epochs_run([0.9, 0.8, 60.0, 5.0, 2.0, 1.0, 0.9, 0.8, 0.7, 0.6])) == []


def test_grad_explosion_chaotic_norm_with_a_compounding_loss() -> None:
    # the grad norm jumps two orders of magnitude and then thrashes around 1e3 (no clean compounding), while the
    # loss compounds at every point: the same explosion, read through the loss
    grad = np.array([20.0, 3.4, 4.0, 46.0, 990.0, 1240.0, 500.0, 3000.0, 930.0, 4900.0, 1960.0, 840.0, 2100.0])
    loss = np.array([0.8, 0.7, 0.75, 7.9, 707.0, 7650.0, 1.9e4, 1.8e5, 1e5, 1.2e5, 1e5, 4e4, 6e4])
    f = fire(optimisation.detect_grad_explosion, _sparse_run(grad, loss))
    assert f.strength >= 0.6 and any("loss grew at every one" in e for e in f.evidence)
    # the same grad norm with a loss that does not compound: no loss evidence added
    calm = np.array([0.8, 0.7, 0.75, 0.9, 1.2, 1.1, 1.0, 0.95, 0.9, 0.92, 0.9, 0.85, 0.8])
    g = fire(optimisation.detect_grad_explosion, _sparse_run(grad, calm))
    assert not any("loss grew at every one" in e for e in g.evidence)


def test_nan_with_the_lr_above_its_range_is_the_lr_even_from_the_start() -> None:
    # an LR 60x the top of even the wide unknown-optimiser range, NaN from the first logged point
    run = _sparse_run(np.full(12, np.nan), np.full(12, np.nan), lr=20.0)
    f = fire(optimisation.detect_lr_too_high, run)
    assert f.step == 1 and f.strength >= 0.9 and any("non-finite" in e for e in f.evidence)
    assert fire(numerics.detect_nan_inf, run).strength < 0.3


def test_nan_after_a_climbing_loss_with_no_lr_reference_is_confident() -> None:
    loss = np.array([2.0, 1.5, 1.2, 1.0, 0.95, 1.1, 1.4, 1.9, np.nan, np.nan, np.nan, np.nan])
    grad = np.array([1.0, 0.9, 0.8, 0.8, 0.9, 1.0, 1.1, 1.2, np.nan, np.nan, np.nan, np.nan])
    f = fire(optimisation.detect_lr_too_high, _sparse_run(grad, loss, lr=6e-4))
    assert f.step == 41 and f.strength >= 0.7 and any("first suspect" in e for e in f.evidence)
    # the same NaN at once, after a falling loss: no lead to the LR, no confident lr_too_high
    loss2 = np.array([2.0, 1.5, 1.2, 1.0, 0.95, 0.9, 0.88, 0.85, np.nan, np.nan, np.nan, np.nan])
    found = optimisation.detect_lr_too_high(_sparse_run(grad, loss2, lr=6e-4))
    assert not found or found[0].strength < 0.5


def _excerpt_run(loss: list[float], start: int = 1012) -> Run:
    """A pasted excerpt: the loss only, one point per iteration, no grad norm, no config (a Darknet console)."""
    run = Run()
    st = np.arange(len(loss)) + start
    run.add_series(Series("loss", st, np.array(loss), "run/train.log"))
    run.finalize()
    return run


def test_nan_after_two_points_three_orders_apart_is_a_blow_up() -> None:
    # darknet-866-avg-loss-explodes-to-nan: 1.1e11 -> 6.6e21 -> nan; the climb is a lead to the LR at step 1014
    ctx = context.nan_context(_excerpt_run([1.1e11, 6.6e21, np.nan]))
    assert ctx is not None and ctx.step == 1014 and ctx.loss_rising and ctx.lr_lead


def test_nan_after_two_points_within_noise_has_no_lead() -> None:
    # two finite points 5x apart say nothing (a new epoch's first batch, a curriculum step): no lead from them
    ctx = context.nan_context(_excerpt_run([2.0, 10.0, np.nan]))
    assert ctx is not None and ctx.loss_rising is None and not ctx.lr_lead


def test_vanishing_gradients_fires() -> None:
    a = healthy_arrays()
    a["grad_norm"] *= 1e-6
    a["loss"] = np.full(N, 4.0)
    f = fire(not_learning.detect_vanishing_gradients, make_run(a))
    assert f.step == 0 and f.strength >= 0.7


def test_vanishing_gradients_silent_on_small_but_healthy_norm() -> None:
    a = healthy_arrays()
    a["grad_norm"] *= 1e-2
    assert not_learning.detect_vanishing_gradients(make_run(a)) == []


def test_optimizer_misconfig_fires_on_grokfast_lambda() -> None:
    f = fire(optimisation.detect_optimizer_misconfig, make_run(config={"optim.grokfast_lambda": (20.0, "20.0")}))
    assert "grokfast_lambda=20.0" in f.evidence[0]


def test_optimizer_misconfig_silent_on_reference_settings() -> None:
    assert optimisation.detect_optimizer_misconfig(make_run()) == []


def test_zero_grad_missing_fires_on_linear_growth() -> None:
    a = healthy_arrays()
    a["grad_norm"] = 1.0 + 0.05 * T * np.exp(0.02 * np.random.default_rng(2).standard_normal(N))
    f = fire(optimisation.detect_zero_grad_missing, make_run(a))
    assert f.step == 100  # the fit starts after the first 10 % of points
    assert f.numbers["linear_r2"] > 0.9


def test_zero_grad_missing_silent_on_geometric_or_flat() -> None:
    assert optimisation.detect_zero_grad_missing(make_run()) == []


def test_zero_grad_sawtooth_fires_at_the_first_ramp() -> None:
    a = healthy_arrays()
    phase = (T % 100) / 100
    a["grad_norm"] = 1.0 + 6 * phase + 0.05 * np.random.default_rng(4).standard_normal(N)
    f = fire(optimisation.detect_zero_grad_sawtooth, make_run(a))
    assert f.step == 0 and f.numbers["ramps"] >= 9


def test_zero_grad_sawtooth_silent_on_noisy_level_norm() -> None:
    a = healthy_arrays()
    a["grad_norm"] = 2.0 * np.exp(0.4 * np.random.default_rng(6).standard_normal(N))
    assert optimisation.detect_zero_grad_sawtooth(make_run(a)) == []
    assert optimisation.detect_zero_grad_sawtooth(make_run()) == []


def test_zero_grad_sawtooth_silent_on_heavy_tailed_noise_that_draws_ramps_by_chance() -> None:
    # one parameter's gradient (a bias) is pure heavy-tailed noise: 40 draws of it hold 6 doubling runs covering
    # 24 points, as many as the sawtooth asks for, but shuffled draws hold as many: the order says nothing
    v = np.exp(1.2 * np.random.default_rng(7).standard_normal(40))
    ramps = optimisation._ramps(v)
    assert len(ramps) >= 3 and sum(b - a for a, b in ramps) >= 20
    a = {"loss": healthy_arrays()["loss"][:40], "grad_norm": v}
    assert optimisation.detect_zero_grad_sawtooth(make_run(a)) == []


def test_grad_accum_bug_fires_when_train_loss_is_k_times_eval() -> None:
    a = healthy_arrays()
    ev = a["loss"].copy()
    a["loss"] = a["loss"] * 4
    f = fire(optimisation.detect_grad_accum_bug,
             make_run(a, {"train.gradient_accumulation_steps": (4, "4")}, eval_loss=ev))
    assert f.numbers["accumulation"] == 4


def test_grad_accum_bug_silent_when_losses_agree() -> None:
    a = healthy_arrays()
    run = make_run(a, {"train.gradient_accumulation_steps": (4, "4")}, eval_loss=a["loss"] * 1.05)
    assert optimisation.detect_grad_accum_bug(run) == []


def test_frozen_params_fires() -> None:
    run = make_run(config={"train.freeze_backbone": (True, "true")},
                   params=ParamCounts(1_000_000, 100_000, 0, 890_000, trainable=20_000, source="ckpt"))
    f = fire(not_learning.detect_frozen_params, run)
    assert f.strength >= 0.6 and f.fix_sites[0]["after"] == "false"


def test_frozen_params_silent_when_all_train() -> None:
    run = make_run(params=ParamCounts(1_000_000, 100_000, 0, 890_000, trainable=1_000_000))
    assert not_learning.detect_frozen_params(run) == []


def test_dead_units_fires_at_the_collapse() -> None:
    a = healthy_arrays()
    a["grad_norm"][300:] = 1e-7
    a["loss"][300:] = a["loss"][300]
    f = fire(not_learning.detect_dead_units, make_run(a))
    assert f.step == 300


def test_loss_at_chance_fires_where_the_loss_pins_to_ln_k() -> None:
    a = healthy_arrays()
    a["loss"][:300] = np.log(10) * np.exp(0.05 * np.random.default_rng(1).standard_normal(300))
    a["loss"][300:] = round(np.log(10), 4)  # a ten-class classifier printing 2.3026 from step 300 on
    f = fire(not_learning.detect_loss_at_chance, make_run(a))
    assert f.step == 300 and f.numbers["chance_classes"] == 10
    # nothing here tells dead units from frozen or vanishing: listed, below 0.5, and the evidence says so
    assert 0.3 <= f.strength < 0.5 and f.numbers["ambiguous"]
    assert any("frozen_params" in e and "vanishing_gradients" in e for e in f.evidence)
    # a 1000-class count read from the config (beyond what the loss alone can tell)
    a["loss"][300:] = round(np.log(1000), 4)
    f = fire(not_learning.detect_loss_at_chance, make_run(a, {"model.num_classes": (1000, "1000")}))
    assert f.numbers["chance_classes"] == 1000


def test_loss_at_chance_silent_on_plateaus_that_are_not_chance() -> None:
    assert not_learning.detect_loss_at_chance(make_run()) == []
    a = healthy_arrays()
    a["loss"][300:] = 0.8  # flat, but not ln of any class count
    assert not_learning.detect_loss_at_chance(make_run(a)) == []
    a["loss"][300:] = np.log(2) * np.exp(0.03 * np.random.default_rng(2).standard_normal(N - 300))
    assert not_learning.detect_loss_at_chance(make_run(a)) == []  # near ln 2 but still moving: learning


def test_dead_units_silent_on_decaying_norm() -> None:
    assert not_learning.detect_dead_units(make_run()) == []


# --------------------------------------------------------------------------------------------------- numerics


def test_nan_inf_fires_at_first_nan() -> None:
    a = healthy_arrays()
    a["loss"][700:] = np.nan
    f = fire(numerics.detect_nan_inf, make_run(a))
    # NaN at once with nothing before it and no stated precision: an op, fp16 or a bad batch; the logs cannot tell,
    # say so, and list it (with fp16_overflow) below the report threshold
    assert f.step == 700 and 0.35 <= f.strength < 0.5
    assert any("cannot tell" in e for e in f.evidence)
    g = fire(numerics.detect_fp16_overflow, make_run(a))
    assert g.step == 700 and 0.2 <= g.strength <= f.strength


def test_nan_at_once_is_the_op_when_the_precision_rules_fp16_out() -> None:
    a = healthy_arrays()
    a["loss"][700:] = np.nan
    run = make_run(a, {"trainer.precision": ("bf16-mixed", "bf16-mixed")})
    f = fire(numerics.detect_nan_inf, run)
    assert f.step == 700 and f.strength >= 0.5 and any("overflow is ruled out" in e for e in f.evidence)
    assert numerics.detect_fp16_overflow(run) == []


def test_nan_at_once_in_an_fp16_run_is_the_overflow() -> None:
    a = healthy_arrays()
    a["loss"][700:] = np.nan
    run = make_run(a, {"training_args.fp16": (True, "true")})
    f = fire(numerics.detect_fp16_overflow, run)
    assert f.step == 700 and f.strength >= 0.6
    assert fire(numerics.detect_nan_inf, run).strength < 0.5


def test_precision_read_from_the_config() -> None:
    def half(cfg: dict[str, tuple[object, str]]) -> bool | None:
        return precision.training_precision(make_run(config=cfg)).half

    assert half({"trainer.precision": ("16-mixed", "16-mixed")}) is True
    assert half({"trainer.precision": ("bf16-mixed", "bf16-mixed")}) is False
    assert half({"accelerate.mixed_precision": ("no", "no")}) is False
    assert half({"GPTConfig.dtype": ("float16", "'float16'")}) is True
    assert half({"model.dtype_policy": ("mixed_float16", "mixed_float16")}) is True
    assert half({"args.amp": (True, "true"), "args.amp_dtype": ("bfloat16", "bfloat16")}) is False
    # HF writes fp16_opt_level "O1" whether or not fp16 is on: the explicit fp16 flag decides
    assert half({"args.fp16": (False, "false"), "args.fp16_opt_level": ("O1", "O1")}) is False
    assert half({"amp.fp16_opt_level": ("O2", "O2")}) is True
    assert half({"args.fp16": (True, "true"), "args.bf16": (False, "false")}) is True
    assert half({}) is None


def test_a_configured_loss_scale_shows_float16() -> None:
    """Fires: a static loss scale above 1, or mmengine's 'dynamic', is set only for float16 training; a NaN that
    stays in such a run is the overflow."""
    def half(cfg: dict[str, tuple[object, str]]) -> bool | None:
        return precision.training_precision(make_run(config=cfg)).half

    assert half({"amp.loss_scale": (128.0, "128.0")}) is True
    assert half({"fp16.loss_scale": (512.0, "512.")}) is True
    assert half({"optim_wrapper.loss_scale": ("dynamic", "'dynamic'")}) is True
    a = healthy_arrays()
    a["loss"][700:] = np.nan
    run = make_run(a, {"args.static_loss_scale": (65536.0, "65536")})
    f = fire(numerics.detect_fp16_overflow, run)
    assert f.step == 700 and f.strength >= 0.6 and any("loss scale is set only" in e for e in f.evidence)


def test_a_loss_scale_of_one_or_unset_shows_nothing() -> None:
    """Silent: no scaling (1.0), a dump's default None, DeepSpeed's 0, and a stated bf16 that outranks a scale."""
    def half(cfg: dict[str, tuple[object, str]]) -> bool | None:
        return precision.training_precision(make_run(config=cfg)).half

    assert half({"args.loss_scale": (1.0, "1.0")}) is None
    assert half({"args.loss_scale": (None, "None")}) is None
    assert half({"fp16.loss_scale": (0, "0")}) is None
    assert half({"args.bf16": (True, "true"), "args.loss_scale": (128.0, "128")}) is False


def test_nan_inf_named_by_autograd_anomaly_is_confident() -> None:
    a = healthy_arrays()
    a["loss"][700:] = np.nan
    ev = [LogEvent("error", "Function 'LogBackward0' returned nan values in its 0th output.", 700, "anomaly_nan",
                   "train.log", 33)]
    f = fire(numerics.detect_nan_inf, make_run(a, events=ev))
    assert f.step == 700 and f.strength >= 0.7 and any("LogBackward0" in e for e in f.evidence)


def test_fp16_grad_values_show_half_precision() -> None:
    a = healthy_arrays()
    # exact float16 numbers printed at full precision (11-bit significands), as a .half() model's grad norms are
    a["grad_norm"] = np.float16(a["grad_norm"]).astype(np.float64)
    p = precision.training_precision(make_run(a))
    assert p.half is True and "float16" in p.evidence
    # the same values rounded through fp32 arithmetic are not float16; bfloat16 values (8-bit significands) are
    # exact float16 numbers too, but say nothing about fp16's range
    assert precision.training_precision(make_run()).half is None
    b = healthy_arrays()
    m, e = np.frexp(b["grad_norm"])
    b["grad_norm"] = np.ldexp(np.round(m * 256) / 256, e)
    assert precision.training_precision(make_run(b)).half is None


def test_fp16_grad_values_outrank_a_stated_full_precision() -> None:
    """Fires: float16 grad norms in a run whose trainer states fp32 ("no", "32-true"): the model was cast by hand,
    which the setting does not describe. Silent: fp32 grad norms keep the stated precision."""
    a = healthy_arrays()
    a["grad_norm"] = np.float16(a["grad_norm"]).astype(np.float64)
    for cfg in ({"accelerate.mixed_precision": ("no", "no")}, {"trainer.precision": ("32-true", "32-true")}):
        p = precision.training_precision(make_run(a, cfg))
        assert p.half is True and "by hand" in p.evidence
        assert precision.training_precision(make_run(config=cfg)).half is False


def test_fp16_grad_value_printed_to_six_digits_shows_half_precision() -> None:
    """A .half() run that NaNs after its first step leaves one grad norm, printed with 6 digits by a CSV logger:
    0.414307 is float16 1697 x 2^-12 = 0.4143066... rounded (a float32 lands that close by chance 0.4 %)."""
    a = healthy_arrays()
    a["grad_norm"][:] = np.nan
    a["grad_norm"][0] = float(f"{float(np.float16(0.4143)):.6g}")
    assert a["grad_norm"][0] == 0.414307
    assert precision.training_precision(make_run(a)).half is True
    a["grad_norm"][0] = 0.414377  # 6 digits, 0.29 float16 spacings from the nearest float16: not one
    assert precision.training_precision(make_run(a)).half is None
    a["grad_norm"][0] = 0.4143  # 4 digits say nothing
    assert precision.training_precision(make_run(a)).half is None


def test_nan_inf_hf_filter_loss_zero_with_nan_grad() -> None:
    a = healthy_arrays()
    a["loss"][700:] = 0.0
    a["grad_norm"][700:] = np.nan
    f = fire(numerics.detect_nan_inf, make_run(a))
    assert f.step == 700 and any("NaN filter" in e for e in f.evidence)


def test_nan_inf_silent_on_finite_run() -> None:
    assert numerics.detect_nan_inf(make_run()) == []


def test_nan_inf_weak_after_a_blowup() -> None:
    a = healthy_arrays()
    a["grad_norm"][690:700] = 500.0
    a["loss"][700:] = np.nan
    f = fire(numerics.detect_nan_inf, make_run(a))
    assert f.strength < 0.5 and f.numbers["preceded_by_blowup"]


def _overflow(scales: list[float], first_step: int = 40) -> list[LogEvent]:
    """DeepSpeed-style overflow lines, one a step, halving the scale each time."""
    return [LogEvent("info", f"[deepspeed] OVERFLOW! Rank 0 Skipping step. Attempted loss scale: {2 * s:g}, reducing "
                     f"to {s:g}", first_step + i, "grad_overflow", "train.log", 10 + i) for i, s in enumerate(scales)]


def test_fp16_overflow_fires_when_the_scale_reaches_its_floor() -> None:
    f = fire(numerics.detect_fp16_overflow, make_run(events=_overflow([2.0 ** -k for k in range(-3, 4)])))
    assert f.step == 40 and f.strength >= 0.8 and f.numbers["lowest_loss_scale"] == 0.125


def test_fp16_overflow_fires_when_a_logged_scale_keeps_halving_without_messages() -> None:
    # NVIDIA's DLLogger prints only "PARAMETER loss_scale : x": the scale halves at every logged point from step 600
    # down to ~1e-13, each drop an overflow of the dynamic scaler, though no overflow line is printed
    a = healthy_arrays()
    a["loss_scale"] = np.full(N, 65536.0)
    a["loss_scale"][600:] = 65536.0 * 0.5 ** np.arange(1, N - 599)
    f = fire(numerics.detect_fp16_overflow, make_run(a))
    assert f.step == 600 and f.strength >= 0.8 and f.numbers["overflow_messages"] >= 3
    # one drop to 0.5 in the logged scale, the loss finite: the scaler copes, a risk only
    b = healthy_arrays()
    b["loss_scale"] = np.where(T < 600, 1.0, 0.5)
    assert fire(numerics.detect_fp16_overflow, make_run(b)).strength < 0.5


def test_fp16_overflow_one_reduction_to_a_low_scale_is_a_risk_only() -> None:
    # fairseq lowering its scale once to 0.5 while the loss keeps falling: the scaler coping, not a failure
    f = fire(numerics.detect_fp16_overflow, make_run(events=_overflow([0.5])))
    assert f.strength < 0.5


def test_fp16_overflow_fires_when_the_scale_is_driven_low() -> None:
    f = fire(numerics.detect_fp16_overflow, make_run(events=_overflow([64, 32, 16, 8, 4])))
    assert f.step == 40 and 0.5 <= f.strength < 0.8


def test_fp16_overflow_fires_on_nan_with_overflow_messages() -> None:
    a = healthy_arrays()
    a["loss"][700:] = np.nan
    ev = [LogEvent("warning", "Gradient overflow. Skipping step", 40 + i, "grad_overflow", "train.log", 10 + i)
          for i in range(5)]
    f = fire(numerics.detect_fp16_overflow, make_run(a, events=ev))
    assert f.step == 40 and f.strength >= 0.7


def test_fp16_overflow_ignores_float_range_warnings_that_no_scaler_prints() -> None:
    # numpy's "overflow encountered in" (float32/64 arithmetic, a scikit-learn solver) and Python's OverflowError
    # (math.exp of a large loss) beside a NaN loss: values left float range, no loss scaler spoke
    a = healthy_arrays()
    a["loss"][700:] = np.nan
    msgs = ["/home/user/.venv/lib/python3.11/site-packages/sklearn/utils/extmath.py:229: RuntimeWarning: overflow "
            "encountered in matmul", "OverflowError: math range error"]
    ev = [LogEvent("warning", m, 690 + i, None, "train.log", 10 + i) for i, m in enumerate(msgs)]
    assert all(f.strength < 0.5 for f in numerics.detect_fp16_overflow(make_run(a, events=ev)))
    # a scaler's own message, untagged, in the same place still counts
    ev = [LogEvent("warning", "WARNING: gradient overflow, skipping step", 690 + i, None, "train.log", 10 + i)
          for i in range(5)]
    assert fire(numerics.detect_fp16_overflow, make_run(a, events=ev)).strength >= 0.5


def test_fp16_overflow_routine_scale_search_is_context() -> None:
    # the initial search: 2^16 halved three times in the first steps, then the loss keeps falling
    f = fire(numerics.detect_fp16_overflow, make_run(events=_overflow([32768, 16384, 8192], first_step=1)))
    assert f.strength < 0.3 and f.numbers["routine_search"]
    few = [LogEvent("warning", "Gradient overflow. Skipping step", 40 + i, "grad_overflow", "train.log", 10 + i)
           for i in range(5)]
    assert fire(numerics.detect_fp16_overflow, make_run(events=few)).strength < 0.3


def test_nan_while_the_lr_still_warms_up_is_the_lr() -> None:
    a = healthy_arrays()
    a["lr/muon"] = 5e-3 * np.minimum(1, (T + 1) / 900)  # warmup still raising the LR at the NaN
    a["loss"][600:] = np.nan
    f = fire(optimisation.detect_lr_too_high, make_run(a))
    assert f.step == 600 and any("still rising" in e for e in f.evidence)
    assert fire(numerics.detect_nan_inf, make_run(a)).strength < 0.3


def test_nan_after_the_lr_was_raised_is_the_lr() -> None:
    a = healthy_arrays()
    a["lr/muon"][500:] *= 10  # resumed with a 10x LR
    a["loss"][520:] = np.nan
    f = fire(optimisation.detect_lr_too_high, make_run(a))
    assert any("jumped" in e for e in f.evidence) and f.step == 520


def test_nan_after_a_climbing_loss_is_the_lr() -> None:
    a = healthy_arrays()
    a["loss"][400:600] = a["loss"][400] * np.linspace(1, 3, 200)
    a["loss"][600:] = np.nan
    assert any("climbed" in e for e in fire(optimisation.detect_lr_too_high, make_run(a)).evidence)


def test_nan_from_the_first_step_lists_the_data_the_op_and_fp16_level() -> None:
    """A loss never finite: NaN in the inputs, an op the data drives to 0/0 and a float16 overflow leave the same
    trace, so each is listed at the same strength, none confirmed."""
    a = healthy_arrays()
    a["loss"][:] = np.nan
    f = fire(data.detect_nan_from_start, make_run(a))
    op = fire(numerics.detect_nan_inf, make_run(a))
    fp16 = fire(numerics.detect_fp16_overflow, make_run(a))
    assert f.step == op.step == 0 and f.strength == op.strength == fp16.strength < 0.5
    b = healthy_arrays()
    b["loss"][700:] = np.nan
    assert data.detect_nan_from_start(make_run(b)) == []  # NaN after training went on: silent
    assert data.detect_nan_from_start(make_run()) == []


def test_intermittent_nan_that_recovers_is_a_skipping_scaler() -> None:
    a = healthy_arrays()
    a["loss"][[300, 420, 555, 700]] = np.nan  # NaN on some steps, finite after: those updates were skipped
    f = fire(numerics.detect_fp16_overflow, make_run(a))
    assert f.step == 300 and f.strength >= 0.5
    assert fire(numerics.detect_nan_inf, make_run(a)).strength < 0.5
    # a NaN grad norm alone, with the loss finite throughout: a skipped step, context only
    b = healthy_arrays()
    b["grad_norm"][[300, 301]] = np.nan
    assert fire(numerics.detect_nan_inf, make_run(b)).strength < 0.3


def test_fp16_overflow_silent_without_messages() -> None:
    assert numerics.detect_fp16_overflow(make_run()) == []
    # a constant "loss scale: 1.0" column (Megatron in bf16) is no scaler at all
    a = healthy_arrays()
    a["loss_scale"] = np.ones(N)
    assert numerics.detect_fp16_overflow(make_run(a)) == []


# ------------------------------------------------------------------------------------------------------- data


def test_label_leakage_fires_on_fast_collapse_and_val_gap() -> None:
    a = healthy_arrays()
    a["loss"] = 4.0 * np.exp(-T / 20) + 1e-3
    run = make_run(a, eval_loss=np.full(N, 3.0))
    run.samples = [Sample("::::::::::::", 900, "Q:", "s.jsonl")] * 4
    f = fire(data.detect_label_leakage, run)
    assert f.strength >= 0.8
    assert f.step == int(np.argmax(4.0 * np.exp(-T / 20) + 1e-3 < 0.05)) or f.step < 120


def test_label_leakage_silent_on_normal_learning() -> None:
    a = healthy_arrays()
    assert data.detect_label_leakage(make_run(a, eval_loss=a["loss"] * 1.1)) == []


def test_label_leakage_collapse_alone_fires_on_a_cross_entropy_scale_loss() -> None:
    a = healthy_arrays()
    a["loss"] = 2.3 * np.exp(-T / 20) + 1e-4  # ln 10 -> ~0 inside the first 10 % of the run, no held-out loss
    f = fire(data.detect_label_leakage, make_run(a))
    assert f.strength == 0.5 and f.step < 120


def test_label_leakage_collapse_silent_on_a_loss_no_cross_entropy_starts_at() -> None:
    # the same fall from 75, a sum of squared errors (R nnet's trace): its scale is the data's, a fit to ~0 no shortcut
    a = healthy_arrays()
    a["loss"] = 75.0 * np.exp(-T / 20) + 1e-4
    assert data.detect_label_leakage(make_run(a)) == []


def test_label_leakage_collapse_silent_on_a_regression_whose_held_out_loss_falls_with_it() -> None:
    # an MSE fit of a smooth target (NequIP's silicon forces, tests/corpus/realworld/g3s31-nequip-*): the training
    # and validation errors fall to ~0 together, logged with their MAEs: a fit, not a shortcut
    a = healthy_arrays()
    a["loss"] = 0.8 * np.exp(-T / 20) + 1e-4
    a["f_mae"] = 0.5 * np.exp(-T / 40) + 0.01
    assert data.detect_label_leakage(make_run(a, eval_loss=a["loss"] * 0.9)) == []


def test_label_leakage_collapse_fires_on_a_regression_with_a_held_out_gap() -> None:
    # the same collapse of a regression loss with the held-out error left at the series' scale (an off-by-one
    # forecasting window): the leak stays diagnosed, at the step the training loss collapsed
    a = healthy_arrays()
    a["loss"] = 0.8 * np.exp(-T / 20) + 1e-4
    a["f_mae"] = 0.5 * np.exp(-T / 40) + 0.01
    f = fire(data.detect_label_leakage, make_run(a, eval_loss=np.full(N, 0.7)))
    assert f.strength >= 0.8 and f.step < 120


def test_label_leakage_collapse_kept_for_a_classifier_whose_held_out_loss_falls_with_it() -> None:
    # with an accuracy logged the loss is a cross-entropy: its collapse with the held-out loss is still a leak
    a = healthy_arrays()
    a["loss"] = 0.8 * np.exp(-T / 20) + 1e-4
    a["f_mae"] = 0.5 * np.exp(-T / 40) + 0.01
    a["accuracy"] = 1.0 - 0.5 * np.exp(-T / 20)
    f = fire(data.detect_label_leakage, make_run(a, eval_loss=a["loss"] * 0.9))
    assert f.strength == 0.5 and f.step < 120


def test_data_pipeline_bug_fires_on_zero_loss_from_start() -> None:
    a = healthy_arrays()
    a["loss"] = np.full(N, 1e-7)
    f = fire(data.detect_data_pipeline_bug, make_run(a))
    assert f.step == 0


def test_data_pipeline_bug_silent_on_healthy() -> None:
    assert data.detect_data_pipeline_bug(make_run()) == []


def _zero_loss_excerpt(steps: list[int], epochs: list[float], loss: float = 0.0,
                       events: tuple[LogEvent, ...] = ()) -> Run:
    """A pasted excerpt of HF-style dict lines: a few losses with their epoch counter."""
    run = Run()
    st = np.array(steps)
    run.add_series(Series("loss", st, np.full(st.size, loss), "run/train.log"))
    run.add_series(Series("epoch", st, np.array(epochs), "run/train.log"))
    run.events = list(events)
    return run.finalize()


def test_loss_exactly_zero_fires_early_and_with_a_witness() -> None:
    f = fire(data.detect_loss_exactly_zero, _zero_loss_excerpt([3], [0.01]))
    assert f.cause == "data_pipeline_bug" and f.step == 3 and f.strength == pytest.approx(0.65)
    masked = LogEvent("warning", "### Label: complaint This instance will be ignored in loss calculation.", None,
                      "labels_all_masked", "run/train.log", 2)
    f = fire(data.detect_loss_exactly_zero, _zero_loss_excerpt([10, 20], [2.04, 5.0], events=(masked,)))
    assert f.strength == pytest.approx(0.7)  # late in the run, but the collator says every label is masked
    f = fire(data.detect_loss_exactly_zero, _zero_loss_excerpt([3], [0.01], events=(masked,)))
    assert f.strength == pytest.approx(0.8)


def test_loss_exactly_zero_stays_below_half_or_silent_otherwise() -> None:
    # late in the run with nothing else: a converged model's rounding is possible, listed only
    assert fire(data.detect_loss_exactly_zero, _zero_loss_excerpt([100, 200], [4.0, 5.0])).strength < 0.5
    assert data.detect_loss_exactly_zero(_zero_loss_excerpt([3, 6], [0.01, 0.02], loss=1e-3)) == []
    assert data.detect_loss_exactly_zero(make_run()) == []  # a long, healthy loss
    a = healthy_arrays()
    a["loss"] = np.zeros(N)  # a long zero loss is detect_data_pipeline_bug's
    assert data.detect_loss_exactly_zero(make_run(a)) == []


def _early_zero_run(loss: list[float], steps: list[int], epoch_starts: list[tuple[int, int]],
                    accuracy: list[float] | None = None) -> Run:
    """A short log printed every 10 updates (pytorch/examples ImageNet style) with its epoch starts."""
    run = Run()
    run.add_series(Series("loss", np.array(steps), np.array(loss, dtype=float), "run/train.log"))
    if accuracy is not None:
        run.add_series(Series("Acc@1", np.array(steps), np.array(accuracy, dtype=float), "run/train.log"))
    run.epoch_starts = list(epoch_starts)
    return run.finalize()


def test_data_pipeline_bug_fires_on_a_loss_exactly_zero_within_the_first_updates() -> None:
    # ln(1000) at the first print, exactly 0 from update 20 on: one class in the data
    run = _early_zero_run([6.9085, 2.9971, 0.0, 0.0, 0.0], [0, 10, 20, 30, 40], [(0, 0)], [0.0, 100, 100, 100, 100])
    f = fire(data.detect_data_pipeline_bug, run)
    assert f.cause == "data_pipeline_bug" and f.step == 20 and f.strength == pytest.approx(0.6)


def test_data_pipeline_bug_silent_on_a_late_or_passing_zero() -> None:
    # per-epoch points (one per epoch): the zero at "step" 2 is epoch 2, not the third update
    per_epoch = _early_zero_run([2.3, 0.4, 0.0, 0.0, 0.0], [0, 1, 2, 3, 4], [(i, i) for i in range(5)])
    assert data.detect_data_pipeline_bug(per_epoch) == []
    # the zero comes after hundreds of updates: a converged easy task's rounding, not this rule's
    late = _early_zero_run([2.3, 1.0, 0.2, 0.0, 0.0, 0.0], [0, 200, 400, 600, 800, 1000], [(0, 0)])
    assert data.detect_data_pipeline_bug(late) == []
    # a single 0 between positive losses: a rounding or a logging slip
    slip = _early_zero_run([2.3, 1.0, 0.0, 0.8, 0.7], [0, 10, 20, 30, 40], [(0, 0)])
    assert data.detect_data_pipeline_bug(slip) == []


def _negative_loss_run(loss: np.ndarray, with_accuracy: bool) -> Run:
    run = Run()
    st = np.arange(1, loss.size + 1)
    run.add_series(Series("loss", st, loss, "run/train.log"))
    if with_accuracy:
        run.add_series(Series("accuracy", st, np.full(loss.size, 0.3268), "run/train.log", "acc"))
    return run.finalize()


def test_data_pipeline_bug_fires_on_a_classifier_loss_below_minus_one() -> None:
    # a sigmoid U-Net fed 0-4 class masks into binary cross-entropy: -4.41, then stuck at -4.4410
    f = fire(data.detect_data_pipeline_bug,
             _negative_loss_run(np.array([-4.4077, -4.4410, -4.4410, -4.4410]), with_accuracy=True))
    assert f.cause == "data_pipeline_bug" and f.step == 1 and f.strength == pytest.approx(0.6)
    assert any("stuck at exactly" in e for e in f.evidence)


def test_data_pipeline_bug_silent_on_a_negative_loss_within_dice_range_or_without_accuracy() -> None:
    # nnU-Net's Dice + CE is negative by design, with -1 as its optimum
    dice_ce = _negative_loss_run(np.linspace(-0.2, -0.75, 50), with_accuracy=True)
    assert data.detect_data_pipeline_bug(dice_ce) == []
    # a Gaussian negative log-likelihood (a regression, no accuracy) may go well below -1
    nll = _negative_loss_run(np.linspace(1.0, -3.0, 50), with_accuracy=False)
    assert data.detect_data_pipeline_bug(nll) == []
    assert data.detect_data_pipeline_bug(make_run()) == []


def _detector_run(box: list[float], cls: list[float], box_name: str = "rpn_loss_box") -> Run:
    """A two-stage detector's log every 20 iterations: a box-regression term and a classification term."""
    run = Run()
    st = np.arange(1, len(box) + 1) * 20
    run.add_series(Series(box_name, st, np.array(box, dtype=float), "run/train.log"))
    run.add_series(Series("rpn_loss_cls", st, np.array(cls, dtype=float), "run/train.log"))
    return run.finalize()


def test_data_pipeline_bug_fires_when_a_box_term_alone_goes_non_finite() -> None:
    # pytorch-faster-rcnn with 0-based annotations: rpn_loss_box nan at iteration 140, the classifier finite
    run = _detector_run([0.82, 1.03, 1.35, np.nan, np.nan], [0.06, 0.07, 1.0, 0.68, 0.6])
    f = fire(data.detect_data_pipeline_bug, run)
    # an RPN term: its smooth L1 has no op of its own that fails, so the degenerate box is named (data.py)
    assert f.cause == "data_pipeline_bug" and f.step == 80 and f.strength == pytest.approx(data.RPN_BOX_NAN_STRENGTH)


def test_data_pipeline_bug_silent_when_every_head_goes_non_finite_or_no_box_term() -> None:
    # an LR blow-up: every head is non-finite at the same step
    assert data.detect_data_pipeline_bug(_detector_run([0.8, 1.0, np.nan], [0.5, 0.9, np.nan])) == []
    # the classification term first: not the box targets
    assert data.detect_data_pipeline_bug(_detector_run([0.8, 1.0, 0.9, np.nan], [0.5, np.nan, np.nan, np.nan])) == []
    # no box term at all (a classifier's loss terms)
    assert data.detect_data_pipeline_bug(_detector_run([0.8, np.nan], [0.5, 0.4], box_name="loss_kl")) == []
    assert data.detect_data_pipeline_bug(make_run()) == []


def _yolo_run(box: float, dfl: float, cls: list[float]) -> Run:
    """A YOLOv6-style console: per-epoch means of iou_loss, dfl_loss and cls_loss, no total loss."""
    run = Run()
    st = np.arange(43, 43 + len(cls))
    run.add_series(Series("iou_loss", st, np.full(st.size, box), "run/train.log"))
    run.add_series(Series("dfl_loss", st, np.full(st.size, dfl), "run/train.log"))
    run.add_series(Series("cls_loss", st, np.array(cls, dtype=float), "run/train.log"))
    return run.finalize()


def test_data_pipeline_bug_fires_when_every_box_term_is_exactly_zero() -> None:
    # YOLOv6 #614: iou_loss and dfl_loss 0 at every epoch while cls_loss creeps down: no label reaches the loss
    f = fire(data.detect_data_pipeline_bug, _yolo_run(0.0, 0.0, [0.01125, 0.01102, 0.01084, 0.01071, 0.01057]))
    assert f.cause == "data_pipeline_bug" and f.step == 43 and f.strength == pytest.approx(data.BOX_ZERO_STRENGTH)


def test_data_pipeline_bug_silent_on_box_terms_that_are_not_zero_throughout() -> None:
    # a training detector: small but positive box terms
    assert data.detect_data_pipeline_bug(_yolo_run(0.41, 0.93, [1.4, 1.3, 1.2, 1.1, 1.0])) == []
    # zero at one point only (a window with no boxes) is not "throughout"
    run = _detector_run([0.0, 0.31, 0.29, 0.28], [0.5, 0.45, 0.4, 0.38])
    assert data.detect_data_pipeline_bug(run) == []
    # too few points to say "every window"
    assert data.detect_data_pipeline_bug(_detector_run([0.0, 0.0], [0.5, 0.4])) == []
    # every term 0, the classification one too: not this rule's picture (no term scores anything)
    assert data.detect_data_pipeline_bug(_yolo_run(0.0, 0.0, [0.0, 0.0, 0.0, 0.0])) == []


def _segmentation_run(miou: list[float]) -> Run:
    """An mmseg-style log: a train loss and a held-out mIoU (percent) every 100 iterations."""
    run = Run()
    st = np.arange(1, len(miou) + 1) * 100
    run.add_series(Series("loss", st, np.linspace(0.5, 0.04, st.size), "run/train.log"))
    run.add_series(Series("val_mIoU", st, np.array(miou), "run/train.log", "mIoU"))
    return run.finalize()


def test_perfect_overlap_fires_on_a_perfect_held_out_miou() -> None:
    f = fire(data.detect_perfect_overlap, _segmentation_run([100.0, 100.0, 100.0]))
    assert f.cause == "data_pipeline_bug" and f.step == 100 and f.strength >= 0.5


def test_perfect_overlap_silent_on_a_real_segmentation_score() -> None:
    assert data.detect_perfect_overlap(_segmentation_run([61.2, 70.4, 74.9])) == []
    assert data.detect_perfect_overlap(_segmentation_run([99.2, 100.0, 99.9])) == []  # perfect once: not every time
    assert data.detect_perfect_overlap(make_run()) == []


def _pixel_accuracy_run(acc: list[float], name: str = "decode.acc_seg") -> Run:
    """An mmseg-style training log: decode.loss_ce and decode.acc_seg (percent) every 50 iterations from 1100."""
    run = Run()
    st = 1100 + np.arange(len(acc)) * 50
    run.add_series(Series("loss", st, np.geomspace(0.0045, 0.0001, st.size), "run/train.log"))
    run.add_series(Series(name, st, np.array(acc), "run/train.log", name))
    return run.finalize()


def test_perfect_overlap_fires_on_a_training_pixel_accuracy_at_100_throughout() -> None:
    f = fire(data.detect_perfect_overlap, _pixel_accuracy_run([100.0] * 6))
    assert f.cause == "data_pipeline_bug" and f.step == 1100 and f.strength >= 0.5
    assert f.numbers["metric"] == "decode.acc_seg"
    f = fire(data.detect_perfect_overlap, _pixel_accuracy_run([1.0, 1.0, 1.0], "pixel_accuracy"))
    assert f.numbers["top"] == 1.0


def test_perfect_overlap_silent_on_a_real_or_short_training_pixel_accuracy() -> None:
    assert data.detect_perfect_overlap(_pixel_accuracy_run([97.4, 97.3, 97.9, 97.6])) == []  # a real mask set
    assert data.detect_perfect_overlap(_pixel_accuracy_run([99.98, 100.0, 100.0, 100.0])) == []  # not every window
    assert data.detect_perfect_overlap(_pixel_accuracy_run([100.0, 100.0])) == []  # too few windows
    # a classifier's training accuracy at 100 is a memorised training set, not this rule's picture
    assert data.detect_perfect_overlap(_pixel_accuracy_run([100.0] * 6, "acc")) == []


def test_curriculum_shock_fires_at_the_boundary() -> None:
    a = healthy_arrays()
    a["loss"][500:] *= 1.8  # the new stage never recovers
    a["grad_norm"][502:] *= 8
    run = make_run(a, stages=[(0, "foundation"), (500, "advanced")])
    f = fire(data.detect_curriculum_shock, run)
    assert f.step == 500 and f.numbers["stage"] == "advanced"


def test_curriculum_shock_silent_on_smooth_switch() -> None:
    run = make_run(stages=[(0, "foundation"), (500, "advanced")])
    assert data.detect_curriculum_shock(run) == []


def test_curriculum_shock_silent_when_the_new_stage_recovers() -> None:
    # the healthy trainer's own pattern: loss x4 and grad x9 at the switch, recovered within ~30 steps
    a = healthy_arrays()
    a["loss"][500:] *= 1 + 3 * np.exp(-(T[500:] - 500) / 30)
    a["grad_norm"][500:] *= 1 + 8 * np.exp(-(T[500:] - 500) / 10)
    run = make_run(a, stages=[(0, "foundation"), (500, "advanced")])
    assert data.detect_curriculum_shock(run) == []


def test_overfitting_fires_at_best_eval() -> None:
    a = healthy_arrays()
    ev = a["loss"] * 1.05
    ev[400:] = ev[400] * (1 + (T[400:] - 400) / 600)
    a["loss"][400:] *= np.linspace(1, 0.5, N - 400)
    f = fire(data.detect_overfitting, make_run(a, {"train.early_stopping_patience": (0, "0")}, eval_loss=ev))
    assert f.step in (399, 449)  # best eval at the evaluation just before the turn
    assert f.fix_sites and f.fix_sites[0]["after"] == "3"


def test_overfitting_is_context_while_the_task_metric_improves() -> None:
    # the validation loss edges up (+30 %) while held-out accuracy keeps climbing: over-confidence, not a cause
    a = healthy_arrays()
    ev = a["loss"] * 1.05
    ev[400:] = ev[400] * (1 + (T[400:] - 400) / 2000)
    a["loss"][400:] *= np.linspace(1, 0.5, N - 400)
    run = make_run(a, eval_loss=ev)
    idx = np.arange(49, N, 50)
    run.add_series(Series("eval_accuracy", T[idx], 0.5 + 0.4 * idx / N, "run/metrics.jsonl"))
    f = fire(data.detect_overfitting, run.finalize())
    assert f.strength <= 0.25 and any("eval_accuracy kept improving" in e for e in f.evidence)
    # and a metric that got worse leaves it a cause
    run = make_run(a, eval_loss=ev)
    run.add_series(Series("eval_accuracy", T[idx], 0.9 - 0.4 * idx / N, "run/metrics.jsonl"))
    assert fire(data.detect_overfitting, run.finalize()).strength >= 0.5


def test_overfitting_is_weak_when_the_turn_is_within_the_heldout_curves_own_scatter() -> None:
    # hf_trainer-grad_explosion-s2 as an epoch history (4 digits): the held-out loss bounced 28x and 2.6x on its way
    # to its minimum; the 84 % rise after it is no turn
    steps = np.arange(10)
    run = Run()
    run.add_series(Series("loss", steps, np.array([1674, 1.063e5, 6.233e4, 7.897e4, 2.193e4, 1.827e4, 1.247e4, 5430,
                                                   2829, 1620]), "run/training.csv"))
    val = np.array([7052, 1.997e5, 1.459e4, 3.793e4, 1.765e4, 1.729e4, 9193, 1011, 2323, 1391])
    run.add_series(Series("eval_loss", steps, val, "run/training.csv"))
    f = fire(data.detect_overfitting, run.finalize())
    assert f.step == 7 and f.strength < 0.5 and any("within its own scatter" in e for e in f.evidence)
    # a held-out curve that falls smoothly and then turns, the training loss falling: memorisation, a cause
    run = Run()
    run.add_series(Series("loss", steps, np.linspace(2.0, 0.2, 10), "run/training.csv"))
    run.add_series(Series("eval_loss", steps, np.array([2.0, 1.6, 1.3, 1.2, 1.18, 1.25, 1.35, 1.5, 1.6, 1.7]),
                          "run/training.csv"))
    f = fire(data.detect_overfitting, run.finalize())
    assert f.strength >= 0.5 and not any("scatter" in e for e in f.evidence)


def test_overfitting_silent_when_eval_tracks_train() -> None:
    a = healthy_arrays()
    assert data.detect_overfitting(make_run(a, eval_loss=a["loss"] * 1.05)) == []


def test_overfitting_is_context_when_the_held_out_loss_edges_up_near_its_best_with_no_gap() -> None:
    # 19 epochs: validation tracks training (1.1x), bottoms at epoch 14 and edges up 11 % by the end
    steps = np.arange(1, 20)
    train = 0.8 * np.exp(-steps / 2) + 0.02
    val = 1.1 * train
    val[14:] = val[13] * np.array([1.05, 1.15, 1.08, 1.1, 1.12])
    run = Run()
    run.add_series(Series("loss", steps, train, "run/train.log"))
    run.add_series(Series("eval_loss", steps, val, "run/train.log"))
    f = fire(data.detect_overfitting, run.finalize())
    assert f.strength <= 0.3 and any("no material generalisation gap" in e for e in f.evidence)
    # the same edge-up with validation far above training (a gap that opened): a cause
    run = Run()
    run.add_series(Series("loss", steps, train, "run/train.log"))
    run.add_series(Series("eval_loss", steps, 2 * val, "run/train.log"))
    assert fire(data.detect_overfitting, run.finalize()).strength >= 0.5


def test_overfitting_without_a_task_metric_is_moderate_unless_the_gap_opens() -> None:
    # CenterNet issue 160 (labelled healthy: the maintainer says check the AP): val loss 2.88 -> 3.60 (+25 %) while
    # train falls 1.86 -> 1.41; no task metric logged, the val/train ratio grows 1.55 -> 2.55 (< 2x): moderate
    f = fire(data.detect_overfitting, _corpus_run("centernet-160-val-loss-rises-ap-fine"))
    assert f.step == 10 and f.strength == data.UNJUDGED <= 0.6
    assert any("no held-out task metric" in e for e in f.evidence)
    # the same +25 % held-out rise while the training loss falls 4x after the minimum: the gap opened, a cause
    steps = np.arange(1, 15) * 5
    val = np.array([2.89, 2.88, 2.90, 3.08, 3.08, 3.06, 3.07, 3.18, 3.26, 3.36, 3.50, 3.57, 3.60, 3.60])
    train = np.concatenate([[2.24, 1.86], 1.86 * np.geomspace(0.9, 0.25, 12)])
    run = Run()
    run.add_series(Series("loss", steps, train, "run/train.log"))
    run.add_series(Series("eval_loss", steps, val, "run/train.log"))
    assert fire(data.detect_overfitting, run.finalize()).strength > 0.6


def _plateau_run(train_end: float, val_end: float) -> Run:
    """18 evaluations: both losses fall together to step 50 (val 6.1, train 3.0), then the held-out loss edges up to
    `val_end` (< 10 %) while the training loss goes to `train_end`."""
    steps = np.arange(0, 90, 5)
    train = np.concatenate([np.linspace(9.8, 3.0, 11), np.geomspace(3.0, train_end, 8)[1:]])
    val = np.concatenate([np.linspace(9.9, 6.1, 11), np.linspace(6.1, val_end, 8)[1:]])
    run = Run()
    run.add_series(Series("loss", steps, train, "run/train.log"))
    run.add_series(Series("eval_loss", steps, val, "run/train.log"))
    return run.finalize()


def test_overfitting_fires_when_training_fits_far_beyond_a_held_out_loss_that_stopped_improving() -> None:
    # the held-out loss edges up 4 % after step 50 while the training loss falls 5x: the gap opens 2x -> 11x
    f = fire(data.detect_overfitting, _plateau_run(0.57, 6.35))
    assert f.step == 50 and f.strength >= 0.55 and any("ratio opened" in e for e in f.evidence)
    # on a real log: LLMs-from-scratch ch. 5, GPT-2 trained on one short story (the author calls it overfitting)
    f = fire(data.detect_overfitting, _corpus_run("llms-from-scratch-ch05-gpt-overfits-short-story"))
    assert f.step == 50 and f.strength >= 0.55
    # the same fit beyond a held-out loss that edges up only 1 %: a plateau, not a held-out result made worse
    assert all(f.strength < 0.5 for f in data.detect_overfitting(_plateau_run(0.57, 6.16)))


def test_overfitting_is_weak_when_the_training_loss_diverged() -> None:
    # an exploding RNN: the training loss goes 0.8 -> 4000 and falls back to 1700 while the held-out loss rises
    # 38 % from its minimum; the model fitted nothing, so the held-out rise is no memorisation
    steps = np.arange(20, 220, 20)
    train = np.array([0.8, 700.0, 3000.0, 4500.0, 4400.0, 4300.0, 4339.0, 3000.0, 2000.0, 1689.0])
    val = np.array([1500.0, 1400.0, 1300.0, 1200.0, 1100.0, 1050.0, 1020.0, 1011.0, 1200.0, 1391.0])
    run = Run()
    run.add_series(Series("loss", steps, train, "run/train.log"))
    run.add_series(Series("eval_loss", steps, val, "run/train.log"))
    f = fire(data.detect_overfitting, run.finalize())
    assert f.strength < 0.4 and any("it diverged" in e for e in f.evidence)
    # the same held-out curve with a training loss that falls from its start: memorisation (a cause)
    run = Run()
    run.add_series(Series("loss", steps, np.geomspace(2.0, 0.2, 10), "run/train.log"))
    run.add_series(Series("eval_loss", steps, val / 1000, "run/train.log"))
    assert fire(data.detect_overfitting, run.finalize()).strength >= 0.5


def test_overfitting_listed_only_on_a_small_edge_up_without_a_fit_beyond_it() -> None:
    # the same 4 % edge-up while the training loss falls only 1.3x after the held-out best: no confident reading; it
    # rises at each of the last 7 evaluations, a trend (docs/diagnose.md, "A held-out loss that climbs by small
    # steps"), so it is listed, below the report threshold, with no task metric to say whether the task is hurt
    f = fire(data.detect_overfitting, _plateau_run(2.3, 6.35))
    assert f.strength <= data.STEADY_UNJUDGED < 0.5 and any("rose at each of the last 7" in e for e in f.evidence)
    # and a curve that wobbles up by the same 4 % (no unbroken climb) is not confirmed either
    run = _plateau_run(2.3, 6.35)
    ev = run.metrics["eval_loss"].values
    ev[-3], ev[-2] = ev[-2], ev[-3]
    assert all(f.strength < 0.5 for f in data.detect_overfitting(run))


def _noisy_eval_run(level: np.ndarray, seed: int = 0) -> Run:
    """300 evaluations, one per 10 steps, of a validation loss that swings +-20 % around `level` (a small
    held-out set), with training loss falling throughout."""
    rng = np.random.default_rng(seed)
    steps = np.arange(1, 301) * 10
    run = Run()
    run.add_series(Series("loss", steps, 40 * np.exp(-steps / 800) + 3.5, "run/train.log"))
    run.add_series(Series("eval_loss", steps, level * np.exp(0.2 * rng.standard_normal(300)), "run/train.log"))
    return run.finalize()


def test_overfitting_silent_on_a_level_noisy_validation_curve() -> None:
    # the curve is level from evaluation 150 on; one lucky low point late and one unlucky high last point make a
    # point-wise +50 % "turn" that the windowed level does not show (cgcnn2-mof-regression-300ep-aws's pattern)
    level = np.concatenate([np.linspace(40, 14, 150), np.full(150, 14.0)])
    for seed in range(3):
        run = _noisy_eval_run(level, seed)
        ev = run.metrics["eval_loss"].values
        ev[264], ev[-1] = 0.75 * 14, 1.5 * 14
        assert data.detect_overfitting(run) == []


def test_overfitting_silent_on_a_healthy_noisy_regression_run() -> None:
    # a real crystal-graph regression run (test R2 0.94): its validation MSE swings 11..21 around a level of ~13
    # over the last 50 epochs while it keeps reaching new bests until epoch 265
    from pathlib import Path

    from traindoc.ingest.loader import load_run

    folder = Path(__file__).parent / "corpus" / "realworld" / "cgcnn2-mof-regression-300ep-aws" / "run"
    assert data.detect_overfitting(load_run([folder])) == []


def test_overfitting_fires_on_a_noisy_validation_curve_that_turns() -> None:
    # the same noise, but the level itself climbs 60 % over the last 120 evaluations: a real turn
    level = np.concatenate([np.linspace(40, 14, 150), np.full(30, 14.0), np.linspace(14, 22.4, 120)])
    for seed in range(3):
        f = fire(data.detect_overfitting, _noisy_eval_run(level, seed))
        assert f.strength >= 0.5
        assert 1300 <= f.step <= 2100  # the level is lowest between evaluation 150 and the start of the climb


# ----------------------------------------------------------------------------------------------- architecture


def test_param_imbalance_fires() -> None:
    run = make_run(params=ParamCounts(40_000_000, 16_000_000, 16_000_000, 8_000_000, tied=False))
    f = fire(architecture.detect_param_imbalance, run)
    assert f.numbers["embedding_share"] == pytest.approx(0.8)


def test_param_imbalance_is_context_for_a_published_checkpoint() -> None:
    # a multilingual checkpoint's large vocabulary is its design: fine-tuning it is not a fault
    counts = ParamCounts(40_000_000, 16_000_000, 16_000_000, 8_000_000, tied=False)
    run = make_run(config={"_name_or_path": ("google/mt5-small", '"google/mt5-small"')}, params=counts)
    f = fire(architecture.detect_param_imbalance, run)
    assert f.strength < 0.3 and f.numbers["pretrained"]
    run = make_run(config={"model_type": ("whisper", '"whisper"')}, params=counts)
    assert fire(architecture.detect_param_imbalance, run).strength < 0.3


def test_param_imbalance_silent_on_block_heavy_model() -> None:
    run = make_run(params=ParamCounts(40_000_000, 2_000_000, 0, 38_000_000, tied=True))
    assert architecture.detect_param_imbalance(run) == []


def test_act_variance_collapse_fires_with_warning() -> None:
    a = healthy_arrays()
    a["act_halt_var"] = np.where(T < 200, 0.02, 0.0)
    ev = [LogEvent("warning", "var(): degrees of freedom is <= 0.", 1, "var_dof", "run/metrics.jsonl", 3, 999)]
    f = fire(architecture.detect_act_variance_collapse, make_run(a, events=ev))
    assert f.step == 500 and f.strength >= 0.9


def test_act_variance_collapse_silent_on_diverse_halting() -> None:
    a = healthy_arrays()
    a["act_halt_var"] = 0.02 + 0.005 * np.random.default_rng(3).random(N)
    assert architecture.detect_act_variance_collapse(make_run(a)) == []


def test_attention_logit_growth_fires() -> None:
    a = healthy_arrays()
    a["max_attn_logit"] = 10 * np.exp(4 * T / N)
    fire(architecture.detect_attention_logit_growth, make_run(a))


def test_attention_logit_growth_silent_when_bounded() -> None:
    a = healthy_arrays()
    a["max_attn_logit"] = 12 + np.sin(T / 50)
    assert architecture.detect_attention_logit_growth(make_run(a)) == []


def test_output_logit_divergence_fires() -> None:
    a = healthy_arrays()
    a["output_logit_mean"] = -2 - 50 * T / N
    fire(architecture.detect_output_logit_divergence, make_run(a))


def test_output_logit_divergence_silent() -> None:
    a = healthy_arrays()
    a["output_logit_mean"] = -2 + 0.1 * np.sin(T / 30)
    assert architecture.detect_output_logit_divergence(make_run(a)) == []


def test_mode_collapse_fires_at_the_degenerate_sample() -> None:
    run = make_run()
    run.samples = [Sample("the answer is 12", s, "Q:", "s.jsonl") for s in (100, 200, 300, 400)] + \
                  [Sample("::::::::::::::", s, "Q:", "s.jsonl") for s in (600, 700, 800, 900)]
    f = fire(architecture.detect_mode_collapse, run)
    assert f.step == 900


def test_mode_collapse_silent_on_varied_text() -> None:
    run = make_run()
    run.samples = [Sample(f"sample {i}: seven plus {i} is {7 + i}", i * 100, "Q:", "s") for i in range(8)]
    assert architecture.detect_mode_collapse(run) == []


# ----------------------------------------------------------------------------------------------------- systems


def test_distributed_desync_fires_on_one_nan_rank() -> None:
    a = healthy_arrays()
    for k in range(4):
        v = a["loss"].copy()
        if k == 2:
            v[450:] = np.nan
        a[f"loss@rank{k}"] = v
    f = fire(systems.detect_distributed_desync, make_run(a))
    assert f.step == 450


def test_distributed_desync_silent_when_ranks_agree() -> None:
    a = healthy_arrays()
    rng = np.random.default_rng(5)
    for k in range(4):
        a[f"loss@rank{k}"] = a["loss"] * np.exp(0.02 * rng.standard_normal(N))
    assert systems.detect_distributed_desync(make_run(a)) == []


# --------------------------------------------------------------------------------------------------- code lint


def test_code_lint_rules_fire_and_stay_silent(tmp_path) -> None:
    bad = tmp_path / "model.py"
    bad.write_text(
        "import torch\nimport torch.nn.functional as F\n\n"
        "def attn(q, k, v):\n    return F.scaled_dot_product_attention(q, k, v, is_causal=False)\n\n"
        "def generate(m):\n    pass\n\n"
        "def filt(grad, ema, lamb):\n    grad.add_(grad - ema, alpha=lamb)\n\n"
        "def set_lr(optimizer, factor):\n    for group in optimizer.param_groups:\n"
        "        group[\"scheduled_lr\"] = group[\"initial_lr\"] * factor\n\n"
        "def train(model, opt, batches):\n    for b in batches:\n        loss = model(b)\n"
        "        loss.backward()\n        opt.step()\n")
    run = make_run(code_files=[str(bad)])
    assert code_lint.detect_code_noncausal_attention(run)[0].cause == "label_leakage"
    assert code_lint.detect_code_inverted_grokfast(run)[0].fix_sites[0]["line"] == 11
    assert code_lint.detect_code_dead_schedule_key(run)[0].cause == "scheduler_misuse"
    assert code_lint.detect_code_zero_grad_missing(run)[0].cause == "zero_grad_missing"
    good = tmp_path / "good.py"
    good.write_text(
        "import torch.nn.functional as F\n\ndef attn(q, k, v):\n"
        "    return F.scaled_dot_product_attention(q, k, v, is_causal=True)\n\n"
        "def filt(grad, ema, lamb):\n    grad.add_(ema, alpha=lamb)\n\n"
        "def set_lr(optimizer, factor):\n    for group in optimizer.param_groups:\n"
        "        group[\"lr\"] = group[\"initial_lr\"] * factor\n\n"
        "def train(model, opt, batches):\n    for b in batches:\n        opt.zero_grad(set_to_none=True)\n"
        "        model(b).backward()\n        opt.step()\n")
    run = make_run(code_files=[str(good)])
    for det in code_lint.DETECTORS:
        assert det(run) == [], det.__name__


_UNDIVIDED = (
    "def train(model, opt, loader, accum_steps):\n"
    "    for i, (x, y) in enumerate(loader):\n"
    "        loss = F.cross_entropy(model(x), y)\n"
    "        loss.backward()\n"
    "        if (i + 1) % accum_steps == 0:\n"
    "            opt.step()\n"
    "            opt.zero_grad()\n")
_STALE = (
    "def train(model, opt, loader):\n"
    "    for i, (x, y) in enumerate(loader):\n"
    "        scaler.scale(F.cross_entropy(model(x), y)).backward()\n"
    "        scaler.step(opt)\n"
    "        if i % 8 == 0:\n"
    "            opt.zero_grad()\n")


def test_code_accumulation_defect_fires_on_undivided_and_stale_loops(tmp_path) -> None:
    (tmp_path / "a.py").write_text(_UNDIVIDED)
    (f,) = code_lint.detect_code_accumulation_defect(make_run(code_files=[str(tmp_path / "a.py")]))
    assert f.cause == "grad_accum_bug" and f.numbers["kind"] == "undivided" and f.numbers["line"] == 4
    assert f.strength == code_lint.CODE_ACCUM  # the healthy log shows no blow-up: listed
    a = healthy_arrays()
    a["loss"] = a["loss"].copy()
    a["loss"][600:] = np.nan  # the oversized step blows the run up: confirmed
    (f,) = code_lint.detect_code_accumulation_defect(make_run(a, code_files=[str(tmp_path / "a.py")]))
    assert f.strength == code_lint.CODE_ACCUM_SEEN
    (tmp_path / "b.py").write_text(_STALE)
    (f,) = code_lint.detect_code_accumulation_defect(make_run(code_files=[str(tmp_path / "b.py")]))
    assert f.numbers["kind"] == "stale" and f.numbers["accumulation"] == "8" and f.numbers["line"] == 4


def test_code_accumulation_defect_silent_on_correct_loops(tmp_path) -> None:
    variants = [
        _UNDIVIDED.replace("loss.backward()", "(loss / accum_steps).backward()"),
        _UNDIVIDED.replace("        loss.backward()\n", "        loss = loss / accum_steps\n        loss.backward()\n"),
        _STALE.replace("        if i % 8 == 0:\n            opt.zero_grad()\n", "        opt.zero_grad()\n"),
        _UNDIVIDED.replace("        if (i + 1) % accum_steps == 0:\n", "        if True:\n"),  # no accumulation
        "def train(model, opt, loader):\n    for x in loader:\n        with acc.accumulate(model):\n"
        "            acc.backward(model(x))\n            opt.step()\n            opt.zero_grad()\n",
        "def train(:\n",  # does not parse: skipped
    ]
    for i, text in enumerate(variants):
        path = tmp_path / f"v{i}.py"
        path.write_text(text)
        assert code_lint.detect_code_accumulation_defect(make_run(code_files=[str(path)])) == [], text


def _epoch_run(loss: list[float], grad: list[float], epoch: list[float]) -> Run:
    run = Run()
    steps = np.arange(1, len(loss) + 1)
    for name, v in (("loss", loss), ("grad_norm", grad), ("epoch", epoch)):
        run.add_series(Series(name, steps, np.asarray(v, dtype=float), "run/train.log"))
    run.finalize()
    return run


def test_partial_cycle_at_epoch_end_fires_when_loss_and_grad_halve_together() -> None:
    # transformers#38872: the last cycle of 1 of 2 micro-batches, divided by 2, logs half the loss and grad norm
    run = _epoch_run([1.0, 0.98, 0.5, 0.99, 0.97, 0.49, 0.98], [30, 31, 15.4, 30.5, 30, 15.1, 30.2],
                     [0.4, 0.8, 1.0, 1.4, 1.8, 2.0, 2.4])
    (f,) = accumulation.detect_partial_cycle_at_epoch_end(run)
    assert f.cause == "grad_accum_bug" and f.step == 3 and f.numbers["epoch_ends"] == 2
    assert f.strength == accumulation.PARTIAL_CYCLES


def test_partial_cycle_at_epoch_end_counts_across_scan_blocks_in_bounded_memory() -> None:
    # 150k steps, an integer epoch logged at every step (each one a candidate epoch end, as in the 1M-step bench log),
    # the partial cycle at every 1000th: hits in three scan blocks all counted, the first one reported; the scan once
    # built two dicts of every step (~100 bytes a point): its peak now stays a few scan blocks of arrays
    import tracemalloc

    n = 150_000
    rng = np.random.default_rng(0)
    loss = 1 + 0.01 * rng.standard_normal(n)
    grad = 30 * (1 + 0.01 * rng.standard_normal(n))
    ends = np.arange(999, n - 1, 1000)
    loss[ends] *= 0.5
    grad[ends] *= 0.5
    run = _epoch_run(loss, grad, np.arange(1, n + 1) // 1000)  # epoch 1 first logged at step 1000
    tracemalloc.start()
    try:
        (f,) = accumulation.detect_partial_cycle_at_epoch_end(run)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert f.step == 1000 and f.numbers["epoch_ends"] == len(ends) == 149
    assert peak < 16 * (1 << 20), peak  # the dicts of every step took 26 MiB here, the blocked scan takes 7.6


def test_partial_cycle_at_epoch_end_reads_the_last_value_of_a_step_logged_twice() -> None:
    # the grad norm logged twice at the epoch's last step: the later value (halved with the loss) is the one read
    run = Run()
    run.add_series(Series("loss", [1, 2, 3, 4], [1.0, 1.0, 0.5, 1.0], "run/train.log"))
    run.add_series(Series("grad_norm", [1, 2, 3, 3, 4], [30.0, 30.0, 30.0, 15.0, 30.0], "run/train.log"))
    run.add_series(Series("epoch", [1, 2, 3, 4], [0.4, 0.8, 1.0, 1.4], "run/train.log"))
    run.finalize()
    (f,) = accumulation.detect_partial_cycle_at_epoch_end(run)
    assert f.step == 3 and f.numbers["grad_ratio"] == 0.5


def test_partial_cycle_at_epoch_end_silent_on_an_easy_batch_or_off_the_epoch_end() -> None:
    epoch = [0.4, 0.8, 1.0, 1.4]
    # the loss dips at the epoch's end but the grad norm does not follow it
    assert accumulation.detect_partial_cycle_at_epoch_end(_epoch_run([1.0, 1.0, 0.5, 1.0], [30, 30, 27, 30],
                                                                     epoch)) == []
    # both halve together, but mid-epoch
    assert accumulation.detect_partial_cycle_at_epoch_end(_epoch_run([1.0, 1.0, 0.5, 1.0], [30, 30, 15, 30],
                                                                     [0.2, 0.4, 0.6, 0.8])) == []
    # a falling run: the neighbours disagree, the dip is the trend
    assert accumulation.detect_partial_cycle_at_epoch_end(_epoch_run([2.0, 1.4, 0.7, 0.6], [30, 20, 10, 9],
                                                                     epoch)) == []


def test_heldout_nonfinite_fires_where_validation_goes_nan_while_training_stays_finite() -> None:
    held = 0.9 + 0.1 * np.exp(-T / 300)
    held[T >= 300] = np.nan  # every evaluation from step 349 on (make_run evaluates every 50 steps from 49)
    (f,) = data.detect_heldout_nonfinite(make_run(eval_loss=held))
    assert f.cause == "data_pipeline_bug" and f.step == 349 and f.strength == 0.5


def test_heldout_nonfinite_silent_when_training_goes_nan_too_or_validation_is_finite() -> None:
    held = 0.9 + 0.1 * np.exp(-T / 300)
    assert data.detect_heldout_nonfinite(make_run(eval_loss=held)) == []
    a = healthy_arrays()
    a["loss"][600:] = np.nan  # the train loss follows: an op or an overflow, not the held-out data
    held[T >= 300] = np.nan
    assert data.detect_heldout_nonfinite(make_run(a, eval_loss=held)) == []


def test_heldout_nonfinite_is_only_listed_when_the_train_loss_jumps_at_that_evaluation() -> None:
    # the held-out loss goes NaN at step 349; the train loss, ~1.1 there, is 2x that at the next logged step and
    # stays finite: the model itself is leaving its range, so the held-out data is one reading of several
    held = 0.9 + 0.1 * np.exp(-T / 300)
    held[T >= 300] = np.nan
    a = healthy_arrays()
    a["loss"][350:] *= 2.0
    (f,) = data.detect_heldout_nonfinite(make_run(a, eval_loss=held))
    assert f.step == 349 and f.strength == 0.35 and f.numbers["train_jump_after"]
    assert any("jumps to" in e and "at step 350" in e for e in f.evidence)


def test_heldout_nonfinite_keeps_its_strength_through_train_noise() -> None:
    # a 10 % step in the train loss after the evaluation is within minibatch noise, not a jump (JUMP_RISE 1.25)
    held = 0.9 + 0.1 * np.exp(-T / 300)
    held[T >= 300] = np.nan
    a = healthy_arrays()
    a["loss"][350:] *= 1.1
    (f,) = data.detect_heldout_nonfinite(make_run(a, eval_loss=held))
    assert f.strength == 0.5 and not f.numbers["train_jump_after"]


def test_heldout_only_nan_lists_an_eval_path_op_below_the_data() -> None:
    from traindoc.diagnosis import unexplained_nan
    from traindoc.evidence.detectors import numerics

    held = 0.9 + 0.1 * np.exp(-T / 300)
    held[T >= 300] = np.nan
    (f,) = numerics.detect_nan_inf(make_run(eval_loss=held))
    assert f.step == 349 and f.strength == 0.3 and f.numbers["heldout_only"]
    assert unexplained_nan.unexplained([f], []) is None  # the train loss never went non-finite
    a = healthy_arrays()
    a["loss"][350:] *= 2.0  # the train loss jumps at that evaluation: the op is weaker too
    assert numerics.detect_nan_inf(make_run(a, eval_loss=held))[0].strength == 0.2
    assert numerics.detect_nan_inf(make_run(eval_loss=0.9 + 0.1 * np.exp(-T / 300))) == []


# ------------------------------------------------------------------------- a stall while the warmup raises the LR


def _warmup_run(acc: np.ndarray, peak: float = 0.4, warm: int = 500) -> Run:
    """An SGD-like run: the LR warms up linearly to `peak` over `warm` steps then stays; a training accuracy."""
    run = Run()
    run.add_series(Series("lr", T, peak * np.minimum(1.0, (T + 1) / warm), "run/train.log"))
    run.add_series(Series("accuracy", T, acc, "run/train.log"))
    return run.finalize()


def test_stall_during_warmup_fires_where_training_stops_improving() -> None:
    # accuracy climbs to 0.16 by step 250 (LR 0.2), then slips to 0.15 while the LR goes on to 0.4 and stays
    acc = np.concatenate([np.linspace(0.01, 0.16, 250), np.linspace(0.16, 0.15, 250), np.full(N - 500, 0.15)])
    acc = acc + 0.003 * np.sin(T / 7.0)
    f = fire(optimisation.detect_stall_during_warmup, _warmup_run(acc))
    assert f.cause == "lr_too_high" and 240 <= f.step <= 300 and f.strength == 0.5
    # the real log: GluonCV MobileNet0.25 on ImageNet, one GPU with the 8-GPU LR 0.4 (maintainer: use 0.05)
    from traindoc.ingest.loader import load_run
    root = Path(__file__).parent / "corpus" / "realworld" / "gluoncv-822-mobilenet025-lr04-one-gpu"
    f = fire(optimisation.detect_stall_during_warmup, load_run([root / "run"]))
    assert f.numbers["lr_peak"] == pytest.approx(0.4, abs=1e-3) and f.numbers["best"] < 0.2


def test_stall_during_warmup_silent_when_training_goes_on_or_is_done() -> None:
    # a healthy run keeps improving through and after the warmup
    assert optimisation.detect_stall_during_warmup(_warmup_run(0.8 * (1 - np.exp(-T / 300)))) == []
    # a fine-tune that is already trained (97 %) levels off during the warmup: nothing left to learn
    done = np.concatenate([np.linspace(0.90, 0.97, 200), np.full(N - 200, 0.97)])
    assert optimisation.detect_stall_during_warmup(_warmup_run(done)) == []
    # the same stall with no warmup (the LR constant from the start) is not this reading
    acc = np.concatenate([np.linspace(0.01, 0.16, 250), np.linspace(0.16, 0.15, 250), np.full(N - 500, 0.15)])
    run = _warmup_run(acc, warm=1)
    assert optimisation.detect_stall_during_warmup(run) == []


def test_lr_too_high_reads_a_trainers_nan_guard_after_the_last_loss() -> None:
    # fastText#1063: "Progress: 0.2% ... lr: 0.898591 avg.loss: 114.7" then EncounteredNaNError, never a NaN value
    def guarded(event_step: int) -> Run:
        run = Run()
        run.add_series(Series("loss", np.array([2, 4, 6]), np.array([120.0, 118.0, 114.7]), "run/train.log"))
        run.add_series(Series("lr", np.array([2, 4, 6]), np.array([0.9, 0.9, 0.9]), "run/train.log"))
        run.events = [LogEvent("error", "what():  Encountered NaN.", event_step, "nan_loss", "run/train.log", 5)]
        return run.finalize()

    f = fire(optimisation.detect_lr_too_high, guarded(6))
    assert f.step == 6 and f.strength >= 0.6 and any("non-finite loss" in e for e in f.evidence)
    # the loss went on after the message: a skipped batch, not a stopped run; the LR alone stays a candidate
    later = optimisation.detect_lr_too_high(guarded(2))
    assert later and later[0].strength <= 0.45 and not any("non-finite loss" in e for e in later[0].evidence)


_NO_ZERO_GRAD = ("def train(model, opt, batches):\n    for b in batches:\n        loss = model(b)\n"
                 "        loss.backward()\n        opt.step()\n")


def test_code_zero_grad_missing_confirmed_by_per_parameter_norms_that_grow(tmp_path) -> None:
    """Only per-parameter grad norms logged (Lightning's grad_2.0_norm/<param>): their L2 total growing >= 10x is
    the summed buffer's symptom, as a logged total is (0.8); per-parameter norms that stay level leave the code's
    0.5."""
    code = tmp_path / "train.py"
    code.write_text(_NO_ZERO_GRAD)
    t = np.arange(N, dtype=float)
    loss = 2.0 * np.exp(-t / 80)
    grow = {"loss": loss, "grad_2.0_norm/fc1.weight": 0.5 + 0.2 * t, "grad_2.0_norm/fc2.weight": 0.3 + 0.1 * t}
    f = code_lint.detect_code_zero_grad_missing(make_run(grow, code_files=[str(code)]))
    assert f and f[0].strength == 0.8 and "grad_norm grew" in f[0].evidence[1], f
    level = {"loss": loss, "grad_2.0_norm/fc1.weight": np.full(N, 0.5), "grad_2.0_norm/fc2.weight": np.full(N, 0.3)}
    f = code_lint.detect_code_zero_grad_missing(make_run(level, code_files=[str(code)]))
    assert f and f[0].strength == 0.5 and len(f[0].evidence) == 1, f


def test_code_zero_grad_missing_confirmed_by_a_loss_that_degrades(tmp_path) -> None:
    """No grad norm logged: the code site plus a loss that ends >= 1.5x its minimum (from step 60 on the sum of
    gradients overshoots) is the confirmed reading; the same code beside a loss that keeps falling stays at 0.5."""
    code = tmp_path / "train.py"
    code.write_text(_NO_ZERO_GRAD)
    t = np.arange(N, dtype=float)
    degrading = np.where(t < 60, 2.0 - t / 60, 1.0 + (t - 60) / (N - 60))  # min 1.0 at step 60, ends ~2
    f = code_lint.detect_code_zero_grad_missing(make_run({"loss": degrading}, code_files=[str(code)]))
    assert f and f[0].strength >= 0.7 and "2.0x its minimum 1 (step 60)" in f[0].evidence[-1], f
    falling = 2.0 * np.exp(-t / 80)
    f = code_lint.detect_code_zero_grad_missing(make_run({"loss": falling}, code_files=[str(code)]))
    assert f and f[0].strength == 0.5 and len(f[0].evidence) == 1, f
    blown = degrading.copy()
    blown[N // 2:] = np.nan
    f = code_lint.detect_code_zero_grad_missing(make_run({"loss": blown}, code_files=[str(code)]))
    assert f and f[0].strength >= 0.7 and f"non-finite at step {N // 2}" in f[0].evidence[-1], f


def test_code_zero_grad_missing_confirmed_by_a_loss_that_never_leaves_chance(tmp_path) -> None:
    """The code site plus a loss at chance ln(10) from the first logged point to the last, with the accuracy at 1/10
    (the run never learned: realworld g18-standalone-dl-assignment4, zero_grad once per epoch, a CIFAR-10 CNN pinned at
    2.30): confirmed, citing the chance level; the same code beside a loss that falls from ln(10) to half of it and
    then stalls (it learned; a stall alone is no harm) stays at 0.5."""
    code = tmp_path / "train.py"
    code.write_text(_NO_ZERO_GRAD)
    t = np.arange(N, dtype=float)
    rng = np.random.default_rng(0)
    chance = np.log(10) + 0.002 * rng.standard_normal(N)
    acc = 0.1 + 0.003 * rng.standard_normal(N)
    f = code_lint.detect_code_zero_grad_missing(make_run({"loss": chance, "accuracy": acc}, code_files=[str(code)]))
    assert f and f[0].strength == code_lint.CODE_ZERO_GRAD_WITH_LOSS, f
    assert "chance level ln(10)" in f[0].evidence[-1] and f"to {N - 1}" in f[0].evidence[-1], f
    stalls = np.log(10) * (0.5 + 0.5 * np.exp(-t / 50))
    learned = np.minimum(0.9, 0.1 + 0.8 * (1 - np.exp(-t / 50)))
    f = code_lint.detect_code_zero_grad_missing(make_run({"loss": stalls, "accuracy": learned},
                                                         code_files=[str(code)]))
    assert f and f[0].strength == 0.5 and len(f[0].evidence) == 1, f


def test_lr_rising_only_after_the_nan_is_no_lead() -> None:
    # A warmup logged beside a loss that is finite once and NaN from the next line (paddledet#5337's 8.3e-5 ->
    # 8.8e-5): the LR points that show the ramp come after the NaN, so "the LR was still rising at the NaN" rests on
    # one point before it. Counting the ramp across the NaN was measured (2026-12-07, session 29) on the development
    # stacks and real-world logs: it adds one lr_too_high run and five float16 / op runs (Flax and plain PyTorch
    # float16, two plain PyTorch op faults, Randeng-T5 in float16), whose early NaN sits in their warmup as well.
    run = Run()
    st = np.arange(0, 80, 20)
    run.add_series(Series("loss", st, np.array([24.06, np.nan, np.nan, np.nan]), "run/train.log"))
    run.add_series(Series("lr", st, np.array([8.3e-5, 8.5e-5, 8.7e-5, 8.8e-5]), "run/train.log"))
    run.finalize()
    ctx = context.nan_context(run)
    assert ctx is not None and ctx.step == 20 and ctx.lr_rising is None and not ctx.lr_lead


def _climb_into_nan_run(first_epoch: int) -> Run:
    """An epoch-per-line excerpt whose loss steps up 2.5x and then turns NaN for good, no LR or precision stated
    (the shape of kvfrans/variational-autoencoder#5), starting at `first_epoch`."""
    loss = [74217.0, 78043.0, 77014.0, 225426.0, 191079.0] + [np.nan] * 6
    st = np.arange(len(loss)) + first_epoch
    run = Run()
    run.add_series(Series("loss", st, np.array(loss), "run/train.log"))
    run.epoch_starts = [(int(s), int(s)) for s in st]
    return run.finalize()


def test_climb_into_nan_in_a_late_excerpt_is_listed_not_confirmed() -> None:
    # the excerpt starts in epoch 427: a whole epoch (here hundreds) ran at the LR before the climb, so the climb
    # leaves the LR first at the prior's level (0.55, as nan_prior.rose_into_nan does), not confirmed
    f = fire(optimisation.detect_lr_too_high, _climb_into_nan_run(427))
    assert f.strength == optimisation.LATE_CLIMB_STRENGTH
    assert any("starts in epoch 427" in e for e in f.evidence)


def test_climb_into_nan_from_the_start_stays_the_lrs() -> None:
    # the same climb from epoch 1: nothing shows the run stable at its LR before it, the climb is the LR's lead
    f = fire(optimisation.detect_lr_too_high, _climb_into_nan_run(1))
    assert f.strength >= 0.75
    assert not any("starts in epoch" in e for e in f.evidence)


def test_a_compounding_loss_names_which_grad_norms_the_log_lacks() -> None:
    """The loss-only explosion reading says "no grad norm is logged" only where none is: a log of per-parameter norms
    (Ignite's grads_norm/<param>) holds them, and the evidence says that their total is not read."""
    steps = np.arange(1, 13)
    loss = 0.5 * 2.0 ** steps  # 2x per point: compounding (>= 1.5x each, >= 1000x in all, evidence/growth.py)
    bare = Run()
    bare.add_series(Series("loss", steps, loss, "run/train.log"))
    (f,) = optimisation.detect_grad_explosion(bare.finalize())
    assert "no grad norm is logged" in f.evidence[0]
    per_param = Run()
    per_param.add_series(Series("loss", steps, loss, "run/train.log"))
    for p in ("fc1/weight", "fc2/weight"):  # Ignite's GradsScalarHandler names
        per_param.add_series(Series(f"grads_norm/{p}", steps, np.full(steps.size, 0.3), "run/train.log"))
    (f,) = optimisation.detect_grad_explosion(per_param.finalize())
    assert "only per-parameter grad norms are logged" in f.evidence[0]
