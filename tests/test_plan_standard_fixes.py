"""Automatic fixes where a standard one exists for data_pipeline_bug, distributed_desync and mode_collapse (issue 9
item 5), on small real projects run with real torch.

Each test writes a project with the fault, shows the fault with torch, plans and applies the cause's own policy
(src/traindoc/causes/<id>.py), shows with torch that the fault is gone, and runs the regression test the plan
added: it passes on the fixed project and fails on the original. Where no standard fix applies, the plan makes no
edit and its manual step names the exact place.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import torch

from traindoc.apply.run import apply_plan
from traindoc.plan.build import build_plan, render_markdown


def project(tmp: Path, files: dict[str, str]) -> Path:
    root = tmp / "proj"
    (root / "tests").mkdir(parents=True)
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text).lstrip())
    return root


def diagnosis(root: Path, cause: str, **extra: Any) -> tuple[dict[str, Any], Path]:
    diag = {"schema_version": "1.0", "verdict": "problems_found", "quick_wins": [], "findings": [],
            "run": {"paths": [], "metrics": {}, "step_range": [0, 200], "config_keys": [], "code_files": [],
                    "sources": []},
            "root_causes": [{"rank": 1, "cause": cause, "issue": cause, "confidence": 0.9, "evidence": ["e"],
                             "fix": {"summary": f"fix {cause}", "changes": []}, "impact": "high", "effort": "low",
                             "risk": "low", "expected_outcome": []}]}
    for k, v in extra.items():
        diag[k] = v
    path = root.parent / "diagnosis.json"
    path.write_text(json.dumps(diag))
    return diag, path


def plan_and_apply(root: Path, cause: str, **extra: Any) -> dict[str, Any]:
    diag, path = diagnosis(root, cause, **extra)
    plan = build_plan(diag, str(path), root=str(root))
    render_markdown(plan)
    if plan["changes"]:
        out = apply_plan(plan, plan["plan_id"], run_the_tests=False)
        assert out.report["status"] == "applied", out.report
    return plan


def load(path: Path, name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def pytest_summary(root: Path, files: list[str]) -> str:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
                           *files], cwd=root, capture_output=True, text=True, env=env, timeout=600)
    return proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr[-2000:]


def added_tests_guard(root: Path, plan: dict[str, Any], originals: dict[str, str], tmp: Path) -> None:
    """The added tests pass on the fixed project and fail on a copy with the original code."""
    added = [c["file"] for c in plan["changes"] if c["kind"] == "new_file"]
    assert added
    assert pytest_summary(root, added).startswith(f"{len(added)} passed"), [(root / f).read_text() for f in added]
    unfixed = tmp / "unfixed"
    shutil.copytree(root, unfixed, ignore=shutil.ignore_patterns(".traindoc", "__pycache__"))
    for name, text in originals.items():
        (unfixed / name).write_text(textwrap.dedent(text).lstrip())
    assert pytest_summary(unfixed, added).startswith(f"{len(added)} failed")


# ----------------------------------------------------------------------------------------------- data_pipeline_bug
SORTED_LOADER = '''
    """Two-class data stored sorted by class (as many datasets on disk are), a logistic model."""

    import torch
    from torch.utils.data import DataLoader, TensorDataset


    def make_data(n=256):
        g = torch.Generator().manual_seed(0)
        x = torch.randn(n, 4, generator=g)
        y = (x[:, 0] > 0).long()
        order = torch.argsort(y, stable=True)
        return x[order], y[order]


    def make_loader(x, y):
        train_ds = TensorDataset(x, y)
        return DataLoader(train_ds, batch_size=32, shuffle=False)


    def train(epochs=2):
        x, y = make_data()
        model = torch.nn.Linear(4, 2)
        opt = torch.optim.SGD(model.parameters(), lr=0.5)
        for _ in range(epochs):
            for xb, yb in make_loader(x, y):
                loss = torch.nn.functional.cross_entropy(model(xb), yb)
                opt.zero_grad()
                loss.backward()
                opt.step()
        return model


    if __name__ == "__main__":
        train()
'''


def _classes_per_batch(module: Any) -> list[int]:
    torch.manual_seed(0)
    x, y = module.make_data()
    return [len(set(yb.tolist())) for _, yb in module.make_loader(x, y)]


def test_training_loader_that_never_shuffles_gets_shuffle_true(tmp_path: Path) -> None:
    root = project(tmp_path, {"train.py": SORTED_LOADER})
    before = _classes_per_batch(load(root / "train.py", "sorted_before"))
    assert before.count(2) <= 1  # every batch one class but the one across the class boundary
    plan = plan_and_apply(root, "data_pipeline_bug")
    code = [c for c in plan["changes"] if c["kind"] != "new_file"]
    assert [c["after"].strip() for c in code] == ["return DataLoader(train_ds, batch_size=32, shuffle=True)"]
    fixed = load(root / "train.py", "sorted_after")
    assert set(_classes_per_batch(fixed)) == {2}  # every batch of 32 from a shuffled 50/50 set holds both
    fixed.train(epochs=1)  # the fixed project still trains
    added_tests_guard(root, plan, {"train.py": SORTED_LOADER}, tmp_path)


def test_validation_and_sampler_loaders_are_left_alone(tmp_path: Path) -> None:
    code = '''
        from torch.utils.data import DataLoader


        def loaders(train_ds, val_ds, sampler):
            val_loader = DataLoader(val_ds, batch_size=8, shuffle=False)
            train_loader = DataLoader(train_ds, batch_size=8, sampler=sampler)
            return train_loader, val_loader
    '''
    root = project(tmp_path, {"data.py": code})
    plan = plan_and_apply(root, "data_pipeline_bug")
    assert plan["changes"] == [] and any("inspect a batch" in n for n in plan["notes"])


SEPARATE_PERMS = '''
    import torch


    def shuffled(x, y):
        x = x[torch.randperm(len(x))]
        y = y[torch.randperm(len(y))]
        return x, y
'''


def test_inputs_and_labels_permuted_by_two_draws_share_one(tmp_path: Path) -> None:
    root = project(tmp_path, {"data.py": SEPARATE_PERMS})
    x = torch.arange(64, dtype=torch.float32)
    torch.manual_seed(0)
    xs, ys = load(root / "data.py", "perm_before").shuffled(x, x * 10)
    assert not torch.equal(ys, xs * 10)  # the labels no longer belong to their inputs
    plan = plan_and_apply(root, "data_pipeline_bug")
    torch.manual_seed(0)
    xs, ys = load(root / "data.py", "perm_after").shuffled(x, x * 10)
    assert torch.equal(ys, xs * 10) and not torch.equal(xs, x)  # permuted, and still paired
    added_tests_guard(root, plan, {"data.py": SEPARATE_PERMS}, tmp_path)


def test_separate_random_shuffles_are_a_manual_step_with_their_lines(tmp_path: Path) -> None:
    code = '''
        import random


        def shuffle_both(texts, labels):
            random.shuffle(texts)
            random.shuffle(labels)
    '''
    root = project(tmp_path, {"prep.py": code})
    plan = plan_and_apply(root, "data_pipeline_bug")
    assert plan["changes"] == []
    assert any("prep.py:5, 6: random.shuffle(texts) and random.shuffle(labels)" in n for n in plan["notes"]), \
        plan["notes"]


# ---------------------------------------------------------------------------------------------- distributed_desync
NO_SET_EPOCH = '''
    """Data-parallel epochs over a DistributedSampler (rank and world size given: no process group needed)."""

    import torch
    from torch.utils.data import DataLoader, TensorDataset
    from torch.utils.data.distributed import DistributedSampler


    def epoch_orders(epochs=3, rank=0, world=2):
        ds = TensorDataset(torch.arange(32))
        sampler = DistributedSampler(ds, num_replicas=world, rank=rank, shuffle=True, seed=0)
        train_loader = DataLoader(ds, batch_size=4, sampler=sampler)
        orders = []
        for epoch in range(epochs):
            seen = []
            for (xb,) in train_loader:
                seen += xb.tolist()
            orders.append(seen)
        return orders
'''


def test_distributed_sampler_without_set_epoch_gets_it(tmp_path: Path) -> None:
    root = project(tmp_path, {"ddp_train.py": NO_SET_EPOCH})
    before = load(root / "ddp_train.py", "ddp_before").epoch_orders()
    assert before[0] == before[1] == before[2]  # every epoch the same order
    plan = plan_and_apply(root, "distributed_desync")
    (code,) = [c for c in plan["changes"] if c["kind"] != "new_file"]
    assert "sampler.set_epoch(epoch)" in code["after"]
    fixed = load(root / "ddp_train.py", "ddp_after")
    r0, r1 = fixed.epoch_orders(rank=0), fixed.epoch_orders(rank=1)
    assert r0[0] != r0[1] and r0[1] != r0[2]  # a new order every epoch
    for e in range(3):  # still a partition of the data across the ranks, each epoch
        assert sorted(r0[e] + r1[e]) == list(range(32))
    added_tests_guard(root, plan, {"ddp_train.py": NO_SET_EPOCH}, tmp_path)
    # the added test runs the fixed epoch loop (its orders differ), not a source check: on a copy whose loop calls
    # set_epoch with a constant, which a source check of "set_epoch(<the loop's variable>)" would also catch but by
    # reading, it fails on the orders it recorded
    (test,) = [c["file"] for c in plan["changes"] if c["kind"] == "new_file"]
    assert "def test_fixed_epoch_orders_behaves():" in (root / test).read_text()
    constant = tmp_path / "constant"
    shutil.copytree(root, constant, ignore=shutil.ignore_patterns(".traindoc", "__pycache__"))
    fixed = (root / "ddp_train.py").read_text()
    (constant / "ddp_train.py").write_text(fixed.replace("sampler.set_epoch(epoch)", "sampler.set_epoch(0)"))
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", test],
                          cwd=constant, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 1 and "every epoch draws the same order" in proc.stdout, proc.stdout[-2000:]


def test_set_epoch_test_reads_the_source_when_the_loop_needs_a_process_group(tmp_path: Path) -> None:
    """A sampler that asks the process group for its rank: the added test cannot run the loop here, so it reads the
    source (and still passes on the fixed code)."""
    code = NO_SET_EPOCH.replace("num_replicas=world, rank=rank, ", "")
    root = project(tmp_path, {"ddp_train.py": code})
    plan = plan_and_apply(root, "distributed_desync")
    (test,) = [c["file"] for c in plan["changes"] if c["kind"] == "new_file"]
    assert pytest_summary(root, [test]).startswith("1 passed")


def test_rank_dependent_seed_is_a_manual_step_with_its_line(tmp_path: Path) -> None:
    code = '''
        import torch


        def setup(seed, rank):
            torch.manual_seed(seed + rank)
            return torch.nn.Linear(4, 4)
    '''
    root = project(tmp_path, {"dist.py": code})
    plan = plan_and_apply(root, "distributed_desync")
    assert plan["changes"] == []
    assert any("dist.py:5: torch.manual_seed(seed + rank)" in n for n in plan["notes"]), plan["notes"]


# --------------------------------------------------------------------------------------------------- mode_collapse
RESUMABLE = '''
    """A tiny regression trained with SGD; checkpoints every 20 steps; --resume loads one."""

    import argparse
    import json
    from pathlib import Path

    import torch


    def get_args():
        p = argparse.ArgumentParser()
        p.add_argument("--lr", type=float, default=0.4)
        p.add_argument("--steps", type=int, default=60)
        p.add_argument("--resume", default="")
        p.add_argument("--out", default="runs/exp")
        return p.parse_args()


    def main():
        args = get_args()
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        torch.manual_seed(0)
        model = torch.nn.Linear(4, 1)
        start = 0
        if args.resume:
            state = torch.load(args.resume, weights_only=True)
            model.load_state_dict(state["model"])
            start = state["step"]
        opt = torch.optim.SGD(model.parameters(), lr=args.lr)
        x = torch.randn(64, 4)
        y = x.sum(1, keepdim=True)
        with open(out / "metrics.jsonl", "w") as f:
            for step in range(start + 1, args.steps + 1):
                loss = ((model(x) - y) ** 2).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
                f.write(json.dumps({"step": step, "loss": loss.item(), "lr": args.lr}) + "\\n")
                if step % 20 == 0:
                    torch.save({"model": model.state_dict(), "step": step}, out / f"ckpt_step{step}.pt")


    if __name__ == "__main__":
        main()
'''


def trained_run(tmp: Path, script: str = RESUMABLE) -> Path:
    root = project(tmp, {"train.py": script, "train.sh": "python train.py --lr 0.4 --steps 60 --out runs/exp\n"})
    subprocess.run([sys.executable, "train.py", "--lr", "0.4", "--steps", "60", "--out", "runs/exp"], cwd=root,
                   check=True, timeout=300)
    assert sorted(p.name for p in (root / "runs/exp").glob("*.pt")) == [
        "ckpt_step20.pt", "ckpt_step40.pt", "ckpt_step60.pt"]
    return root


def collapse_at(root: Path, step: int) -> dict[str, Any]:
    run = root / "runs/exp"
    return {"run": {"paths": [str(run)], "metrics": {}, "step_range": [1, 60], "config_keys": [], "code_files": [],
                    "sources": [{"path": str(run / "metrics.jsonl"), "format": "jsonl"}]},
            "findings": [{"detector": "detect_mode_collapse", "cause": "mode_collapse", "strength": 0.8,
                          "summary": "generation degenerates", "evidence": [], "step": 58,
                          "numbers": {"first_degenerate_step": step}}]}


def test_mode_collapse_resumes_from_the_last_checkpoint_before_it_with_a_lower_lr(tmp_path: Path) -> None:
    root = trained_run(tmp_path)
    plan = plan_and_apply(root, "mode_collapse", **collapse_at(root, 50))
    ver = plan["verification"]
    argv = ver["retrain_argv"]
    assert argv[argv.index("--resume") + 1] == "runs/exp/ckpt_step40.pt"  # step 40 < 50; step 60 is after it
    assert (root / "train.sh").read_text() == "python train.py --lr 0.2 --steps 60 --out runs/exp\n"
    assert "--resume" not in (root / "train.sh").read_text()  # a one-off for this retrain, not the project's launch
    assert argv[0] == "python"  # the user's python; here, the one with torch
    subprocess.run([sys.executable, *argv[1:]], cwd=ver["retrain_cwd"], check=True, timeout=300)
    new_run = Path(ver["retrain_cwd"]) / ver["new_run"]  # relative to where the command runs (or absolute)
    rows = [json.loads(line) for line in (new_run / "metrics.jsonl").read_text().splitlines()]
    assert rows[0]["step"] == 41 and rows[0]["lr"] == 0.2  # resumed after step 40, at the halved LR
    assert (root / "runs/exp/metrics.jsonl").read_text().count("\n") == 60  # the diagnosed run is untouched
    added_tests_guard(root, plan, {"train.sh": "python train.py --lr 0.4 --steps 60 --out runs/exp\n"}, tmp_path)


def test_mode_collapse_before_every_checkpoint_is_a_manual_step_saying_so(tmp_path: Path) -> None:
    root = trained_run(tmp_path)
    plan = plan_and_apply(root, "mode_collapse", **collapse_at(root, 15))
    assert plan["changes"] == [] and "--resume" not in plan["verification"]["retrain_argv"]
    assert any("no checkpoint predates the collapse at step 15 (checkpoints at steps: 20, 40, 60)" in n
               for n in plan["notes"]), plan["notes"]


def test_mode_collapse_without_a_resume_option_names_the_checkpoint(tmp_path: Path) -> None:
    script = RESUMABLE.replace('p.add_argument("--resume", default="")', 'p.add_argument("--note", default="")')
    root = trained_run(tmp_path, script.replace("args.resume", "args.note"))
    plan = plan_and_apply(root, "mode_collapse", **collapse_at(root, 50))
    assert plan["changes"] == []
    assert any("resume from runs/exp/ckpt_step40.pt (step 40" in n and "no resume option" in n
               for n in plan["notes"]), plan["notes"]
