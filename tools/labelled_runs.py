"""Labelled runs for calibration and evaluation, each read and diagnosed once per code version.

Sources:
- the committed corpora: every `tests/corpus/<corpus>/<entry>/` holding `run/` and `label.json` (layout in
  tests/corpus/README.md). diagnose reads `run/` only; the label and SOURCE.md stay out of its sight. Whatever
  corpora exist are picked up (realworld, reallib, any later one);
- synthetic series (traindoc.evidence.synthetic): unit-test fixtures, usable as extra calibration data only.

What is kept per run is everything the calibration and the scoring need, so that refitting and re-scoring never
re-run a detector: the explained-away detector score of every cause with a finding, whether the run had enough
points for a verdict (diagnose's own rule), how many numeric points its files hold (the denominator of the
"unreadable" share), and the verdict and causes diagnose gave with the shipped calibration (to check that
re-scoring from the cache reproduces diagnose). The cache lives in `.cache/eval/`, keyed by the run's files and a
fingerprint of the traindoc sources, so a detector change re-reads every run once.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

CORPUS_ROOT = ROOT / "tests" / "corpus"
CACHE_DIR = ROOT / ".cache" / "eval"
FAMILY_KEYS = ("source", "stack", "model_family")
# A numeric point is a line holding a decimal, an exponent, nan or inf: what a pasted log line with a loss looks
# like, whatever its format. Counted on the raw text, so that a log the readers fail on still counts.
_NUMERIC = re.compile(r"\d\.\d|\d[eE][-+]?\d|\bnan\b|\binf\b", re.IGNORECASE)
_CONFIG_SUFFIXES = {".yaml", ".yml", ".toml", ".ini", ".cfg", ".py", ".sh"}
_READ_CAP = 8 << 20  # bytes read per file when counting numeric lines: the corpora are small; this bounds a stray file


@dataclass
class LabelledRun:
    id: str  # "<corpus>/<entry>" or "synthetic/<label>/<seed>"
    corpus: str
    label: str  # a cause id or "healthy"
    family: dict[str, str]  # source, stack, model_family
    scores: dict[str, float]  # cause -> explained-away detector score (uncalibrated)
    enough: bool  # diagnose's rule: some series has MIN_POINTS finite points or a non-finite value
    numeric_points: int  # numeric lines in the run's files (or parsed points, whichever is larger)
    readable: bool = True  # load_run found something
    error: str | None = None  # an exception diagnose raised on this run (counted as unreadable)
    shipped: dict = field(default_factory=dict)  # {"verdict", "causes": [[cause, confidence], ...]} as diagnose gave
    stalled: bool = False  # diagnose's never_healthy: never learned, non-finite for good, or a NaN last held-out loss
    # differential candidates, best first: [cause, prior share] (traindoc.diagnosis.differential); listed after the
    # causes with findings, never fitted (their confidence is the share)
    differential: list = field(default_factory=list)
    # differential candidates the log's telling evidence ranked up (traindoc.diagnosis.ranking.ranked_up): listed with
    # the causes with findings by confidence (ranking.listed)
    ranked_up: list = field(default_factory=list)
    # causes whose every finding is a look-alike listing (traindoc.diagnosis.ranking.listing_causes): calibrated by
    # the listings' shared model, not their cause's
    listings: list = field(default_factory=list)
    # causes the run's code rules out (traindoc.evidence.ruled_out): capped below the report threshold after calibration
    ruled_out: list = field(default_factory=list)
    # causes whose every finding reads final figures alone (traindoc.diagnosis.ranking.final_pair_causes): capped
    # below the report threshold when the run has too few points (not `enough`)
    final_pairs: list = field(default_factory=list)


def corpus_entries(root: Path = CORPUS_ROOT) -> list[Path]:
    """Every labelled entry of every corpus under `root`, sorted."""
    if not root.is_dir():
        return []
    return sorted(e for c in root.iterdir() if c.is_dir() for e in c.iterdir()
                  if (e / "label.json").is_file() and (e / "run").is_dir())


def code_fingerprint() -> str:
    """Hash of every traindoc source file and data file: a change to a reader, a detector, the ranking or the
    shipped calibration invalidates the cache."""
    h = hashlib.sha256()
    pkg = ROOT / "src" / "traindoc"
    for p in sorted(pkg.rglob("*")):
        if p.is_file() and p.suffix in (".py", ".json") and "__pycache__" not in p.parts:
            h.update(str(p.relative_to(pkg)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def _files_digest(run_dir: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(run_dir.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(run_dir)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def numeric_lines(run_dir: Path) -> int:
    """Lines holding a number in the run's text files (configs and scripts excluded; binary files skipped)."""
    n = 0
    for p in sorted(run_dir.rglob("*")):
        name = p.name.lower()
        if not p.is_file() or p.suffix.lower() in _CONFIG_SUFFIXES:
            continue
        if p.suffix.lower() == ".json" and any(k in name for k in ("config", "args", "hparams")):
            continue
        with open(p, "rb") as f:
            data = f.read(_READ_CAP)
        if b"\0" in data[:4096]:
            continue  # binary (event files, databases): their parsed points are counted instead
        n += sum(1 for line in data.decode("utf-8", "replace").splitlines() if _NUMERIC.search(line))
    return n


def _enough(run) -> bool:
    from traindoc.diagnosis.build import has_enough

    return has_enough(run)


