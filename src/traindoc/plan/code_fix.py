"""Code edits: render a cause's fix template (templates/fixes/<id>.py.j2) at a site its locator found, add the
imports the rendered code needs, and add a regression test for it (templates/fixes/regression_test.py.j2)."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import jinja2

from traindoc.causes import CAUSES
from traindoc.evidence import code_sites
from traindoc.evidence.code_sites import parse_python
from traindoc.plan import regression_probe
from traindoc.plan.workspace import Context, Edit, code_texts, level, rel

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates" / "fixes"
_env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)), keep_trailing_newline=False,
                          undefined=jinja2.StrictUndefined, autoescape=False)


def render_template(name: str, **ctx: Any) -> str:
    return _env.get_template(f"{name}.py.j2").render(**ctx)


def _extra_params(ctx: Context, site: code_sites.CodeSite) -> dict[str, Any] | None:
    """Template parameters that need more than the site itself (None: this site cannot be fixed by template)."""
    p = site.params
    if site.template == "nan_guard":
        arg = p["arg_text"]
        simple = re.fullmatch(r"[\w.]+(\[[^\]]*\])?(\([^()]*\))?", arg) is not None
        a = arg if simple else f"({arg})"
        eps = p.get("eps", 1e-8)
        if p["op"] == "sqrt":
            guarded = f"{a}.clamp_min(0.0).sqrt()" if p["method_form"] else f"torch.sqrt({a}.clamp_min(0.0))"
        elif p["method_form"]:
            guarded = f"{a}.clamp_min({eps}).{p['op']}()"
        else:
            guarded = p["call_text"].split("(", 1)[0] + f"({a}.clamp_min({eps}))"
        return {"guarded": guarded}
    if site.template == "warmup_cosine":
        total = max(ctx.total_steps or 1000, 2)
        return {"warmup": max(1, round(0.05 * total)), "total": total, "min_ratio": 0.1}
    if site.template == "act_loss":
        return _act_params(ctx, site)
    return {}


def _act_params(ctx: Context, site: code_sites.CodeSite) -> dict[str, Any] | None:
    """The Graves/PonderNet template needs the state object's field names: find a class (any code file) with
    fields for the remainder, the steps used and the per-step weights."""
    args = site.params.get("args", [])
    if not args or len(args) > 3:
        return None
    fields: list[str] = []
    for text in code_texts(ctx).values():
        tree = parse_python(text)
        if tree is None:
            continue
        for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
            names = [s.target.id for s in cls.body if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)]
            if any("remainder" in n for n in names):
                fields = names
                break
        if fields:
            break

    def pick(*pats: str) -> str | None:
        return next((f for pat in pats for f in fields if re.search(pat, f)), None)

    remainders, n_updates = pick(r"remainder"), pick(r"n_updates|n_steps|steps_used|ponder")
    step_weights = pick(r"step_weights|weights|step_dist|probs_per_step")
    if not (remainders and n_updates and step_weights):
        return None
    text = ctx.ws.text(site.file)
    tree = parse_python(text)
    if tree is None:
        return None
    func = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == site.params["function"]
                and n.lineno >= site.line)
    header_end = func.body[0].lineno - 1
    lines = text.splitlines()
    def_line = "\n".join(lines[site.line - 1:header_end])
    state_args = [a for a in args]
    path = Path(site.file).resolve()
    pkg_dir = path.parent
    while (pkg_dir / "__init__.py").exists() and pkg_dir != ctx.ws.root:
        pkg_dir = pkg_dir.parent
    module_name = ".".join(path.relative_to(pkg_dir).with_suffix("").parts)
    return {"def_line": def_line, "state": state_args[0], "cfg": state_args[1] if len(state_args) > 1 else "None",
            "remainders": remainders, "n_updates": n_updates, "step_weights": step_weights,
            "module_name": module_name, "import_root": str(pkg_dir.relative_to(ctx.ws.root)) or "."}


def apply_site(ctx: Context, rc: dict[str, Any], site: code_sites.CodeSite) -> bool:
    extra = _extra_params(ctx, site)
    if extra is None:
        ctx.ws.notes.append(f"{rel(ctx, site.file)}:{site.line}: no template fits this {site.template} site")
        return False
    params = {**site.params, **extra, "snippet": site.snippet}
    try:
        after = render_template(site.template, **params)
    except jinja2.TemplateError as e:
        ctx.ws.notes.append(f"template {site.template}: {e}")
        return False
    if after == site.snippet:
        return False  # already in the fixed form: nothing to do (and no second regression test)
    text = ctx.ws.text(site.file)
    lines = text.splitlines(keepends=True)
    old = "".join(lines[site.line - 1:site.end_line])
    if old.rstrip("\r\n") != site.snippet:
        return False
    newline = "\n" if old.endswith("\n") or site.end_line < len(lines) else ""
    new_block = after + newline if after.strip() else ""  # an empty template deletes the lines
    new_text = "".join(lines[:site.line - 1]) + new_block + "".join(lines[site.end_line:])
    try:
        for module in ("torch", "math"):
            if f"{module}." in after and not binds(new_text, module):
                new_text = add_import(new_text, f"import {module}")
        ast.parse(new_text)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
        why = e.msg if isinstance(e, SyntaxError) else type(e).__name__
        ctx.ws.notes.append(f"{rel(ctx, site.file)}:{site.line}: the {site.template} fix would not parse ({why})")
        return False
    ctx.ws.set_text(site.file, new_text, Edit(site.file, rc["cause"], "code", site.description + " — fixed",
                                              level(rc, "impact", "high"), level(rc, "effort", "medium"),
                                              level(rc, "risk", "low"), after.splitlines(),
                                              site.snippet.splitlines(), site.template))
    add_regression_test(ctx, rc, site, params)
    return True


def binds(text: str, module: str) -> bool:
    """The module's top level binds the name `module` (`import torch`, `import torch as torch`); `import
    torch.nn.functional as F` binds only F, so code the fix adds that says `torch.` would raise NameError."""
    tree = parse_python(text)
    for node in tree.body if tree is not None else []:
        if isinstance(node, ast.Import) and any((a.asname or a.name.split(".")[0]) == module and
                                                (a.asname is None or a.asname == module) for a in node.names):
            return True
    return False


def add_import(text: str, stmt: str) -> str:
    """Insert an import after the module's last top-level import (after a docstring / __future__ at least)."""
    tree = parse_python(text)
    if tree is None:
        return text  # unchanged: the caller's own parse check then drops the fix
    last = 0
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            last = node.end_lineno or node.lineno
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and last == 0 and node is tree.body[0]:
            last = node.end_lineno or node.lineno
        elif last:
            break
    lines = text.splitlines(keepends=True)
    return "".join(lines[:last]) + stmt + "\n" + "".join(lines[last:])


def add_test_file(ctx: Context, cause: str, base: str, content: str, description: str, template: str) -> None:
    """A new test file `tests/<base>.py` (`<base>_2.py`, ... when taken) in the plan's workspace."""
    tests_dir = ctx.ws.root / "tests"
    n, path = 1, tests_dir / f"{base}.py"
    while str(path) in ctx.ws.texts or path.exists():
        n += 1
        path = tests_dir / f"{base}_{n}.py"
    content = content.rstrip() + "\n"
    ctx.ws.text(str(path))
    ctx.ws.set_text(str(path), content, Edit(str(path), cause, "new_file", description, "medium", "low", "low",
                                             content.splitlines(), [], template))


def add_regression_test(ctx: Context, rc: dict[str, Any], site: code_sites.CodeSite, params: dict[str, Any]) -> None:
    rel_file = rel(ctx, site.file)
    # the test runs the fixed function when its signature lets a test build the arguments (plan/regression_probe.py)
    probe = regression_probe.probe(site.template, params, ctx.ws.text(site.file), site.function, site.line)
    if probe is not None:
        probe["import_root"], probe["module"] = regression_probe.import_name(Path(site.file), ctx.ws.root)
    content = render_template("regression_test", cause=rc["cause"], template=site.template,
                              description=site.description, rel_file=rel_file, depth=1, probe=probe,
                              function=site.function or "", **{k: v for k, v in params.items()
                                                                if k not in ("function", "description")})
    add_test_file(ctx, rc["cause"], f"test_traindoc_{site.template}", content,
                  f"regression test for the {site.template} fix in {rel_file}", site.template)


def apply_sites_for(ctx: Context, rc: dict[str, Any], cause: str, templates: list[str] | None = None,
                    first_only: bool = False) -> bool:
    done = False
    for _ in range(20):  # re-locate after each edit: line numbers move
        sites = [s for s in code_sites.locate_in_texts(code_texts(ctx), [cause])
                 if templates is None or s.template in templates]
        todo = [s for s in sites if (s.file, s.template, s.snippet) not in ctx.ws.__dict__.setdefault("_tried", set())]
        # the most encompassing template first (e.g. a rewritten ACT loss makes a fix inside it moot)
        order = templates_of(cause)
        todo.sort(key=lambda s: order.index(s.template) if s.template in order else len(order))
        if not todo:
            break
        site = todo[0]
        ctx.ws.__dict__["_tried"].add((site.file, site.template, site.snippet))
        if apply_site(ctx, rc, site):
            done = True
            if first_only:
                break
    return done


def templates_of(cause: str) -> list[str]:
    """The cause's fix templates, most encompassing first (its registry module's `templates`)."""
    return list(CAUSES[cause].templates) if cause in CAUSES else []


def fixes_all_sites(cause: str | None) -> bool:
    return cause in CAUSES and CAUSES[cause].plan.fix_all_sites
