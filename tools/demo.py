"""`make demo`: the seed's story end to end on CPU, with the real trainer and the real traindoc commands.

    1. train the bundled trainer's seed_divergence scenario (Muon LR too high: it diverges at the Advanced stage)
    2. diagnose it, as /ml-training-debugger does (markdown on screen, HTML report and JSON on disk)
    3. plan the fixes, as /ml-expert shows them
    4. apply the plan with its plan id, as a user approving it would (the command is printed)
    5. retrain from the fixed workspace
    6. verify the new run against the diagnosis's expected outcomes, and print before/after figures

    python tools/demo.py [--workspace DIR] [--quick] [--keep]

Every step runs the same `traindoc` command a user (or the skills) would run, from the workspace folder, and
prints it first. --quick (or TRAINDOC_DEMO_QUICK=1) trains the reduced `--test` size of the trainer: the same
story in well under a minute of training, used by tests/test_demo.py. Exit 0 when the story completed (whatever
verify concluded, which is printed), 1 when a step failed (its output is shown).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent  # the environment `make setup` built: traindoc and phase1-train live here
SCENARIO = "seed_divergence"
DEFAULT_WORKSPACE = ROOT / "demo-workspace"
MARKER = ".traindoc-demo"  # the demo only ever deletes a workspace that carries this marker
# run_loop's retrain signature: (argv, cwd, env, timeout) -> the completed process, its output in stdout
Runner = Callable[[list[str], Path, dict[str, str], float | None], subprocess.CompletedProcess[str]]
OUTPUT_TAIL = 40  # lines of a training command's output shown; the full log is in the run folder


class StepFailed(Exception):
    pass


def banner(n: int, total: int, title: str) -> None:
    print(f"\n{'=' * 100}\n== {n}/{total} {title}\n{'=' * 100}", flush=True)


def run(cmd: list[str], cwd: Path, *, allowed: tuple[int, ...] = (0,), show: bool = True, tail: int | None = None,
        stdout_file: Path | None = None, runner: Runner | None = None) -> subprocess.CompletedProcess[str]:
    """Print the command as a user would type it, run it, show its output; raise StepFailed on a bad exit.
    `runner(cmd, cwd, env, timeout)` runs it instead of subprocess.run (main's `retrain_runner`)."""
    shown = [c if not c.startswith(str(BIN) + "/") else Path(c).name for c in cmd]
    redirect = f" > {stdout_file.relative_to(cwd)}" if stdout_file else ""
    print(f"\n$ {shlex.join(shown)}{redirect}", flush=True)
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "OMP_NUM_THREADS": "1",
           "PYTHONUNBUFFERED": "1"}
    t0 = time.monotonic()
    if runner is None:
        out = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    else:
        out = runner(cmd, cwd, env, None)
    took = time.monotonic() - t0
    if stdout_file:
        stdout_file.write_text(out.stdout, encoding="utf-8")
    text = (out.stdout if not stdout_file else "") + out.stderr
    if show or out.returncode not in allowed:
        lines = text.rstrip().splitlines()
        if tail and len(lines) > tail and out.returncode in allowed:
            print(f"  [... {len(lines) - tail} lines above not shown]")
            lines = lines[-tail:]
        print("\n".join(lines), flush=True)
    print(f"  [exit {out.returncode}, {took:.1f} s]", flush=True)
    if out.returncode not in allowed:
        raise StepFailed(f"`{shlex.join(shown)}` exited {out.returncode}")
    return out


