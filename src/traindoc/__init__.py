"""traindoc: diagnose failing training runs from their artifacts, then plan, apply and verify fixes.

Data flows one way: ingest -> evidence -> diagnosis -> plan -> apply -> verify. A module never imports from a
later stage. Nothing here imports torch at module level: checkpoints and model probes import it lazily.
"""

__version__ = "0.1.0"


def __getattr__(name: str):
    # `traindoc.probe(model, batch, ...)` without importing torch or the probe package up front
    if name == "probe":
        import importlib

        return importlib.import_module("traindoc.probe")
    raise AttributeError(f"module 'traindoc' has no attribute {name!r}")
