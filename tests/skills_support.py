"""Shared helpers for the skills/install/plugin tests: one real install.sh run per test process (it builds a venv
with pip, ~15 s), a fresh-shell environment without the dev venv, and a small phase1-format run fixture.

Not a conftest: the fixtures here are plain cached functions, so several test modules share one install.
"""

from __future__ import annotations

import atexit
import functools
import json
import math
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SKILLS = ("ml-training-debugger", "ml-expert")
INSTALL_TIMEOUT_S = 420  # pip resolving numpy/jsonschema from the package index; normally ~15 s


def fresh_env(home: Path, **extra: str) -> dict[str, str]:
    """What a new login shell has: HOME and a system PATH, nothing activated (no .venv/bin, no PYTHONPATH).

    The pip settings of this machine (local index, certificates) are kept so the install can reach its index.
    """
    env = {"HOME": str(home), "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
           "TMPDIR": tempfile.gettempdir()}
    for key, value in os.environ.items():
        if key.startswith("PIP_") or key in ("PYENV_ROOT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"):
            env[key] = value
    # pyenv's shims directory provides python3 on machines like this one; a user's PATH would have it too
    shims = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "shims"
    if shims.is_dir():
        env["PATH"] = f"{shims}:{env['PATH']}"
        env.setdefault("PYENV_ROOT", str(shims.parent))
    env.update(extra)
    return env


def run_install(home: Path, *args: str, env_extra: dict[str, str] | None = None,
                cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(ROOT / "install.sh"), *args], cwd=cwd or home,
                          env=fresh_env(home, **(env_extra or {})), capture_output=True, text=True,
                          timeout=INSTALL_TIMEOUT_S)


def _scratch(prefix: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, path, True)
    return path


