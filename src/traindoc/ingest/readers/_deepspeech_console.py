"""Mozilla DeepSpeech (TensorFlow) training consoles, in the three shapes DeepSpeech.py printed over its life.

2016-2017 (`log_info` with a date-time prefix, one report per epoch):

    STARTING Epoch 0019
    Training model...
    Training loss=12.977073401 avg_cer=0.039520074 WER: 0.159389
    --------------------------------------------------------------------------------
        WER:    0.076923
        loss:   0.843824
        source: "and this is what we mean by ..."
        result: "and this is what we mean by ..."
    ...
    Validating model...
    Validation loss=178.301272392 avg_cer=0.212876620 WER: 0.512488

2017-2018: `I Training of Epoch 3 - loss: 52.13` / `I Validation of Epoch 3 - loss: 61.37`; 2019 on (0.5+): a
progress line per phase, `Epoch 3 |   Training | Elapsed Time: 0:21:31 | Steps: 2240 | Loss: 84.069418` and
`Epoch 3 | Validation | Elapsed Time: 0:01:40 | Steps: 137 | Loss: 71.318580 | Dataset: data/dev.csv`.

The generic `key: value` rules read the per-sample reports of the first shape (`WER:` and `loss:` of single
utterances, printed after the epoch's figures) as training points, so a run's training loss of 13 was followed by
"losses" of 0.84 and 0.80 that belong to two sentences. Read here: the epoch's training, validation and test
figures, each on its epoch (an epoch-level log: the step is the epoch). The per-sample report lines are read and
dropped; the progress line's `Steps` counts batches within the phase and `Elapsed Time` the clock, so neither is
kept. Without a `Dataset:` the validation line is the held-out set; with several datasets only the first is
`val_loss`, the others `val_<file stem>_loss`.
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, parse_number

_START = re.compile(r"^STARTING Epoch (\d+)\s*$")
_REPORT = re.compile(rf"^(Training|Validation|Test) loss=({NUM})(?: avg_cer=({NUM}))?(?: WER: ({NUM}))?\s*$")
_SAMPLE = re.compile(r"^(?:(?:WER|CER|loss):\s+\S+|(?:source|result|src|res):\s.*|-{20,}|(?:Training|Validating|"
                     r"Testing) model\.\.\.)\s*$")
_OF_EPOCH = re.compile(rf"^(?:I )?(Training|Validation|Test) of Epoch (\d+) - loss: ({NUM})\s*$")
_PROGRESS = re.compile(
    rf"^Epoch (\d+) \|\s*(Training|Validation|Test) \|.*?\| Loss: ({NUM})(?: \| Dataset: (\S+))?\s*$")
_PREFIX = {"Training": "", "Validation": "val_", "Test": "test_"}


def _held_out_name(kind: str, dataset: str | None, st: State) -> str:
    if kind == "Training":
        return "loss"
    if dataset is None:
        return _PREFIX[kind] + "loss"
    seen: list[str] = st.extra.setdefault("ds_sets", [])
    if dataset not in seen:
        seen.append(dataset)
    if seen.index(dataset) == 0:
        return _PREFIX[kind] + "loss"
    stem = re.sub(r"\W+", "_", dataset.rsplit("/", 1)[-1].rsplit(".", 1)[0]).strip("_")
    return f"{_PREFIX[kind]}{stem}_loss"


def parse_deepspeech_console(line: str, st: State) -> Record | None:
    """A DeepSpeech console line (module docstring), or None for any other line."""
    m = _START.match(line)
    if m:
        st.epoch = int(m.group(1))
        st.extra["ds_seen"] = True
        return Record(st.epoch, {}, epoch=st.epoch, from_epoch=True)
    m = _REPORT.match(line)
    if m:
        st.extra["ds_seen"] = True
        kind = m.group(1)
        values = {"loss": m.group(2), "cer": m.group(3), "wer": m.group(4)}
        metrics = {_PREFIX[kind] + k: v for k, v in ((k, parse_number(s)) for k, s in values.items() if s)
                   if v is not None}
        return Record(st.epoch, metrics, eval=kind != "Training", epoch=st.epoch, from_epoch=st.epoch is not None)
    m = _OF_EPOCH.match(line)
    if m:
        st.extra["ds_seen"] = True
        st.epoch = int(m.group(2))
        v = parse_number(m.group(3))
        metrics = {_PREFIX[m.group(1)] + "loss": v} if v is not None else {}
        return Record(st.epoch, metrics, eval=m.group(1) != "Training", epoch=st.epoch, from_epoch=True)
    m = _PROGRESS.match(line)
    if m:
        st.extra["ds_seen"] = True
        st.epoch = int(m.group(1))
        v = parse_number(m.group(3))
        metrics = {_held_out_name(m.group(2), m.group(4), st): v} if v is not None else {}
        return Record(st.epoch, metrics, eval=m.group(2) != "Training", epoch=st.epoch, from_epoch=True)
    if st.extra.get("ds_seen") and _SAMPLE.match(line):
        return Record(st.epoch, {}, epoch=st.epoch)  # a per-sample report line: this format's, read and dropped
    return None
