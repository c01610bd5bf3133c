"""Stage between evidence and diagnosis: run the user's own model and optimiser on one batch to find what logs
cannot show (a non-causal mask, a parameter no gradient or no optimiser group reaches, an LR schedule that never
reaches the update, a gradient filter with the wrong sign, dead or saturated units, a label the input gives away).

    import traindoc
    report = traindoc.probe(model, batch, loss_fn=..., optimizer=..., scheduler=...)
    for f in report.findings: print(f.cause, f.summary)

Each probe lives in its own module and returns `Finding`s in the evidence format, so `traindoc diagnose --probe`
ranks them with the log detectors' findings. torch is imported inside the probes only: importing this package
(and the diagnosis path) never loads it. This package is the only place traindoc runs user code, and only the
code the user names (`--factory module:function` or the objects passed to `traindoc.probe`); see docs/probe.md.
"""

from __future__ import annotations

import sys
import types
from typing import Any


class ProbeError(ValueError):
    """The model, batch or factory cannot be probed as given (one line for the user)."""


def probe(model: Any, batch: Any, **kwargs: Any) -> Any:
    """Run every probe on `model` and `batch`; see `traindoc.probe.run.run_probes` for the arguments."""
    from traindoc.probe.run import run_probes

    return run_probes(model, batch, **kwargs)


class _CallableModule(types.ModuleType):
    """`traindoc.probe` is both this package and the function the issue names (`traindoc.probe(model, batch)`):
    importing a submodule binds the package to the parent's attribute, so the package itself must be callable."""

    def __call__(self, model: Any, batch: Any, **kwargs: Any) -> Any:
        return probe(model, batch, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
