"""InsightFace's verification lines: the held-out accuracy of each face-verification set, read as its own series.

InsightFace's recognition trainers (arcface_torch's `CallBackVerification` in utils/utils_callbacks.py, and the
MXNet `recognition` scripts before it) evaluate every few thousand steps on several verification sets and print,
per set, three lines whose bracketed prefix names the set and the global step:

    [lfw][2000]XNorm: 23.546258
    [lfw][2000]Accuracy-Flip: 0.97167+-0.00662
    [lfw][2000]Accuracy-Highest: 0.97167

(arcface_torch logs them through `logging`, so a "Training: <date time,ms>-" prefix comes first). The generic
`key: value` rules read them as training metrics named `Accuracy-Flip` and `XNorm` with no step, so the sets (lfw,
cfp_fp, agedb_30, ...) fell into one series on the last training step and no held-out accuracy was seen at all.

Read here, whatever family the rest of the log is: `Accuracy-Flip` (10-fold verification accuracy; the `+-` part is
its standard deviation across folds, not a second value) becomes the held-out task metric `test_<set>_accuracy`,
`XNorm` (the mean feature norm, no direction of better) `test_<set>_xnorm`, both on the step in the brackets.
`Accuracy-Highest` is the best `Accuracy-Flip` so far, a running maximum that would read as a curve that never gets
worse: it is not kept.
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, parse_number

# the set name is a dataset id (lfw, cfp_fp, agedb_30, calfw, cplfw, vgg2_fp); the step a global step counter
_VERIFICATION = re.compile(
    rf"(?:^|-)\[([A-Za-z][\w.-]{{0,40}})\]\[(\d{{1,18}})\](XNorm|Accuracy-Flip|Accuracy-Highest): ({NUM})"
    rf"(?:\+-{NUM})?\s*$")
_NAMES = {"Accuracy-Flip": "accuracy", "XNorm": "xnorm"}


def verification_record(text: str) -> Record | None:
    """The held-out point an InsightFace verification line reports, or None for any other line.

    An `Accuracy-Highest` line gives an empty record: it is this format's line, read and dropped (module docstring).
    """
    if "][" not in text:
        return None
    m = _VERIFICATION.search(text)
    if m is None:
        return None
    name = _NAMES.get(m.group(3))
    value = parse_number(m.group(4))
    if name is None or value is None:
        return Record(int(m.group(2)), {}, eval=True)
    return Record(int(m.group(2)), {f"test_{m.group(1)}_{name}": value}, eval=True)
