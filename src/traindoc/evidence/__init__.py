"""Stage 2: pure functions from a `Run` to `Finding`s. One module per cause family in detectors/; each exposes
`DETECTORS`. `run_detectors` runs them all; a detector that fails on odd input is skipped with a warning on the
run (a diagnosis with one detector missing beats a traceback)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from traindoc.evidence.finding import Finding
from traindoc.ingest.model import Run


def all_detectors() -> list[Callable[[Run], list[Finding]]]:
    from traindoc.evidence.detectors import (
        accumulation,
        architecture,
        bouncing,
        code_lint,
        data,
        detection_labels,
        epoch_curves,
        layer_grads,
        not_learning,
        numerics,
        optimisation,
        systems,
        transfer,
        unchanged_loss,
    )

    out: list[Callable[[Run], list[Finding]]] = []
    for mod in (optimisation, accumulation, not_learning, layer_grads, numerics, data, transfer, architecture, systems,
                code_lint, epoch_curves, unchanged_loss, bouncing, detection_labels):
        out.extend(mod.DETECTORS)
    return out


def run_detectors(run: Run) -> list[Finding]:
    """Every detector over the run; findings sorted by strength (strongest first)."""
    import warnings

    import numpy as np

    findings: list[Finding] = []
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for det in all_detectors():
            try:
                findings.extend(det(run))
            except Exception as e:  # noqa: BLE001 - one broken detector must not sink the diagnosis
                if os.environ.get("TRAINDOC_DEBUG"):
                    raise
                msg = f"detector {det.__name__} failed: {type(e).__name__}: {e}"
                run.warnings.append(msg)
                print(f"traindoc: warning: {msg}", file=sys.stderr)
    from traindoc.evidence import dead_origin

    # dead units that the log shows alive first and killed by an oversized update rank below what killed them
    findings = dead_origin.demote(run, findings)
    findings.sort(key=lambda f: -f.strength)
    return findings
