"""Tesseract's `lstmtraining` console (Tesseract 4 and 5, directly or through tesstrain's `make training`).

Every 100 training iterations the trainer prints its training error rates (`LSTMTrainer::PrepareLogMsg`):

    At iteration 697/700/700, Mean rms=3.217%, delta=17.259%, char train=45.254%, word train=63.256%, skip ratio=0%,
      New best char error = 45.254 wrote best model:... wrote checkpoint.
    At iteration 6776/10000/10000, mean rms=0.477%, delta=1.299%, BCER train=4.644%, BWER train=45.050%,
      skip ratio=0.000%, New worst BCER = 4.644 wrote checkpoint.

(each on one line; 4.0 printed `char train` / `word train`, later versions `BCER train` / `BWER train`), and, with an
eval list, the held-out rates: `At iteration 6776, stage 1, BCER eval=3.10%, BWER eval=9.80%` (4.0: `Eval Char error
rate=x, Word error rate=y`). The three counters are the learning, training and sample iterations; the learning
iteration (the first) is the one the trainer's own bookkeeping uses ("best error was 45.254 @ 697", the checkpoint
names) and the one its eval lines print, so it is the step.

Names. lstmtraining prints no loss value: `Mean rms` is the root mean square of the output errors over the recent
training iterations (Tesseract's trainer documentation, "TrainingTesseract 4.00", on reading the progress lines), the
error signal the network is trained to reduce, read as the `loss` (a percentage, so on no cross-entropy scale); the
character and word error rates on the training lines are `cer` / `wer` and on the eval lines `val_cer` / `val_wer`
(lower is better). `delta` and `skip ratio` are not read. The trainer's own status lines (`2 Percent improvement
time=...`, `Finished! Selected model ...`) are claimed: the generic rules read "time" and "best error was" as metrics
(issue 8, session 31: tests/corpus/realworld/tesseract-lstmtraining-nor-layer-healthy read as thirteen metrics, none a
loss).
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, parse_number

_TRAIN = re.compile(
    rf"^At iteration (\d+)/\d+/\d+,\s*mean rms=({NUM})%,\s*delta={NUM}%,\s*(?:char|BCER) train=({NUM})%,\s*"
    rf"(?:word|BWER) train=({NUM})%", re.I)
_EVAL = re.compile(
    rf"^At iteration (\d+),\s*stage \d+,\s*(?:BCER eval|Eval Char error rate)=({NUM})%?,\s*"
    rf"(?:BWER eval|Word error rate)=({NUM})%?", re.I)
_STATUS = re.compile(r"^(?:\d+ Percent improvement time=\d+, best error was|Finished! Selected model)")


def parse_tesseract_lstmtraining(line: str, st: State) -> Record | None:
    """A progress or eval line of lstmtraining (module docstring), or None."""
    text = line.strip()
    m = _TRAIN.match(text)
    if m is not None:
        metrics: dict[str, float] = {}
        for key, raw in (("loss", m.group(2)), ("cer", m.group(3)), ("wer", m.group(4))):
            v = parse_number(raw)
            if v is not None:
                metrics[key] = v
        st.extra["tess_seen"] = True
        return Record(int(m.group(1)), metrics) if metrics else None
    m = _EVAL.match(text)
    if m is not None:
        metrics = {}
        for key, raw in (("val_cer", m.group(2)), ("val_wer", m.group(3))):
            v = parse_number(raw)
            if v is not None:
                metrics[key] = v
        return Record(int(m.group(1)), metrics, eval=True) if metrics else None
    if st.extra.get("tess_seen") and _STATUS.match(text):
        return Record(None, {}, claimed=True)
    return None
