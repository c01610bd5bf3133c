"""Issue 12: a 1,000-input adversarial corpus, generated here and varied by seed (bombs, pickles, zips, YAML aliases,
symlink loops, FIFOs, bad lines, truncated and binary files, huge headers, deep nesting, huge Python files), run
through load_run + diagnose in a pool of limited worker processes (tests/budget_harness.py). Every input must finish
without a hang (per-input timeout), with peak RSS <= 1.5 GB, with no traceback, and without opening anything outside
its root or writing inside it. Plus hypothesis properties of the shared line reader.

The seed is TRAINDOC_FUZZ_SEED when set (CI can vary it), else the day of the year, so the corpus changes over time;
a failure names its seed and input so it can be rebuilt."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adversarial import corpus, generic_lines
from budget_harness import problems, run_pool
from traindoc.ingest import load_run
from traindoc.ingest.readers._structured import MAX_LINE_BYTES, LineStats, line_blocks

N_INPUTS = int(os.environ.get("TRAINDOC_FUZZ_INPUTS", "1000"))
SEED = int(os.environ.get("TRAINDOC_FUZZ_SEED", time.gmtime().tm_yday))
TIMEOUT = 60.0  # the bound for any single input


def test_adversarial_corpus_meets_every_bound(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.jsonl"
    secret.write_text("\n".join(generic_lines(10)) + "\n")
    tasks = []
    for name, build in corpus(SEED, N_INPUTS, secret):
        root = tmp_path / name
        root.mkdir()
        build(root)
        tasks.append({"id": name, "root": str(root), "outside": str(outside)})
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file() and not p.is_symlink()}
    results = run_pool(tasks, workers=2, timeout=TIMEOUT)
    assert len(results) == len(tasks)
    failures = {name: problems(r) for name, r in results.items() if problems(r)}
    assert not failures, f"seed {SEED}: {len(failures)} input(s) broke a bound: {dict(list(failures.items())[:10])}"
    after = {p: p.stat().st_mtime_ns for p in before}
    assert before == after, "a file of the corpus was modified"
    worst = max(results.values(), key=lambda r: r["rss_mb"])
    print(f"seed {SEED}: {len(tasks)} inputs; slowest {max(r['seconds'] for r in results.values()):.1f} s, "
          f"peak RSS {worst['rss_mb']:.0f} MB ({worst['id']})")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.binary(max_size=300), min_size=1, max_size=60), st.integers(min_value=1, max_value=64))
def test_line_blocks_keeps_every_line_and_its_number(lines: list[bytes], block: int) -> None:
    lines = [ln.replace(b"\n", b" ") for ln in lines]
    data = b"\n".join(lines) + b"\n"
    stats = LineStats()
    got = [ln for b in line_blocks(io.BytesIO(data), stats, block=block) for ln in b]
    assert got == lines  # lines numbered by position: one per input line, in order
    assert stats.lines == len(lines)


@settings(max_examples=30, deadline=None)
@given(st.integers(min_value=0, max_value=5), st.integers(min_value=1, max_value=3))
def test_overlong_line_keeps_the_numbering(before: int, extra: int) -> None:
    lines = [b"a"] * before + [b"x" * (MAX_LINE_BYTES + extra * (1 << 17))] + [b"b", b"c"]  # > limit + a block
    stats = LineStats()
    got = [ln for b in line_blocks(io.BytesIO(b"\n".join(lines) + b"\n"), stats, block=1 << 16) for ln in b]
    assert got[before] == b"" and got[before + 1 :] == [b"b", b"c"] and stats.overlong == 1


_GOOD = st.builds(lambda s, v: f'{{"step": {s}, "loss": {v}}}', st.integers(1, 10**6),
                  st.floats(0.01, 100.0, allow_nan=False))
_BAD = st.sampled_from(['{"step": 1' + "0" * 400 + "}", '{"step": 5, "loss": 1' + "0" * 400 + "}",
                        '{"step": 1' + "0" * 30 + ', "loss": 1}', "[" * 5000 + "]" * 5000, '{"step": 3, "lo',
                        "\x00\x01\x02", '{"step": Infinity, "loss": 1}'])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(_GOOD, _BAD), min_size=1, max_size=40), st.lists(_GOOD, min_size=1, max_size=20))
def test_bad_json_lines_cost_only_themselves(tmp_path_factory, mixed: list[str], good: list[str]) -> None:
    """Every good line survives any mix of bad ones, and a skipped line is named."""
    lines = good + mixed
    path = tmp_path_factory.mktemp("j") / "metrics.jsonl"
    path.write_text("\n".join(lines) + "\n")
    run = load_run([path])
    want = {int(ln.split(",")[0].split(":")[1]) for ln in lines if ln in good or _is_good(ln)}
    assert set(run.metrics["loss"].steps.tolist()) == want
    if any(not _is_good(ln) for ln in mixed):
        assert any("line" in w for w in run.warnings), run.warnings


def _is_good(line: str) -> bool:
    return line.startswith('{"step": ') and '"loss": ' in line and len(line) < 100 and line.endswith("}") \
        and "Infinity" not in line and "0" * 30 not in line
