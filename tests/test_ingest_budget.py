"""Issue 12: each measured attack, run through load_run + diagnose in a limited subprocess, stays within the bounds
(no hang past 60 s, peak RSS <= 1.5 GB, no traceback, nothing outside the root opened) and keeps what can be kept;
and a bad line costs only that line, never the file."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from adversarial import (
    BAD_LINES,
    big_python,
    billion_laughs,
    expanding_pickle,
    generic_lines,
    laughs_pickle,
    mlflow_store,
    phase1_lines,
    safetensors_bomb,
    self_referencing_pickle,
    torch_zip,
)
from budget_harness import Worker, problems, run_pool
from traindoc.ingest import load_run
from traindoc.ingest.budget import Limits, RunBudget

TIMEOUT = float(os.environ.get("BUDGET_TEST_TIMEOUT", "60"))  # the bound for any single input


@pytest.fixture(scope="module")
def worker() -> Iterator[Worker]:
    """One limited worker for this module's attacks (each would otherwise start its own: ~2.2 CPU-s apiece, 12
    times); every attack is still measured on its own, and a worker that died or hung is replaced."""
    w = Worker()
    yield w
    w.close()


def _attack(root: Path, outside: Path, worker: Worker) -> dict:
    result = worker.run({"id": "x", "root": str(root), "outside": str(outside)}, timeout=TIMEOUT)
    assert problems(result) == [], problems(result)
    return result


@pytest.fixture
def room(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "run"
    root.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.jsonl").write_text("\n".join(generic_lines(10)) + "\n")
    return root, outside


def test_self_referencing_pickle_as_training_args(room: tuple[Path, Path], worker: Worker) -> None:
    root, outside = room
    (root / "training_args.bin").write_bytes(self_referencing_pickle())
    assert len((root / "training_args.bin").read_bytes()) < 1000
    _attack(root, outside, worker)
    run = load_run([root])
    assert run.config["training_args.learning_rate"].value == 1e-3  # the plain fields are still read


def test_expanding_zipped_checkpoint(room: tuple[Path, Path], worker: Worker) -> None:
    root, outside = room
    (root / "model.pt").write_bytes(torch_zip(expanding_pickle(30_000_000)))
    assert (root / "model.pt").stat().st_size < 100_000
    result = _attack(root, outside, worker)
    assert any("budget" in w for w in result["warnings"]), result["warnings"]


def test_billion_laughs_pickle_checkpoint(room: tuple[Path, Path], worker: Worker) -> None:
    root, outside = room
    (root / "model.pt").write_bytes(torch_zip(laughs_pickle(12, 10)))
    _attack(root, outside, worker)


@pytest.mark.parametrize("name", ["config.yaml", "hparams.yaml", "wandb/run-1/files/config.yaml"])
def test_yaml_billion_laughs(room: tuple[Path, Path], worker: Worker, name: str) -> None:
    root, outside = room
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(billion_laughs())
    assert path.stat().st_size < 1000
    result = _attack(root, outside, worker)
    if name != "wandb/run-1/files/config.yaml":
        assert any("alias" in w for w in result["warnings"]), result["warnings"]
        run = load_run([root])
        assert run.config_value("learning_rate").value == 0.001  # the rest of the file is read


def test_mlflow_artifacts_symlink_loop(room: tuple[Path, Path], worker: Worker) -> None:
    root, outside = room
    mlflow_store(root, loop=True, outside=outside / "secret.jsonl")
    _attack(root, outside, worker)
    run = load_run([root])
    assert len(run.metrics["loss"]) == 50


def test_symlinks_out_of_the_root_are_not_followed(room: tuple[Path, Path], worker: Worker) -> None:
    root, outside = room
    os.symlink(outside / "secret.jsonl", root / "metrics.jsonl")
    os.symlink(outside, root / "logs")
    (root / "sub").mkdir()
    os.symlink("..", root / "sub" / "up")
    result = _attack(root, outside, worker)
    assert any("outside" in w for w in result["warnings"]), result["warnings"]
    assert not load_run([root]).metrics


def test_fifo_does_not_block(room: tuple[Path, Path], worker: Worker) -> None:
    root, outside = room
    os.mkfifo(root / "metrics.jsonl")
    mlflow_store(root, loop=False)
    os.mkfifo(root / "mlruns" / "0" / "abc123" / "params" / "lr_fifo")
    _attack(root, outside, worker)


def test_huge_python_file_is_not_parsed(room: tuple[Path, Path], worker: Worker) -> None:
    root, outside = room
    (root / "train.py").write_text(big_python(20 << 20))
    (root / "metrics.jsonl").write_text("\n".join(generic_lines(50)) + "\n")
    result = _attack(root, outside, worker)
    assert any("train.py" in w and "budget" in w for w in result["warnings"]), result["warnings"]


def test_huge_safetensors_header(room: tuple[Path, Path], worker: Worker) -> None:
    root, outside = room
    (root / "model.safetensors").write_bytes(safetensors_bomb(100 << 20))
    result = _attack(root, outside, worker)
    assert any("budget" in w for w in result["warnings"]), result["warnings"]


# ---------------------------------------------------------------------------------------------- keep the good data


@pytest.mark.parametrize("kind", sorted(BAD_LINES))
@pytest.mark.parametrize("fmt", ["phase1", "generic"])
def test_one_bad_line_costs_one_line(tmp_path: Path, kind: str, fmt: str) -> None:
    good = phase1_lines(200) if fmt == "phase1" else generic_lines(200)
    path = tmp_path / "metrics.jsonl"
    bad_at = len(good) + 1  # 1-based line of the bad record
    path.write_text("\n".join([*good, BAD_LINES[kind], *good[-1:]]) + "\n")
    run = load_run([path])
    assert len(run.metrics["loss"]) == 200
    assert any(f"line {bad_at}" in w for w in run.warnings), run.warnings


def test_bad_line_keeps_the_diagnosis(tmp_path: Path) -> None:
    from traindoc.diagnosis.build import diagnose

    good = phase1_lines(200)
    clean = tmp_path / "clean" / "metrics.jsonl"
    dirty = tmp_path / "dirty" / "metrics.jsonl"
    for p in (clean, dirty):
        p.parent.mkdir()
    clean.write_text("\n".join(good) + "\n")
    dirty.write_text("\n".join([*good, BAD_LINES["huge_int"]]) + "\n")
    a = diagnose(load_run([clean]), [str(clean)])
    b = diagnose(load_run([dirty]), [str(dirty)])
    causes = [c["cause"] for c in a["root_causes"]][:1]
    assert causes == ["lr_too_high"]
    assert causes == [c["cause"] for c in b["root_causes"]][:1]


@pytest.mark.parametrize("bad", ["1" + "0" * 400 + ",1.0,0.1", "1" + "0" * 30 + ",1.0,0.1", '"5,1.0,0.1'])
def test_csv_bad_row_costs_one_row(tmp_path: Path, bad: str) -> None:
    rows = ["step,loss,lr"] + [f"{s},{3 - s * 0.01},0.001" for s in range(1, 101)]
    path = tmp_path / "metrics.csv"
    path.write_text("\n".join([*rows[:51], bad, *rows[51:]]) + "\n")
    run = load_run([path])
    assert len(run.metrics["loss"]) == 100
    assert any("line 52" in w for w in run.warnings), run.warnings


# ---------------------------------------------------------------------------------------------- the shared layer


def test_run_byte_budget_gives_a_partial_result(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    path.write_text("\n".join(generic_lines(20_000)) + "\n")
    size = path.stat().st_size
    run = load_run([path], budget=RunBudget(Limits(file_bytes=size // 4)))
    n = len(run.metrics["loss"])
    assert 0 < n < 20_000
    assert any("read budget" in w for w in run.warnings), run.warnings


def test_kept_values_budget_gives_a_partial_result(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    path.write_text("\n".join(phase1_lines(20_000)) + "\n")
    run = load_run([path], budget=RunBudget(Limits(kept_bytes=64 << 10)))
    assert 0 < len(run.metrics["loss"]) < 20_000
    assert any("not kept" in w for w in run.warnings), run.warnings


def test_default_budget_reads_real_runs_whole(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    path.write_text("\n".join(phase1_lines(5000)) + "\n")
    run = load_run([path])
    assert len(run.metrics["loss"]) == 5000
    assert not [w for w in run.warnings if "budget" in w]


def test_worker_reports_json(tmp_path: Path, worker: Worker) -> None:
    """The harness itself: a normal run passes, and an outside read is seen (a test that can fail)."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "m.jsonl").write_text("\n".join(generic_lines(10)) + "\n")
    task = {"id": "a", "root": str(outside), "outside": str(outside)}
    result = run_pool([task], workers=1)["a"]
    assert result["outside"], json.dumps(result)
    again = worker.run(task, timeout=TIMEOUT)  # the kept worker (the attacks above) reports the same way
    assert again["outside"] and problems(again) == [f"touched outside the root: {again['outside']}"], json.dumps(again)
