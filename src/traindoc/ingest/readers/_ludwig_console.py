"""Ludwig's training console: an `Epoch N` banner, then per output feature a box-drawn table of its metrics per split.

`ludwig train` / `ludwig experiment` (0.1 - 0.4, the TensorFlow versions; tabulate's `fancy_grid` tables) print after
every epoch:

    Epoch   1
    Training: 100% 5/5 [00:00<00:00, 10.08it/s]
    Evaluation train: 100% 5/5 [00:00<00:00, 110.90it/s]
    Took 0.5719s
    ╒════════════╤════════╤════════════╕
    │ Survived   │   loss │   accuracy │
    ╞════════════╪════════╪════════════╡
    │ train      │ 7.9026 │     0.3968 │
    ├────────────┼────────┼────────────┤
    │ vali       │ 7.5711 │     0.3827 │
    ├────────────┼────────┼────────────┤
    │ test       │ 8.8524 │     0.3667 │
    ╘════════════╧════════╧════════════╛

The header row names the output feature and its metrics; each body row a split: `train` as the training metric,
`vali` / `validation` as `eval_<metric>`, `test` as `test_<metric>`. The first output feature's metrics keep their
names (`loss`, `accuracy`); a further feature's (a multi-output model, or the `combined` table of the total loss) are
read as `<feature>_<metric>`, so that two features' losses are never one series. The step is the banner's epoch
(counted from 1). The generic rules read nothing of the tables (issue 8, session 30:
tests/corpus/realworld/ludwig-011-titanic-experiment-100-epochs, read blind as insufficient data: only the final
test statistics, one point per name).

Guards: rows are read only after a header row that follows an `Epoch N` banner, and only in the box-drawing
characters of such a table (`│` cells; a Markdown `|` table is another family's); the epoch must not go back (a second
training printed into the same console).
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import Record, State, epoch_banner, parse_number

_BANNER = re.compile(r"^Epoch\s+(\d+)$")
_SPLITS = {"train": "", "training": "", "vali": "eval_", "validation": "eval_", "valid": "eval_", "test": "test_"}


def _cells(text: str) -> list[str] | None:
    if not (text.startswith("│") and text.endswith("│")):
        return None
    cells = [c.strip() for c in text[1:-1].split("│")]
    return cells if len(cells) >= 2 and all(cells) else None


def parse_ludwig(line: str, st: State) -> Record | None:
    """One split row of an epoch's metric table (module docstring), or None."""
    text = line.strip()
    x = st.extra
    if epoch_banner(text, _BANNER, x, "ludwig_epoch"):
        x["ludwig_header"] = None
        return None
    if x.get("ludwig_epoch_done") or "ludwig_epoch" not in x:
        return None
    cells = _cells(text)
    if cells is None:
        return None
    split = _SPLITS.get(cells[0].lower())
    if split is None:  # a header row: the feature and its metric names
        if any(parse_number(c) is not None for c in cells):
            return None
        features: list[str] = x.setdefault("ludwig_features", [])
        if cells[0] not in features:
            features.append(cells[0])
        x["ludwig_header"] = cells
        return None
    header = x.get("ludwig_header")
    if header is None or len(header) != len(cells):
        return None
    feature = header[0]
    own = "" if feature == x["ludwig_features"][0] else f"{feature}_"
    metrics: dict[str, float] = {}
    for name, cell in zip(header[1:], cells[1:], strict=True):
        value = parse_number(cell)
        if value is not None:
            metrics[f"{split}{own}{name}"] = value
    if not metrics:
        return None
    epoch = x["ludwig_epoch"]
    return Record(epoch, metrics, eval=bool(split), epoch=epoch, from_epoch=True)
