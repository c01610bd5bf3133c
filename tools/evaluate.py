"""Held-out accuracy and calibration of `traindoc diagnose` on the committed corpora: leave one family out.

The only numbers in the diagnosis that are fitted on data are the Platt coefficients of the confidence calibration
(tools/fit_calibration.py -> src/traindoc/data/calibration.json); detector thresholds are set by hand from the
literature (docs/diagnose.md) and explain-away factors are fixed rules, neither is fitted. So for every family
value (a stack, a model family, a source, a whole corpus) the calibration is refitted on every OTHER labelled run
and that family is scored with it: nothing fitted has seen the family being scored.

Data: every corpus under tests/corpus/ (labelled runs: `run/` + `label.json`, whatever corpora exist). Synthetic
series (traindoc.evidence.synthetic) are unit-test fixtures: they may be added to every fit as extra training data
(`--synthetic-seeds`, default 30 per label, weight 1 against 5 for a real run, as fit_calibration does) but are
never scored. Each run is diagnosed once (tools/labelled_runs.py caches the detector scores in .cache/eval/);
every refit and re-score works from that cache.

Per family, printed:
- top-1: the first listed cause is the label (healthy label: verdict healthy, no cause >= 0.5);
- confident: top-1 right and its confidence >= 0.5;
- top-3: the label among the first three listed causes (healthy: as top-1);
- false alarm: share of the family's healthy runs that get a cause >= 0.5 or a problems_found verdict (a run judged
  not to learn at all, with its candidate causes below 0.5);
- unreadable: share of runs whose files hold >= 3 numeric points (lines with a decimal, exponent, nan or inf)
  that end unreadable, crashed or `insufficient_data`;
- ECE: expected calibration error (10 equal-width bins) over every (run, listed cause) pair, outcome 1 when the
  cause is the run's label; "findings alone" leaves out the differential candidates (causes listed for a symptom
  with no finding of their own), whose many low, well-calibrated pairs would dilute the detectors' own figure.
Families: corpus, then source, stack and model_family; each line is scored with a fit that left that family out.
The "all" line of a dimension pools its held-out families (every run scored once, by a fit without its family).
`--compare` adds pooled lines for other calibrations: the shipped calibration.json (held out only if it was not
fitted on the corpora; labelled in-sample otherwise), a fit on synthetic series alone, and LOFO without the
synthetic series; `--in-sample` adds the fit on every run scored on those same runs (labelled in-sample).

    PYTHONPATH=src .venv/bin/python tools/evaluate.py [--corpus DIR] [--synthetic-seeds 30] [--compare]
        [--in-sample] [--dims corpus,source,stack,model_family] [--json FILE] [--no-cache] [-v]
        [--sparse curves|curves+lr]

`--sparse VARIANT` prints, instead of the families, the sparse-regime ablation (tools/sparse_ablation.py): the dev
real-library runs seen as Keras-like epoch-level histories, loss and accuracy curves only (`curves`) or with the
LR (`curves+lr`), against the same runs as logged, per stack and per cause.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tools"))

from fit_calibration import WEIGHT, ece, fit  # noqa: E402
from labelled_runs import CORPUS_ROOT, LabelledRun, load_corpora, load_synthetic  # noqa: E402
from score_corpus import CONFIDENT, score  # noqa: E402
from traindoc.diagnosis.build import LISTED_BELOW, REPORT_THRESHOLD  # noqa: E402
from traindoc.diagnosis.ranking import (  # noqa: E402
    DIFFERENTIAL,
    DIFFERENTIAL_CAP,
    calibrate,
    calibrate_differential,
    cap_few_points,
    cap_ruled_out,
    listed,
    listing_key,
    load_calibration,
)

DIMS = ("corpus", "source", "stack", "model_family")
MIN_NUMERIC = 3  # a log with fewer numeric points cannot be read into a series by any reader: not "unreadable"


def family_of(run: LabelledRun, dim: str) -> str:
    return run.corpus if dim == "corpus" else run.family[dim]


def rows_for(runs: Iterable[LabelledRun]) -> list[dict]:
    """Calibration examples: one per (run, cause with a finding), y = 1 when the cause is the run's label."""
    rows = []
    for r in runs:
        w = WEIGHT["synthetic"] if r.corpus == "synthetic" else WEIGHT["corpus"]
        # a committed corpus's rows name it: fit gives every corpus the same weight (fit_calibration.balance_corpora)
        corpus = {} if r.corpus == "synthetic" else {"corpus": r.corpus}
        # a look-alike listing is an example of the listings' model, not of its cause's curve (ranking.LISTING)
        rows += [{"run": r.id, "cause": listing_key(c) if c in r.listings else c, "score": s, "y": int(c == r.label),
                  "weight": w, **corpus} for c, s in r.scores.items()]
        # the differential candidates' shares: one model for all of them (fit keeps them out of the shared fit)
        rows += [{"run": r.id, "cause": DIFFERENTIAL, "score": float(s), "y": int(c == r.label), "weight": w,
                  **corpus} for c, s in r.differential if c not in r.scores]
    return rows


