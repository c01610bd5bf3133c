"""Shared test setup: traindoc's per-user signing key (apply's journal MAC) lives in a temporary config folder,
never in the real user's ~/.config."""

from __future__ import annotations

import pytest

# Fixture projects (tests/userproj/*) carry their own tests, run by apply inside a copy of the project; the corpora
# hold users' artifacts. Neither is part of this suite.
collect_ignore_glob = ["userproj/*", "corpus/*"]


@pytest.fixture(autouse=True)
def _private_config_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.getbasetemp() / "xdg-config"))
