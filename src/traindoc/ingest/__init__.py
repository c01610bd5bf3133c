"""Stage 1: read a run's artifacts, in whatever format they are, into one `Run` (see model.py)."""

from traindoc.ingest.loader import load_run

__all__ = ["load_run"]
