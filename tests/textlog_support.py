"""Reading a text log the way the text reader alone sees it, for reader and detector tests that write a few lines."""

from __future__ import annotations

from pathlib import Path

from traindoc.ingest.model import Run
from traindoc.ingest.readers import text_log


def read(path: Path) -> Run:
    """The run the text reader makes of one file, finalised (series sorted, aliases merged)."""
    run = Run()
    text_log.read(path, run)
    run.finalize()
    return run


def read_text(tmp_path: Path, text: str, name: str = "train.log") -> Run:
    """`text` written to tmp_path/name and read as above."""
    path = tmp_path / name
    path.write_text(text)
    return read(path)


def load_text(tmp_path: Path, text: str, name: str = "train.log") -> Run:
    """`text` written to tmp_path/name and loaded as `traindoc diagnose` loads a run (every reader, the run's meta)."""
    from traindoc.ingest.loader import load_run

    path = tmp_path / name
    path.write_text(text)
    return load_run([path])


def read_hf_console(tmp_path: Path, text: str) -> Run:
    """`text` written to tmp_path/train.log and read by the Hugging Face console reader alone, finalised."""
    from traindoc.ingest.readers import hf_trainer

    path = tmp_path / "train.log"
    path.write_text(text)
    run = Run()
    hf_trainer.read_console(path, run)
    return run.finalize()


def write_run_dir(tmp_path: Path, text: str, name: str = "train.log") -> Path:
    """`text` written as the one log of a run folder tmp_path/run, returned for load_run([folder])."""
    run = tmp_path / "run"
    run.mkdir()
    (run / name).write_text(text)
    return run


def points(run: Run, name: str, digits: int = 4) -> list[tuple[int, float]]:
    """A series as (step, value) pairs, values rounded; fails naming the series the run has when `name` is absent."""
    s = run.series(name)
    assert s is not None, f"no series {name}: {sorted(run.metrics)}"
    return [(int(a), round(float(b), digits)) for a, b in zip(s.steps, s.values, strict=True)]
