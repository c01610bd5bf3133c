"""nanochat's training console (`scripts/base_train.py`, then `scripts/chat_sft.py`), as `speedrun.sh` tees it.

The pretraining script prints one line per optimizer step and, every `--eval-every` steps, the validation loss in
bits per byte:

    Step 00250 | Validation bpb: 1.046491
    step 00250/05742 (4.35%) | loss: 3.478913 | lrm: 1.00 | dt: 45135.02ms | tok/sec: 23,231 | bf16_mfu: 40.45 |
    epoch: 1 | total time: 187.15m | eta: 4131.5m

(one line; earlier versions print `grad norm: x` after the loss and `mfu` for `bf16_mfu`). `loss` is read as `loss`,
`grad norm` as `grad_norm`, the LR multiplier `lrm` and the throughput `tok/sec` under their printed names, the
validation bpb as the held-out `val_bpb` (bits per byte: a loss on a log2 scale, lower is better, which the held-out
task metrics read as such, evidence/heldout.LOWER_BETTER; not as the held-out loss, whose scale is the training
loss's); `dt`, `total time` and `eta` are timings, `epoch` the data epoch.

`speedrun.sh` runs the pipeline's scripts one after another into the same log, and each counts its steps from 0 or 1
again: the supervised fine-tuning prints `step 00001 (0.17%) | loss: 1.084291 | ...` (no total) and its own
`Step 00000 | Validation bpb: 0.6153` on a model already trained, so its points on the same steps would overwrite
the pretraining's (the reader keeps the last value at a step, as after a resume): blind, the SFT losses at steps
1-502 replaced the pretraining's 10.4 -> 3.0 and read as a loss that "fell to 0.97 by step 358 then rose 161 %"
(lr_too_high 0.71). One folder is one run: the first script's steps are read, and a step line or validation line
back at step 0 or 1 after the count has passed it starts a later script, whose lines are claimed without points.
A resume of the same script (`--resume-from-step`) starts further on and is read as any resume is. The per-task
CORE / ChatCORE evaluations and the `Evaluating: ...` lines are no curve of the training and are not read.
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, parse_number

_STEP = re.compile(rf"^step (\d+)(?:/(\d+))? \((\d+(?:\.\d+)?)%\) \| loss: ({NUM}) \|(.*)$")
_VAL = re.compile(rf"^Step (\d+) \| Validation bpb: ({NUM})\s*$")
_CORE = re.compile(rf"^Step \d+ \| (?:Chat)?CORE(?: metric)?: {NUM}")
# one task of the CORE evaluation: "Evaluating: hellaswag (10-shot, type: multiple_choice)... accuracy: 0.4740 | ..."
_TASK = re.compile(rf"^Evaluating: \S+ \(\d+-shot, type: \w+\)\.\.\. accuracy: {NUM}")
_FIELD = re.compile(rf"\s*([A-Za-z][\w/ ]*?): ({NUM})")
# the fields kept, under the names the collector maps ("grad norm" -> grad_norm; "tok/sec" -> tokens_per_s)
_KEEP = {"grad norm": "grad norm", "lrm": "lrm", "tok/sec": "tok/sec", "bf16_mfu": "bf16_mfu", "mfu": "mfu"}
# a later script of the pipeline starts its count over at step 0 or 1 (module docstring)
_PHASE_START = 1
_LAST, _LATER = "nanochat_last", "nanochat_later_phase"


def _later_phase(step: int, st: State) -> bool:
    """Whether `step` starts (or belongs to) a script after the first one in the log."""
    if st.extra.get(_LATER):
        return True
    last = st.extra.get(_LAST)
    if last is not None and step <= _PHASE_START < last:
        st.extra[_LATER] = True
        return True
    return False


def _fields(rest: str) -> dict[str, float]:
    """The kept `| name: value` fields after the loss (_KEEP); timings and counters are left out."""
    out = {}
    for part in rest.split("|"):
        f = _FIELD.fullmatch(part.rstrip()) if part.strip() else None
        value = parse_number(f.group(2)) if f is not None else None
        if f is not None and value is not None and f.group(1).strip() in _KEEP:
            out[_KEEP[f.group(1).strip()]] = value
    return out


def parse_nanochat(line: str, st: State) -> Record | None:
    """A nanochat training or validation line (module docstring), or None for any other line."""
    text = line.strip()
    if _CORE.match(text) or _TASK.match(text):
        return Record(None, claimed=True)
    train = _STEP.match(text)
    found = train or _VAL.match(text)
    if found is None:
        return None
    value = parse_number(found.group(4) if train else found.group(2))
    if value is None:
        return None
    step = int(found.group(1))
    if _later_phase(step, st):
        return Record(None, claimed=True)
    if train is None:
        return Record(step, {"val_bpb": value}, eval=True)
    st.extra[_LAST] = max(step, st.extra.get(_LAST) or 0)
    return Record(step, {"loss": value, **_fields(train.group(5))})
