"""A ~0 training loss that the training accuracy beside it contradicts (evidence/unmeasured_loss.py): the loss no
longer measures the model, so "nothing to learn" (data_pipeline_bug 0.8) gives way to readings listed level with the
numerical ones. Fires/silent tests on small constructed epoch histories (Keras-style `loss`/`accuracy` rows)."""

from __future__ import annotations

import numpy as np

from traindoc.diagnosis.build import does_not_learn
from traindoc.evidence import run_detectors
from traindoc.evidence.detectors import data, numerics
from traindoc.evidence.unmeasured_loss import unmeasured_loss
from traindoc.ingest.model import ConfigValue, Run, Series


def history(loss: list[float], acc: list[float], acc_name: str = "accuracy",
            config: dict[str, object] | None = None) -> Run:
    run = Run()
    st = np.arange(1, len(loss) + 1)
    run.add_series(Series("loss", st, np.array(loss), "run/train.log"))
    run.add_series(Series(acc_name, st, np.array(acc), "run/train.log"))
    for i, (k, v) in enumerate((config or {}).items(), 1):
        run.config[k] = ConfigValue(k, v, "run/config.yaml", i, "yaml", str(v))
    return run.finalize()


ZERO = [0.0049, 0.0, 0.0, 0.0, 0.0, 0.0]


def test_a_zero_loss_with_the_training_accuracy_at_chance_is_an_unmeasured_loss() -> None:
    run = history(ZERO, [0.0987] * 6)  # Keras float16: loss 0 from epoch 2, accuracy 1/10
    um = unmeasured_loss(run)
    assert um is not None and um.points == 5 and abs(um.acc_median - 0.0987) < 1e-9
    dpb = data.detect_data_pipeline_bug(run)
    assert len(dpb) == 1 and dpb[0].strength == data.UNMEASURED_DATA < 0.5  # no longer "nothing to learn" at 0.8
    found = numerics.detect_unmeasured_loss(run) + numerics.detect_unmeasured_loss_fp16(run)
    got = {f.cause: f.strength for f in found}
    assert got == {"nan_inf": 0.35, "fp16_overflow": 0.35}  # level: the log cannot tell them apart
    assert does_not_learn(run_detectors(run))  # never a healthy verdict


def test_a_stated_precision_decides_the_float16_reading() -> None:
    half = history(ZERO, [0.0987] * 6, config={"fp16": True})
    assert [f.strength for f in numerics.detect_unmeasured_loss_fp16(half)] == [0.65]
    full = history(ZERO, [0.0987] * 6, config={"bf16": True})
    assert numerics.detect_unmeasured_loss_fp16(full) == [] and len(numerics.detect_unmeasured_loss(full)) == 1


def test_silent_when_the_accuracy_agrees_with_the_zero_loss_or_is_held_out() -> None:
    solved = history(ZERO, [0.31, 1.0, 1.0, 1.0, 1.0, 1.0])  # a trivial target: learned, accuracy 1
    assert unmeasured_loss(solved) is None and numerics.detect_unmeasured_loss(solved) == []
    assert numerics.detect_unmeasured_loss_fp16(solved) == []
    assert data.detect_data_pipeline_bug(solved)[0].strength == 0.8  # "nothing to learn" stands
    held = history(ZERO, [0.0987] * 6, acc_name="val_accuracy")  # memorised training set, held-out at chance
    assert unmeasured_loss(held) is None
    two = history([0.0049, 0.0, 0.0, 0.5, 0.4, 0.3], [0.1] * 6)  # ~0 at 2 points only: no persistent contradiction
    assert unmeasured_loss(two) is None
