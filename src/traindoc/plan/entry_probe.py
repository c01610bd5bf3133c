"""How the grad-accumulation regression test runs the project's own entry point, where the accumulation loop is
not a module-level function it can call (regression_probe.accum_probe): a loop inside `main()` of an argparse or
dataclass-config script, or at module level in a notebook export.

The test (templates/fixes/accum_entry_test.py.j2, probe "accum_entry") runs the entry script in its own process, as
`python SCRIPT ARGS` would (`__name__ == "__main__"`, the script's folder first on sys.path), from a temporary
working folder, with each optimizer step undone at once so that every gradient is taken at the initial weights:
once with the accumulation setting at 1 for 4 steps (the reference: the mean of 4 single micro-batch gradients),
once at 4 for one step. With the loss divided once, that step's gradient is the mean of its 4 micro-batch gradients,
the reference itself where the script draws the same micro-batches (ratio 1); undivided, their sum (ratio 4)
(docs/plan-apply-verify.md, "grad_accum_bug", for what was measured and when the test reads the source instead).

Everything the test needs is read here from what the plan located (the code by ast, never run):
- the entry script and its arguments: the recovered launch command's script (plan/launch.py), without the launcher
  in front of it; with no launch command, the file holding the loop when it runs as a script (a main guard, or the
  loop at module level). Output options keep a relative folder, so the run writes into the temporary folder;
- the setting: the last name of the divisor in `if (i + 1) % N == 0` (`args.grad_accum_steps` -> grad_accum_steps);
- how the next run reads it (plan/targets.py, the framework's precedence): a flag of the launch command, or an
  argparse option declared in the code, is passed on the command line (`--name 4`, or `--name=4` as the launch wrote
  it); a dataclass field's default or a module-level assignment is set by running that module's source with that
  one value replaced (the entry script itself, or the module registered under its import name before the entry
  runs); a key of the config file the launch command makes the run load is set the way that command's framework
  lets a run override it: Hydra's primary config by the override `group.key=N` on the command line, a JSON file
  the command names (HfArgumentParser's positional JSON, `--config x.json`) by a copy of it with that one value
  replaced, named in its place.
Anything else (a constant N, a YAML file no Hydra entry loads, a keyword of a library call, no script to run) gives
the reason instead, and the test checks the division in the source; the plan's notes say why.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

from traindoc.evidence.code_sites import parse_expression, parse_python
from traindoc.plan import regression_probe
from traindoc.plan.config_edit import find_value
from traindoc.plan.config_sites import resolve_config_site
from traindoc.plan.launch import OUTPUT_FLAGS, flag_span, hydra_config, launch_config_files
from traindoc.plan.launch_lightning import dotted_path
from traindoc.plan.targets import LAUNCH_KIND
from traindoc.plan.workspace import Context, rel

STEPS = 4  # the accumulation the test sets: gradient ratio 1 divided, 4 undivided (docs/plan-apply-verify.md)
RUN_OUTPUT = "regression-run"  # the output folder the test's run writes, relative to its temporary working folder


def setting_name(divisor: str) -> str | None:
    """`args.grad_accum_steps` / `cfg.train.accum` / `grad_accum_steps` -> the setting's name; None for a constant."""
    node = parse_expression(divisor)
    return node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else None


def parsed_setting(ctx: Context, path: str, divisor: str) -> tuple[str, ast.Module] | str:
    """(the accumulation setting's name, the parsed file) for a probe, or why the test reads the source instead."""
    name = setting_name(divisor)
    if name is None:
        return f"the accumulation steps are the constant {divisor}, not a setting a run can change"
    tree = parse_python(ctx.ws.text(path))
    return (name, tree) if tree is not None else f"{rel(ctx, path)} does not parse"


def _runs_as_script(tree: ast.Module, line: int) -> bool:
    """The module does something when run as a script: a `__main__` guard, or the loop at `line` at module level."""
    if any(isinstance(n, ast.If) and "__main__" in ast.unparse(n.test) for n in tree.body):
        return True
    return not any(isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
                   and n.lineno <= line <= (n.end_lineno or 0) for n in tree.body)


def _entry(ctx: Context, path: str, tree: ast.Module, line: int) -> tuple[Path, list[str]] | str:
    """(entry script, its arguments) or why there is none."""
    lc = ctx.launch
    if lc is not None:
        script = lc.script_path
        if script.suffix != ".py" or not script.is_file() or not script.is_relative_to(ctx.ws.root.resolve()):
            return f"the launch command ({lc.source}) does not run a Python script of the project"
        args = list(lc.argv[lc.script + 1:])
        for flag in OUTPUT_FLAGS:  # the run writes into the test's temporary folder, never into the project
            hit = flag_span(["", *args], flag)  # flag_span skips the program word
            if hit is not None:
                args[hit[0] - 1] = args[hit[0] - 1][:hit[1]] + RUN_OUTPUT
        return script, args
    if _runs_as_script(tree, line):
        return Path(path).resolve(), []
    return (f"no launch command was recovered and {rel(ctx, path)} does not run the loop as a script (no "
            "`__main__` guard)")


