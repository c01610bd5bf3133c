"""wav2letter++ / flashlight ASR training logs: one pipe-separated line per epoch (or per `--reportiters` updates).

wav2letter's Train.cpp (and flashlight's fl_asr_train after it) writes the same line to the run's `001_log` file and,
behind a glog prefix, to the console:

    epoch:       82 | lr: 0.100000 | lrcriterion: 0.000000 | runtime: 00:04:26 | bch(ms): 37.37 | ... |
    loss:    0.78993 | train-TER:  2.19 | data/dev-clean-TER: 18.55 | avg-isz: 1267 | ... | thrpt(sec/sec): 1356.32

(later versions add `nupdates: N` after the epoch, `train-WER`, and per validation set `<set>-loss`, `<set>-TER`,
`<set>-WER`; the set is named by its list file, `dev-clean`, `data/dev-clean`, `val.lst`). The generic `key: value`
rules read every field as a training metric: the held-out error rates came out under names like
`data/dev-clean-TER` that nothing knows as held-out, and timing/size columns (`bch(ms)`, `avg-isz`, `hrs`) as metrics.

Read here: the step is `nupdates` when printed, else the epoch; `loss` is the training loss and `lr` the LR. Each
validation set's fields become held-out metrics: the first set's `val_loss`, `val_token_error_rate` (TER, the
token -- letter or word-piece -- error rate, lower is better) and `val_wer`; further sets keep their name
(`val_<set>_loss`, ...). `train-TER` / `train-WER` are training metrics. `lrcriterion` (the LR of the criterion's own
parameters, ASG's transition matrix; 0 and unused under CTC) is left out, since a constant 0 there says nothing
about the model's LR; so are the timing and data-size columns (runtime, *(ms), avg-isz, avg-tsz, max-tsz, hrs,
thrpt), which measure the machine and the data, not the model.
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, parse_number

_HEAD = re.compile(r"^epoch:\s*(\d+)\s*\|")
_FIELD = re.compile(rf"^([^:|]+?):\s*({NUM})\s*$")
_TRAIN = {"loss": "loss", "lr": "lr", "train-TER": "train_token_error_rate", "train-WER": "train_wer",
          "train-LER": "train_token_error_rate"}
# per-set suffixes: what each held-out field is called (LER: letter error rate, the TER of letter-token recipes)
_HELD_OUT = {"loss": "loss", "TER": "token_error_rate", "LER": "token_error_rate", "WER": "wer"}
# wav2letter's own columns: a user's "epoch: 3 | loss: 0.5 | val_loss: 0.6" print starts the same way and is left to the
# generic rules
_SIGNATURE = re.compile(r"\| (?:lrcriterion|bch\(ms\)|avg-isz|thrpt\(sec/sec\)): ")
_SKIP = re.compile(r"^(?:epoch|nupdates|lrcriterion|runtime|avg-isz|avg-tsz|max-tsz|hrs|timestamp)$|\(")


def parse_wav2letter(line: str, st: State) -> Record | None:
    """A wav2letter/flashlight per-epoch line (module docstring), or None for any other line."""
    m = _HEAD.match(line)
    if m is None or not _SIGNATURE.search(line):
        return None
    epoch = int(m.group(1))
    fields: dict[str, float] = {}
    for part in line.split("|"):
        f = _FIELD.match(part.strip())
        if f:
            v = parse_number(f.group(2))
            if v is not None:
                fields[f.group(1).strip()] = v
    if "loss" not in fields:
        return None  # an epoch line of another trainer that happens to start the same way
    sets: list[str] = st.extra.setdefault("w2l_sets", [])
    metrics: dict[str, float] = {}
    for key, value in fields.items():
        if key in _TRAIN:
            metrics[_TRAIN[key]] = value
            continue
        if _SKIP.search(key):
            continue
        name, _, kind = key.rpartition("-")
        if not name or kind not in _HELD_OUT:
            metrics[key] = value  # a column of a later version: kept under its own name, as the generic rules would
            continue
        if name not in sets:
            sets.append(name)
        label = "val" if sets.index(name) == 0 else "val_" + re.sub(r"\W+", "_", name).strip("_")
        metrics[f"{label}_{_HELD_OUT[kind]}"] = value
    updates = fields.get("nupdates")
    st.epoch = epoch
    if updates is not None:
        return Record(int(updates), metrics, epoch=epoch)
    return Record(epoch, metrics, epoch=epoch, from_epoch=True)