# ------------------------------------------------------------------------------------------------ figures
def read_metrics(run_dir: Path) -> dict:
    """Summary figures of a phase1 run from its metrics.jsonl (NaN/Infinity are read as Python floats)."""
    steps, evals, samples, stages, end = [], [], [], [], {}
    path = run_dir / "metrics.jsonl"
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue  # a torn last line of a killed run
        kind = rec.get("type")
        if kind == "step":
            steps.append(rec)
        elif kind == "eval":
            evals.append(rec)
        elif kind == "sample":
            samples.append(rec)
        elif kind == "stage":
            stages.append(rec)
        elif kind == "end":
            end = rec
    losses = [s["loss"] for s in steps if isinstance(s.get("loss"), (int, float))]
    finite = [x for x in losses if math.isfinite(x)]
    last_stage_step = stages[-1]["step"] if len(stages) > 1 else 0
    late_grads = [s["grad_norm"] for s in steps if s["step"] >= last_stage_step
                  and isinstance(s.get("grad_norm"), (int, float)) and math.isfinite(s["grad_norm"])]
    tail = finite[-max(1, len(finite) // 20):]  # the last 5% of steps: noise-robust "final" loss
    halt_vars = [s["act"]["halt_var"] for s in steps[len(steps) // 2:] if isinstance(s.get("act"), dict)]
    return {
        "status": end.get("status", "unfinished"),
        "steps": len(steps),
        "nonfinite_losses": len(losses) - len(finite),
        "min_loss": min(finite) if finite else float("nan"),
        "final_loss": sum(tail) / len(tail) if tail else float("nan"),
        "max_grad_norm_last_stage": max(late_grads) if late_grads else float("nan"),
        "final_val_loss": evals[-1]["val_loss"] if evals else float("nan"),
        "best_val_loss": min((e["val_loss"] for e in evals), default=float("nan")),
        "halt_var_2nd_half": sum(halt_vars) / len(halt_vars) if halt_vars else float("nan"),
        "last_sample": (samples[-1].get("text") or "")[:40] if samples else "",
    }


def before_after(before: dict, after: dict) -> str:
    rows = [
        ("run status", "status", "{}"),
        ("training steps", "steps", "{}"),
        ("non-finite losses", "nonfinite_losses", "{}"),
        ("min training loss", "min_loss", "{:.4f}"),
        ("final training loss (last 5% of steps)", "final_loss", "{:.4f}"),
        ("final / min training loss", None, "{:.2f}x"),
        ("max grad norm in the last stage", "max_grad_norm_last_stage", "{:.3g}"),
        ("final validation loss", "final_val_loss", "{:.4f}"),
        ("best validation loss", "best_val_loss", "{:.4f}"),
        ("ACT halting variance, 2nd half", "halt_var_2nd_half", "{:.3g}"),
        ("last sample", "last_sample", "{!r}"),
    ]
    out = ["| figure | before (diagnosed run) | after (fixed, retrained) |", "|---|---|---|"]
    for label, key, fmt in rows:
        if key is None:
            cells = [fmt.format(d["final_loss"] / d["min_loss"]) if d["min_loss"] else "n/a" for d in (before, after)]
        else:
            cells = [fmt.format(d[key]) for d in (before, after)]
        out.append(f"| {label} | {cells[0]} | {cells[1]} |")
    return "\n".join(out)


# ------------------------------------------------------------------------------------------------ the story
def retrain_command(plan: dict, ws: Path) -> tuple[list[str], Path, Path]:
    """The plan's retrain command (what /ml-expert runs: the workspace's launch command, recovered by the plan),
    its folder and the new run it writes; `python` is this interpreter (the environment that has torch).
    The workspace's own `train.py --out run-2` only when the plan gives no command."""
    ver = plan.get("verification") or {}
    argv, new_run = ver.get("retrain_argv"), ver.get("new_run")
    if argv and new_run:
        argv = [sys.executable if a in ("python", "python3") else a for a in argv]
        return argv, Path(ver.get("retrain_cwd") or ws), Path(new_run)
    new_run = ws / "run-2"
    return [sys.executable, str(ws / "train.py"), "--out", str(new_run)], ws, new_run


def prepare_workspace(demo_dir: Path) -> Path:
    """A fresh scratch folder; the trainer builds the scenario's workspace inside it."""
    if demo_dir.exists() and any(demo_dir.iterdir()):
        if not (demo_dir / MARKER).exists():
            raise StepFailed(f"{demo_dir} exists and was not made by the demo: choose another --workspace")
        shutil.rmtree(demo_dir)
    demo_dir.mkdir(parents=True, exist_ok=True)
    (demo_dir / MARKER).write_text("made by tools/demo.py: deleted and rebuilt on every run\n")
    return demo_dir / SCENARIO


def main(argv: list[str] | None = None, retrain_runner: Runner | None = None) -> int:
    """The story; `retrain_runner` runs step 5's retrain command in place of subprocess.run, with run_loop's retrain
    signature (tests/test_demo.py passes the zoo's shared training: this very training, with these very files, is
    the fault zoo's fixed seed_divergence run)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workspace", type=Path, default=DEFAULT_WORKSPACE,
                    help="scratch folder, deleted and rebuilt (default: demo-workspace/)")
    ap.add_argument("--reuse-workspace", type=Path, metavar="WS",
                    help="start from a copy of an already trained seed_divergence workspace instead of training it "
                         "(tests pass the fault zoo's cached one)")
    ap.add_argument("--quick", action="store_true", default=os.environ.get("TRAINDOC_DEMO_QUICK") == "1",
                    help="reduced training size (the trainer's --test), for tests")
    args = ap.parse_args(argv)
    traindoc = str(BIN / "traindoc")
    size = ["--test"] if args.quick else []
    started = time.monotonic()
    total = 6
    try:
        ws = prepare_workspace(args.workspace.resolve())
        banner(1, total, f"Train the seed's failing run (scenario {SCENARIO}: Muon LR far too high)")
        if args.reuse_workspace:
            src = args.reuse_workspace.resolve()
            if not (src / "run" / "metrics.jsonl").exists():
                raise StepFailed(f"{src} is not a trained workspace (no run/metrics.jsonl)")
            print(f"\n(reusing the trained workspace {src} instead of running: "
                  f"phase1-train --scenario {SCENARIO} --out {ws}{' --test' if args.quick else ''})")
            shutil.copytree(src, ws, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
        else:
            run([str(BIN / "phase1-train"), "--scenario", SCENARIO, "--out", str(ws), *size], ROOT,
                tail=OUTPUT_TAIL)
        td = ws / ".traindoc"
        td.mkdir(exist_ok=True)

        banner(2, total, "Diagnose it: what /ml-training-debugger runs")
        inputs = ["run", "--config", "config.yaml", "--code", "phase1"]
        # one diagnose writes all three (the markdown shown, the JSON the plan reads, the HTML report): a second call
        # would read and diagnose the same run again
        run([traindoc, "diagnose", *inputs, "--md", "-o", ".traindoc/diagnosis.json",
             "--html", ".traindoc/report.html"], ws)
        diagnosis = json.loads((td / "diagnosis.json").read_text())
        print(f"\nHTML report: {td / 'report.html'}")
        if not any(c["confidence"] > 0.5 for c in diagnosis["root_causes"]):
            raise StepFailed(f"the scenario did not reproduce a failure (verdict {diagnosis['verdict']}): there is "
                             "nothing to fix, so the story stops here")

        banner(3, total, "Plan the fixes: what /ml-expert shows before asking for approval")
        run([traindoc, "plan", ".traindoc/diagnosis.json", "-o", ".traindoc/plan.json"], ws)
        plan = json.loads((td / "plan.json").read_text())
        plan_id = plan["plan_id"]
        if not plan["changes"]:
            raise StepFailed("the plan has no change to apply (see its notes above)")

        banner(4, total, f"Apply plan {plan_id}, as a user who answered 'yes, proceed'")
        applied = run([traindoc, "apply", ".traindoc/plan.json", "--approve", plan_id], ws, allowed=(0, 1),
                      show=False, stdout_file=td / "apply-report.json")
        report = json.loads((td / "apply-report.json").read_text())
        for change in report.get("code_changes", []):
            print(f"  ✅ {change['file']}:{change['line']}  {change['change']}  ({change['description']})")
        print(f"  tests: {report.get('tests')}")
        if applied.returncode != 0:
            print(f"  ❌ {report.get('status')}: {report.get('reason', '')}; restored: "
                  f"{', '.join(report.get('restored_files', []))}")
            raise StepFailed("the plan did not apply, so there is nothing to retrain")

        banner(5, total, "Retrain from the fixed workspace, with the plan's retrain command")
        retrain, cwd, new_run = retrain_command(plan, ws)
        run(retrain, cwd, tail=OUTPUT_TAIL, runner=retrain_runner)

        banner(6, total, "Verify the new run against the diagnosis's expected outcomes")
        verified = run([traindoc, "verify", ".traindoc/diagnosis.json", os.path.relpath(new_run, ws)], ws,
                       allowed=(0, 1))

        print(f"\n{'=' * 100}\n== Before / after\n{'=' * 100}\n")
        causes = ", ".join(f"#{c['rank']} {c['cause']} ({c['confidence']:.0%})" for c in diagnosis["root_causes"])
        print(f"Diagnosed: {causes or diagnosis['verdict']}")
        print(f"Applied plan {plan_id}: {len(report.get('code_changes', []))} change(s), tests {report.get('tests')}")
        print(f"Verify: {'all expected outcomes hold' if verified.returncode == 0 else 'some expectations failed'}\n")
        print(before_after(read_metrics(ws / "run"), read_metrics(new_run)))
    except StepFailed as e:
        print(f"\ndemo: step failed: {e}", file=sys.stderr)
        return 1
    minutes, seconds = divmod(int(time.monotonic() - started), 60)
    print(f"\nDemo finished in {minutes}m{seconds:02d}s. Workspace: {ws}")
    print("Do the same on your own run:  traindoc diagnose PATH/TO/RUN --md   "
          "(or, in Claude Code after ./install.sh: /ml-training-debugger PATH/TO/RUN)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
