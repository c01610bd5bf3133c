"""A LightningCLI run's launch command, recovered from the config it saved in its own folder.

LightningCLI's SaveConfigCallback writes the run's whole parsed config (every trainer, model and data argument,
`skip_none=False`) to `<trainer.log_dir>/config.yaml`, i.e. `lightning_logs/version_N/config.yaml` with the default
logger. Its top-level keys are the CLI's groups (`seed_everything`, `trainer`, `model`, `data`, `ckpt_path`, ...),
which is how the file is recognised. Replaying it, `python <the script that calls LightningCLI> fit --config
<that file>`, runs the diagnosed run again with every value it had.

That file is the run's output, never an edit target, and it sets every value explicitly, so neither a project
config the command does not load nor a default in code would change the replayed run. A fix to one of its values
therefore travels on the command as a dotted override (`--model.lr=0.003`, `--trainer.gradient_clip_val=1.0`),
which jsonargparse applies after `--config` (plan/targets.py).
"""

from __future__ import annotations

import ast
import re
from itertools import islice
from pathlib import Path

from traindoc.evidence.code_sites import parse_python
from traindoc.plan.config_edit import find_value, parse_value_text
from traindoc.plan.launch import MAX_SCRIPT_BYTES, Launch, read_small

SAVED_NAME = "config.yaml"
MAX_VERSIONS = 50  # version folders looked at below one diagnosed folder
# a saved LightningCLI config: the trainer group and the model group or the seed, at the top level
_GROUP = re.compile(r"^trainer:\s*$", re.M)
_OTHER = re.compile(r"^(model|seed_everything):", re.M)


def is_saved_config(text: str) -> bool:
    return bool(_GROUP.search(text) and _OTHER.search(text))


def _version_key(p: Path) -> int:
    m = re.fullmatch(r"version_(\d+)", p.parent.name)
    return int(m.group(1)) if m else -1


def saved_config(run_dirs: list[Path], root: Path) -> Path | None:
    """The config LightningCLI saved for the diagnosed run: in its folder, or in the newest version folder below
    it (the diagnosis may name `lightning_logs/` or the folder holding it)."""
    for d in run_dirs:
        below = [*islice(d.glob(f"version_*/{SAVED_NAME}"), MAX_VERSIONS),
                 *islice(d.glob(f"lightning_logs/version_*/{SAVED_NAME}"), MAX_VERSIONS)]
        below = sorted(below, key=_version_key, reverse=True)
        for cand in [d / SAVED_NAME, *below]:
            if not cand.resolve().is_relative_to(root):
                continue
            text = read_small(cand, MAX_SCRIPT_BYTES)
            if text is not None and is_saved_config(text):
                return cand
    return None


def _cli_call(text: str) -> ast.Call | None:
    """The `LightningCLI(...)` call (or a call to a subclass defined in the same file) of an entry script."""
    if "LightningCLI" not in text or "__main__" not in text:
        return None
    tree = parse_python(text)
    if tree is None:
        return None
    names = {"LightningCLI"}
    for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
        if any((getattr(b, "id", None) or getattr(b, "attr", None)) in names for b in cls.bases):
            names.add(cls.name)
    for n in ast.walk(tree):
        if isinstance(n, ast.Call) and (getattr(n.func, "id", None) or getattr(n.func, "attr", None)) in names:
            return n
    return None


def entry_script(root: Path, code_files: list[str]) -> tuple[Path, ast.Call] | None:
    """The project's one script that runs LightningCLI (None when there is none or several)."""
    found = []
    for f in code_files:
        p = Path(f)
        call = _cli_call(read_small(p, MAX_SCRIPT_BYTES) or "") if p.resolve().is_relative_to(root) else None
        if call is not None:
            found.append((p, call))
    return found[0] if len(found) == 1 else None


def next_version(saved: Path, cwd: Path) -> Path | None:
    """The folder the replayed run will write: Lightning's default logger (TensorBoard or CSV) saves under
    `<default_root_dir or cwd>/lightning_logs/version_<max existing + 1>`. None when the saved config names another
    logger or root, so the next folder cannot be known in advance."""
    text = read_small(saved, MAX_SCRIPT_BYTES) or ""
    vdir = saved.parent
    if _version_key(saved) < 0 or vdir.parent.name != "lightning_logs":
        return None
    values = {}
    for key in ("trainer.logger", "trainer.default_root_dir"):
        span = find_value(str(saved), key, text)
        values[key] = parse_value_text(span.text) if span else None
    if values["trainer.logger"] not in (None, True):
        return None
    base = cwd / values["trainer.default_root_dir"] if isinstance(values["trainer.default_root_dir"], str) else cwd
    if (base / "lightning_logs").resolve() != vdir.parent.resolve():
        return None
    versions = [_version_key(p / SAVED_NAME) for p in islice(vdir.parent.glob("version_*"), 10_000)]
    return vdir.parent / f"version_{max(versions) + 1}"


def from_lightning_cli(run_dirs: list[Path], root: Path, code_files: list[str]) -> Launch | None:
    saved = saved_config(run_dirs, root)
    entry = entry_script(root, code_files) if saved is not None else None
    if saved is None or entry is None:
        return None
    script, call = entry
    # LightningCLI(run=False) parses without a subcommand; by default the subcommand a training run used is `fit`
    no_run = any(k.arg == "run" and isinstance(k.value, ast.Constant) and k.value.value is False
                 for k in call.keywords)
    argv = ["python", str(script.relative_to(root))] + ([] if no_run else ["fit"])
    argv += ["--config", str(saved.relative_to(root))]
    return Launch(argv, 1, root, f"the config LightningCLI saved in {saved.parent.relative_to(root)}, replayed by "
                                 f"{script.name}", dotted=True, next_run=next_version(saved, root))


def dotted_path(text: str, offset: int) -> str | None:
    """The full dotted key (`model.init_args.lr`) of the YAML block-mapping value that starts at `offset`; None for
    a value inside a list or a flow mapping (no dotted flag reaches it)."""
    lines = text[:offset].split("\n")
    m = re.match(r"^(\s*)([^\s:#\-][^:#]*?)\s*:\s*$", lines[-1])
    if m is None:
        return None
    parts, indent = [m.group(2).strip("\"'")], len(m.group(1))
    for line in reversed(lines[:-1]):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        ind = len(line) - len(line.lstrip())
        if ind >= indent:
            continue
        pm = re.match(r"^(\s*)([^\s:#\-][^:#]*?)\s*:\s*(#.*)?$", line)
        if pm is None:
            return None  # a list item or a flow mapping above it
        parts.insert(0, pm.group(2).strip("\"'"))
        indent = ind
        if ind == 0:
            break
    return ".".join(parts) if indent == 0 else None
