"""Systems detectors: data-parallel ranks that disagree."""

from __future__ import annotations

import re
from collections import defaultdict

import numpy as np

from traindoc.evidence import stats
from traindoc.evidence.context import cite_series, cite_source, first_nonfinite
from traindoc.evidence.finding import Finding
from traindoc.evidence.stats import fmt
from traindoc.ingest.model import Run

_RANK = re.compile(r"^(?P<base>.+)@rank(?P<k>\d+)$")


def detect_distributed_desync(run: Run) -> list[Finding]:
    """Per-rank series "name@rankK" that disagree where they must agree.

    - one rank non-finite while the others stay finite (a bad rank / device);
    - grad_norm after the all-reduce is identical on every rank: a median relative spread > 1 % means the
      ranks reduce different gradients;
    - loss: ranks see different shards, so losses differ; flag a rank whose late median deviates > 50 % from
      the other ranks' median while it agreed within 10 % early (it drifted away).
    """
    groups: dict[str, dict[int, object]] = defaultdict(dict)
    for name, s in run.metrics.items():
        m = _RANK.match(name)
        if m:
            groups[m.group("base")][int(m.group("k"))] = s
    ev: list[str] = []
    strength = 0.0
    step = None
    for base, ranks in groups.items():
        if len(ranks) < 2:
            continue
        nfs = {k: first_nonfinite(s) for k, s in ranks.items()}
        bad = [k for k, v in nfs.items() if v is not None]
        if bad and len(bad) < len(ranks):
            k = bad[0]
            ev.append(f"{base} is non-finite on rank {k} from step {nfs[k]} while ranks "
                      f"{sorted(set(ranks) - set(bad))} stay finite {cite_series(ranks[k])}")
            strength = max(strength, 0.85)
            step = nfs[k]
            continue
        # align on common steps (sorted arrays and binary search: Python sets of every step cost seconds at 1M)
        cs = None
        for s in ranks.values():
            own = stats.sorted_unique(s.steps)
            cs = own if cs is None else stats.intersect_sorted(cs, own)
        if cs is None or cs.size < 5:
            continue
        mat = np.vstack([s.values[np.searchsorted(s.steps, cs)] for _, s in sorted(ranks.items())])
        mat = mat[:, np.isfinite(mat).all(axis=0)]
        if mat.shape[1] < 5:
            continue
        if base.startswith("grad_norm"):
            spread = (mat.max(axis=0) - mat.min(axis=0)) / np.maximum(np.abs(mat).mean(axis=0), 1e-12)
            med = float(np.median(spread))
            if med > 0.01:
                ev.append(f"{base} differs across {len(ranks)} ranks by a median {med:.1%} although the all-reduced "
                          f"norm must be identical")
                strength = max(strength, 0.7)
                step = int(cs[0])
        else:
            n = mat.shape[1]
            k = max(2, n // 4)
            for i in range(mat.shape[0]):
                others = np.delete(mat, i, axis=0)
                oth_late = float(np.median(others[:, -k:]))
                oth_early = float(np.median(others[:, :k]))
                me_late = float(np.median(mat[i, -k:]))
                me_early = float(np.median(mat[i, :k]))
                if oth_late == 0 or oth_early == 0:
                    continue
                dl = abs(me_late - oth_late) / abs(oth_late)
                de = abs(me_early - oth_early) / abs(oth_early)
                if dl > 0.5 and de < 0.1:
                    rk = sorted(ranks)[i]
                    ev.append(f"{base} on rank {rk} drifted to {fmt(me_late)} while the other ranks are at "
                              f"{fmt(oth_late)} (they agreed early: {fmt(me_early)} vs {fmt(oth_early)})")
                    strength = max(strength, 0.6)
    for e in run.events:
        if e.tag in ("nccl_error", "nccl_timeout", "rank_desync", "straggler"):
            ev.append(f"log at step {e.step}: {e.message[:120]} [{cite_source(e.source)}:{e.line}]")
            strength = max(strength, 0.5) + 0.1
            break
    if not ev:
        return []
    return [Finding("detect_distributed_desync", "distributed_desync", float(min(1.0, strength)),
                    "ranks of the data-parallel job disagree", ev, step, {"ranked_metrics": sorted(groups)})]


DETECTORS = [detect_distributed_desync]
