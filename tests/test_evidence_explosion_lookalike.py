"""A blow-up the LR does not explain lists the never-cleared gradient buffer beside the explosion
(evidence/detectors/accumulation.py: detect_explosion_zero_grad_lookalike, detect_explosion_accumulation_lookalike).
Fires/silent tests on constructed runs and on a development corpus run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from traindoc.evidence.detectors import accumulation
from traindoc.ingest.loader import load_run
from traindoc.ingest.model import ConfigValue, Run, Series

REALLIB = Path(__file__).parent / "corpus" / "reallib"
LOOKALIKES = (accumulation.detect_explosion_zero_grad_lookalike, accumulation.detect_explosion_accumulation_lookalike)


def blow_up(config: dict[str, object]) -> Run:
    """60 logged steps: a grad norm flat at ~1 for 20 points, then compounding x1.5 per point; the loss follows."""
    steps = np.arange(1, 301, 5)
    g = np.ones(steps.size)
    g[20:] = 1.5 ** np.arange(1, steps.size - 19)
    run = Run()
    run.add_series(Series("grad_norm", steps, g, "run/metrics.jsonl"))
    run.add_series(Series("loss", steps, 2.0 + 0.1 * np.log(g), "run/metrics.jsonl"))
    for i, (k, v) in enumerate(config.items(), 1):
        run.config[k] = ConfigValue(k, v, "run/config.yaml", i, "yaml", str(v))
    return run.finalize()


@pytest.mark.parametrize("detector", LOOKALIKES)
def test_lookalike_fires_on_a_blow_up_at_an_lr_in_range(detector) -> None:
    f = detector(blow_up({"optimizer": "sgd", "lr": 0.01}))
    assert f and f[0].strength == pytest.approx(accumulation.SUMMED_GRADIENTS)
    assert f[0].step == 96  # where the compounding starts: the last flat point, the first the growth leaves from
    assert f[0].numbers["listing"]  # one blow-up listed for both: ranking.LISTING's shared calibration


@pytest.mark.parametrize("detector", LOOKALIKES)
def test_lookalike_silent_when_the_lr_explains_it_or_nothing_blows_up(detector) -> None:
    assert detector(blow_up({"optimizer": "sgd", "lr": 5.0})) == []  # an LR far above SGD's range: the LR's reading
    assert detector(blow_up({})) == []  # no LR stated: nothing says the LR is in range
    calm = Run()
    calm.add_series(Series("grad_norm", np.arange(1, 301, 5), np.ones(60), "run/metrics.jsonl"))
    calm.add_series(Series("loss", np.arange(1, 301, 5), np.linspace(2.0, 1.0, 60), "run/metrics.jsonl"))
    calm.config["lr"] = ConfigValue("lr", 0.01, "run/config.yaml", 1, "yaml", "0.01")
    assert detector(calm.finalize()) == []


def test_lookalike_lists_zero_grad_missing_on_a_corpus_run() -> None:
    # optimizer.zero_grad() never called, SGD at lr 0.0795: the loss compounds like an explosion
    run = load_run([str(REALLIB / "plain_pytorch-zero_grad_missing-s2" / "run")])
    f = accumulation.detect_explosion_zero_grad_lookalike(run)
    assert f and f[0].cause == "zero_grad_missing"
