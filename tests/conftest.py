"""Shared test setup: traindoc's per-user signing key (apply's journal MAC) lives in a temporary config folder,
never in the real user's ~/.config."""

from __future__ import annotations

import pytest

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
