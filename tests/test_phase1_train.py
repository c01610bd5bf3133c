"""Phase 1 training loop: it learns, logs the pinned JSONL format, captures warnings with their step, resumes
bit-exactly after kill -9, and keeps DDP ranks in agreement. All runs are reduced (seconds each)."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

import phase1.train_phase1 as tp
from phase1.config import build_config

pytestmark = pytest.mark.slow  # every test here trains (reduced form, seconds each)

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "src" / "phase1" / "train_phase1.py"
TINY = ["model.d_model=32", "model.n_layers=2", "model.n_heads=2", "model.max_seq_len=32", "model.act_max_steps=2",
        "data.seq_len=32", "data.train_size=128", "data.val_size=8", "train.batch_size=8", "train.device=cpu",
        "optim.warmup_steps=5", "train.sample_tokens=8"]

KEYS = {
    "meta": ["type", "config", "params", "versions", "seed", "device", "precision", "world_size", "optimizer", "model"],
    "step": ["type", "step", "epoch", "stage", "loss", "grad_norm", "lr", "act", "tokens_per_s", "time", "grokfast"],
    "eval": ["type", "step", "epoch", "stage", "val_loss", "train_loss"],
    "sample": ["type", "step", "epoch", "prompt", "text"],
    "warning": ["type", "step", "category", "message", "filename", "lineno"],
    "stage": ["type", "step", "epoch", "stage"],
    "end": ["type", "step", "status", "message"],
}


def read_log(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def env1() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO / "src")}


@pytest.fixture(scope="module")
def reduced_run(tmp_path_factory):
    """One in-process reduced run (3 epochs = the three curriculum stages) shared by the format tests."""
    out = tmp_path_factory.mktemp("run")
    cfg = build_config("reasoning", test=True, sets=["train.steps_per_epoch=40", "model.d_model=64",
                                                     "model.n_layers=2", "data.train_size=256"])
    assert tp.train(cfg, out) == 0
    return out, read_log(out)


def test_reduced_run_has_clearly_falling_loss_and_real_validation(reduced_run):
    _, log = reduced_run
    steps = [r for r in log if r["type"] == "step"]
    first = sum(r["loss"] for r in steps[:5]) / 5
    epoch1 = [r for r in steps if r["epoch"] == 1]
    last = sum(r["loss"] for r in epoch1[-5:]) / 5
    assert first > 5.0  # ~ln(260) at init
    assert last < 0.6 * first, (first, last)
    evals = [r for r in log if r["type"] == "eval"]
    assert [e["stage"] for e in evals] == ["Foundation", "Reasoning", "Advanced"]
    assert all(math.isfinite(e["val_loss"]) and e["val_loss"] < 4.0 for e in evals)
    assert len({round(e["val_loss"], 6) for e in evals}) == 3  # computed, not a constant
    assert steps[-1]["lr"]["muon"] < steps[10]["lr"]["muon"]  # the cosine schedule is visible in the log


def test_log_records_have_the_pinned_fields_in_order(reduced_run):
    out, log = reduced_run
    assert log[0]["type"] == "meta" and log[-1] == {**log[-1], "type": "end", "status": "completed"}
    for rec in log:
        assert list(rec) == KEYS[rec["type"]], rec
    meta = log[0]
    assert set(meta["config"]) == {"model", "optim", "data", "train"}
    assert set(meta["params"]) == {"total", "embedding", "unembedding", "blocks", "act_head", "other", "trainable",
                                   "tied"}
    assert meta["optimizer"] == "mugrokfast" and meta["model"] == "reasoning" and meta["world_size"] == 1
    step = next(r for r in log if r["type"] == "step")
    assert set(step["lr"]) == {"muon", "adam"} and set(step["act"]) == {"halt_mean", "halt_var", "steps_mean"}
    stages = [(r["step"], r["stage"]) for r in log if r["type"] == "stage"]
    assert stages == [(1, "Foundation"), (41, "Reasoning"), (81, "Advanced")]
    assert sum(r["type"] == "sample" for r in log) == 6
    assert (out / "config.yaml").exists()
    for name in ("last.pt", "best.pt"):
        ckpt = torch.load(out / "checkpoints" / name, weights_only=True)
        assert {"model", "optimizer", "config", "step"} <= set(ckpt)
    assert not list((out / "checkpoints").glob("*.tmp"))


def test_healthy_halting_is_diverse(reduced_run):
    _, log = reduced_run
    late = [r["act"] for r in log if r["type"] == "step"][-20:]
    assert min(a["halt_var"] for a in late) > 1e-3
    assert all(1.0 <= a["steps_mean"] <= 3.0 for a in late)


def test_every_warning_is_logged_with_its_step(tmp_path, monkeypatch):
    real = tp.halting_stats
    calls = {"n": 0}

    def stats_with_a_torch_warning(act):
        calls["n"] += 1
        if calls["n"] in (3, 5):
            torch.ones(1).var(dim=0)  # torch's own "var(): degrees of freedom is <= 0" warning
        return real(act)

    monkeypatch.setattr(tp, "halting_stats", stats_with_a_torch_warning)
    cfg = build_config(sets=TINY + ["train.epochs=1", "train.steps_per_epoch=6"])
    assert tp.train(cfg, tmp_path) == 0
    warns = [r for r in read_log(tmp_path) if r["type"] == "warning"]
    assert [w["step"] for w in warns] == [3, 5]
    assert all("degrees of freedom is <= 0" in w["message"] and w["category"] == "UserWarning" for w in warns)


def test_script_entry_point_runs_from_the_repo_root(tmp_path):
    proc = subprocess.run([sys.executable, str(SCRIPT), "--test", "--out", str(tmp_path), "--set", "train.epochs=1",
                           "--set", "train.steps_per_epoch=3"], cwd=REPO, env=env1(), capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert read_log(tmp_path)[-1]["status"] == "completed"


def test_resume_after_kill_9_reproduces_the_uninterrupted_losses(tmp_path):
    args = ["--out"]
    sets = [a for s in TINY + ["train.epochs=2", "train.steps_per_epoch=60", "train.ckpt_every=10"]
            for a in ("--set", s)]
    cmd = [sys.executable, "-m", "phase1.train_phase1", *sets]
    ref, crashed = tmp_path / "ref", tmp_path / "crashed"
    subprocess.run(cmd + args + [str(ref)], env=env1(), check=True, capture_output=True, timeout=120)

    proc = subprocess.Popen(cmd + args + [str(crashed)], env=env1(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    log = crashed / "metrics.jsonl"
    deadline = time.time() + 60
    while time.time() < deadline:
        lines = log.read_text().splitlines() if log.exists() else []
        if sum('"type": "step"' in ln for ln in lines) >= 25:
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    killed_at = sum('"type": "step"' in ln for ln in log.read_text().splitlines())
    assert killed_at < 120, "the run finished before it could be killed"

    subprocess.run(cmd + args + [str(crashed), "--resume"], env=env1(), check=True, capture_output=True, timeout=120)
    want = [(r["step"], r["loss"], r["grad_norm"]) for r in read_log(ref) if r["type"] == "step"]
    got = [(r["step"], r["loss"], r["grad_norm"]) for r in read_log(crashed) if r["type"] == "step"]
    assert got == want  # exact float equality, step by step, no duplicated or missing steps
    evals = lambda run: [(r["step"], r["val_loss"]) for r in read_log(run) if r["type"] == "eval"]  # noqa: E731
    assert evals(crashed) == evals(ref)
    assert read_log(crashed)[-1]["status"] == "completed"


def test_two_process_gloo_ddp_ranks_agree(tmp_path):
    torchrun = Path(sys.executable).with_name("torchrun")
    if not torchrun.exists():
        pytest.skip("torchrun not installed next to this Python")
    sets = [a for s in TINY + ["train.epochs=1", "train.steps_per_epoch=8"] for a in ("--set", s)]
    proc = subprocess.run([str(torchrun), "--standalone", "--nproc_per_node", "2", str(SCRIPT), *sets, "--out",
                           str(tmp_path)], cwd=REPO, env=env1(), capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    log = read_log(tmp_path)
    assert log[0]["world_size"] == 2
    assert sum(r["type"] == "step" for r in log) == 8  # only rank 0 writes
    end = log[-1]
    assert end["status"] == "completed" and "2 ranks agree on the final parameters" in end["message"]
    first = next(r for r in log if r["type"] == "step")
    assert first["tokens_per_s"] > 0


def test_prefix_validation_equals_teacher_forced_for_the_causal_model():
    import contextlib

    cfg = build_config(sets=TINY + ["train.eval_batches=1"])
    torch.manual_seed(0)
    data = tp.Phase1Data(cfg)
    model = tp.Phase1Model(cfg.model)
    prefix = tp.evaluate(model, data, "Foundation", torch.device("cpu"), contextlib.nullcontext)
    cfg.train.eval_mode = "teacher_forced"
    forced = tp.evaluate(model, data, "Foundation", torch.device("cpu"), contextlib.nullcontext)
    assert prefix == pytest.approx(forced, rel=1e-5)


def test_local_text_with_a_local_bpe_vocabulary_trains_offline(tmp_path):
    """GPT-2-format BPE files given locally (a tiny byte-level vocabulary here) are used; nothing is downloaded."""
    # GPT-2's byte -> printable-character table: printable Latin-1 bytes map to themselves, the rest to 256+n
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("\xa1"), ord("\xac") + 1), *range(ord("\xae"), 256)]
    sym, extra = {}, 0
    for b in range(256):
        if b in printable:
            sym[b] = chr(b)
        else:
            sym[b] = chr(256 + extra)
            extra += 1
    vocab = {sym[b]: i for i, b in enumerate(range(256))}
    merges = [("t", "h"), ("th", "e"), ("\u0120", "the")]
    for a, b in merges:
        vocab[a + b] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    (tmp_path / "encoder.json").write_text(json.dumps(vocab))
    (tmp_path / "vocab.bpe").write_text("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges))
    (tmp_path / "text.txt").write_text("the cat saw the dog and the bird.\n" * 200)
    cfg = build_config(sets=TINY + ["train.epochs=1", "train.steps_per_epoch=4", "data.tokenizer=gpt2",
                                    f"data.bpe_vocab={tmp_path / 'encoder.json'}",
                                    f"data.bpe_merges={tmp_path / 'vocab.bpe'}",
                                    f"data.source={tmp_path / 'text.txt'}"])
    data = tp.Phase1Data(cfg)
    assert data.tok.vocab_size == 260 and data.tok.encode(" the") == [258]
    assert data.tok.decode(data.tok.encode("the cat")) == "the cat"
    assert tp.train(cfg, tmp_path / "run") == 0
    log = read_log(tmp_path / "run")
    assert log[-1]["status"] == "completed" and {r.get("stage") for r in log if r["type"] == "step"} == {"File"}


def test_bad_data_source_is_one_line_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "run"
    assert tp.main(["--set", f"data.source={tmp_path / 'missing.txt'}", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("phase1-train: cannot read data.source") and "\n" not in err
    assert not out.exists()
