"""Ray Tune's `== Status ==` trial table, as `rllib train` and `tune.run` print it while a trial trains.

Every few seconds Tune reprints a status block whose table holds one row per trial with its latest result:

    == Status ==
    ...
    +-----------------------------+----------+-----------------+--------+------------------+-------+----------+-----
    | Trial name                  | status   | loc             |   iter |   total time (s) |    ts |   reward | ...
    |-----------------------------+----------+-----------------+--------+------------------+-------+----------+-----
    | PPO_CartPole-v1_8204e_00000 | RUNNING  | 127.0.0.1:12961 |      2 |          5.84489 |  8000 |    43.17 | ...
    +-----------------------------+----------+-----------------+--------+------------------+-------+----------+-----

(Ray 1.x, tabulate's psql layout; Ray 2.x draws the same table in a rounded box, `│ Trial name  status  loc  iter
...│`, its cells apart by two or more spaces). Read blind (issue 8, session 33:
tests/corpus/realworld/rllib-cli-ppo-cartpole-tune-status-20-iters), nothing was read: insufficient data. Here each
row with an `iter` is one record at that training iteration, its result columns under the header's names (RLlib's
`reward` is the episode reward mean, a name the RL evidence recognises, evidence/rl.py); the trial's name, status,
location, wall time and timestep count are no metrics.

Guards: a row is read only under a header that names `Trial name` and `iter`, with as many cells as the header and a
trial status in the second; only the first trial that reports an iteration is read (a grid search's other trials
are other runs); an iteration is read once (the block is reprinted with the same row until a new result comes) and
must rise.
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import Record, State, canonical, parse_number

_STATUSES = frozenset({"RUNNING", "TERMINATED", "PAUSED", "PENDING", "ERROR"})
# columns that describe the trial or count time, not a result of training
_NOT_METRICS = frozenset({"trial name", "status", "loc", "iter", "total time (s)", "ts", "timesteps_total",
                          "time_total_s", "training_iteration"})
_BORDERS = "|│"


def _cells(text: str) -> list[str] | None:
    """The cells of a table line drawn between borders, or None for any other line."""
    if len(text) < 3 or text[0] not in _BORDERS or text[-1] not in _BORDERS:
        return None
    inner = text[1:-1].strip()
    parts = re.split(r"\s*[|│]\s*", inner) if any(b in inner for b in _BORDERS) else re.split(r"\s{2,}", inner)
    return [p.strip() for p in parts]


def parse_tune_status(line: str, st: State) -> Record | None:
    """A status table's header (remembered, claimed) or one trial's row (its result at its iteration); else None."""
    text = line.strip()
    cells = _cells(text)
    if cells is None:
        return None
    if cells[0] == "Trial name":
        if "iter" not in cells:
            st.extra.pop("tune_header", None)
            return None
        st.extra["tune_header"] = cells
        return Record(None, {}, claimed=True)
    header = st.extra.get("tune_header")
    if not isinstance(header, list) or len(cells) != len(header) or len(cells) < 2 or cells[1] not in _STATUSES:
        return None
    it = parse_number(cells[header.index("iter")])
    if it is None or it != int(it):
        return None
    trial = st.extra.setdefault("tune_trial", cells[0])
    last = st.extra.get("tune_iter")
    if cells[0] != trial or (isinstance(last, int) and int(it) <= last):
        return Record(None, {}, claimed=True)  # another trial's row, or this trial's row reprinted
    metrics: dict[str, float] = {}
    for name, raw in zip(header, cells, strict=True):
        if name.lower() in _NOT_METRICS:
            continue
        value = parse_number(raw)
        if value is not None:
            metrics[canonical(name)] = value
    if not metrics:
        return None
    st.extra["tune_iter"] = int(it)
    return Record(int(it), metrics)