@functools.lru_cache(maxsize=1)
def installed_home() -> tuple[Path, str]:
    """A temporary HOME where `install.sh` (copy mode, default target) ran once; (home, install output)."""
    home = _scratch("traindoc-home-")
    out = run_install(home)
    if out.returncode != 0:
        raise AssertionError(f"install.sh failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    return home, out.stdout + out.stderr


# --------------------------------------------------------------------------------------------- fixture run
def write_seed_like_run(run_dir: Path, steps_per_epoch: int = 40, epochs: int = 10, advanced_epoch: int = 7) -> None:
    """A phase1-format metrics.jsonl telling the seed's story: smooth descent for 6 epochs with muon_lr 1e-2, then a
    grad-norm spike and a rising loss from the first step of the Advanced stage (epoch 7), ACT halting variance
    near 0 with torch's "var(): degrees of freedom" warning, and samples degenerating into colons.

    Deterministic (no RNG): a small sinusoidal wiggle stands in for batch noise, so detectors see a realistic,
    non-constant series. The config dump matches the trainer's sections.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    config = {
        "model": {"vocab_size": 260, "d_model": 512, "n_layers": 8, "n_heads": 8, "tie_embeddings": True,
                  "act_max_steps": 4},
        "optim": {"name": "mugrokfast", "muon_lr": 1e-2, "adam_lr": 3e-3, "grokfast_alpha": 0.98,
                  "grokfast_lambda": 0.5, "warmup_steps": 50, "grad_clip": 1.0},
        "data": {"source": "curriculum", "reasoning_epoch": 4, "advanced_epoch": advanced_epoch},
        "train": {"epochs": epochs, "batch_size": 16, "seed": 1337, "freeze_backbone": False,
                  "early_stopping_patience": 0},
    }
    records: list[dict] = [{
        "type": "meta", "config": config,
        "params": {"total": 26_000_000, "embedding": 133_120, "unembedding": 0, "blocks": 25_200_000,
                   "act_head": 513, "other": 666_367, "trainable": 26_000_000, "tied": True},
        "versions": {"python": "3.11.7", "torch": "2.13.0", "phase1": "0.1.0"}, "seed": 1337, "device": "cpu",
        "precision": "fp32", "world_size": 1, "optimizer": "mugrokfast", "model": "reasoning"}]
    step = 0
    stage = "foundation"
    for epoch in range(1, epochs + 1):
        new_stage = "advanced" if epoch >= advanced_epoch else "reasoning" if epoch >= 4 else "foundation"
        if new_stage != stage or epoch == 1:
            stage = new_stage
            records.append({"type": "stage", "step": step, "epoch": epoch, "stage": stage})
        for i in range(steps_per_epoch):
            t = (epoch - 1) * steps_per_epoch + i
            wiggle = 0.03 * math.sin(1.7 * t)
            if epoch < advanced_epoch:
                loss = 0.16 + 3.6 * math.exp(-t / 60.0) + wiggle * 0.5
                grad = 2.0 + 0.3 * math.sin(0.9 * t)
            else:
                since = t - (advanced_epoch - 1) * steps_per_epoch
                loss = 0.16 + 0.004 * since + wiggle * 0.5
                grad = 45.2 if since == 3 else 9.0 + 6.0 * math.sin(0.7 * t) ** 2 + 0.05 * since
            warm = min(1.0, (t + 1) / 50)
            records.append({"type": "step", "step": step, "epoch": epoch, "stage": stage, "loss": round(loss, 5),
                            "grad_norm": round(grad, 4), "lr": {"muon": 1e-2 * warm, "adam": 3e-3 * warm},
                            "act": {"halt_mean": 0.27, "halt_var": 0.0, "steps_mean": 4.0},
                            "tokens_per_s": 5000.0 + 10 * wiggle, "time": round(0.05 * step, 3)})
            if step == 5:
                records.append({"type": "warning", "step": step, "category": "UserWarning",
                                "message": "var(): degrees of freedom is <= 0. Correction should be strictly less "
                                           "than the reduction dimension size", "filename": "phase1/model.py",
                                "lineno": 120})
            step += 1
        train_mean = sum(r["loss"] for r in records[-steps_per_epoch:] if r.get("type") == "step") / steps_per_epoch
        val = train_mean * (1.05 if epoch < advanced_epoch else 1.15)
        records.append({"type": "eval", "step": step - 1, "epoch": epoch, "stage": stage,
                        "val_loss": round(val, 5), "train_loss": round(train_mean, 5)})
        text = "12+7=19" if epoch < advanced_epoch else "::::::::::::::::"
        records.append({"type": "sample", "step": step - 1, "epoch": epoch, "prompt": "12+7=", "text": text})
    records.append({"type": "end", "step": step - 1, "status": "completed", "message": ""})
    with (run_dir / "metrics.jsonl").open("w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")
    (run_dir / "config.yaml").write_text(_yaml(config), encoding="utf-8")


def _yaml(tree: dict, indent: int = 0) -> str:
    lines = []
    for key, value in tree.items():
        if isinstance(value, dict):
            lines.append(" " * indent + f"{key}:")
            lines.append(_yaml(value, indent + 2).rstrip("\n"))
        else:
            rendered = "true" if value is True else "false" if value is False else value
            lines.append(" " * indent + f"{key}: {rendered}")
    return "\n".join(lines) + "\n"


def write_fixture_project(project: Path) -> Path:
    """A user project: `run/` (the failed run), `config.yaml` (the editable config it was started from) and
    `code/train.py` (a training script for fix sites)."""
    write_seed_like_run(project / "run")
    shutil.copy(project / "run" / "config.yaml", project / "config.yaml")
    (project / "code").mkdir(parents=True, exist_ok=True)
    (project / "code" / "train.py").write_text(
        "import torch\n\n\n"
        "def train(model, optimizer, batches, grad_clip):\n"
        "    for x, y in batches:\n"
        "        optimizer.zero_grad(set_to_none=True)\n"
        "        loss = torch.nn.functional.cross_entropy(model(x), y)\n"
        "        loss.backward()\n"
        "        if grad_clip > 0:\n"
        "            torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)\n"
        "        optimizer.step()\n", encoding="utf-8")
    # the project's own test: standard library only, so any python3 runs it
    (project / "check_config.py").write_text(
        "import re\n"
        "text = open('config.yaml').read()\n"
        "lr = float(re.search(r'muon_lr: *([0-9.e-]+)', text).group(1))\n"
        "assert 0 < lr <= 0.01, lr\n"
        "print('config ok: muon_lr', lr)\n", encoding="utf-8")
    return project


# --------------------------------------------------------------------------------------------- SKILL.md commands
FENCE = re.compile(r"^([ \t]*)```bash\n(.*?)^\1```", re.S | re.M)
PLACEHOLDER = re.compile(r"<([a-z][a-z0-9-]*)>")


def skill_commands(skill: str) -> list[str]:
    """Every command of the skill's fenced bash blocks, in order (one command per non-empty line)."""
    text = (ROOT / "skills" / skill / "SKILL.md").read_text(encoding="utf-8")
    commands = []
    for m in FENCE.finditer(text):
        indent = m.group(1)
        for line in m.group(2).splitlines():
            line = line[len(indent):] if line.startswith(indent) else line
            if line.strip() and not line.lstrip().startswith("#"):
                commands.append(line.strip())
    return commands
