"""The layering rules of docs/architecture.md, checked on the source: data flows one way, and the diagnosis core
never imports torch at module level.

`probe` sits between evidence and diagnosis: it produces evidence-format findings (from the user's model rather
than from logs) that `diagnose --probe` ranks. Its probe modules import torch at module level; the package's entry
points (the ones the CLI and the diagnosis seam import) do not, and they load the probes only when a probe runs."""

import ast
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "traindoc"
# the cause registry (traindoc.causes) comes first: every stage reads it, it reads no stage
STAGES = ["causes", "ingest", "evidence", "probe", "diagnosis", "plan", "apply", "verify"]
# probe modules that may import torch at module level: only ever imported from inside run_probes()
PROBE_TORCH = {"inputs.py", "safety.py", "causality.py", "gradient_flow.py", "optimiser.py", "loss_sanity.py",
               "activations.py", "leak.py"}


def _module_level_imports(path: Path) -> list[str]:
    """Imports executed when the module is imported (top level, not inside functions)."""
    names = []
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def _all_imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def test_no_stage_imports_a_later_stage():
    bad = []
    for i, stage in enumerate(STAGES):
        later = STAGES[i + 1:]
        for path in (SRC / stage).rglob("*.py"):
            for name in _all_imports(path):
                parts = name.split(".")
                if len(parts) >= 2 and parts[0] == "traindoc" and parts[1] in later:
                    bad.append(f"{path.relative_to(SRC)} imports {name}")
    assert not bad, "later-stage imports:\n" + "\n".join(bad)


def test_core_has_no_module_level_torch_import():
    bad = []
    for path in SRC.rglob("*.py"):
        if path.parent.name == "probe" and path.name in PROBE_TORCH:
            continue
        if any(n == "torch" or n.startswith("torch.") for n in _module_level_imports(path)):
            bad.append(str(path.relative_to(SRC)))
    assert not bad, f"module-level torch imports: {bad}"


def test_diagnose_path_does_not_load_torch():
    code = (
        "import sys, traindoc.cli, traindoc.ingest.loader, traindoc.evidence, traindoc.diagnosis.command, "
        "traindoc.plan.command, traindoc.apply.command, traindoc.verify.command, traindoc.probe, "
        "traindoc.probe.command, traindoc.probe.combine, traindoc.probe.factory; "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
