"""The grad norm phase-locked to an accumulation cycle (evidence/detectors/accumulation.py:
detect_grad_norm_phase_locked), and 16-bit weights read from a printed model size (evidence/precision.py:
sixteen_bit_weights). Fires/silent tests on constructed runs and on development corpus runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from traindoc.evidence.detectors import accumulation, numerics
from traindoc.evidence.precision import sixteen_bit_weights
from traindoc.ingest.loader import load_run
from traindoc.ingest.model import ConfigValue, Run, Series

REALLIB = Path(__file__).parent / "corpus" / "reallib"


def accum_norms(k: int, steps: int, seed: int) -> np.ndarray:
    """Per-step grad norms of a loop that clears the buffer every k micro-batches and steps on each one: the norm of
    the sum of the cycle's gradients so far (a shared direction plus per-batch noise)."""
    rng = np.random.default_rng(seed)
    mean = np.array([1.0, 0.0, 0.0, 0.0])
    out, buf = [], np.zeros(4)
    for t in range(steps):
        if t % k == 0:
            buf = np.zeros(4)
        buf = buf + mean + 0.6 * rng.standard_normal(4)
        out.append(float(np.linalg.norm(buf)))
    return np.array(out)


def grad_run(norms: np.ndarray, every: int, config: dict[str, object] | None = None,
             eval_every: int | None = None, epoch_len: int | None = None) -> Run:
    steps = np.arange(1, norms.size + 1)
    keep = (steps % every == 0) | (steps == 1)
    run = Run()
    run.add_series(Series("grad_norm", steps[keep], norms[keep], "run/metrics.jsonl"))
    run.add_series(Series("loss", steps[keep], np.linspace(2.0, 1.5, int(keep.sum())), "run/metrics.jsonl"))
    if eval_every:
        e = np.arange(eval_every, norms.size + 1, eval_every)
        run.add_series(Series("eval_loss", e, np.linspace(2.0, 1.6, e.size), "run/metrics.jsonl"))
    if epoch_len:
        run.add_series(Series("epoch", steps[keep], ((steps[keep] - 1) // epoch_len).astype(float),
                              "run/metrics.jsonl"))
    for i, (k, v) in enumerate((config or {}).items(), 1):
        run.config[k] = ConfigValue(k, v, "run/config.yaml", i, "yaml", str(v))
    return run.finalize()


@pytest.mark.parametrize("seed", range(4))
def test_phase_locked_fires_on_an_off_beat_accumulation_cycle(seed: int) -> None:
    # k = 8 sampled every 5 steps: phases 0, 5, 2, 7, 4 ... no monotone ramp shows, the fold lines them up
    f = accumulation.detect_grad_norm_phase_locked(grad_run(accum_norms(8, 300, seed), 5))
    assert f and f[0].cause == "grad_accum_bug" and f[0].numbers["period"] == 8
    assert f[0].strength == pytest.approx(0.55) and f[0].step == 1


def test_phase_locked_confirms_a_stated_accumulation_factor_and_defers_to_validation() -> None:
    norms = accum_norms(12, 500, 0)  # k = 12 sampled every 7 steps: off-beat
    f = accumulation.detect_grad_norm_phase_locked(grad_run(norms, 7, {"gradient_accumulation_steps": 12}))
    assert f and f[0].numbers["period"] == 12 and f[0].strength == pytest.approx(0.65)
    f = accumulation.detect_grad_norm_phase_locked(grad_run(norms, 7, eval_every=12))
    assert f and f[0].strength == pytest.approx(0.4)  # validation every 12 clears a never-cleared loop the same way


@pytest.mark.parametrize("seed", range(4))
def test_phase_locked_silent_on_a_fresh_minibatch_gradient(seed: int) -> None:
    rng = np.random.default_rng(seed)
    noisy = np.exp(0.5 * rng.standard_normal(300)) * (1 + np.exp(-np.arange(300) / 60))
    assert accumulation.detect_grad_norm_phase_locked(grad_run(noisy, 5)) == []
    growing = np.exp(np.arange(300) / 40.0) * np.exp(0.3 * rng.standard_normal(300))  # an explosion: a trend
    assert accumulation.detect_grad_norm_phase_locked(grad_run(growing, 5)) == []


@pytest.mark.parametrize("seed", range(4))
def test_phase_locked_folds_a_growing_grad_norm_on_its_detrended_log(seed: int) -> None:
    """Stale gradients re-applied push the weights where every gradient is larger: the cycle rides on a 20x drift
    (plain_pytorch-grad_accum_bug-s2: 1.07 -> 114 with k = 8 logged every 5 steps). The drift outranks the phase;
    taken out, the 8-step cycle lines up, from the first logged step."""
    drift = np.exp(np.arange(300) / 100.0)
    f = accumulation.detect_grad_norm_phase_locked(grad_run(accum_norms(8, 300, seed) * drift, 5))
    assert f and f[0].numbers["period"] == 8 and f[0].numbers["detrended"] and f[0].step == 1
    assert f[0].strength == pytest.approx(0.55) and "growth is taken out" in f[0].evidence[0]


def test_phase_locked_detrending_silent_without_a_cycle_or_a_growth() -> None:
    rng = np.random.default_rng(7)
    # a growing grad norm with heavy batch noise and no cycle: the detrended fold finds nothing
    for seed in range(4):
        r = np.random.default_rng(seed)
        growing = np.exp(np.arange(300) / 100.0) * np.exp(0.5 * r.standard_normal(300))
        assert accumulation.detect_grad_norm_phase_locked(grad_run(growing, 5)) == []
    # a falling grad norm (a healthy run, 20x down) is detrended too, and has no cycle to find
    falling = np.exp(-np.arange(300) / 100.0) * np.exp(0.3 * rng.standard_normal(300))
    assert accumulation.detect_grad_norm_phase_locked(grad_run(falling, 5)) == []


@pytest.mark.parametrize("seed", range(4))
def test_phase_locked_folds_a_collapsing_grad_norm_on_its_detrended_log(seed: int) -> None:
    """The oversized steps wreck the run and its grad norm collapses 20x (plain_pytorch-grad_accum_bug-s1: 0.64 ->
    ~0.02 with k = 8 logged every 5 steps): the drift outranks the phase the other way; taken out, the cycle shows."""
    drift = np.exp(-np.arange(300) / 100.0)
    f = accumulation.detect_grad_norm_phase_locked(grad_run(accum_norms(8, 300, seed) * drift, 5))
    assert f and f[0].numbers["period"] == 8 and f[0].numbers["detrended"] and f[0].step == 1
    assert f[0].strength == pytest.approx(0.55) and "collapse is taken out" in f[0].evidence[0]


def test_phase_locked_rise_floor_keeps_uncorrelated_gradients() -> None:
    """Gradients with no shared direction: the sum of j grows as sqrt(j), the cycle's last third ~1.9x its first
    for k = 8, under the old 2x floor and over FOLD_RISE."""
    rng = np.random.default_rng(3)
    out, buf = [], np.zeros(16)
    for t in range(400):
        buf = np.zeros(16) if t % 8 == 0 else buf
        buf = buf + rng.standard_normal(16)
        out.append(float(np.linalg.norm(buf)))
    f = accumulation.detect_grad_norm_phase_locked(grad_run(np.array(out), 5))
    assert f and f[0].numbers["period"] == 8 and 1.6 <= f[0].numbers["phase_rise"] < 2.2


def test_phase_locked_reads_a_held_value_once() -> None:
    """A correct accumulation loop (k = 8) whose grad norm is measured once per update but logged at every
    micro-batch (Lightning's per-batch log under manual optimisation): each value repeats 8 times. Read point by
    point, the blocks handed the permutation test 8x the independent points the series holds and it fired at some
    40-60-step period on 3 of these 20 series; read once per value it fires on none."""
    fired = []
    for seed in range(20):
        rng = np.random.default_rng(seed)
        per_update = np.exp(0.4 * rng.standard_normal(91)) * (1 + np.exp(-np.arange(91) / 20))
        if accumulation.detect_grad_norm_phase_locked(grad_run(np.repeat(per_update, 8)[:720], 1)):
            fired.append(seed)
    assert fired == []
    st, v = accumulation._distinct(np.arange(6), np.array([1.0, 1.0, 2.0, 2.0, 1.0, 3.0]))
    assert st.tolist() == [0, 2, 4, 5] and v.tolist() == [1.0, 2.0, 1.0, 3.0]


@pytest.mark.parametrize("seed", range(3))
def test_phase_locked_silent_when_the_cycle_is_the_epoch(seed: int) -> None:
    """A 12-step cycle sampled off-beat (every 7 steps) is read as accumulation (fires), unless the log's epochs are
    12 steps long: a grad norm that follows the epoch is data order (an unshuffled loader, a short last batch), not
    a buffer cleared every k steps. A stated accumulation factor of 12 still wins."""
    norms = accum_norms(12, 500, seed)
    f = accumulation.detect_grad_norm_phase_locked(grad_run(norms, 7))
    assert f and f[0].numbers["period"] == 12
    assert accumulation.detect_grad_norm_phase_locked(grad_run(norms, 7, epoch_len=12)) == []
    f = accumulation.detect_grad_norm_phase_locked(grad_run(norms, 7, {"gradient_accumulation_steps": 12},
                                                            epoch_len=12))
    assert f and f[0].strength == pytest.approx(0.65)
    assert accumulation.detect_grad_norm_phase_locked(grad_run(norms, 7, epoch_len=70))  # another epoch length


def test_phase_locked_silent_where_the_ramps_show_directly() -> None:
    # logged every step, the sawtooth's ramps are visible: detect_zero_grad_sawtooth reads them, not the fold
    assert accumulation.detect_grad_norm_phase_locked(grad_run(accum_norms(8, 300, 0), 1)) == []


def test_phase_locked_on_development_corpus_runs() -> None:
    f = accumulation.detect_grad_norm_phase_locked(load_run([REALLIB / "plain_pytorch-grad_accum_bug-s4" / "run"]))
    assert f and f[0].numbers["period"] == 8
    # the grad norm grows 5.8x while thrashing 1 <-> 114: the cycle shows once the growth is taken out
    f = accumulation.detect_grad_norm_phase_locked(load_run([REALLIB / "plain_pytorch-grad_accum_bug-s2" / "run"]))
    assert f and f[0].numbers["period"] == 8 and f[0].numbers["detrended"]
    for name in ("hf_trainer-grad_explosion-s2", "plain_pytorch-grad_explosion-s1", "lightning-grad_explosion-s1"):
        assert accumulation.detect_grad_norm_phase_locked(load_run([REALLIB / name / "run"])) == []
    for name in ("plain_pytorch-healthy-s1", "lightning-healthy-s0", "plain_pytorch-zero_grad_missing-s3"):
        assert accumulation.detect_grad_norm_phase_locked(load_run([REALLIB / name / "run"])) == []


def size_run(total: int, size_mb: float, nan_from: int | None = None) -> Run:
    run = Run()
    run.meta["param_summary"] = {"total": total, "size_mb": size_mb, "source": "run/train.log"}
    loss = np.linspace(2.0, 1.5, 30)
    if nan_from is not None:
        loss[nan_from:] = np.nan
    run.add_series(Series("loss", np.arange(4, 154, 5), loss, "run/metrics.csv"))
    return run.finalize()


def test_sixteen_bit_weights_from_the_printed_size() -> None:
    assert sixteen_bit_weights(size_run(5800, 0.012)) is not None  # 2.1 bytes per parameter
    assert sixteen_bit_weights(size_run(5800, 0.023)) is None  # 4 bytes: fp32 (or a mixed mode)
    assert sixteen_bit_weights(size_run(500, 0.001)) is None  # too small for the rounding to allow a reading


def test_fp16_overflow_lists_a_nan_in_16_bit_weights_and_not_in_32_bit_ones() -> None:
    f = numerics.detect_fp16_overflow(size_run(5800, 0.012, nan_from=0))
    assert f and f[0].strength == pytest.approx(0.45) and f[0].step == 4
    f = numerics.detect_fp16_overflow(size_run(5800, 0.023, nan_from=0))
    assert f and f[0].strength < 0.45
    assert numerics.detect_fp16_overflow(size_run(5800, 0.012)) == []  # 16-bit weights that train: no finding


def test_lightning_summary_size_is_read() -> None:
    run = load_run([REALLIB / "lightning-fp16_overflow-s0" / "run"])
    assert run.meta["param_summary"]["size_mb"] == pytest.approx(0.012)
    assert sixteen_bit_weights(run) is not None
    run = load_run([REALLIB / "lightning-grad_accum_bug-s0" / "run"])
    assert run.meta["param_summary"]["size_mb"] == pytest.approx(0.023) and sixteen_bit_weights(run) is None


HELD = Path(__file__).parent / "data" / "held_grad_norm"


def test_phase_locked_folds_a_held_measurement_in_its_own_units() -> None:
    """A correct Lightning manual-optimisation loop (accumulation 8, tests/userproj lightning_code after the
    grad_accum_bug fix; the data folder's README) measures the grad norm once per update and logs it held at every
    micro-batch, so every measurement sits at one phase of the 8-step cycle. Folded at any period, a 9-step one
    swept the 80 updates in order and read the norm's slow drift (and each epoch's first, larger update: 63
    micro-batches carry 7 into the next epoch) as the accumulation cycle at 0.65; that retrain failed its verify on
    about 1 in 5 runs. Periods are now multiples of the held block: silent."""
    run = load_run([HELD / "lightning_manual_accum"])
    g = run.series("grad_norm")
    assert g is not None and accumulation._held_block(g.finite()[1]) == 8
    assert accumulation.detect_grad_norm_phase_locked(run) == []


@pytest.mark.parametrize("seed", range(3))
def test_phase_locked_still_reads_a_cycle_of_held_updates(seed: int) -> None:
    """A buffer cleared every 4 updates while each one steps, measured once per update and held over 8 logged
    micro-batches: the cycle is 4 x 8 = 32 logged steps and is still read."""
    held = np.repeat(accum_norms(4, 90, seed), 8)
    f = accumulation.detect_grad_norm_phase_locked(grad_run(held, 1))
    assert f and f[0].numbers["period"] == 32
    assert accumulation._held_block(held) == 8 and accumulation._held_block(accum_norms(4, 90, seed)) == 1
