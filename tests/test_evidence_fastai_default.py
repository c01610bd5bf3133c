"""fastai's default optimiser (evidence/context.py: framework_optimizer): a fastai v1/v2 fit-family call read from
the log (ingest/readers/_training_call.py) runs Adam unless opt_func says otherwise, so its LR is judged against
Adam's range, as an HF Trainer run's is against AdamW's. Fires on a constructed run whose loss blows up at a known
step and on the fastai docs' lr=1 demonstration; silent at fastai's usual LRs, on a run that trains well at 1e-2,
and on fastai 0.7's `fit(lrs, n_cycle)` (its default was SGD with momentum)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from traindoc.evidence.context import framework_optimizer, optimizer_family
from traindoc.evidence.detectors import optimisation
from traindoc.ingest.loader import load_run
from traindoc.ingest.model import ConfigValue, Run, Series
from traindoc.ingest.readers._training_call import FASTAI_CALL, call_config, record

REALWORLD = Path(__file__).parent / "corpus" / "realworld"
TABLE = "epoch train_loss valid_loss accuracy time\n"


def fastai_run(call: str, loss: list[float]) -> Run:
    run = Run()
    pairs = call_config(call)
    assert pairs is not None
    record(pairs, run, "run/command.txt", 1)
    steps = np.arange(1, len(loss) + 1)
    run.add_series(Series("loss", steps, np.array(loss), "run/train.log", "train_loss"))
    return run.finalize()


BLOW_UP = [2.3, 1.9, 1.6, 1.4, 9.0, 40.0, 150.0, 600.0, 2400.0, 9000.0]  # lowest at step 4, climbs after it
TRAINS = [2.3, 1.6, 1.2, 0.9, 0.7, 0.55, 0.45, 0.4, 0.36, 0.33]


def test_fastai_call_names_adam_and_a_blow_up_above_its_range_is_the_lr() -> None:
    run = fastai_run("learn.fit_one_cycle(10, max_lr=0.5)", BLOW_UP)
    assert framework_optimizer(run) is not None and optimizer_family(run) == "adam"
    f = optimisation.detect_lr_too_high(run)[0]
    assert f.strength >= 0.5 and f.step == 4
    assert any("fastai's default" in e for e in f.evidence)


def test_real_fastai_docs_lr_one_reads_against_adam() -> None:
    # fastai v1 docs: simple_learner().fit(2, 1e-0), valid loss pinned at ln 2
    run = load_run([REALWORLD / "g14-fastai1-docs-lrfinder-lr1-pinned-ln2" / "run"])
    assert optimizer_family(run) == "adam"
    assert optimisation.detect_lr_too_high(run)[0].strength >= 0.5


def test_silent_at_fastai_usual_lrs_and_on_a_run_that_trains() -> None:
    for call, loss in (("learn.fit_one_cycle(10, 1e-3)", BLOW_UP), ("learn.fit_one_cycle(10, 1e-2)", TRAINS),
                       ("learn.fine_tune(10, base_lr=2e-3)", TRAINS)):
        run = fastai_run(call, loss)
        assert optimizer_family(run) == "adam", call
        assert all(f.strength < 0.5 for f in optimisation.detect_lr_too_high(run)), call


def test_silent_on_fastai_07_order_and_on_a_config_key_not_from_a_call() -> None:
    run = fastai_run("learn.fit(1e-2, 3)", BLOW_UP)  # fastai 0.7: fit(lrs, n_cycle), SGD with momentum
    assert run.config_value(FASTAI_CALL) is None and framework_optimizer(run) is None
    run = Run()
    run.put_config(ConfigValue(key=FASTAI_CALL, value="fit", file="run/config.yaml", line=1, kind="yaml", text="fit"))
    run.add_series(Series("loss", np.arange(1, 11), np.array(BLOW_UP), "run/train.log", "loss"))
    assert framework_optimizer(run.finalize()) is None
