"""`make demo` in its reduced form (--quick: the trainer's --test size): the seed's whole story must complete
with the real trainer and the real traindoc commands, and the fix must really help.

It needs the fault zoo's seed_divergence scenario (phase1.scenarios) and every traindoc stage; it fails, rather
than skips, while one of them is missing. Step 1 starts from the zoo's cached, trained workspace (tests/zoo_cache.py,
built once per code version with the same materialise + train path as `phase1-train --scenario`), so the suite
does not train that scenario twice. The retrain of step 5 runs the plan's command on the files apply wrote, through
the zoo's shared trainings (zoo_cache.shared_retrain, keyed by those files and arguments): they are the fault zoo's
fixed seed_divergence workspace (optim.muon_lr 5e-3, test_zoo_symptoms) and the fix loop's retrain (test_loop_zoo),
so the suite trains that run once, whichever test asks first; a plan that wrote anything else trains here. The demo
runs in this process (tools/demo.py's main; every step it runs is still its own subprocess).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def test_quick_demo_tells_the_story(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    demo_dir = tmp_path / "demo"
    from zoo_cache import shared_retrain, zoo_workspace

    sys.path.insert(0, str(ROOT / "tools"))
    import demo

    trained = zoo_workspace("seed_divergence")  # reduced form, as --quick
    code = demo.main(["--quick", "--workspace", str(demo_dir), "--reuse-workspace", str(trained)],
                     retrain_runner=shared_retrain)
    out = capsys.readouterr()
    log = out.out + out.err
    assert code == 0, log[-6000:]
    for step in ("1/6", "2/6", "3/6", "4/6", "5/6", "6/6", "Before / after"):
        assert f"== {step}" in log, f"missing step {step}"
    ws = demo_dir / "seed_divergence"
    diagnosis = json.loads((ws / ".traindoc" / "diagnosis.json").read_text())
    assert diagnosis["root_causes"] and diagnosis["root_causes"][0]["cause"] == "lr_too_high"
    plan_id = json.loads((ws / ".traindoc" / "plan.json").read_text())["plan_id"]
    assert f"$ traindoc apply .traindoc/plan.json --approve {plan_id}" in log  # the approving user's command
    report = json.loads((ws / ".traindoc" / "apply-report.json").read_text())
    assert report["status"] == "applied"
    assert (ws / ".traindoc" / "report.html").stat().st_size > 1000
    retrained = [p for p in ws.glob("run-*") if (p / "metrics.jsonl").exists()]
    assert len(retrained) == 1, retrained

    before, after = demo.read_metrics(ws / "run"), demo.read_metrics(retrained[0])
    # the fix must show in the figures the seed cares about: no grad-norm blow-up in the last curriculum stage, and
    # a better model at the end
    assert after["max_grad_norm_last_stage"] < before["max_grad_norm_last_stage"]
    assert after["final_val_loss"] < before["final_val_loss"]
