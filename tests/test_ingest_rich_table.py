"""Per-epoch metric tables drawn with box characters, as Rich prints them (readers/textlog_formats.py,
parse_md_table). The fixtures were printed by the real Rich (tests/data/ingest/generate.py rich_table)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from traindoc.ingest.loader import load_run

TABLES = Path(__file__).parent / "data" / "ingest" / "rich_tables"


def _rows(path: Path) -> list[list[float]]:
    return [[float(c) for c in re.findall(r"[\d.]+", line)] for line in path.read_text().splitlines()
            if line.startswith("│")]


@pytest.mark.parametrize("name", ["epochs.log", "epochs_lines.log"])
def test_a_rich_table_reads_every_row(name: str) -> None:
    rows = _rows(TABLES / name)
    run = load_run([TABLES / name])
    assert len(rows) == 20
    assert list(run.series("loss").steps) == [int(r[0]) for r in rows]
    assert list(run.series("loss").values) == [r[1] for r in rows]
    assert list(run.series("eval_loss").values) == [r[2] for r in rows]
    assert list(run.series("eval_accuracy").values) == [r[3] for r in rows]


def test_box_rules_alone_are_not_a_table(tmp_path: Path) -> None:
    f = tmp_path / "summary.log"
    # a Rich panel with no numeric rows (a model summary's shape) reads as nothing
    f.write_text("┏━━━━━━┳━━━━━━━━┓\n┃ Name ┃ Type   ┃\n┡━━━━━━╇━━━━━━━━┩\n│ net  │ Linear │\n└──────┴────────┘\n")
    assert not load_run([f]).metrics