def rescore(run: LabelledRun, table: dict) -> dict:
    """What diagnose would report for this run with `table` as its calibration: verdict and listed causes, by the
    rules of traindoc.diagnosis.build (confirmed >= REPORT_THRESHOLD, then up to three >= LISTED_BELOW)."""
    if not run.readable or run.error:
        return {"verdict": "unreadable", "root_causes": [], "confidences": {}}
    conf = {c: cap_few_points(cap_ruled_out(calibrate(c, s, table, c in run.listings), c in run.ruled_out),
                              not run.enough and c in run.final_pairs)
            for c, s in run.scores.items()}
    ranked = sorted(run.scores, key=lambda c: (-conf[c], -run.scores[c]))
    confirmed = [c for c in ranked if conf[c] >= REPORT_THRESHOLD]
    possible = [c for c in ranked if LISTED_BELOW <= conf[c] < REPORT_THRESHOLD]
    diff = [c for c, _ in run.differential if c not in conf]
    conf |= {c: min(calibrate_differential(float(p), table), DIFFERENTIAL_CAP)  # build.diagnose's rule
             for c, p in run.differential if c not in conf}
    if confirmed or (run.enough and run.stalled):  # diagnose: a run that never learned is never healthy
        verdict = "problems_found"
    else:
        verdict = "healthy" if run.enough else "insufficient_data"
    shown = listed(confirmed, possible, diff, conf, set(run.ranked_up))
    return {"verdict": verdict, "root_causes": [{"cause": c, "confidence": conf[c]} for c in shown],
            "confidences": conf}


def outcome(run: LabelledRun, table: dict) -> dict:
    doc = rescore(run, table)
    row = score({"cause": run.label}, doc)
    row["unreadable"] = run.numeric_points >= MIN_NUMERIC and doc["verdict"] in ("unreadable", "insufficient_data")
    row["eligible"] = run.numeric_points >= MIN_NUMERIC
    row["pairs"] = [(p, int(c == run.label)) for c, p in doc["confidences"].items()]
    # the same pairs without the differential candidates: the detectors' own calibration, which the many low
    # candidate pairs would otherwise dilute
    row["finding_pairs"] = [(p, int(c == run.label)) for c, p in doc["confidences"].items() if c in run.scores]
    row["id"] = run.id
    return row


@dataclass
class Fold:
    dim: str
    value: str
    train_ids: set[str]
    table: dict
    rows: list[dict]  # outcomes of the held-out runs


def lofo(runs: list[LabelledRun], dim: str, extra: list[LabelledRun]) -> list[Fold]:
    """Leave one family out along `dim`: per family value, fit on every other run (+ `extra`), score the family."""
    folds = []
    for value in sorted({family_of(r, dim) for r in runs}):
        held = [r for r in runs if family_of(r, dim) == value]
        train = [r for r in runs if family_of(r, dim) != value] + extra
        table = fit(rows_for(train)) if any(r.scores for r in train) else {"shared": {"a": 1.0, "b": 0.0},
                                                                             "per_cause": {}}
        folds.append(Fold(dim, value, {r.id for r in train}, table, [outcome(r, table) for r in held]))
    return folds


