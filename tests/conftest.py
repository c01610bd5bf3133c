"""Shared test setup: traindoc's per-user signing key (apply's journal MAC) lives in a temporary config folder,
never in the real user's ~/.config."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

# One intra-op thread per process, for this session's own torch (this module is imported before any test module
# imports torch) and for every child it starts (apply's test runs of a project, the skills' commands ...). Two
# pytest-xdist workers already keep both cores busy: a second thread per process only adds OpenMP's busy-waiting
# (a workspace's own tests: 7.5 CPU-s with torch's default two threads, 6.2 with one). Children that train set it
# themselves (zoo_cache, the user-project layouts); a value the caller exported is kept.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

# Fixture projects (tests/userproj/*) carry their own tests, run by apply inside a copy of the project; the corpora
# hold users' artifacts. Neither is part of this suite.
collect_ignore_glob = ["userproj/*", "corpus/*"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `slow` (they train or run a real library: tens of seconds to minutes each) go first, in their
    collected order. Under pytest-xdist the workers then start on the long ones together and the many short tests
    fill the gaps at the end, instead of the run ending with one worker on a minutes-long test and the other idle."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)  # stable: order kept within each group


@pytest.fixture(autouse=True)
def _private_config_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.getbasetemp() / "xdg-config"))


@pytest.fixture(autouse=True, scope="session")
def _child_pytests_skip_our_plugins() -> Iterator[None]:
    """The suite starts many child pytest runs: apply's baseline and after-change runs of a project's tests,
    the regression tests a plan adds, the fault-zoo workspaces' own tests. Those projects are plain pytest suites that
    use none of the plugins installed for traindoc's own tests (hypothesis, xdist, pytest-timeout, anyio, hydra's),
    and autoloading them costs each child about 2 CPU-seconds (an empty suite: 2.2 s with them, 0.3 s without).
    Set here, inside each worker once its own plugins are loaded, so this session keeps its timeouts and hypothesis
    settings; a test whose child run needs a plugin deletes the variable (test_apply_outcomes' hypothesis project)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
        yield