def _option(tree: ast.Module, name: str) -> str | None:
    """The option string of the `add_argument` call declaring `name` (`--grad-accum-steps` for grad_accum_steps)."""
    for call in (c for c in ast.walk(tree) if isinstance(c, ast.Call) and getattr(c.func, "attr", "") ==
                 "add_argument"):
        flags = [a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        if any(f.lstrip("-").replace("-", "_") == name for f in flags):
            return max((f for f in flags if f.startswith("-")), key=len, default=None)
    return None


def _owner(tree: ast.Module, name: str, line: int) -> str | None:
    """"" when `name` is assigned at module level on `line`, the class name when a class body gives it its default
    there (a dataclass field), None when neither."""
    def sets(stmts: list[ast.stmt]) -> bool:
        for s in stmts:
            targets = s.targets if isinstance(s, ast.Assign) else [s.target] if isinstance(s, ast.AnnAssign) else []
            if any(isinstance(t, ast.Name) and t.id == name for t in targets) and s.value is not None \
                    and s.value.lineno == line:
                return True
        return False

    if sets(tree.body):
        return ""
    return next((c.name for c in tree.body if isinstance(c, ast.ClassDef) and sets(c.body)), None)


def accum_entry_probe(ctx: Context, path: str, line: int, divisor: str) -> tuple[dict[str, Any] | None, str]:
    """(the probe for the template, "") or (None, why the test reads the source instead)."""
    parsed = parsed_setting(ctx, path, divisor)
    if isinstance(parsed, str):
        return None, parsed
    name, tree = parsed
    entry = _entry(ctx, path, tree, line)
    if isinstance(entry, str):
        return None, entry
    script, args = entry
    probe: dict[str, Any] = {"probe": "accum_entry", "entry": rel(ctx, str(script)), "args": args, "name": name,
                             "steps": STEPS, "flag": [], "source": None, "config": None,
                             "launched": ctx.launch is not None}
    site = resolve_config_site(ctx, name, None)
    if site is None:
        return None, f"no launch flag, config file or default in the code sets {name}"
    if site.kind == LAUNCH_KIND and ctx.launch is not None:
        hit = flag_span(ctx.launch.argv, site.key)
        i = hit[0] - ctx.launch.script - 1 if hit is not None else -1  # its index in args
        if hit is None or i < 0 or (not hit[1] and i < 1):
            return None, f"{site.key} is given to the launcher ({ctx.launch.source}), not to {script.name}"
        if hit[1]:  # `--name=8` / Hydra's `name=8`: one word, rewritten with the test's value
            probe["flag"] = [args[i][:hit[1]] + "{n}"]
            del args[i]
        else:
            probe["flag"] = [args[i - 1], "{n}"]
            del args[i - 1:i + 1]
        return probe, ""
    if site.file is not None and site.file.endswith((".yaml", ".yml", ".json")):
        return _config_file(ctx, probe, site.file, site.key)
    if site.file is None or not site.file.endswith(".py"):
        where = rel(ctx, site.file) if site.file else "the launch command"
        return None, f"{name} is read from {where}, which the test cannot set for one run"
    text = ctx.ws.text(site.file)
    span = find_value(site.file, site.key, text)
    stree = parse_python(text)
    if stree is None:
        return None, f"{rel(ctx, site.file)} does not parse"
    if span is not None and span.kind == "argparse_default" and (option := _option(stree, site.key)):
        probe["flag"] = [option, "{n}"]
        return probe, ""
    owner = _owner(stree, site.key, span.line) if span is not None and span.kind in (
        "python_assign", "dataclass_default") else None
    if owner is None:
        return None, (f"{name} is set in {rel(ctx, site.file)} as {span.kind if span else 'an expression'}, which "
                      "the test cannot set for one run")
    same = Path(site.file).resolve() == script
    module = "" if same else regression_probe.import_name(Path(site.file), ctx.ws.root)[1]
    probe["source"] = {"file": rel(ctx, site.file), "owner": owner, "name": site.key, "module": module}
    return probe, ""


def _json_keys(text: str, key: str) -> list[str] | None:
    """The path of keys to the one entry named `key` in a JSON object (None: absent, ambiguous or not JSON)."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    found: list[list[str]] = []

    def walk(node: Any, path: list[str]) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k == key:
                    found.append([*path, k])
                walk(v, [*path, k])

    walk(data, [])
    return found[0] if len(found) == 1 else None


def _config_file(ctx: Context, probe: dict[str, Any], path: str, key: str) -> tuple[dict[str, Any] | None, str]:
    """The probe for a setting read from a YAML/JSON config file: set for one run the way the launch command's
    framework lets a run override that file (module docstring), or why the test cannot."""
    lc, name = ctx.launch, rel(ctx, path)
    where = f"{probe['name']} is read from {name}"
    resolved = Path(path).resolve()
    if lc is None or str(resolved) not in launch_config_files(lc):
        return None, f"{where}, which no recovered launch command loads"
    text = ctx.ws.text(path)
    if any((lc.cwd / f).resolve() == resolved for f in hydra_config(lc)):
        span = find_value(path, key, text)
        dotted = dotted_path(text, span.start) if span is not None else None
        if dotted is None:
            return None, f"{where}, Hydra's primary config, at a place no override reaches"
        probe["flag"] = [f"{dotted}={{n}}"]  # Hydra's own precedence: an override beats the primary config
        return probe, ""
    keys = _json_keys(text, key) if path.endswith(".json") else None
    index = next((i for i, a in enumerate(probe["args"]) if (lc.cwd / a).resolve() == resolved), None)
    if keys is None or index is None:
        return None, f"{where}, which the test cannot set for one run (not a JSON file named on the command line)"
    probe["config"] = {"file": name, "index": index, "keys": keys}
    return probe, ""
