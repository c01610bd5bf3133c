"""reallib.ensure_runs: a library's missing runs are trained by one interpreter (reallib.batch), placed like
reallib_run's, and a run the batch did not finish is trained on its own. No training here: the batch child and the
one-run generator are stand-ins (the real batch's runs were compared with one process per run, reallib.ensure_runs)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

import reallib


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TRAINDOC_REALLIB_CACHE", str(tmp_path))
    return tmp_path


def test_missing_runs_train_in_one_batch_and_a_failed_one_alone(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    alone: list[str] = []

    def fake_batch(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
        calls.append(cmd)
        results = Path(cmd[cmd.index("--results") + 1])
        jobs = [(cmd[i + 1], cmd[i + 2]) for i, a in enumerate(cmd) if a == "--job"]
        with results.open("a") as f:
            for fault, out in jobs:
                (Path(out) / "train.log").write_text(f"{fault}\n")
                f.write(json.dumps({"out": out, "ok": fault != "nan_inf", "seconds": 1.0}) + "\n")
        return subprocess.CompletedProcess(cmd, 0)

    def fake_generate(lib: str, fault: str, overrides: dict, root: Path, name: str) -> None:
        alone.append(fault)
        (root / name).mkdir()
        (root / name / "train.log").write_text(f"{fault} alone\n")

    monkeypatch.setattr(reallib.subprocess, "run", fake_batch)
    monkeypatch.setattr(reallib, "_generate", fake_generate)
    done = reallib.ensure_runs("hf", ["healthy", "lr_too_high", "nan_inf"])
    assert len(calls) == 1 and calls[0][calls[0].index("--lib") + 1] == "hf"  # one interpreter for the three
    assert alone == ["nan_inf"]  # the batch's failed run, trained the ordinary way
    assert {f: (p / "train.log").read_text() for f, p in done.items()} == {
        "healthy": "healthy\n", "lr_too_high": "lr_too_high\n", "nan_inf": "nan_inf alone\n"}
    assert all(p == reallib.reallib_run("hf", f) for f, p in done.items())  # where reallib_run looks
    assert json.loads((cache / f"{done['healthy'].name}.json").read_text())["batched"] is True
    assert not [p for p in cache.iterdir() if p.name.startswith((".tmp-", ".batch-"))]  # nothing left behind
    calls.clear()
    assert reallib.ensure_runs("hf", ["healthy", "nan_inf"]) == {f: done[f] for f in ("healthy", "nan_inf")}
    assert not calls  # all present: nothing started
