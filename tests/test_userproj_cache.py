"""tests/userproj_cache.py hands each asker the project prepare() would have left in its own folder: the same files,
the same run as a fresh training of the layout, every recorded path citing the asker's folder, and no second
training (the copy keeps the first training's file times). Hydra's layout: its run records its folder in text
(.hydra/hydra.yaml's runtime.cwd and output_dir)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from userproj.layouts import prepare
from userproj_cache import CACHE, shared_prepare

pytestmark = pytest.mark.slow
STAMP = re.compile(r"^\[[0-9: ,-]+\]")  # the logging time at the start of each train.log line


def _tree(root: Path, run: str) -> dict[str, Path]:
    """The project's files by path, the run's dated folder written as RUN."""
    return {str(p.relative_to(root)).replace(run, "RUN"): p for p in sorted(root.rglob("*")) if p.is_file()}


def test_each_asker_gets_the_run_prepare_leaves_in_its_own_folder(tmp_path: Path) -> None:
    (a, run_a), (b, run_b) = (shared_prepare("hydra", tmp_path / n) for n in ("a", "b"))
    assert run_a == run_b and (b / run_b / "train.log").is_file()
    files_a, files_b = _tree(a, run_a), _tree(b, run_b)
    assert files_a.keys() == files_b.keys()
    cited = 0
    for rel, path in files_b.items():
        data = path.read_bytes()
        assert data == files_a[rel].read_bytes().replace(str(tmp_path / "a").encode(), str(tmp_path / "b").encode())
        assert str(tmp_path / "a").encode() not in data and str(CACHE).encode() not in data, rel
        cited += str(b).encode() in data
        assert path.stat().st_mtime_ns == files_a[rel].stat().st_mtime_ns, rel  # copied, not trained again
    assert cited, "the run records its folder nowhere: nothing here checks the path rewriting"
    fresh, run = prepare("hydra", tmp_path / "fresh")
    files = _tree(fresh, run)
    assert files.keys() == files_b.keys()
    logged = [[STAMP.sub("", line) for line in (root / r / "train.log").read_text().splitlines()]
              for root, r in ((fresh, run), (b, run_b))]
    assert logged[0] and logged[0] == logged[1]
