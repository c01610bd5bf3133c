"""The text-log reader's same-shape runs: lines of the learned layout that differ from a run's first line only in
digits are read straight from the block's bytes, with no regex pass (text_log._FastLines.same_shape_runs). They must
give exactly what the findall path and the per-line path give, fire where a fixed-format loop line repeats, and stay
silent where a line differs in anything but digits, where the run is short, and where the layout's regex could tell
one digit from another (text_log.digit_blind)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from traindoc.ingest.model import Run
from traindoc.ingest.readers import text_log
from traindoc.ingest.readers._number_columns import MIN_FIXED_ROWS
from traindoc.ingest.readers.textlog_formats import FORMAT_BY_NAME


def nano(i: int, loss: float, mfu: str = "31.02") -> str:
    return f"iter {i}: loss {loss:.4f}, time 152.33ms, mfu {mfu}%"


def learn(line: str, family: str = "nanogpt") -> text_log._FastLines:
    fast = text_log._FastLines.learn(FORMAT_BY_NAME[family], [line])
    assert fast is not None
    return fast


def offsets(lines: list[str]) -> list[int]:
    """The byte offset where each line starts (ASCII lines, one "\\n" each), and the end."""
    return [0, *np.cumsum([len(x) + 1 for x in lines]).tolist()]


@pytest.mark.parametrize(("pattern", "blind"), [
    (r"iter (\d{1,18}): loss ([-+0-9.eE]+|[-+]?(?:nan|inf)), mfu ([0-9.]+)%", True),
    (r"(?:x[ \t]*\r?|(.*))(?:\n|\Z)", True),
    (r"\[default0\]: iteration (\d+)", False),  # a rank printed as a literal digit
    (r"loss ([1-9]\d*)", False),  # a class with some digits only
    (r"step \x31 (\d+)", False),  # a digit given by its number
    (r"(\d)\1", False),  # a backreference
    (r"[]0-9]+", False),  # a class opening with "]": refused rather than parsed
])
def test_digit_blind(pattern, blind):
    assert text_log.digit_blind(pattern) is blind


def test_runs_fire_around_lines_of_another_shape():
    """An eval line, a longer loss and the step's digit count going from 3 to 4 digits each end a run; a line of
    the same length with another word or a moved point is left out of the run around it. Every line of a run is
    read, exactly as float() / int() read its numbers."""
    rng = np.random.default_rng(1)
    lines = [nano(i, 2 + rng.random()) for i in range(300, 1400)]
    lines[400] = "step 700: train loss 2.1000, val loss 2.2000"
    lines[500] = nano(800, 12.5)  # "12.5000": one character longer
    lines[520] = nano(820, 2.5).replace("mfu", "MFU")  # same length, a letter changed: not the layout
    lines[530] = nano(830, 2.5, mfu="3.102")  # same length, the point moved
    fast = learn(lines[0])
    assert fast.digit_blind
    data = ("\n".join(lines) + "\n").encode()
    at = offsets(lines)
    runs = fast.same_shape_runs(data)
    # lines 401..499 are too few for a run (MIN_FIXED_ROWS): the findall takes them; 501..699 are one length
    assert [(start, end) for start, end, _ in runs] == [(at[0], at[400]), (at[501], at[520]), (at[521], at[530]),
                                                        (at[531], at[700]), (at[700], at[1100])]
    steps, loss, time_ms, mfu = runs[4][2]
    assert steps.tolist() == list(range(1000, 1400))
    assert loss.tolist() == [float(x.split()[3].rstrip(",")) for x in lines[700:1100]]
    assert set(time_ms.tolist()) == {152.33} and set(mfu.tolist()) == {31.02}
    short = lines[:MIN_FIXED_ROWS - 1]
    assert fast.same_shape_runs(("\n".join(short) + "\n").encode()) == []


def test_runs_stay_silent_where_the_regex_sees_digits():
    """A Megatron rank tag is a literal digit of the learned prefix: the lines go through the findall."""
    line = ("[default0]: iteration        1/   50000 | consumed samples:          128 | lm loss: 2.000000E+00 |"
            " grad norm: 1.300 |")
    fast = learn(line, "megatron")
    assert not fast.digit_blind
    assert fast.same_shape_runs(("\n".join([line] * 500) + "\n").encode()) == []


def snapshot(path: Path, fast: bool, monkeypatch: pytest.MonkeyPatch) -> dict:
    monkeypatch.setattr(text_log, "FAST_PATH", fast)
    run = Run()
    src = text_log.read(path, run)
    run.finalize()
    series = {name: (s.steps.tolist(), [("nan" if math.isnan(v) else v) for v in s.values.tolist()], s.raw_name)
              for name, s in sorted(run.metrics.items())}
    events = [(e.kind, e.message, e.step, e.tag, e.line, e.count) for e in run.events]
    return {"series": series, "events": events, "epochs": run.epoch_starts, "records": src.records,
            "warnings": src.warnings, "meta": run.meta}


def test_runs_read_as_the_per_line_rules_do(tmp_path, monkeypatch):
    """Runs across block ends, a restart inside a run, a warning with its indented source line, a traceback and
    CRLF line ends: the same series, events and line numbers as the per-line path, and the runs were taken."""
    rng = np.random.default_rng(2)
    lines = [nano(i, 2 + rng.random()) for i in range(10_000, 40_000)]
    lines[3000:3000] = [nano(i, 2.25) for i in range(10_100, 10_400)]  # a restart, as a run of its own
    lines[9000:9000] = ["/x/y.py:3: UserWarning: careful", "  warnings.warn(", "Traceback (most recent call last):",
                        '  File "t.py", line 1', "ValueError: boom"]
    lines[20000:20300] = [x + "\r" for x in lines[20000:20300]]
    p = tmp_path / "train.log"
    p.write_text("\n".join(lines) + "\n")
    calls = []
    real = text_log._FastLines.same_shape_runs
    monkeypatch.setattr(text_log._FastLines, "same_shape_runs", lambda self, data: calls.extend(real(self, data))
                        or real(self, data))
    fast = snapshot(p, True, monkeypatch)
    assert len(calls) > 10
    assert fast == snapshot(p, False, monkeypatch)
    assert [e[2] for e in fast["events"] if e[3] == "restart"] == [10_100]
    assert fast["series"]["loss"][0] == list(range(10_000, 40_000))  # (the restart's points are the later ones)
