"""PyTorch-Kaldi's per-epoch summary file `res.res`: `ep=N tr=[...] loss=x err=y valid=<set> loss=x err=y lr_<arch>=z
time(s)=t`.

`run_exp.py` of PyTorch-Kaldi appends one line per epoch to `<out_folder>/res.res`, and after decoding the Kaldi
scoring line of the test set:

    ep=000 tr=['TIMIT_tr'] loss=3.398 err=0.721 valid=TIMIT_dev loss=2.268 err=0.591 lr_architecture1=0.08 time(s)=86
    %WER 18.1 | 192 7215 | 84.0 11.9 4.2 2.1 18.1 99.5 | -0.583 | .../score_6/ctm_39phn.filt.sys

The first `loss` / `err` pair is the training set's (the cost and the frame error rate), each `valid=<set>` group
repeats the pair for one validation set, read as held-out (`eval_loss`, `eval_error`; a second set as
`eval_<set>_loss`), and each `lr_<architecture>` is that network's learning rate (the first read as `lr`). The step
is the epoch. The `%WER` line is the test set's error rate, read at the last epoch as `test_wer`. The generic rules
read the repeated keys by name, so the validation error overwrote the training error under `err` and the validation
loss took the set's name as `TIMIT_dev loss` (issue 8, session 30: tests/corpus/realworld/
g9-pytorch-kaldi-readme-timit-mlp-res, read blind).

Guards: the whole line must be the record (`ep=` first, `time(s)=` last); the epoch must rise (a second run appended
to the same file is not read).
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, counter_restarted, parse_number

_LINE = re.compile(
    rf"^ep=(\d+) tr=\[[^\]]*\] loss=({NUM}) err=({NUM})((?: valid=\S+ loss={NUM} err={NUM})*)"
    rf"((?: lr_\w+={NUM})*) time\(s\)=\d+$")
_VALID = re.compile(rf" valid=(\S+) loss=({NUM}) err=({NUM})")
_LR = re.compile(rf" lr_(\w+)=({NUM})")
_WER = re.compile(rf"^%WER ({NUM}) \| \d+ \d+ \|")


def _set_name(raw: str) -> str:
    return re.sub(r"[^\w]+", "_", raw).strip("_").lower() or "valid"


def parse_pytorch_kaldi_res(line: str, st: State) -> Record | None:
    """One `res.res` line (module docstring), or None for any other line."""
    text = line.strip()
    m = _LINE.match(text)
    if m is None:
        w = _WER.match(text)
        if w is None or "pk_res_epoch" not in st.extra:
            return None
        value = parse_number(w.group(1))
        return Record(None, {"test_wer": value}, eval=True) if value is not None else None
    epoch = int(m.group(1))
    if counter_restarted(st.extra, "pk_res_epoch", epoch, strict=True):
        return None
    metrics: dict[str, float] = {}
    for name, raw in (("loss", m.group(2)), ("error", m.group(3))):
        value = parse_number(raw)
        if value is not None:
            metrics[name] = value
    for i, (name, loss, err) in enumerate(_VALID.findall(m.group(4) or "")):
        prefix = "eval_" if i == 0 else f"eval_{_set_name(name)}_"
        for key, raw in (("loss", loss), ("error", err)):
            value = parse_number(raw)
            if value is not None:
                metrics[prefix + key] = value
    for i, (arch, raw) in enumerate(_LR.findall(m.group(5) or "")):
        value = parse_number(raw)
        if value is not None:
            metrics["lr" if i == 0 else f"lr_{arch}"] = value
    return Record(epoch, metrics, epoch=epoch, from_epoch=True) if metrics else None
