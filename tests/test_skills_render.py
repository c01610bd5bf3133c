"""The skills as Claude Code renders and runs them: argument substitution on the real SKILL.md text, exit codes
the skills tell apart, find-runs merging one run seen through several folders, and a preview launcher that can
never apply.

`substitute` follows Claude Code 2.1.197's skill argument substitution (the version tests/test_plugin_cli.py
installs): with arguments undefined nothing is replaced; otherwise a backslash-escaped dollar stays literal,
`$ARGUMENTS[N]` and `$N` become the N-th argument (0-based, shell-like split), `$ARGUMENTS` the whole string,
and when nothing was replaced and the string is not empty it is appended as a last line `ARGUMENTS: ...`.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from skills_support import FENCE, ROOT, SKILLS, write_seed_like_run

FIND_RUNS = ROOT / "skills/ml-training-debugger/scripts/find_runs.py"
SENTINEL = "\uffff"


def substitute(text: str, args: str | None) -> str:
    if args is None:
        return text
    try:
        parts = shlex.split(args)
    except ValueError:
        parts = args.split()
    text = re.sub(r"(?<!\\)\\\$(?=\d|ARGUMENTS)", SENTINEL, text)
    used = False

    def nth(m: re.Match[str]) -> str:
        nonlocal used
        used = True
        i = int(m.group(1))
        return parts[i] if i < len(parts) else ""

    text = re.sub(r"\$ARGUMENTS\[(\d+)\]", nth, text)
    text = re.sub(r"\$(\d+)(?!\w)", nth, text)
    if "$ARGUMENTS" in text:
        used = True
        text = text.replace("$ARGUMENTS", args)
    if not used and args:
        text += f"\n\nARGUMENTS: {args}"
    return text.replace(SENTINEL, "$")


def _body(skill: str) -> str:
    text = (ROOT / "skills" / skill / "SKILL.md").read_text(encoding="utf-8")
    return text.split("\n---\n", 1)[1]


@pytest.mark.parametrize("skill", SKILLS)
@pytest.mark.parametrize("args", [None, "", "runs/exp42 loss went nan at step 1200", "'my runs/exp 1' 1,2"])
def test_rendered_skill_reads_correctly(skill: str, args: str | None):
    body = _body(skill)
    rendered = substitute(body, args)
    assert "$ARGUMENTS" not in rendered and not re.search(r"\$\d", rendered)
    # every command Claude is told to run survives substitution byte for byte
    assert [m.group(0) for m in FENCE.finditer(rendered)] == [m.group(0) for m in FENCE.finditer(body)]
    # the prose explains where the arguments are, and they are exactly there when given
    assert "on a line starting with `ARGUMENTS:`" in rendered
    if args:
        assert rendered.endswith(f"\n\nARGUMENTS: {args}") and rendered.count(args) == 1
    else:
        assert rendered == body and "\nARGUMENTS: " not in rendered


def test_substitution_model_matches_the_known_failure():
    """The old wording, rendered: the issue's garbled sentence comes back, so `substitute` models the real thing."""
    old = "- **`$ARGUMENTS` empty, or only symptoms with no path**: look for runs"
    assert substitute(old, "runs/exp42 loss went nan") == \
        "- **`runs/exp42 loss went nan` empty, or only symptoms with no path**: look for runs"
    assert substitute(r"cost: \$1 and $1", "a b") == "cost: $1 and b"


# ------------------------------------------------------------------------------------------------ find-runs
def _find_runs(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(FIND_RUNS), "."], cwd=cwd, capture_output=True, text=True,
                          timeout=60)


