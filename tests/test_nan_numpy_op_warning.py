"""numpy's floating-point warning names the op behind a NaN (ingest/catalogue.py `fp_op_warning`;
detectors/numerics.py, detect_nan_inf: 0.7, as torch's one-element std/var warning).

Fires: "RuntimeWarning: divide by zero encountered in log" before a loss that is NaN from its second epoch
(sar-gupta/neural-network-from-scratch#10's shape, corpus entry g32-nn-from-scratch-10). Silent: numpy's overflow
warning (a growing weight makes it too), a NaN that an LR above its range leads into, and a detector's box term
(tf-faster-rcnn#107: the log of a negative box height is the box targets' fault, read by the box rules)."""

from __future__ import annotations

import numpy as np

from traindoc.evidence.detectors import numerics
from traindoc.ingest.catalogue import classify
from traindoc.ingest.model import ConfigValue, LogEvent, Run, Series

WARN = ("/opt/nn.py:101: RuntimeWarning: divide by zero encountered in log")


def test_the_catalogue_names_numpy_op_warnings_and_not_overflows() -> None:
    assert classify(WARN)[1] == "fp_op_warning"
    assert classify("bbox_transform.py:31: RuntimeWarning: invalid value encountered in log")[1] == "fp_op_warning"
    tag = classify("extmath.py:229: RuntimeWarning: overflow encountered in matmul")
    assert tag is None or tag[1] != "fp_op_warning"
    tag = classify("_base.py:75: RuntimeWarning: invalid value encountered in subtract")
    assert tag is None or tag[1] != "fp_op_warning"  # a consequence of an inf, not an op's domain


def make_run(message: str, tag: str, lr: float | None = None) -> Run:
    run = Run()
    steps = np.arange(1, 11)
    loss = np.r_[2.3, np.full(9, np.nan)]
    run.add_series(Series("loss", steps, loss, "run/train.log", "Error"))
    run.events.append(LogEvent("warning", message, 1, tag, "run/train.log", 3))
    if lr is not None:
        run.config["learning_rate"] = ConfigValue("learning_rate", lr, "run/config.yaml", 1, "yaml", str(lr))
        run.config["optimizer"] = ConfigValue("optimizer", "adam", "run/config.yaml", 2, "yaml", "adam")
    return run.finalize()


def test_a_numpy_divide_by_zero_in_log_locates_the_op() -> None:
    f = numerics.detect_nan_inf(make_run(WARN, "fp_op_warning"))[0]
    assert f.strength >= 0.7 and any(e.startswith("numpy warns: ") for e in f.evidence)


def test_an_overflow_warning_or_an_lr_lead_leaves_the_op_unlocated() -> None:
    f = numerics.detect_nan_inf(make_run("RuntimeWarning: overflow encountered in exp", "other"))[0]
    assert f.strength < 0.5
    f = numerics.detect_nan_inf(make_run(WARN, "fp_op_warning", lr=5.0))[0]  # Adam at 5.0: the LR leads
    assert f.strength < 0.5 and not any(e.startswith("numpy warns: ") for e in f.evidence)