def scores_of(findings) -> dict[str, float]:
    """Explained-away detector score per cause: the input of the calibration."""
    from traindoc.diagnosis.ranking import aggregate, explain_away

    scores, _ = explain_away(aggregate(findings), findings)
    return {c: float(s) for c, s in scores.items()}


def listings_of(findings) -> list:
    """Causes whose every finding is a look-alike listing, sorted."""
    from traindoc.diagnosis.ranking import listing_causes

    return sorted(listing_causes(findings))


def differential_of(run, findings) -> tuple[list, list]:
    """[cause, share] of every differential candidate, best first (traindoc.diagnosis.differential), and the
    candidates its telling evidence ranked up (traindoc.diagnosis.ranking.ranked_up)."""
    from traindoc.diagnosis import differential

    cands = differential.candidates(run, findings)
    return ([[f.cause, float(f.strength)] for f in cands],
            sorted(f.cause for f in cands if f.numbers.get("telling") == "seen"))


def read_entry(entry: Path, run_dir: Path | None = None) -> LabelledRun:
    """Diagnose one corpus entry's run/ (once) and keep what calibration and scoring need. `run_dir` replaces the
    entry's run/ with another view of it (tools/sparse_history.py: the same run as an epoch-level history)."""
    from traindoc.diagnosis.build import diagnose, never_healthy
    from traindoc.diagnosis.ranking import final_pair_causes
    from traindoc.evidence import run_detectors
    from traindoc.evidence.ruled_out import ruled_out
    from traindoc.ingest.loader import load_run

    label = json.loads((entry / "label.json").read_text(encoding="utf-8"))
    fam = label.get("family") or {}
    corpus = entry.parent.name
    family = {k: str(fam.get(k) or (corpus if k == "source" else "unknown")) for k in FAMILY_KEYS}
    run_dir = run_dir or entry / "run"
    out = LabelledRun(f"{corpus}/{entry.name}", corpus, str(label.get("cause") or "healthy"), family, {}, False,
                      numeric_lines(run_dir))
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            run = load_run([str(run_dir)])
            out.numeric_points = max(out.numeric_points, max((len(s.values) for s in run.metrics.values()),
                                                             default=0))
            if not run.sources and not run.metrics and not run.config:
                out.readable = False
                return out
            findings = run_detectors(run)
            doc = diagnose(run, [str(run_dir)], findings)
    except Exception as e:  # noqa: BLE001 - a crash on real input is a finding of the evaluation, not of this tool
        out.error = f"{type(e).__name__}: {e}"[:300]
        return out
    out.scores = scores_of(findings)
    out.listings = listings_of(findings)
    out.final_pairs = sorted(final_pair_causes(findings))
    out.ruled_out = sorted(ruled_out(run))
    out.enough = _enough(run)
    out.stalled = never_healthy(run, findings)
    if out.enough:
        out.differential, out.ranked_up = differential_of(run, findings)
    out.shipped = {"verdict": doc["verdict"],
                   "causes": [[rc["cause"], float(rc["confidence"])] for rc in doc.get("root_causes", [])]}
    return out


def load_corpora(root: Path = CORPUS_ROOT, use_cache: bool = True, progress: bool = False) -> list[LabelledRun]:
    """Every labelled corpus run, from the cache when its files and the code are unchanged."""
    fp = code_fingerprint()
    runs = []
    entries = corpus_entries(root)
    for i, entry in enumerate(entries):
        key = hashlib.sha256(f"{fp}:{entry.parent.name}/{entry.name}:{_files_digest(entry / 'run')}:"
                             f"{(entry / 'label.json').read_bytes().hex()}".encode()).hexdigest()[:24]
        path = CACHE_DIR / f"{key}.json"
        if use_cache and path.is_file():
            try:
                runs.append(LabelledRun(**json.loads(path.read_text(encoding="utf-8"))))
                continue
            except (ValueError, TypeError):
                pass  # a cache file from another layout: read the run again
        if progress:
            print(f"evaluate: diagnosing {i + 1}/{len(entries)} {entry.parent.name}/{entry.name}", file=sys.stderr)
        lr = read_entry(entry)
        runs.append(lr)
        if use_cache:
            CACHE_DIR.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(asdict(lr)), encoding="utf-8")
    return runs


def load_synthetic(seeds: int, labels: list[str] | None = None) -> list[LabelledRun]:
    """Synthetic series, every cause + healthy (or `labels`), `seeds` each: unit-test fixtures, extra calibration
    data only."""
    from traindoc.diagnosis.build import never_healthy
    from traindoc.evidence import run_detectors, synthetic

    out = []
    for label in labels or synthetic.BUILDERS:
        for seed in range(seeds):
            run = synthetic.make(label, 10_000 + seed)
            findings = run_detectors(run)
            diff, up = differential_of(run, findings) if _enough(run) else ([], [])
            out.append(LabelledRun(f"synthetic/{label}/{seed}", "synthetic", label,
                                   {"source": "synthetic", "stack": "synthetic", "model_family": "synthetic"},
                                   scores_of(findings), _enough(run),
                                   max((len(s.values) for s in run.metrics.values()), default=0),
                                   stalled=never_healthy(run, findings),
                                   differential=diff, ranked_up=up, listings=listings_of(findings)))
    return out
