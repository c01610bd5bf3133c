"""Stage 2: pure functions from a `Run` to `Finding`s. One detector per file per cause (see detectors/)."""
