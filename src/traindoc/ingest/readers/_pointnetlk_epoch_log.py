"""PointNetLK-family training logs: one comma-separated `epoch` line per epoch, four unnamed values.

PointNetLK (Aoki et al., 2019) and the code built on it (PointNetLK Revisited, its forks and the registration
projects that copied its `train.py`) configure Python's logging as `'%(levelname)s:%(name)s, %(asctime)s,
%(message)s'` and log each epoch as `LOGGER.info('epoch, %04d, %f, %f, %f, %f', epoch + 1, running_loss, val_loss,
running_info, val_info)`:

    INFO:PointNetLK-Revisited, 2022-03-11 09:36:30,690, epoch, 0089, 0.127450, 0.018011, 0.002422, 0.000114
    INFO:PointNetLK-Revisited, 2022-03-11 14:18:54,833, epoch, 0198, nan, nan, nan, nan
    DEBUG:PointNetLK-Revisited, 2022-03-11 14:23:56,727, Training completed!

The first two values are the epoch's mean training loss and validation loss, read as `loss` and `val_loss` at the
epoch (the step). The last two (`running_info`, `val_info`) are auxiliary figures whose meaning differs between the
projects (a registration error, a feature residual), so they are not read. Python's `%f` prints a non-finite value as
`nan` / `inf`, read as such: a NaN epoch is evidence. The generic reader took nothing from these lines (no key next
to a value), so a PointNetLK run was unreadable. The line is matched whole: the `epoch, NNNN,` key after the logging
prefix and exactly four values, so no other comma-separated print is taken for it.
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, parse_number

# "INFO:<logger name>, " and the asctime "2022-03-11 09:36:30,690, " before the message; each optional, as a capture
# may have lost them (another handler's format, a pasted message only)
_PREFIX = r"(?:(?:DEBUG|INFO|WARNING|ERROR|CRITICAL):[^,]*,\s*)?(?:\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3},\s*)?"
_VAL = rf"\s*({NUM})\s*"
_EPOCH_LINE = re.compile(rf"^{_PREFIX}epoch,\s*(\d+),{_VAL},{_VAL},{_VAL},{_VAL}$")
_LAST = "pointnetlk_last_epoch"


def parse_pointnetlk_epoch(line: str, st: State) -> Record | None:
    """A PointNetLK `epoch, NNNN, loss, val_loss, info, val_info` line (module docstring), or None."""
    m = _EPOCH_LINE.match(line.strip())
    if m is None:
        return None
    epoch = int(m.group(1))
    metrics: dict[str, float] = {}
    for key, raw in (("loss", m.group(2)), ("val_loss", m.group(3))):
        value = parse_number(raw)
        if value is not None:
            metrics[key] = value
    if not metrics:
        return None
    if epoch == st.extra.get(_LAST):  # the same epoch logged twice: its first reading is the point
        return Record(epoch, {}, claimed=True)
    st.extra[_LAST] = epoch
    st.epoch = epoch
    return Record(epoch, metrics, epoch=epoch, from_epoch=True)
