"""Per-layer gradient norms (ingest/names.py layer_grad_param, evidence/context.py layer_grad_norms) and the
vanishing-gradients detector that reads them (evidence/detectors/layer_grads.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from traindoc.evidence.context import layer_grad_norms
from traindoc.evidence.detectors.layer_grads import detect_layer_grad_decay, detect_layers_without_gradient
from traindoc.evidence.detectors.not_learning import SOLE_READING
from traindoc.ingest import load_run
from traindoc.ingest.model import Run, Series
from traindoc.ingest.names import canonical_metric, layer_grad_param

DATA = Path(__file__).parent / "data" / "layer_grads"
N = 200
T = np.arange(N)


def stall_loss(end: float) -> np.ndarray:
    """A cross-entropy from 3.2 settling at `end`, with 3 % multiplicative noise."""
    rng = np.random.default_rng(0)
    return (end + (3.2 - end) * np.exp(-T / 20)) * np.exp(0.03 * rng.standard_normal(N))


def layer_run(norms: np.ndarray, loss: np.ndarray, depth_names: bool = True, bias: np.ndarray | None = None) -> Run:
    """A run logging Lightning-style per-parameter grad norms: `norms[step, layer]` for layers net.0..net.{L-1}
    (a weight and a bias each; the bias 0.1x the weight unless `bias` is given), columns in the CSVLogger's sorted
    order, plus their total and the loss."""
    bias = norms * 0.1 if bias is None else bias
    run = Run()
    layers = norms.shape[1]
    names = sorted(f"net.{i}" for i in range(layers))
    for mod in names:
        i = int(mod.split(".")[1])
        run.add_series(Series(f"grad_2.0_norm/{mod}.weight", T, norms[:, i], "run/metrics.csv"))
        run.add_series(Series(f"grad_2.0_norm/{mod}.bias", T, bias[:, i], "run/metrics.csv"))
    total = np.sqrt((norms**2).sum(axis=1) * 1.01)
    run.add_series(Series(canonical_metric("grad_2.0_norm_total"), T, total, "run/metrics.csv", "grad_2.0_norm_total"))
    run.add_series(Series("loss", T, loss, "run/metrics.csv", "train_loss"))
    return run.finalize()


def geometric(layers: int, factor: float, onset: int = 0) -> np.ndarray:
    """Output layer ~1, each layer towards the input `factor` times smaller from step `onset` (1x before)."""
    rng = np.random.default_rng(1)
    depth = np.arange(layers)[::-1]  # the output layer last: depth 0
    per = np.where(T[:, None] >= onset, factor ** -depth[None, :], 0.5 + 0 * depth[None, :])
    return per * np.exp(0.2 * rng.standard_normal((N, layers)))


def test_layer_grad_param_reads_the_per_parameter_names_and_keeps_the_total() -> None:
    assert layer_grad_param("grad_2.0_norm/net.1.1.weight") == "net.1.1.weight"
    assert layer_grad_param("grad_inf_norm/model.layers.11.mlp.fc1.weight") == "model.layers.11.mlp.fc1.weight"
    assert layer_grad_param("train/grad_norm/encoder.0.weight") == "encoder.0.weight"
    for name in ("grad_2.0_norm_total", "grad_norm", "loss", "grad_norm/"):
        assert layer_grad_param(name) is None
    assert canonical_metric("grad_2.0_norm_total") == "grad_norm"


def test_layers_are_ordered_by_their_index_not_by_the_sorted_column_names() -> None:
    lg = layer_grad_norms(layer_run(geometric(12, 2.0), stall_loss(2.2)))
    assert lg is not None and lg.stack == "net"
    assert lg.blocks == [f"net.{i}" for i in range(12)]  # net.10 after net.9, not after net.1
    # the block norm is its weight's (the bias is left out)
    assert np.all(np.diff(np.median(lg.values, axis=0)) > 0)


def test_fires_when_the_input_side_vanishes_from_a_known_step_and_the_loss_stalls() -> None:
    # healthy for 40 steps, then each of 10 layers 7x below the next (the fixture's measured decay): the first
    # third is ~1e-6 of the last third's from step 40 on, 80 % of the run
    f = detect_layer_grad_decay(layer_run(geometric(10, 7.0, onset=40), stall_loss(2.2)))
    assert f and f[0].cause == "vanishing_gradients" and f[0].step == 40 and f[0].strength >= 0.5, f
    assert "net.0" in f[0].evidence[0] and "net.9" in f[0].evidence[0]
    assert "at 160 of 200 logged steps" in f[0].evidence[1]


def test_listed_only_when_the_loss_still_learns_well() -> None:
    f = detect_layer_grad_decay(layer_run(geometric(10, 7.0), stall_loss(0.9)))
    assert f and f[0].strength < 0.5, f


def test_silent_on_a_healthy_spread_of_ten_to_a_hundred_fold() -> None:
    # 1.7x per layer over 10 layers: the output layer ~100x the first, a normal spread; even with a stalled loss
    for factor in (1.3, 1.7):
        assert detect_layer_grad_decay(layer_run(geometric(10, factor), stall_loss(2.2))) == []


def test_silent_when_the_decay_is_transient() -> None:
    # vanishing only from step 120: 40 % of the run, not "most of it"
    assert detect_layer_grad_decay(layer_run(geometric(10, 7.0, onset=120), stall_loss(2.2))) == []


def test_silent_on_frozen_input_layers() -> None:
    norms = geometric(10, 1.5)
    norms[:, :4] = 0.0  # exactly zero: no gradient reaches them (frozen_params), not a decaying one
    assert detect_layer_grad_decay(layer_run(norms, stall_loss(2.2))) == []


def test_silent_without_per_layer_norms() -> None:
    run = Run()
    run.add_series(Series("grad_norm", T, np.full(N, 1.0), "run/metrics.csv"))
    run.add_series(Series("loss", T, stall_loss(2.2), "run/metrics.csv"))
    assert detect_layer_grad_decay(run.finalize()) == []


def test_fires_on_a_real_lightning_run_with_the_vanishing_fault() -> None:
    """tests/data/layer_grads (README): 8 sigmoid layers without LayerNorm, Lightning's grad_norm utility logged;
    the total grad norm looks normal (~1), the first hidden layer's is ~1e-6 of the output layer's."""
    run = load_run([DATA / "vanishing"])
    g = run.series("grad_norm")
    assert g is not None and float(np.median(g.finite()[1])) > 1e-2  # the global-norm rule cannot see it
    f = detect_layer_grad_decay(run)
    assert f and f[0].strength >= 0.5 and f[0].step == 0, f
    assert "net.1 " in f[0].evidence[0] and "net.9 " in f[0].evidence[0]
    assert f[0].numbers["share_below"] >= 0.9 and f[0].numbers["ratio_median"] < 1e-4


def test_silent_on_the_same_real_run_with_its_layer_norm_on() -> None:
    run = load_run([DATA / "layer_norm"])
    assert layer_grad_norms(run) is not None
    assert detect_layer_grad_decay(run) == []


# ------------------------------------------------------------------------------ layers with no gradient (frozen)


def frozen_input_side(layers: int = 10, frozen: int = 6) -> np.ndarray:
    norms = geometric(layers, 1.5)
    norms[:, :frozen] = 0.0  # requires_grad=False: the logger writes 0.0 at every step
    return norms


def test_zero_layers_fire_frozen_params_when_the_loss_barely_falls() -> None:
    # the loss falls ~10 % (3.2 -> 2.7): the output follows its input, so no dead layer; 6 of 10 layers never change
    f = detect_layers_without_gradient(layer_run(frozen_input_side(), stall_loss(2.7)))
    assert f and f[0].cause == "frozen_params" and f[0].strength >= 0.5 and f[0].step == 0, f
    assert "6 of 10 layers" in f[0].evidence[0] and "net.0..net.5" in f[0].evidence[0]
    assert "net.6..net.9 get gradient" in f[0].evidence[0]


def test_zero_layers_listed_below_half_while_the_loss_does_not_move_and_a_bias_still_gets_gradient() -> None:
    # a flat loss, and net.5's weight at 0 beside a live bias: what the layer after a dead ReLU layer shows (its input
    # is 0, its error signal is not), so the freeze is listed, not asserted
    norms = frozen_input_side()
    bias = norms * 0.1
    bias[:, 5] = 0.05
    f = detect_layers_without_gradient(layer_run(norms, stall_loss(3.2), bias=bias))
    assert f and f[0].strength < 0.5 and "dead units" in f[0].evidence[-1], f
    # the same flat loss with weights and biases at 0 together: whole modules out of training, no dead layer
    f = detect_layers_without_gradient(layer_run(frozen_input_side(), stall_loss(3.2)))
    assert f and f[0].strength >= 0.5 and "whole modules" in f[0].evidence[-1], f


def test_zero_layers_beside_a_loss_that_learns_are_a_frozen_backbone_by_design() -> None:
    f = detect_layers_without_gradient(layer_run(frozen_input_side(), stall_loss(0.9)))
    assert f and f[0].strength <= 0.25, f


def test_silent_on_tiny_but_nonzero_layers_and_on_rounded_logs() -> None:
    # vanishing, not frozen: 1e-6 of the output side is still a gradient
    assert detect_layers_without_gradient(layer_run(geometric(10, 7.0), stall_loss(2.7))) == []
    # a log printing 4 decimals writes a vanishing 3e-5 as 0.0000: its zeros prove nothing
    rounded = layer_run(frozen_input_side(), stall_loss(2.7))
    for series in rounded.metrics.values():
        series.values[:] = np.round(series.values, 4)
    assert detect_layers_without_gradient(rounded) == []
    # every layer at zero is the global rule's case (detect_frozen_params), not this one
    assert detect_layers_without_gradient(layer_run(np.zeros((N, 10)), stall_loss(2.7))) == []


def test_real_frozen_and_dead_runs_are_told_apart_by_their_biases() -> None:
    """tests/data/layer_grads (README): a plain PyTorch loop whose first 4 of 5 Linear layers are frozen, at chance
    (lr 3e-4) and learning a little (lr 0.05), and the same net with its second hidden layer's ReLUs dead."""
    from traindoc.diagnosis.ranking import rank_causes
    from traindoc.evidence import run_detectors

    def top(name: str) -> list[tuple[str, float]]:
        run = load_run([DATA / name])
        return [(c.cause, c.confidence) for c in rank_causes(run_detectors(run), run)]

    chance = top("frozen_at_chance")  # weights and biases of net.0..net.6 at 0: dead units ruled out
    assert chance[0][0] == "frozen_params", chance
    sole = [f for f in run_detectors(load_run([DATA / "frozen_at_chance"])) if f.cause == "frozen_params"]
    assert any(f.strength == SOLE_READING and "rules out every other look-alike" in f.evidence[-1] for f in sole), sole
    little = load_run([DATA / "frozen_learns_little"])
    f = detect_layers_without_gradient(little)
    assert f and f[0].strength >= 0.5 and "net.0..net.6" in f[0].evidence[0], f
    dead = top("dead_layer")  # net.4's weight at 0, its bias live: both readings listed, neither asserted
    assert {c for c, _ in dead[:2]} == {"frozen_params", "dead_units"} and dead[0][1] < 0.5, dead
