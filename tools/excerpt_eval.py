"""How the verdicts on the real-world corpus change when its logs are pasted as excerpts (issue 8).

Held-out real-world logs are mostly excerpts pasted into issues: the last screenful before a crash, the first lines
of a run, lines with `...` gaps, a log whose header was cut off. For each realworld entry whose files hold >= 40
numeric lines (tools/labelled_runs.py's count; shorter logs are excerpts already), this diagnoses four views:

- `whole`: the run/ folder as committed;
- `tail`:  every line-oriented log file cut to its last ~25 % of lines (the screenful before a crash; the header
           and the start of the run are gone, the steps do not start at 0);
- `head`:  only the first ~25 % of lines (a run pasted while it was still warming up);
- `gap`:   the middle third of the lines replaced by one `...` line.

Only line-oriented files are cut (`.log`, `.txt`, `.out`, `.md`, `.csv`, `.tsv`, `.jsonl`, no suffix); configs,
scripts, JSON documents and notebooks are copied whole, as a paste never splits them by line. The views are written
to a temporary directory, never into the corpus. Verdicts are those of diagnose with the shipped calibration (the
tool measures robustness of the reading, not calibration).

Printed per view: entries, unreadable or insufficient_data (and how many of them were readable whole), healthy
entries that gain a cause >= 0.5 (or a problems_found verdict), faulty entries whose top cause differs from the
whole log's, and faulty top-1 (the label listed first). `-v` lists every changed entry.

    PYTHONPATH=src .venv/bin/python tools/excerpt_eval.py [--corpus DIR] [--min-points 40] [--no-cache] [-v]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import shutil
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tools"))

from labelled_runs import (  # noqa: E402
    CACHE_DIR,
    CORPUS_ROOT,
    LabelledRun,
    _files_digest,
    code_fingerprint,
    corpus_entries,
    numeric_lines,
    read_entry,
)

VIEWS = ("whole", "tail", "head", "gap")
LINE_SUFFIXES = {".log", ".txt", ".out", ".md", ".csv", ".tsv", ".jsonl", ""}
MIN_POINTS = 40  # below this a log is an excerpt already, and a quarter of it (10 lines) reads as nothing
THRESHOLD = 0.5  # diagnose's report threshold: a cause at or above it is stated


def cut(lines: list[str], view: str) -> list[str]:
    """The lines a paste of `view` keeps."""
    n = len(lines)
    q = max(1, math.ceil(n / 4))
    if view == "tail":
        return lines[n - q:]
    if view == "head":
        return lines[:q]
    if view == "gap":
        a, b = n // 3, (2 * n) // 3
        return lines[:a] + ["..."] + lines[b:] if b > a else list(lines)
    return list(lines)


def write_view(run_dir: Path, view: str, dest: Path) -> Path:
    """Copy run_dir to dest with every line-oriented file cut to `view`."""
    if dest.exists():
        shutil.rmtree(dest)
    for p in sorted(run_dir.rglob("*")):
        if not p.is_file():
            continue
        out = dest / p.relative_to(run_dir)
        out.parent.mkdir(parents=True, exist_ok=True)
        data = p.read_bytes()
        if view == "whole" or p.suffix.lower() not in LINE_SUFFIXES or b"\0" in data[:4096]:
            out.write_bytes(data)
            continue
        lines = data.decode("utf-8", "replace").splitlines()
        out.write_text("\n".join(cut(lines, view)) + "\n", encoding="utf-8")
    return dest


def entries(root: Path, min_points: int) -> list[Path]:
    return [e for e in corpus_entries(root)
            if e.parent.name == "realworld" and numeric_lines(e / "run") >= min_points]


def diagnose_view(entry: Path, view: str, scratch: Path, fp: str, use_cache: bool) -> LabelledRun:
    key = hashlib.sha256(f"excerpt:{view}:{fp}:{entry.name}:{_files_digest(entry / 'run')}:"
                         f"{(entry / 'label.json').read_bytes().hex()}".encode()).hexdigest()[:24]
    path = CACHE_DIR / "excerpt" / f"{key}.json"
    if use_cache and path.is_file():
        try:
            return LabelledRun(**json.loads(path.read_text(encoding="utf-8")))
        except (ValueError, TypeError):
            pass
    run_dir = entry / "run" if view == "whole" else write_view(entry / "run", view, scratch / view / entry.name)
    lr = read_entry(entry, run_dir)
    if use_cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(lr)), encoding="utf-8")
    return lr


def top(r: LabelledRun) -> tuple[str | None, float]:
    causes = r.shipped.get("causes") or []
    return (causes[0][0], float(causes[0][1])) if causes else (None, 0.0)


def unreadable(r: LabelledRun) -> bool:
    return not r.readable or r.error is not None or r.shipped.get("verdict") in (None, "insufficient_data")


def alarmed(r: LabelledRun) -> bool:
    return top(r)[1] >= THRESHOLD or r.shipped.get("verdict") == "problems_found"


def table(res: dict[str, dict[str, LabelledRun]]) -> list[str]:
    """One line per view; `res[view][entry id]`."""
    whole = res["whole"]
    healthy = [i for i, r in whole.items() if r.label == "healthy"]
    faulty = [i for i, r in whole.items() if r.label != "healthy"]
    lines = [f"{'view':6s} {'n':>4s} {'unreadable':>10s} {'(new)':>5s} {'healthy alarmed':>15s} {'(new)':>5s} "
             f"{'faulty top changed':>18s} {'faulty top1':>11s}"]
    for view in VIEWS:
        v = res[view]
        unr = [i for i in v if unreadable(v[i])]
        new_unr = [i for i in unr if not unreadable(whole[i])]
        alarm = [i for i in healthy if alarmed(v[i])]
        new_alarm = [i for i in alarm if not alarmed(whole[i])]
        changed = [i for i in faulty if top(v[i])[0] != top(whole[i])[0]]
        right = sum(top(v[i])[0] == v[i].label for i in faulty)
        lines.append(f"{view:6s} {len(v):4d} {len(unr):10d} {len(new_unr):5d} {len(alarm):11d}/{len(healthy):<3d} "
                     f"{len(new_alarm):5d} {len(changed):14d}/{len(faulty):<3d} {right:7d}/{len(faulty):<3d}")
    return lines


def changes(res: dict[str, dict[str, LabelledRun]]) -> list[str]:
    whole = res["whole"]
    out = []
    for view in VIEWS[1:]:
        for i, r in sorted(res[view].items()):
            w = whole[i]
            (tw, cw), (tv, cv) = top(w), top(r)
            if tw != tv or unreadable(r) != unreadable(w) or alarmed(r) != alarmed(w):
                out.append(f"  {view:4s} {i:58s} {r.label:20s} {w.shipped.get('verdict')}:{tw}({cw:.2f}) -> "
                           f"{r.shipped.get('verdict')}:{tv}({cv:.2f})")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=CORPUS_ROOT, help="folder of corpora (default tests/corpus)")
    ap.add_argument("--min-points", type=int, default=MIN_POINTS, help="numeric lines an entry needs (default 40)")
    ap.add_argument("--no-cache", action="store_true", help="re-diagnose every view")
    ap.add_argument("-v", "--verbose", action="store_true", help="list every entry whose verdict changed")
    args = ap.parse_args(argv)
    todo = entries(args.corpus, args.min_points)
    if not todo:
        print(f"excerpt_eval: no realworld entry with >= {args.min_points} numeric lines under {args.corpus}",
              file=sys.stderr)
        return 2
    fp = code_fingerprint()
    res: dict[str, dict[str, LabelledRun]] = {v: {} for v in VIEWS}
    with tempfile.TemporaryDirectory(prefix="traindoc-excerpt-") as tmp:
        for k, entry in enumerate(todo):
            print(f"excerpt_eval: {k + 1}/{len(todo)} {entry.name}", file=sys.stderr)
            for view in VIEWS:
                r = diagnose_view(entry, view, Path(tmp), fp, not args.no_cache)
                res[view][r.id] = r
    print(f"excerpts of {len(todo)} realworld entries with >= {args.min_points} numeric lines "
          f"(shipped calibration; 'new' = not so on the whole log)")
    for line in table(res):
        print(line)
    if args.verbose:
        print("\nchanged entries (view, entry, label, whole verdict:top -> view verdict:top)")
        for line in changes(res):
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