def summary(rows: list[dict]) -> dict:
    healthy = [r for r in rows if r["truth"] == "healthy"]
    eligible = [r for r in rows if r["eligible"]]
    pairs = [pq for r in rows for pq in r["pairs"]]
    p = np.array([a for a, _ in pairs], dtype=np.float64)
    y = np.array([b for _, b in pairs], dtype=np.float64)
    fpairs = [pq for r in rows for pq in r["finding_pairs"]]
    fp = np.array([a for a, _ in fpairs], dtype=np.float64)
    fy = np.array([b for _, b in fpairs], dtype=np.float64)

    def share(key: str, among: list[dict]) -> float | None:
        return sum(bool(r[key]) for r in among) / len(among) if among else None

    return {"n": len(rows), "healthy": len(healthy), "eligible": len(eligible), "pairs": len(pairs),
            "top1": share("top1", rows), "confident": share("confident", rows), "top3": share("top3", rows),
            "false_alarm": share("false_alarm", healthy), "unreadable": share("unreadable", eligible),
            "ece": ece(p, y) if len(pairs) else None, "ece_findings": ece(fp, fy) if len(fpairs) else None}


def fmt(s: dict) -> str:
    def f(v: float | None) -> str:
        return " -  " if v is None or v != v else f"{v:.2f}"

    return (f"n={s['n']:4d}  top1 {f(s['top1'])}  confident {f(s['confident'])}  top3 {f(s['top3'])}  "
            f"false-alarm {f(s['false_alarm'])} ({s['healthy']:3d} healthy)  "
            f"unreadable {f(s['unreadable'])} ({s['eligible']:3d})  ECE {f(s['ece'])} ({s['pairs']:4d} pairs; "
            f"findings alone {f(s['ece_findings'])})")


