"""Regression tests for the settings a plan changes (a config key, a launch flag, a default in code).

A test that greps the edited file for the new text passes as long as the text is there, even where the project
never reads it. So the test the plan adds (templates/fixes/setting_test.py.j2, one file per cause) loads each
changed setting the way the project loads it and asserts the fixed value, then checks that the run set up from it
is sane:
- a YAML or JSON config: parsed by its library (yaml / json), the key found where it is written;
- a config module that only assigns values (nanoGPT's `config/train_x.py`, which its configurator exec()s): run;
- a dataclass default: the dataclass built with its defaults; an argparse default: the project's own function that
  builds the parser called (sys.argv set to the bare script), else its `add_argument` calls replayed into argparse;
- a keyword of a library call (`TrainingArguments(...)`, `Trainer(precision=...)`): the library object built from
  the call's literal keywords and the attribute read back;
- a flag of the launch command (a launch script or Makefile): the command split as the shell does and parsed by
  the script's parser (HfArgumentParser into TrainingArguments, the script's argparse parser) or, for a
  `--key=value` configurator (nanoGPT), read as it reads it.
The sanity checks run what the setting drives: a precision or autocast dtype runs a matmul under that autocast
(300·300·4 overflows float16, not bfloat16 or float32), a clip value clips a huge gradient, an LR or warmup must fit
the run (0 < lr <= 10, 0 < warmup < the run's steps).

Where a loader cannot run (a module that trains when imported, a call to the project's own class), the test reads
the literal value from the file, and its check says so. Decided by reading the code (ast), never by running it.
"""

from __future__ import annotations

import ast
import pprint
from pathlib import Path
from typing import Any

from traindoc.causes.keys import KEYS
from traindoc.evidence.code_sites import parse_python
from traindoc.plan import regression_probe
from traindoc.plan.code_fix import add_test_file, render_template
from traindoc.plan.config_edit import config_kind, find_value
from traindoc.plan.workspace import Context, Edit, rel

# which sanity check a setting gets, by its alias group (causes/keys.py)
CHECKS = (("lr_to_scale", "lr"), ("warmup_steps", "warmup"), ("grad_clip", "clip"), ("precision", "precision"),
          ("fp16", "precision"), ("bf16", "precision"), ("amp_dtype", "precision"), ("model_dtype", "precision"),
          ("norm_switch", "switch"),
          ("residual_switch", "switch"))


def _check(key: str) -> str:
    name = key.rsplit(".", 1)[-1]
    return next((check for group, check in CHECKS if name in KEYS[group]), "")


def _tree(text: str) -> ast.Module | None:
    return parse_python(text)


def _only_assigns(tree: ast.Module) -> bool:
    """A config module a configurator exec()s: imports, literal-ish assignments and docstrings, nothing else."""
    return all(isinstance(n, ast.Import | ast.ImportFrom | ast.Assign | ast.AnnAssign)
               or (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)) for n in tree.body) and \
        not any(isinstance(c, ast.Call) for c in ast.walk(tree))


def _owner_class(tree: ast.Module, name: str) -> str:
    """The module-level class whose body gives `name` a default (a dataclass field)."""
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        for st in cls.body:
            target = st.target if isinstance(st, ast.AnnAssign) else None
            if isinstance(target, ast.Name) and target.id == name:
                return cls.name
    return ""


