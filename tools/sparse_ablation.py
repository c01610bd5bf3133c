"""The sparse-regime ablation of `tools/evaluate.py --sparse VARIANT`: the DEV real-library runs (plain PyTorch, HF
Trainer, Lightning) diagnosed as epoch-level histories (tools/sparse_history.py), against the same runs as logged.

Why: Keras `model.fit` histories and most real-world logs hold 5-50 per-epoch rows of loss / accuracy / val_loss /
val_accuracy (sometimes the LR) and no gradient norm, while the dev stacks log per-step losses, grad norms, the LR
and configs. Scoring the dev runs in the sparse form says which causes the detectors can only read from the rich
form, without looking at the held-out stacks (Keras, timm-style), whose runs this never reads.

Calibration as the held-out protocol does: each dev stack is scored (dense and sparse alike) by the calibration
fitted without that stack, on every other corpus run as logged (+ the synthetic series), which is what a sparse log
from a new stack meets in practice. Printed: the pooled and per-stack lines (dense, then sparse), then per labelled
cause top-1 / confident / top-3 dense -> sparse, then the false alarms per claimed cause: runs whose top cause is
that cause at >= 0.5 while the label is another cause or healthy.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import tempfile
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from types import ModuleType

from fit_calibration import fit
from labelled_runs import CACHE_DIR, LabelledRun, _files_digest, code_fingerprint, corpus_entries, read_entry
from sparse_history import FILE_NAME, csvlogger_text, history

DEV_STACKS = ("plain_pytorch", "hf_trainer", "lightning")  # the stacks the rules were developed on (issue 8)
CORPUS = "reallib"


def dev_entries(root: Path) -> list[Path]:
    """The dev real-library entries; the label is read for its stack only, and held-out stacks are never opened
    further (their run/ folders are not read here)."""
    out = []
    for e in corpus_entries(root):
        if e.parent.name != CORPUS or not e.name.startswith(tuple(f"{s}-" for s in DEV_STACKS)):
            continue
        stack = json.loads((e / "label.json").read_text(encoding="utf-8")).get("family", {}).get("stack")
        if stack in DEV_STACKS:
            out.append(e)
    return out


def sparse_entry(entry: Path, variant: str, scratch: Path) -> LabelledRun:
    """Read the entry's run/, write its epoch-level history as a CSVLogger file, diagnose that file alone."""
    from traindoc.ingest.loader import load_run

    with contextlib.redirect_stderr(io.StringIO()):
        run = load_run([str(entry / "run")])
    run_dir = scratch / entry.name / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    text = csvlogger_text(history(run, variant))
    if text:
        (run_dir / FILE_NAME).write_text(text, encoding="utf-8")
    return read_entry(entry, run_dir)


def load_sparse(root: Path, variant: str, use_cache: bool = True,
                progress: Callable[[str], None] | None = None) -> list[LabelledRun]:
    """Every dev run in the sparse view, cached like tools/labelled_runs.py (code, files, label and variant)."""
    fp = code_fingerprint()
    entries = dev_entries(root)
    out = []
    with tempfile.TemporaryDirectory(prefix="traindoc-sparse-") as tmp:
        for i, entry in enumerate(entries):
            key = hashlib.sha256(f"sparse:{variant}:{fp}:{entry.parent.name}/{entry.name}:"
                                 f"{_files_digest(entry / 'run')}:{(entry / 'label.json').read_bytes().hex()}"
                                 .encode()).hexdigest()[:24]
            path = CACHE_DIR / "sparse" / f"{key}.json"
            if use_cache and path.is_file():
                try:
                    out.append(LabelledRun(**json.loads(path.read_text(encoding="utf-8"))))
                    continue
                except (ValueError, TypeError):
                    pass
            if progress:
                progress(f"evaluate: sparse view ({variant}) {i + 1}/{len(entries)} {entry.name}")
            lr = sparse_entry(entry, variant, Path(tmp))
            out.append(lr)
            if use_cache:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(asdict(lr)), encoding="utf-8")
    return out


def stack_tables(runs: list[LabelledRun], extra: list[LabelledRun], rows_for: Callable) -> dict[str, dict]:
    """Per dev stack, the calibration fitted on every corpus run of another stack (+ `extra`)."""
    return {s: fit(rows_for([r for r in runs if r.family["stack"] != s] + extra)) for s in DEV_STACKS}


def _rate(rows: list[dict], key: str) -> str:
    return f"{sum(bool(r[key]) for r in rows) / len(rows):.2f}" if rows else " -  "


