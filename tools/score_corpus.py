"""Score `traindoc diagnose` on the development corpora (tests/corpus/realworld/, tests/corpus/reallib/): held-out
figures.

These figures use the shipped calibration, which is fitted on the committed corpora (tools/fit_calibration.py):
they are IN-SAMPLE. Held-out figures come from tools/evaluate.py (leave one family out). For every entry the
diagnosis is run on its `run/` folder only (never on SOURCE.md or label.json) and compared with label.json:

- top-1: the first root cause is the labelled cause (for a healthy label: no cause reaches 0.5);
- confident top-1: top-1 right and its confidence >= 0.5 (for healthy: verdict healthy);
- top-3: the labelled cause is among the first three listed causes (healthy: same as top-1);
- false alarm: a healthy run that gets a cause >= 0.5;
- unreadable: nothing readable, or verdict insufficient_data.

Figures are printed overall, for faulty and healthy entries, per corpus, and per family (source kind, stack,
model family, optimiser where the label gives one) and per labelled cause. `--json FILE` also writes one row per
entry.

    PYTHONPATH=src .venv/bin/python tools/score_corpus.py [--corpus DIR ...] [--json FILE] [-v]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPORA = (ROOT / "tests" / "corpus" / "realworld", ROOT / "tests" / "corpus" / "reallib")
CONFIDENT = 0.5  # the report threshold of the cause vocabulary: a cause "reaches" 0.5


def diagnose_entry(run_dir: Path) -> dict:
    """The diagnosis document for one run/ folder, or {"error": ...} when nothing in it is readable."""
    from traindoc.diagnosis.build import diagnose
    from traindoc.ingest.loader import load_run

    with contextlib.redirect_stderr(io.StringIO()):
        run = load_run([str(run_dir)])
        if not run.sources and not run.metrics and not run.config:
            return {"error": "nothing readable"}
        return diagnose(run, [str(run_dir)])


def score(label: dict, doc: dict) -> dict:
    """Per-entry outcome flags."""
    truth = label["cause"]
    if "error" in doc:
        causes: list[tuple[str, float]] = []
        verdict = "unreadable"
    else:
        causes = [(rc["cause"], float(rc["confidence"])) for rc in doc.get("root_causes", [])]
        verdict = doc["verdict"]
    confirmed = [(c, p) for c, p in causes if p >= CONFIDENT]
    top = causes[0] if causes else (None, 0.0)
    row = {
        "truth": truth, "verdict": verdict, "top": top[0], "top_conf": round(top[1], 3),
        "unreadable": verdict in ("unreadable", "insufficient_data"),
    }
    if truth == "healthy":
        row["top1"] = row["confident"] = row["top3"] = not confirmed and verdict == "healthy"
        row["false_alarm"] = bool(confirmed) or verdict == "problems_found"  # a stalled verdict counts too
    else:
        row["top1"] = top[0] == truth
        row["confident"] = row["top1"] and top[1] >= CONFIDENT
        row["top3"] = truth in [c for c, _ in causes[:3]]
        row["false_alarm"] = False
    return row


def summarise(rows: list[dict]) -> str:
    n = len(rows)
    if not n:
        return "n=0"
    healthy = [r for r in rows if r["truth"] == "healthy"]

    def share(key: str, among: list[dict]) -> str:
        return f"{sum(r[key] for r in among) / len(among):.2f}" if among else "  - "

    return (f"n={n:3d}  top1 {share('top1', rows)}  confident {share('confident', rows)}  "
            f"top3 {share('top3', rows)}  false-alarm {share('false_alarm', healthy)} (of {len(healthy)} healthy)  "
            f"unreadable {share('unreadable', rows)}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, action="append", help="a corpus folder (repeatable; default: both)")
    ap.add_argument("--json", type=Path, help="write per-entry rows to this file")
    ap.add_argument("-v", "--verbose", action="store_true", help="print one line per entry")
    args = ap.parse_args()
    corpora = args.corpus or [c for c in DEFAULT_CORPORA if c.is_dir()]
    rows: list[dict] = []
    # names starting with "." are runs still being generated (tools/make_reallib_corpus.py renames them when done)
    entries = sorted(p for c in corpora for p in c.iterdir() if p.is_dir() and not p.name.startswith("."))
    for entry in entries:
        label = json.loads((entry / "label.json").read_text(encoding="utf-8"))
        try:
            doc = diagnose_entry(entry / "run")
        except Exception as e:  # a crash on real input is itself a finding: count it as unreadable
            doc = {"error": f"{type(e).__name__}: {e}"}
        row = score(label, doc) | {"id": entry.name, "family": label["family"], "format": label["format"],
                                   "corpus": entry.parent.name}
        if "error" in doc:
            row["error"] = doc["error"]
        rows.append(row)
        if args.verbose:
            mark = "ok " if row["top1"] else "BAD"
            print(f"{mark} {entry.name:45s} truth={row['truth']:20s} verdict={row['verdict']:17s} "
                  f"top={row['top']} ({row['top_conf']})" + (f" error={row['error']}" if "error" in row else ""))
    print(f"\nall      {summarise(rows)}")
    print(f"faulty   {summarise([r for r in rows if r['truth'] != 'healthy'])}")
    print(f"healthy  {summarise([r for r in rows if r['truth'] == 'healthy'])}")
    for key in ("corpus", "source", "stack", "model_family", "optimizer", "truth"):
        groups: dict[str, list[dict]] = defaultdict(list)
        for r in rows:
            groups[r.get(key) or r["family"].get(key, "-")].append(r)
        print(f"\nper {key}")
        for name, members in sorted(groups.items(), key=lambda kv: -len(kv[1])):
            print(f"  {name:28s} {summarise(members)}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
