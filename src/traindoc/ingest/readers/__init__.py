"""One module per format family; each exposes READERS (see ingest/registry.py)."""
