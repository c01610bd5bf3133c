"""The text-log reader's bulk path (a learned whole-line layout read a block at a time) gives exactly what the
per-line path gives, on every fixture and on logs built to hit its edges; undecodable bytes and bad lines cost a
line, never the file (issue 12 item 5)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from traindoc.ingest.loader import load_run
from traindoc.ingest.model import Run
from traindoc.ingest.readers import text_log

DATA = Path(__file__).parent / "data" / "text_logs"


def read(path: Path, fast: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[Run, object]:
    monkeypatch.setattr(text_log, "FAST_PATH", fast)
    run = Run()
    src = text_log.read(path, run)
    run.finalize()
    return run, src


def snapshot(run: Run, src) -> dict:
    series = {name: (s.steps.tolist(), [("nan" if math.isnan(v) else v) for v in s.values.tolist()], s.raw_name)
              for name, s in sorted(run.metrics.items())}
    events = [(e.kind, e.message, e.step, e.tag, e.line, e.count) for e in run.events]
    return {"series": series, "events": events, "epochs": run.epoch_starts, "stages": run.stages,
            "records": src.records, "warnings": src.warnings, "format": src.format, "meta": run.meta}


def same_both_ways(path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    slow = snapshot(*read(path, False, monkeypatch))
    fast = snapshot(*read(path, True, monkeypatch))
    assert fast == slow
    return fast


CORPUS = Path(__file__).parent / "corpus"
CONSOLE_LOGS = sorted(DATA.glob("*.log")) + sorted(
    p for p in CORPUS.rglob("*") if p.is_file() and p.suffix in (".log", ".txt", ".out"))


@pytest.mark.parametrize("path", CONSOLE_LOGS, ids=lambda p: str(p.relative_to(p.parents[2])))
def test_fixtures_and_corpus_logs_read_the_same_both_ways(path, monkeypatch):
    same_both_ways(path, monkeypatch)


def nanogpt_lines(n: int, start: int = 0) -> list[str]:
    rng = np.random.default_rng(0)
    return [f"iter {i}: loss {2 + rng.random():.4f}, time 152.33ms, mfu {-100.0 if i < 5 else 31.02:.2f}%"
            for i in range(start, start + n)]


def megatron_line(i: int, rank: int = 0, loss: str = "2.000000E+00") -> str:
    return (f"[default{rank}]: [2024-04-06 03:{i % 60:02d}:12] iteration {i:8d}/   50000 | consumed samples: "
            f"{i * 128:12d} | learning rate: 1.420000E-05 | lm loss: {loss} | loss scale: 1.0 | grad norm: 1.300 |")


def test_edges_read_the_same_both_ways(tmp_path, monkeypatch):
    """Everything that changes what a line means next to lines of the layout: evals, a restart, warnings with
    their indented source line, a traceback, numbers the layout does not take, ranks, blank and \\r frames."""
    lines = nanogpt_lines(3000)
    lines[10] = "iter 10: loss nan, time 152.33ms, mfu 31.02%"
    lines[11] = "iter 11: loss 1,234.5, time 152.33ms, mfu 31.02%"  # thousands separator: per-line path
    lines[12] = "iter 12: loss 1-2, time 152.33ms, mfu 31.02%"  # not a number: the parser reads 1
    lines[13] = "iter 13: loss 2.5, time 152.33ms, mfu 31.02%   "
    lines[14] = "iter 99999999999999999999999: loss 2.5"  # a step no int64 holds: that line only is skipped
    lines[500:500] = ["step 500: train loss 2.1000, val loss 2.2000"]
    lines[900:900] = ["/x/y.py:3: UserWarning: careful", "  warnings.warn(", "", "\r\r"]
    lines[1200:1200] = ["Traceback (most recent call last):", '  File "t.py", line 1', "ValueError: boom"]
    lines[2000:2000] = nanogpt_lines(5, start=100)  # a restart
    lines[2500:2500] = ["iter 2400: loss 2.0, time 1.00ms, mfu 1.00%\riter 2401: loss 2.0, time 1.00ms"]
    p = tmp_path / "train.log"
    p.write_text("\n".join(lines) + "\n")
    got = same_both_ways(p, monkeypatch)
    assert [e[2] for e in got["events"] if e[3] == "restart"] == [100, 2400]  # the inserted restart, the \r line
    assert any("could not be read" in w and "line 15" in w for w in got["warnings"])
    loss = dict(zip(*got["series"]["loss"][:2], strict=True))
    assert loss[10] == "nan" and loss[11] == 1234.5 and loss[12] == 1.0 and 2999 in loss
    assert 0 not in dict(zip(*got["series"]["mfu"][:2], strict=True))  # nanoGPT's -100 % "not measured yet"

    meg = tmp_path / "megatron.log"
    rows = [megatron_line(i) for i in range(1, 2000)]
    rows[50] = megatron_line(51, loss="nan")
    rows[60] = megatron_line(61, rank=1)
    rows[70] = megatron_line(71, loss="5.2ms")
    meg.write_text("\n".join(rows) + "\n")
    got = same_both_ways(meg, monkeypatch)
    assert "loss@rank1" in got["series"] and len(got["series"]["loss"][0]) == 1998  # "5.2ms" is read as 5.2


def test_indented_layout_keeps_the_skipping_rules(tmp_path, monkeypatch):
    """Megatron prints " iteration ..." with a leading space: such lines right after a Python warning (its source
    line) or inside a traceback are skipped by the per-line rules, and must be by the bulk path too."""
    rows = [f" iteration {i:8d}/   50000 | lm loss: {2 + i / 1e4:.6E} | grad norm: 1.300 |"
            for i in range(1, 3000)]
    rows[100:100] = ["/x/y.py:3: UserWarning: careful"]
    rows[700:700] = ["Traceback (most recent call last):"]
    rows[705:705] = ["ValueError: boom"]
    p = tmp_path / "megatron.log"
    p.write_text("\n".join(rows) + "\n")
    got = same_both_ways(p, monkeypatch)
    steps = got["series"]["loss"][0]
    # 2999 lines less the one under the warning (its "source line") and the four inside the traceback
    assert len(steps) == 2999 - 1 - 4 and 101 not in steps and 100 in steps and 102 in steps


def test_bulk_path_is_taken_on_big_logs(tmp_path, monkeypatch):
    """Not a timing: the layout is learned, so the bulk path runs (a regression here is the 26x of issue 8)."""
    p = tmp_path / "train.log"
    p.write_text("\n".join(nanogpt_lines(20)) + "\n")
    calls = []
    real = text_log._Parser.bulk
    monkeypatch.setattr(text_log._Parser, "bulk", lambda self, *a: calls.append(1) or real(self, *a))
    read(p, True, monkeypatch)
    assert calls


@pytest.mark.parametrize("bad", [b"\x00", b"\x00\x00\x00 nul run", b"\xff\xfe\xfd", b"\xc3", b"\x00\xff\x80x"])
@pytest.mark.parametrize("where", [3, 2500])
def test_undecodable_bytes_cost_one_line(tmp_path, bad, where):
    lines = [line.encode() for line in nanogpt_lines(3000)]
    lines[where] = lines[where][:9] + bad + lines[where][9:]
    p = tmp_path / "train.log"
    p.write_bytes(b"\n".join(lines) + b"\n")
    run = load_run([str(p)])
    assert run.series("loss") is not None
    assert len(run.series("loss")) >= 2999  # only the damaged line may be lost
