"""InsightFace's per-set verification lines (`[lfw][2000]Accuracy-Flip: 0.97167+-0.00662`), read as one held-out
accuracy series per set on the step in the brackets (readers/_insightface_verification.py). Before, the generic rules
read them as one training metric `Accuracy-Flip` on the last training step, the sets mixed together."""

from __future__ import annotations

from pathlib import Path

from traindoc.ingest.loader import load_run
from traindoc.ingest.readers._insightface_verification import verification_record


def _train(when: str, speed: str, loss: str, epoch: int, step: int, hours: int) -> str:
    return (f"Training: {when}-Speed {speed} samples/sec   Loss {loss}   Epoch: {epoch}   Global Step: {step}   "
            f"Fp16 Grad Scale: 16384   Required: {hours} hours")


# arcface_torch's console as `logging` writes it (the shape of a committed arcface_torch training.log)
_LOG = f"""\
Training: 2021-03-17 21:48:03,448-rank_id: 0
Training: 2021-03-17 21:48:12,186-Total Step is: 6000
{_train('2021-03-17 21:49:01,001', '5400.10', '52.1000', 0, 1000, 3)}
{_train('2021-03-17 21:50:01,001', '5401.10', '40.2000', 0, 2000, 3)}
Training: 2021-03-17 21:55:35,578-[lfw][2000]XNorm: 23.546258
Training: 2021-03-17 21:55:35,578-[lfw][2000]Accuracy-Flip: 0.97167+-0.00662
Training: 2021-03-17 21:55:35,579-[lfw][2000]Accuracy-Highest: 0.97167
Training: 2021-03-17 21:55:56,250-[cfp_fp][2000]XNorm: 19.143787
Training: 2021-03-17 21:55:56,250-[cfp_fp][2000]Accuracy-Flip: 0.81786+-0.01623
Training: 2021-03-17 21:55:56,250-[cfp_fp][2000]Accuracy-Highest: 0.81786
{_train('2021-03-17 21:56:01,001', '5399.10', '30.3000', 1, 3000, 2)}
{_train('2021-03-17 21:57:01,001', '5398.10', '25.4000', 1, 4000, 2)}
Training: 2021-03-17 22:02:50,748-[lfw][4000]XNorm: 23.058168
Training: 2021-03-17 22:02:50,748-[lfw][4000]Accuracy-Flip: 0.98883+-0.00615
Training: 2021-03-17 22:02:50,748-[lfw][4000]Accuracy-Highest: 0.98883
Training: 2021-03-17 22:03:09,295-[cfp_fp][4000]XNorm: 18.948849
Training: 2021-03-17 22:03:09,295-[cfp_fp][4000]Accuracy-Flip: 0.89357+-0.01701
Training: 2021-03-17 22:03:09,295-[cfp_fp][4000]Accuracy-Highest: 0.89357
{_train('2021-03-17 22:04:01,001', '5397.10', '21.5000', 2, 5000, 1)}
"""


def _points(run, name: str) -> list[tuple[int, float]]:
    s = run.series(name)
    return [(int(a), round(float(b), 5)) for a, b in zip(s.steps, s.values, strict=True)]


def test_each_verification_set_is_its_own_heldout_accuracy_on_the_bracketed_step(tmp_path: Path):
    (tmp_path / "training.log").write_text(_LOG)
    run = load_run([tmp_path])
    assert _points(run, "test_lfw_accuracy") == [(2000, 0.97167), (4000, 0.98883)]
    assert _points(run, "test_cfp_fp_accuracy") == [(2000, 0.81786), (4000, 0.89357)]
    assert _points(run, "test_lfw_xnorm") == [(2000, 23.54626), (4000, 23.05817)]
    assert not any("Accuracy" in n or "highest" in n.lower() for n in run.metrics)  # no mixed or running-max series
    # the training lines around them are read as before
    assert _points(run, "loss") == [(1000, 52.1), (2000, 40.2), (3000, 30.3), (4000, 25.4), (5000, 21.5)]


def test_other_bracketed_lines_are_left_to_the_other_rules():
    assert verification_record("[INFO][2000]loss: 1.5") is None  # not a verification key
    assert verification_record("Epoch[3] Iter[120] Accuracy-Flip: 0.5") is None  # counters, no [set][step] pair
    assert verification_record("Speed 5400.10 samples/sec   Loss 52.1000   Global Step: 1000") is None
    rec = verification_record("[agedb_30][124000]Accuracy-Highest: 0.95850")
    assert rec is not None and rec.metrics == {}  # read as this format's line, and not kept