def cause_lines(dense: list[dict], sparse: list[dict]) -> list[str]:
    """Per labelled cause: n, top-1 / confident / top-3 dense -> sparse."""
    lines = [f"  {'label':22s} {'n':>3s}   top1 dense->sparse   confident dense->sparse   top3 dense->sparse"]
    for label in sorted({r["truth"] for r in dense}):
        d = [r for r in dense if r["truth"] == label]
        s = [r for r in sparse if r["truth"] == label]
        lines.append(f"  {label:22s} {len(d):3d}   {_rate(d, 'top1')} -> {_rate(s, 'top1')}"
                     f"         {_rate(d, 'confident')} -> {_rate(s, 'confident')}"
                     f"              {_rate(d, 'top3')} -> {_rate(s, 'top3')}")
    return lines


def alarm_lines(dense: list[dict], sparse: list[dict]) -> list[str]:
    """Per claimed cause: runs whose top cause (>= 0.5) is that cause and not the label, on healthy runs and on
    runs of another cause, dense -> sparse."""
    def wrong(rows: list[dict], healthy: bool) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in rows:
            if r["top"] and r["top"] != r["truth"] and r["top_conf"] >= 0.5 and (r["truth"] == "healthy") == healthy:
                out[r["top"]] = out.get(r["top"], 0) + 1
        return out

    dh, sh, df, sf = wrong(dense, True), wrong(sparse, True), wrong(dense, False), wrong(sparse, False)
    lines = [f"  {'claimed cause':22s} on healthy dense->sparse   on another cause dense->sparse"]
    for c in sorted(set(dh) | set(sh) | set(df) | set(sf)):
        lines.append(f"  {c:22s} {dh.get(c, 0):3d} -> {sh.get(c, 0):3d}                "
                     f"{df.get(c, 0):3d} -> {sf.get(c, 0):3d}")
    return lines


def report(runs: list[LabelledRun], sparse: list[LabelledRun], extra: list[LabelledRun], variant: str,
           ev: ModuleType, verbose: bool = False, write: Callable[[str], None] = print) -> dict:
    """Print the ablation; `ev` is the evaluate module (outcome, summary, fmt, rows_for)."""
    tables = stack_tables(runs, extra, ev.rows_for)
    by_id = {r.id: r for r in runs}
    dense_rows: list[dict] = []
    sparse_rows: list[dict] = []
    per_stack: dict[str, tuple[list[dict], list[dict]]] = {}
    for r in sparse:
        stack = r.family["stack"]
        d = ev.outcome(by_id[r.id], tables[stack])
        s = ev.outcome(r, tables[stack])
        d["stack"] = s["stack"] = stack
        dense_rows.append(d)
        sparse_rows.append(s)
        per_stack.setdefault(stack, ([], []))[0].append(d)
        per_stack[stack][1].append(s)
    write(f"\nsparse-regime ablation ({variant}): {len(sparse)} dev real-library runs ({', '.join(DEV_STACKS)}) as "
          "epoch-level histories; each stack scored by the calibration fitted without it (leave one stack out)")
    faulty = [r for r in dense_rows if r["truth"] != "healthy"]
    faulty_s = [r for r in sparse_rows if r["truth"] != "healthy"]
    for name, d, s in [("all dev", dense_rows, sparse_rows), ("faulty dev", faulty, faulty_s)] + [
            (k, *per_stack[k]) for k in DEV_STACKS if k in per_stack]:
        write(f"  {name:14s} dense  {ev.fmt(ev.summary(d))}")
        write(f"  {name:14s} sparse {ev.fmt(ev.summary(s))}")
    write("\nper labelled cause")
    for line in cause_lines(dense_rows, sparse_rows):
        write(line)
    write("\nwrong confident top causes (>= 0.5), per claimed cause")
    for line in alarm_lines(dense_rows, sparse_rows):
        write(line)
    if verbose:
        write("\nper run (sparse view)")
        for d, s in zip(dense_rows, sparse_rows, strict=True):
            write(f"  {'ok ' if s['top1'] else 'BAD'} {s['id']:48s} truth={s['truth']:20s} "
                  f"sparse={s['top']} ({s['top_conf']})  dense={d['top']} ({d['top_conf']})")
    return {"variant": variant, "all": {"dense": ev.summary(dense_rows), "sparse": ev.summary(sparse_rows)},
            "faulty": {"dense": ev.summary(faulty), "sparse": ev.summary(faulty_s)}}