def by_corpus(rows: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in rows:
        out.setdefault(r["id"].split("/")[0], []).append(r)
    return out


def fixed(runs: list[LabelledRun], table: dict) -> list[dict]:
    return [outcome(r, table) for r in runs]


def shipped_is_in_sample(table: dict) -> bool:
    """True when the shipped calibration was fitted on corpus runs (fit_calibration records its sources)."""
    return bool(table.get("corpora"))


def check_cache(runs: list[LabelledRun], warn: Callable[[str], None]) -> int:
    """Re-scoring a cached run with the shipped calibration must give what diagnose itself gave."""
    table = load_calibration()
    bad = 0
    for r in runs:
        if not r.shipped:
            continue
        doc = rescore(r, table)
        mine = [(c["cause"], c["confidence"]) for c in doc["root_causes"]]
        theirs = [(c, p) for c, p in r.shipped["causes"]]
        same = [a[0] for a in mine] == [b[0] for b in theirs] and all(
            abs(a[1] - b[1]) <= 1e-3 for a, b in zip(mine, theirs, strict=True))  # diagnose rounds to 4 places
        if doc["verdict"] != r.shipped["verdict"] or not same:
            bad += 1
            warn(f"re-scoring differs from diagnose on {r.id}: {doc['verdict']} {mine} vs "
                 f"{r.shipped['verdict']} {theirs}")
    return bad


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=CORPUS_ROOT, help="folder of corpora (default tests/corpus)")
    ap.add_argument("--synthetic-seeds", type=int, default=30, help="synthetic runs per label added to every fit "
                    "as extra training data (0: none); never scored")
    ap.add_argument("--dims", default=",".join(DIMS), help="family dimensions to hold out, comma-separated")
    ap.add_argument("--compare", action="store_true", help="also print pooled lines for other calibrations")
    ap.add_argument("--in-sample", action="store_true", help="also print the in-sample fit (labelled in-sample)")
    ap.add_argument("--json", type=Path, help="write every summary to this file")
    ap.add_argument("--no-cache", action="store_true", help="re-diagnose every run")
    ap.add_argument("-v", "--verbose", action="store_true", help="print one line per held-out run")
    ap.add_argument("--sparse", choices=("curves", "curves+lr"), help="instead of the families: the sparse-regime "
                    "ablation, the dev real-library runs as epoch-level histories (tools/sparse_ablation.py)")
    args = ap.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    dims = [d for d in args.dims.split(",") if d]
    if unknown := [d for d in dims if d not in DIMS]:
        print(f"evaluate: unknown dimension {unknown[0]} (known: {', '.join(DIMS)})", file=sys.stderr)
        return 2
    runs = load_corpora(args.corpus, use_cache=not args.no_cache, progress=True)
    if not runs:
        print(f"evaluate: no labelled runs under {args.corpus}", file=sys.stderr)
        return 2
    synth = load_synthetic(args.synthetic_seeds) if args.synthetic_seeds > 0 else []
    mismatches = check_cache(runs, lambda m: print(f"evaluate: warning: {m}", file=sys.stderr))
    corpora = sorted({r.corpus for r in runs})
    print(f"labelled runs: {len(runs)} ({', '.join(f'{c} {sum(r.corpus == c for r in runs)}' for c in corpora)}); "
          f"extra calibration data, never scored: {len(synth)} synthetic series "
          f"({args.synthetic_seeds} per label, weight {WEIGHT['synthetic']:g} against {WEIGHT['corpus']:g})")
    if mismatches:
        print(f"WARNING: re-scoring from the cache differs from diagnose on {mismatches} run(s) (see stderr)")
    print("Every line is HELD OUT: the calibration that scored a family was fitted without it.")
    if args.sparse:
        import sparse_ablation  # here: it uses this module's scoring

        sparse = sparse_ablation.load_sparse(args.corpus, args.sparse, use_cache=not args.no_cache,
                                             progress=lambda m: print(m, file=sys.stderr))
        result = sparse_ablation.report(runs, sparse, synth, args.sparse, sys.modules[__name__], args.verbose)
        if args.json:
            args.json.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
        return 0
    report: dict = {"runs": len(runs), "corpora": corpora, "synthetic_extra": len(synth), "lofo": {}}
    for dim in dims:
        folds = lofo(runs, dim, synth)
        pooled = [r for f in folds for r in f.rows]
        print(f"\nleave one {dim} out ({len(folds)} fits)")
        for corpus, rows in sorted(by_corpus(pooled).items()):
            print(f"  all {corpus:30s} {fmt(summary(rows))}")
            faulty = [r for r in rows if r["truth"] != "healthy"]
            print(f"  faulty {corpus:27s} {fmt(summary(faulty))}")
        report["lofo"][dim] = {"all": {c: summary(rs) for c, rs in by_corpus(pooled).items()}, "families": {}}
        for f in sorted(folds, key=lambda f: -len(f.rows)):
            s = summary(f.rows)
            report["lofo"][dim]["families"][f.value] = s
            if dim != "corpus":
                print(f"    {f.value:32s} {fmt(s)}")
            if args.verbose:
                for r in f.rows:
                    print(f"      {'ok ' if r['top1'] else 'BAD'} {r['id']:55s} truth={r['truth']:20s} "
                          f"verdict={r['verdict']:17s} top={r['top']} ({r['top_conf']})")
    if args.compare:
        shipped = load_calibration()
        tag = "in-sample" if shipped_is_in_sample(shipped) else "held out: fitted before/without the corpora"
        print("\ncompare (pooled per corpus)")
        variants = [(f"shipped calibration.json ({tag})", lambda: fixed(runs, shipped)),
                    ("fit on synthetic series alone (held out)",
                     lambda: fixed(runs, fit(rows_for(synth))) if synth else []),
                    ("leave one stack out, corpora only, no synthetic (held out)",
                     lambda: [r for f in lofo(runs, "stack", []) for r in f.rows])]
        report["compare"] = {}
        for name, make in variants:
            rows = make()
            print(f"  {name}")
            for corpus, rs in sorted(by_corpus(rows).items()):
                print(f"    {corpus:32s} {fmt(summary(rs))}")
            report["compare"][name] = {c: summary(rs) for c, rs in by_corpus(rows).items()}
    if args.in_sample:
        table = fit(rows_for(runs + synth))
        rows = fixed(runs, table)
        print("\nIN-SAMPLE (fitted on every run, scored on the same runs; not evidence of accuracy)")
        for corpus, rs in sorted(by_corpus(rows).items()):
            print(f"    {corpus:32s} {fmt(summary(rs))}")
        report["in_sample"] = {c: summary(rs) for c, rs in by_corpus(rows).items()}
    print(f"\nconfident = right and >= {CONFIDENT}; unreadable among runs with >= {MIN_NUMERIC} numeric points; "
          "ECE over (run, candidate cause) pairs, 10 bins.")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
