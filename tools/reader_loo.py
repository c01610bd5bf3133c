"""How well the text-log reader reads a format it has never seen: leave one format out.

The console text-log reader has one parser per known format family (ingest/readers/textlog_formats.py FORMATS) and
one fallback, `generic`, that reads whatever no family claims. A log in a new format is read by the fallback alone,
so the fallback decides how much of an unseen stack we read. This tool measures it on the real-world corpus: every
entry whose text log is read by a specific format is diagnosed as is, and again with that format removed from
FORMATS (and from the parsers text_log._choose returns), as if the format had never been written.

Per format and overall it reports:
- read: the entry is still read without its format (diagnose's verdict is neither unreadable nor
  insufficient_data, the rule of evaluate.py's "unreadable"; entries already unread with the format are left out);
- same top: the first listed cause (or "healthy" for a healthy verdict) is the one diagnose gives with the format;
- alarms: healthy-labelled entries that gain a cause >= 0.5 without their format (false alarms the fallback adds).

The diagnosis is diagnose's own with the shipped calibration (no refit). An entry with two text logs of two formats
is counted once per format. The with-format diagnoses are cached in `.cache/eval/reader_loo/` keyed by the code
and the entry's files (the left-out ones are not: they are what a fallback change moves).

    PYTHONPATH=src .venv/bin/python tools/reader_loo.py [--formats a,b] [--entries GLOB] [--limit N]
        [--no-cache] [-v] [--json FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import hashlib
import io
import json
import os
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tools"))

from labelled_runs import CACHE_DIR, _files_digest, code_fingerprint  # noqa: E402
from traindoc.ingest.readers import text_log, textlog_formats  # noqa: E402

REALWORLD = ROOT / "tests" / "corpus" / "realworld"
ALARM = 0.5  # a cause at or above this is reported as confirmed (diagnosis.build.REPORT_THRESHOLD)
UNREAD = ("unreadable", "insufficient_data")


def diagnose_entry(run_dir: Path) -> dict:
    """diagnose on one run folder: verdict, listed causes, and the text-log formats that read its files."""
    from traindoc.diagnosis.build import diagnose
    from traindoc.evidence import run_detectors
    from traindoc.ingest.loader import load_run

    text_log._SNIFFED.clear()  # a detection carried over from a run with other formats must not be reused
    try:
        with contextlib.redirect_stderr(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            run = load_run([str(run_dir)])
            formats = sorted({s.format.split(":", 1)[1] for s in run.sources if s.format.startswith("text_log:")})
            if not run.sources and not run.metrics and not run.config:
                return {"verdict": "unreadable", "causes": [], "formats": formats}
            findings = run_detectors(run)
            doc = diagnose(run, [str(run_dir)], findings)
    except Exception as e:  # noqa: BLE001 - a crash on real input is a result of the measurement
        return {"verdict": "unreadable", "causes": [], "formats": [], "error": f"{type(e).__name__}: {e}"[:200]}
    return {"verdict": doc["verdict"], "causes": [[rc["cause"], float(rc["confidence"])]
                                                  for rc in doc.get("root_causes", [])], "formats": formats}


@contextlib.contextmanager
def without(name: str):
    """FORMATS without the family `name` (detection and the parser order both), restored on exit."""
    fmt = textlog_formats.FORMAT_BY_NAME[name]
    i = textlog_formats.FORMATS.index(fmt)
    choose = text_log._choose
    textlog_formats.FORMATS.pop(i)  # the same list object text_log imported
    text_log._choose = lambda hits: [f for f in choose(hits) if f.name != name]  # deepspeed is appended by name
    try:
        yield
    finally:
        textlog_formats.FORMATS.insert(i, fmt)
        text_log._choose = choose


def top(doc: dict) -> str:
    if doc["verdict"] in UNREAD:
        return doc["verdict"]
    return doc["causes"][0][0] if doc["causes"] and doc["verdict"] != "healthy" else "healthy"


def confirmed(doc: dict) -> set[str]:
    return {c for c, p in doc["causes"] if p >= ALARM}


def with_format(entry: Path, fp: str, use_cache: bool) -> dict:
    key = hashlib.sha256(f"{fp}:{entry.name}:{_files_digest(entry / 'run')}".encode()).hexdigest()[:24]
    path = CACHE_DIR / "reader_loo" / f"{key}.json"
    if use_cache and path.is_file():
        with contextlib.suppress(ValueError):
            return json.loads(path.read_text(encoding="utf-8"))
    doc = diagnose_entry(entry / "run")
    if use_cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc), encoding="utf-8")
    return doc


def share(n: int, d: int) -> str:
    return f"{n:3d}/{d:<3d} {n / d:4.0%}" if d else "  -      -  "


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=REALWORLD, help="folder of entries (default realworld)")
    ap.add_argument("--formats", default="", help="only these left-out formats, comma-separated")
    ap.add_argument("--entries", default="*", help="only entries whose folder name matches this glob")
    ap.add_argument("--limit", type=int, default=0, help="at most this many entries (0: all), for development")
    ap.add_argument("--no-cache", action="store_true", help="re-diagnose the with-format runs too")
    ap.add_argument("-v", "--verbose", action="store_true", help="one line per (entry, format)")
    ap.add_argument("--json", type=Path, help="write every row to this file")
    args = ap.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    only = {f for f in args.formats.split(",") if f}
    if unknown := only - set(textlog_formats.FORMAT_BY_NAME):
        print(f"reader_loo: unknown format {sorted(unknown)[0]}", file=sys.stderr)
        return 2
    entries = sorted(e for e in args.corpus.iterdir() if (e / "run").is_dir() and (e / "label.json").is_file()
                     and fnmatch.fnmatch(e.name, args.entries))
    if args.limit:
        entries = entries[:args.limit]
    fp = code_fingerprint()
    t0 = time.monotonic()
    rows = []
    for i, entry in enumerate(entries):
        label = str(json.loads((entry / "label.json").read_text(encoding="utf-8")).get("cause") or "healthy")
        base = with_format(entry, fp, not args.no_cache)
        for name in base["formats"]:
            fmt = textlog_formats.FORMAT_BY_NAME.get(name)
            if fmt is None or not fmt.specific or (only and name not in only):
                continue
            with without(name):
                loo = diagnose_entry(entry / "run")
            rows.append({"entry": entry.name, "format": name, "label": label, "base": base, "loo": loo,
                         "base_read": base["verdict"] not in UNREAD, "read": loo["verdict"] not in UNREAD,
                         "same_top": top(loo) == top(base),
                         "alarm": label == "healthy" and bool(confirmed(loo) - confirmed(base))})
            if args.verbose:
                r = rows[-1]
                print(f"  {'  ' if r['same_top'] else '!='} {name:28s} {entry.name:50s} {label:22s} "
                      f"{top(base):22s} -> {top(loo):22s}{'  ALARM' if r['alarm'] else ''}", flush=True)
        if (i + 1) % 50 == 0:
            print(f"reader_loo: {i + 1}/{len(entries)} entries, {time.monotonic() - t0:.0f} s", file=sys.stderr)
    by_format: dict[str, list[dict]] = {}
    for r in rows:
        by_format.setdefault(r["format"], []).append(r)
    print(f"leave one format out: {len(rows)} (entry, format) pairs of {len(entries)} entries, {len(by_format)} "
          f"formats, {time.monotonic() - t0:.0f} s")
    print("read: still read without its format (of those read with it); same top: same top cause (or healthy) as "
          "with it; alarms: healthy entries gaining a cause >= 0.5")
    print(f"  {'format':28s} {'entries':>7s}  {'read':>12s}  {'same top':>12s}  {'alarms':>12s}")

    def line(name: str, rs: list[dict]) -> str:
        read = [r for r in rs if r["base_read"]]
        healthy = [r for r in rs if r["label"] == "healthy"]
        return (f"  {name:28s} {len(rs):7d}  {share(sum(r['read'] for r in read), len(read))}  "
                f"{share(sum(r['same_top'] for r in rs), len(rs))}  "
                f"{share(sum(r['alarm'] for r in healthy), len(healthy))}")

    for name, rs in sorted(by_format.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        print(line(name, rs))
    print(line("ALL", rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