def _console_log(metrics: Path, log: Path, every: int = 10) -> None:
    """The bundled trainer's console lines (train_phase1.py's progress print) for the steps of a metrics.jsonl, as
    `python -m phase1.train_phase1 ... > train.log` leaves them."""
    steps = [r for r in map(json.loads, metrics.read_text().splitlines()) if r.get("type") == "step"]
    total = steps[-1]["step"]
    with log.open("w") as f:
        for r in steps:
            if r["step"] % every == 0:
                lrs = "/".join(f"{v:.2e}" for v in r["lr"].values())
                f.write(f"step {r['step']}/{total} | epoch {r['epoch']} {r['stage']} | loss {r['loss']:.4f} | "
                        f"grad_norm {r['grad_norm']:.3f} | lr {lrs} | {r['tokens_per_s']:.0f} tok/s\n")


def test_find_runs_one_line_for_a_run_seen_through_its_console_log(tmp_path: Path):
    write_seed_like_run(tmp_path / "output")
    _console_log(tmp_path / "output" / "metrics.jsonl", tmp_path / "train.log")
    out = _find_runs(tmp_path)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == 1, out.stdout
    assert lines[0].startswith("output  [metrics: metrics.jsonl") and "also logged in: ." in lines[0]


def test_find_runs_keeps_two_different_runs_apart(tmp_path: Path):
    write_seed_like_run(tmp_path / "runs" / "a")
    write_seed_like_run(tmp_path / "runs" / "b", advanced_epoch=5)  # same start, different story after epoch 4
    _console_log(tmp_path / "runs" / "b" / "metrics.jsonl", tmp_path / "runs" / "b.log")
    lines = _find_runs(tmp_path).stdout.splitlines()
    # a and b share their first 4 epochs exactly, but less than half of their points: two runs; b.log is b's
    assert len(lines) == 2, lines
    assert any(ln.startswith("runs/b  ") and "also logged in: runs" in ln for ln in lines)


def test_find_runs_merges_hf_trainer_checkpoints_and_events(tmp_path: Path):
    out_dir = tmp_path / "out"
    history = [{"step": s, "loss": round(2.5 - 0.01 * s, 4), "epoch": s / 100} for s in range(10, 110, 10)]
    for ck, upto in (("checkpoint-50", 5), ("checkpoint-100", 10)):
        (out_dir / ck).mkdir(parents=True)
        (out_dir / ck / "trainer_state.json").write_text(json.dumps({"global_step": upto * 10,
                                                                      "log_history": history[:upto]}))
    (out_dir / "trainer_state.json").write_text(json.dumps({"global_step": 100, "log_history": history}))
    (out_dir / "runs" / "Dec04_12-00-00_host").mkdir(parents=True)
    (out_dir / "runs" / "Dec04_12-00-00_host" / "events.out.tfevents.1.host").write_bytes(b"\0" * 64)
    lines = _find_runs(tmp_path).stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("out  [metrics: trainer_state.json"), lines


# ------------------------------------------------------------------------------------------------ launchers
def test_preview_launcher_cannot_apply(tmp_path: Path):
    preview = ROOT / "skills/ml-expert/scripts/traindoc-preview"
    for args in (["plan.json", "--approve", "abc"], ["--approve", "abc"], [], ["apply", "plan.json"]):
        out = subprocess.run([str(preview), *args], capture_output=True, text=True, cwd=tmp_path)
        assert out.returncode == 2 and "takes only the plan path" in out.stderr, args
    text = (ROOT / "skills/ml-expert/SKILL.md").read_text()
    allowed = text.split("\n---\n", 1)[0]
    assert "traindoc-preview *" in allowed and "AskUserQuestion" in allowed
    assert "scripts/traindoc apply" not in allowed  # apply is never pre-approved
    assert not any("traindoc apply" in line and "--dry-run" in line for line in text.splitlines())


def test_find_runs_merges_a_long_run_and_its_sparse_console_log(tmp_path: Path):
    """A long run: metrics.jsonl at every step, the console every 10th; each is read only in part."""
    write_seed_like_run(tmp_path / "output", steps_per_epoch=2000)
    _console_log(tmp_path / "output" / "metrics.jsonl", tmp_path / "train.log")
    lines = _find_runs(tmp_path).stdout.splitlines()
    assert len(lines) == 1 and "also logged in: ." in lines[0], lines
