"""FreeRec's `Coach` epoch lines: `[Coach] >>> TRAIN @Epoch: N >>>  || LOSS Avg: x`, with `VALID` / `TEST` lines.

FreeRec (a PyTorch library for recommender-system training) logs three lines per epoch to its `log.txt`, each after
the logging module's `<time>:\t` prefix:

    [Coach] >>> TRAIN @Epoch: 5    >>>  || LOSS Avg: 5.68662
    [Coach] >>> VALID @Epoch: 5    >>>  || HITRATE@1 Avg: 0.0560 || ... || NDCG@10 Avg: 0.1478 || MRR@10 Avg: 0.1104
    [Coach] >>> TEST  @Epoch: 5    >>>

(each line as printed ends in a space after the last `>>>`). A line lists the meters of its split that were computed
that epoch (`|| NAME Avg: x`); one with none (the validation runs every `eval_freq` epochs, the test split only under
`eval_test`) holds no point. TRAIN meters are read
under their names in lower case (`LOSS` as `loss`), VALID ones as held-out (`eval_<name>`), TEST ones as
`test_<name>`. The step is the epoch; epoch 0 is the untrained model's validation. After training, FreeRec prints a
summary table (`Prefix Metric Best @Epoch` and one row per meter), reloads the best epoch and prints its three lines
again: the table's rows are claimed (no points: they repeat the best values) and the epoch going back ends the
reading. The run's arguments, printed first as `[name: value]` lines after `[PARSER] >>>`, are configuration, also
claimed. The generic rules read the training meter as `LOSS Avg`, dropped the validation meters and took the table's
`LOSS` row and the `[lr: ...]` argument as one-point series (issue 8, session 30:
tests/corpus/realworld/g9-freerec-gru4rec-ml1m-ce-log, read blind).
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, counter_restarted, parse_number

_LINE = re.compile(r"^\[Coach\] >>> (TRAIN|VALID|TEST) +@Epoch: (\d+) +>>>(.*)$")
_METER = re.compile(rf"^\s*\|\|\s*([A-Za-z][\w@.\-]*) Avg: ({NUM})")
_PREFIX = {"TRAIN": "", "VALID": "eval_", "TEST": "test_"}
_TABLE_HEAD = re.compile(r"^\s*Prefix\s+Metric\s+Best\s+@Epoch\s*$")
_TABLE_ROW = re.compile(rf"^\d+\s+(?:train|valid|test)\s+\S+\s+{NUM}\s+\d+$")
_PARSER = re.compile(r"^\[PARSER\] >>>\s*$")
_ARG = re.compile(r"^\[[A-Za-z_][\w]*: .*\]\s*$")


def _meters(tail: str) -> dict[str, float] | None:
    """The `|| NAME Avg: x` meters of a line's tail; None when the tail is anything else."""
    out: dict[str, float] = {}
    rest = tail
    while rest.strip():
        m = _METER.match(rest)
        if m is None:
            return None
        value = parse_number(m.group(2))
        if value is not None:
            out[m.group(1).lower()] = value
        rest = rest[m.end():]
    return out


def parse_freerec_coach(line: str, st: State) -> Record | None:
    """One Coach epoch line, a summary-table row or a parser argument (module docstring), or None."""
    text = line.rstrip()
    m = _LINE.match(text)
    if m is None:
        if _PARSER.match(text):
            st.extra["freerec_args"] = True
            return Record(None, {}, claimed=True)
        if st.extra.get("freerec_args") and _ARG.match(text):
            return Record(None, {}, claimed=True)
        st.extra["freerec_args"] = False
        if _TABLE_HEAD.match(text) and "freerec_epoch" in st.extra:
            st.extra["freerec_table"] = True
            return Record(None, {}, claimed=True)
        if st.extra.get("freerec_table") and _TABLE_ROW.match(text.strip()):
            return Record(None, {}, claimed=True)
        st.extra["freerec_table"] = False
        return None
    st.extra["freerec_args"] = st.extra["freerec_table"] = False
    epoch = int(m.group(2))
    if counter_restarted(st.extra, "freerec_epoch", epoch):
        return Record(None, {}, claimed=True)  # the best epoch's lines printed again after training
    meters = _meters(m.group(3))
    if meters is None:
        return None
    prefix = _PREFIX[m.group(1)]
    metrics = {prefix + name: value for name, value in meters.items()}
    if not metrics:
        return Record(epoch, {}, epoch=epoch, from_epoch=True, claimed=True)
    return Record(epoch, metrics, epoch=epoch, from_epoch=True, eval=bool(prefix))
