"""A NaN with no lead out of a KL-divergence term or an adversarial player's loss (evidence/nan_objective.py): the
unguarded log there is the first reading, ahead of fp16 overflow; confirmed where a stable stretch rules the LR out,
below the report threshold from the first logged point. Fires on constructed runs at a known step and on real logs
(a VRNN's KLD term, a TensorFlow GAN tutorial, verl's GRPO KL);
silent where the NaN comes out of an ordinary loss, where a KL term only follows a NaN already elsewhere, where the
NaN recovers, and where a blow-up leads into it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from traindoc.diagnosis.unexplained_nan import OP_EVIDENCE, candidates, unexplained
from traindoc.evidence.detectors import numerics
from traindoc.evidence.nan_objective import log_objective
from traindoc.evidence.nan_prior import STABLE_POINTS, stable_before_nan
from traindoc.ingest.loader import load_run
from traindoc.ingest.model import Run, Series

REALWORLD = Path(__file__).parent / "corpus" / "realworld"
N = 12
NAN_AT = 9  # index of the first NaN; steps are 100, 200, ...


def make_run(series: dict[str, np.ndarray]) -> Run:
    run = Run()
    for name, v in series.items():
        run.add_series(Series(name, np.arange(1, len(v) + 1) * 100, v, "run/train.log", name))
    return run.finalize()


def steady(level: float, nan_from: int | None = NAN_AT) -> np.ndarray:
    v = level + 0.01 * np.sin(np.arange(N))  # steady: no blow-up, no climb
    if nan_from is not None:
        v[nan_from:] = np.nan
    return v


def test_a_kl_term_going_nan_after_a_stable_stretch_confirms_the_op() -> None:
    # NAN_AT finite points (>= STABLE_POINTS) at a steady loss before the NaN: the run was stable at its LR
    assert NAN_AT >= STABLE_POINTS
    run = make_run({"kld_loss": steady(2.8), "nll_loss": steady(75.0)})
    o = log_objective(run)
    assert o is not None and o.kind == "KL divergence" and o.terms == ["kld_loss"]
    assert stable_before_nan(run) is not None
    f = numerics.detect_nan_inf(run)[0]
    assert f.step == (NAN_AT + 1) * 100 and f.numbers["log_objective"]
    assert f.strength == pytest.approx(numerics.OBJECTIVE_STABLE) and f.strength >= OP_EVIDENCE
    assert any("the LR does not explain it" in e for e in f.evidence)
    fp = numerics.detect_fp16_overflow(run)[0]
    assert fp.strength < f.strength
    assert candidates(f)[0] == "nan_inf"
    assert unexplained([f], []) is None  # the NaN has its cause: no "cannot tell" summary


def test_a_kl_term_going_nan_from_the_first_point_stays_a_candidate() -> None:
    # never finite: nothing ran at the LR, and the data stand beside the op (OBJECTIVE_OP, below the threshold)
    run = make_run({"kld_loss": steady(2.8, 0), "nll_loss": steady(75.0, 0)})
    assert log_objective(run) is not None and stable_before_nan(run) is None
    f = numerics.detect_nan_inf(run)[0]
    assert f.numbers["nan_from_start"] and f.strength == pytest.approx(numerics.OBJECTIVE_OP) and f.strength < 0.5


def test_an_early_kl_nan_keeps_the_lr_first() -> None:
    # three finite points, no epoch marker, no LR: the LR-first reading (evidence/nan_prior.py), not confirmed
    run = make_run({"kld_loss": steady(2.8, 3), "nll_loss": steady(75.0, 3)})
    assert log_objective(run) is not None and stable_before_nan(run) is None
    assert numerics.detect_nan_inf(run)[0].strength < OP_EVIDENCE


def test_an_adversarial_pair_going_nan_after_a_stable_stretch_confirms_the_op() -> None:
    run = make_run({"d_loss": steady(-0.4), "g_loss": steady(-2.9)})
    o = log_objective(run)
    assert o is not None and o.kind == "adversarial"
    assert numerics.detect_nan_inf(run)[0].strength == pytest.approx(numerics.OBJECTIVE_STABLE)


# the confirmed ones ran an epoch or more at their LR before the NaN (a late excerpt); verl's single line is read as
# the first logged point, DeblurGAN's NaN comes one point after its first (the LR-first reading)
@pytest.mark.parametrize("entry, kind, confirmed", [("g6-vrnn-emited-2-kld-nll-nan-epoch3", "KL divergence", True),
                                                    ("g6-golbin-tf-tutorials-42-gan-tf-log-nan-epoch-564",
                                                     "adversarial", True),
                                                    ("verl-721-grpo-step59-all-nan", "KL divergence", False),
                                                    ("deblurgan-tf-11-wgan-gp-sqrt-nan", "adversarial", False)])
def test_real_logs_read_as_a_log_objective_nan(entry: str, kind: str, confirmed: bool) -> None:
    run = load_run([REALWORLD / entry / "run"])
    o = log_objective(run)
    assert o is not None and o.kind == kind
    f = numerics.detect_nan_inf(run)[0]
    assert f.numbers["log_objective"] and (f.strength >= OP_EVIDENCE) == confirmed


def test_silent_for_an_ordinary_loss() -> None:
    run = make_run({"seg_loss": steady(1.2), "cls_loss": steady(0.5)})
    assert log_objective(run) is None
    assert numerics.detect_nan_inf(run)[0].strength == pytest.approx(0.35)  # level: the logs cannot tell


def test_silent_when_the_kl_term_only_follows_a_nan_elsewhere() -> None:
    # the reconstruction term went NaN first; the KL term follows through the NaN weights
    run = make_run({"kld_loss": steady(2.8, NAN_AT + 1), "nll_loss": steady(75.0)})
    assert log_objective(run) is None


def test_silent_when_the_nan_recovers_or_a_blow_up_leads_into_it() -> None:
    kl = steady(2.8, None)
    kl[NAN_AT] = np.nan  # one skipped update, finite after
    assert log_objective(make_run({"kld_loss": kl, "nll_loss": steady(75.0, None)})) is None
    blow = steady(2.8)
    blow[NAN_AT - 2:NAN_AT] = [300.0, 3e4]  # a blow-up before the NaN: the instability's reading, not the op's
    run = make_run({"kld_loss": blow, "nll_loss": steady(75.0)})
    f = numerics.detect_nan_inf(run)[0]
    assert f.numbers["lr_lead"] and f.strength < numerics.OBJECTIVE_OP