def _parser_function(tree: ast.Module, name: str) -> str:
    """The module-level function taking nothing that declares `--name` (the project's own `get_args()`)."""
    for fn in (n for n in tree.body if isinstance(n, ast.FunctionDef)):
        if regression_probe.required(fn) != []:
            continue
        for call in (c for c in ast.walk(fn) if isinstance(c, ast.Call) and getattr(c.func, "attr", "") ==
                     "add_argument"):
            flags = [a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            if any(f.lstrip("-").replace("-", "_") == name for f in flags):
                return fn.name
    return ""


def _library_callee(tree: ast.Module, name: str, root: Path) -> tuple[str, str]:
    """(module, attribute) of the library callable a call to which sets keyword `name` (`TrainingArguments` from
    `from transformers import TrainingArguments`, `pl.Trainer` from `import pytorch_lightning as pl`); ("", "")
    for the project's own classes or anything the imports do not name."""
    imports: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                imports[a.asname or a.name] = f"{node.module}:{a.name}"
        elif isinstance(node, ast.Import):
            for a in node.names:
                imports[a.asname or a.name.split(".")[0]] = f"{a.name if a.asname else a.name.split('.')[0]}:"
    for call in (c for c in ast.walk(tree) if isinstance(c, ast.Call)):
        if not any(k.arg == name for k in call.keywords):
            continue
        f = call.func
        if isinstance(f, ast.Name) and ":" in imports.get(f.id, "") and not imports[f.id].endswith(":"):
            module, attr = imports[f.id].split(":")
        elif isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and imports.get(f.value.id, "").endswith(
                ":"):
            module, attr = imports[f.value.id][:-1], f.attr
        else:
            continue
        top = module.split(".")[0]
        if (root / f"{top}.py").exists() or (root / top).is_dir():
            return "", ""  # the project's own module: building it may do anything
        return module, attr
    return "", ""


def describe(ctx: Context, edit: Edit) -> dict[str, Any] | None:
    """How the added test loads the setting `edit` changed (module docstring), or None when it has no file."""
    assert edit.setting is not None
    key, value = edit.setting["key"], edit.setting["value"]
    path, text = edit.file, ctx.ws.texts.get(edit.file, "")
    name = key.rsplit(".", 1)[-1]
    out: dict[str, Any] = {"file": rel(ctx, path), "key": key, "value": value, "check": _check(key)}
    lc = ctx.launch
    if lc is not None and lc.file == path:
        script = lc.script_path
        stext = ctx.ws.texts.get(str(script)) or (script.read_text(encoding="utf-8", errors="replace")
                                                  if script.is_file() else "")
        stree = _tree(stext) if stext else None
        parser, function, imp = "raw", "", ("", "")
        if "HfArgumentParser" in stext and "TrainingArguments" in stext:
            parser = "hf"
        elif stree is not None and "add_argument" in stext:
            parser = "argparse"
            function = _parser_function(stree, name) if regression_probe.importable(stree) else ""
            imp = regression_probe.import_name(script, ctx.ws.root) if function else ("", "")
        return {**out, "kind": "launch", "line": lc.line or 1, "script": Path(lc.argv[lc.script]).name,
                "script_file": rel(ctx, str(script)), "parser": parser, "function": function,
                "import_root": imp[0], "module": imp[1]}
    kind = config_kind(path)
    if kind in ("yaml", "json"):
        return {**out, "kind": kind}
    tree = _tree(text)
    span = find_value(path, key, text) if tree is not None else None
    if tree is None or span is None:
        return None
    out["kind"] = span.kind
    if span.kind == "python_assign":
        out["exec"] = _only_assigns(tree)
    elif span.kind == "dataclass_default":
        owner = _owner_class(tree, name)
        ok = bool(owner) and regression_probe.importable(tree)
        imp = regression_probe.import_name(Path(path), ctx.ws.root) if ok else ("", "")
        out.update(owner=owner if ok else "", import_root=imp[0], module=imp[1])
    elif span.kind == "argparse_default":
        function = _parser_function(tree, name) if regression_probe.importable(tree) else ""
        imp = regression_probe.import_name(Path(path), ctx.ws.root) if function else ("", "")
        out.update(function=function, import_root=imp[0], module=imp[1])
    elif span.kind == "python_kwarg":
        out["callee_module"], out["callee"] = _library_callee(tree, name, ctx.ws.root)
    return out


def add_setting_tests(ctx: Context) -> None:
    """One regression test per cause whose fix changed settings in the project's files."""
    by_cause: dict[str, list[dict[str, Any]]] = {}
    for edit in list(ctx.ws.edits):
        if edit.setting is None:
            continue
        d = describe(ctx, edit)
        if d is not None and d not in by_cause.setdefault(edit.cause, []):
            by_cause[edit.cause].append(d)
    for cause, settings in by_cause.items():
        if not settings:
            continue
        content = render_template("setting_test", cause=cause, settings=pprint.pformat(settings, width=100,
                                                                                         sort_dicts=False),
                                  total_steps=ctx.total_steps or 0)
        names = ", ".join(f"{s['key']} in {s['file']}" for s in settings)
        add_test_file(ctx, cause, f"test_traindoc_{cause}_settings", content,
                      f"regression test for the {cause} settings ({names}), loaded as the project loads them",
                      "settings")
