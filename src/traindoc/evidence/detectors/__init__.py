"""One module per cause family; each exposes DETECTORS: list of `detect_*(run) -> list[Finding]`."""
