"""DeepLearnToolbox (rasmusbergpalm/DeepLearnToolbox, MATLAB/Octave) `nntrain` console: one line per epoch.

`nntrain` prints, after each epoch, the mean of that epoch's mini-batch losses (`nn.L`, the criterion it descends:
half the summed squared error for sigmoid/linear outputs, the cross-entropy for softmax ones -- the message calls it
"mean squared error" either way). The 2012 version:

    epoch 1/10. Took 62.275 seconds. Mean squared error is 0.50315

and from 2013 on (and in the C++/Python ports that kept the message), with the full-batch evaluation after it:

    epoch 1/10. Took 1.2 seconds. Mini-batch mean squared error on training set is 0.10829; Full-batch train err = 0.05
    epoch 1/10. Took 1.2 seconds. Mini-batch mean squared error on training set is 0.1; Full-batch train mse = 0.05,
    val mse = 0.06

The generic "<words> is <number>" rule takes the last word before "is" as the name, so the training loss came out
as a metric called `error` that nothing reads as a loss (and a run pinned at chance was called healthy). Read here:
the step is the epoch; the mini-batch mean is the training `loss`; "Full-batch train err/mse" (the same criterion
over the whole training set after the epoch) is kept as `full_batch_train_loss`; "val mse" (that criterion on the
validation split) is `val_loss`. `nntest`'s closing "89.68% error" line is not an epoch line and is left alone.
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, parse_number

_LINE = re.compile(
    rf"^(?:NN train:\s*)?epoch\s+(\d+)\s*/\s*(\d+)\.\s+Took\s+{NUM}\s+seconds\.\s+"
    rf"(?:Mini-batch\s+)?mean squared error(?:\s+on training set)?\s+is:?\s+({NUM})(.*)$",
    re.I,
)
_FULL_TRAIN = re.compile(rf"Full-batch train (?:err|mse)\s*=\s*({NUM})", re.I)
_VAL = re.compile(rf"\bval mse\s*=\s*({NUM})", re.I)


def parse_deeplearntoolbox(line: str, st: State) -> Record | None:
    """An `nntrain` epoch line (module docstring), or None for any other line."""
    m = _LINE.match(line.strip())
    if m is None:
        return None
    loss = parse_number(m.group(3))
    if loss is None:
        return None
    epoch = int(m.group(1))
    metrics = {"loss": loss}
    rest = m.group(4)
    full = _FULL_TRAIN.search(rest)
    if full and (v := parse_number(full.group(1))) is not None:
        metrics["full_batch_train_loss"] = v
    val = _VAL.search(rest)
    if val and (v := parse_number(val.group(1))) is not None:
        metrics["val_loss"] = v
    st.epoch = epoch
    return Record(epoch, metrics, epoch=epoch, from_epoch=True)
