"""Shared test setup: traindoc's per-user signing key (apply's journal MAC) lives in a temporary config folder,
never in the real user's ~/.config."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _private_config_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.getbasetemp() / "xdg-config"))
