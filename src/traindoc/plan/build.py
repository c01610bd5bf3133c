"""Turn a diagnosis into an implementation plan: concrete, reviewable edits to the user's own files.

How a plan is made, per chosen root cause (best rank first):
1. the diagnosis's own `fix.changes` are tried first (a config key and its new value, or a code template at a
   file:line found by traindoc.evidence.code_sites);
2. if none of them can be realised (key not in any config file, site gone), the cause's default fixer runs: a config
   policy (e.g. `warmup_steps` 0 -> ~5% of the run) and/or the code sites for the cause, rendered from jinja2 templates.

All edits are made on in-memory copies of the files, in order, so two fixes that touch the same file compose. The
plan's `changes` are then the hunks between each original file and its final text (file, first line, exact `before`
lines, `after` lines), which is exactly what `traindoc apply` replays and checks. `plan_id` hashes the plan and the
current bytes of every touched file, so an approval binds to what the person saw and a later edit makes it stale.
"""

from __future__ import annotations

import ast
import difflib
import hashlib
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from traindoc.causes import CAUSES
from traindoc.causes.keys import KEYS
from traindoc.causes.model import FixCode, Manual, ScaleKey, SetKey, Step, Strategy
from traindoc.cli import program
from traindoc.evidence import code_sites
from traindoc.plan import targets
from traindoc.plan.config_edit import ConfigEditError, find_value, parse_value_text
from traindoc.plan.launch import Launch
from traindoc.plan.launch import find as find_launch
from traindoc.plan.manual import manual_steps
from traindoc.plan.retrain import plan_retrain
from traindoc.plan.test_command import argv_for_tests, shown_command

SCHEMA_VERSION = "1.0"
TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates" / "fixes"
RUN_OUTPUT_MARKERS = ("metrics.jsonl", "trainer_state.json", "checkpoints", "hparams.yaml")
SKIP_DIRS = {".venv", "venv", ".git", "__pycache__", ".traindoc", "node_modules", "site-packages", ".pytest_cache"}


class PlanError(ValueError):
    """The diagnosis cannot be turned into a plan (unreadable, nothing chosen). One line for the user."""


# ------------------------------------------------------------------------------------------------- edit tracking
@dataclass
class Edit:
    """One logical edit, kept to describe the hunks it produced."""

    file: str  # absolute path
    cause: str
    kind: str  # config | code | new_file
    description: str
    impact: str
    effort: str
    risk: str
    new_lines: list[str]
    old_lines: list[str]
    template: str | None = None


@dataclass
class Workspace:
    """In-memory texts of the files a plan edits; originals kept for the final diff."""

    root: Path
    texts: dict[str, str] = field(default_factory=dict)
    originals: dict[str, str | None] = field(default_factory=dict)  # None: the file does not exist yet
    edits: list[Edit] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    edited_keys: set[str] = field(default_factory=set)

    def text(self, path: str) -> str:
        if path not in self.texts:
            p = Path(path)
            self.originals[path] = p.read_text(encoding="utf-8") if p.exists() else None
            self.texts[path] = self.originals[path] or ""
        return self.texts[path]

    def set_text(self, path: str, new: str, edit: Edit) -> None:
        self.text(path)
        self.texts[path] = new
        self.edits.append(edit)


@dataclass
class Context:
    ws: Workspace
    diagnosis: dict[str, Any]
    config_files: list[str]
    code_files: list[str]
    total_steps: int | None
    base: Path  # where relative paths in the diagnosis are resolved from
    outputs: targets.RunOutputs | None = None  # folders a run wrote: never edited
    launch: Launch | None = None  # how the user launched training (its flags win over every file)


def _level(rc: dict[str, Any], name: str, default: str = "medium") -> str:
    v = rc.get(name)
    return v if v in ("low", "medium", "high", "critical") else default


# --------------------------------------------------------------------------------------------------- file finding
def is_run_output(path: str) -> bool:
    """A file that a training run wrote (its config dump): editing it would not change the next run."""
    d = Path(path).resolve().parent
    return any((d / m).exists() for m in RUN_OUTPUT_MARKERS)


def discover_config_files(root: Path, max_depth: int = 2) -> list[str]:
    """YAML/JSON config files under the root (shallow), run outputs last."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        depth = len(Path(dirpath).relative_to(root).parts)
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS and not d.startswith(".") and depth < max_depth]
        for f in filenames:
            if f.endswith((".yaml", ".yml", ".json")) and not f.startswith("."):
                found.append(str(Path(dirpath) / f))
    return sorted(found, key=lambda p: (is_run_output(p), len(Path(p).parts), p))


def _resolve(ctx: Context, path: str | None) -> str | None:
    if not path:
        return None
    p = Path(path)
    for cand in ([p] if p.is_absolute() else [ctx.base / p, ctx.ws.root / p, Path.cwd() / p]):
        if cand.exists():
            return str(cand.resolve())
    return None


def resolve_config_site(ctx: Context, key: str, named_file: str | None) -> targets.Site | None:
    """Where the next run reads `key` (plan/targets.py: launch flags, the config the launch loads, the project's
    configs, code defaults; never a file a run wrote)."""
    outputs = ctx.outputs or targets.RunOutputs(ctx.ws.root, [])
    return targets.resolve(key, ctx.launch, _resolve(ctx, named_file), ctx.config_files, ctx.code_files, outputs,
                           ctx.ws.text)


# ------------------------------------------------------------------------------------------------------ config
def apply_config(ctx: Context, rc: dict[str, Any], key: str, value: Any, named_file: str | None = None,
                 why: str = "") -> bool:
    site = resolve_config_site(ctx, key, named_file)
    if site is None:
        named = _resolve(ctx, named_file)
        if named and ctx.outputs is not None and ctx.outputs.contains(named):
            ctx.ws.notes.append(targets.manual_for_run_copy(key, value, _rel(ctx, named)))
        return False
    k = site.key
    if site.file is None:  # a flag of a recorded launch command: the fix travels in the retrain command
        assert ctx.launch is not None
        old = targets.current(site, ctx.launch, None)
        ctx.launch.overrides[k] = value
        ctx.ws.notes.append(f"{k}: {old!r} -> {value!r} in the retrain command ({site.why}; no project file "
                            "holds that command, so launch training with the retrain command below)")
        return True
    path = site.file
    ident = f"{path}::{k}"
    if ident in ctx.ws.edited_keys:
        ctx.ws.notes.append(f"{k} in {_rel(ctx, path)} is already changed by an earlier fix; kept that change")
        return True
    text = ctx.ws.text(path)
    try:
        new_text, line, old_value = targets.edit_site(site, text, value, ctx.launch.line if ctx.launch else None)
    except ConfigEditError as e:
        ctx.ws.notes.append(str(e))
        return False
    if new_text == text:
        return True
    old_line = text.splitlines()[line - 1]
    new_line = new_text.splitlines()[line - 1]
    desc = why or f"{k}: {old_value} -> {new_line.strip()}"
    desc += f" (in {_rel(ctx, path)}: {site.why})"
    ctx.ws.set_text(path, new_text, Edit(path, rc["cause"], "config", desc, _level(rc, "impact", "high"),
                                         _level(rc, "effort", "low"), _level(rc, "risk", "low"),
                                         [new_line], [old_line]))
    ctx.ws.edited_keys.add(ident)
    return True


def _current_value(ctx: Context, key: str) -> tuple[Any, str] | None:
    site = resolve_config_site(ctx, key, None)
    if site is None:
        return None
    text = ctx.ws.text(site.file) if site.file else None
    value = targets.current(site, ctx.launch, text)
    return (value, site.key) if value is not None else None


# --------------------------------------------------------------------------------------------------------- code
_env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)), keep_trailing_newline=False,
                          undefined=jinja2.StrictUndefined, autoescape=False)


def render_template(name: str, **ctx: Any) -> str:
    return _env.get_template(f"{name}.py.j2").render(**ctx)


def _rel(ctx: Context, path: str) -> str:
    try:
        return str(Path(path).resolve().relative_to(ctx.ws.root))
    except ValueError:
        return path


def _code_texts(ctx: Context) -> dict[str, str]:
    texts = {}
    for f in ctx.code_files:
        if f.endswith(".py") and not Path(f).name.startswith("test_"):
            try:
                texts[f] = ctx.ws.text(f)
            except (UnicodeDecodeError, OSError):
                continue  # not text we could edit byte-exactly: never a fix site
    return texts


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
    for text in _code_texts(ctx).values():
        try:
            tree = ast.parse(text)
        except SyntaxError:
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
    tree = ast.parse(text)
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
        ctx.ws.notes.append(f"{_rel(ctx, site.file)}:{site.line}: no template fits this {site.template} site")
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
    if "torch." in after and not re.search(r"^\s*import torch\b", new_text, re.M):
        new_text = _add_import(new_text, "import torch")
    if "math." in after and not re.search(r"^\s*import math\b", new_text, re.M):
        new_text = _add_import(new_text, "import math")
    try:
        ast.parse(new_text)
    except SyntaxError as e:
        ctx.ws.notes.append(f"{_rel(ctx, site.file)}:{site.line}: the {site.template} fix would not parse ({e.msg})")
        return False
    ctx.ws.set_text(site.file, new_text, Edit(site.file, rc["cause"], "code", site.description + " — fixed",
                                              _level(rc, "impact", "high"), _level(rc, "effort", "medium"),
                                              _level(rc, "risk", "low"), after.splitlines(),
                                              site.snippet.splitlines(), site.template))
    _add_regression_test(ctx, rc, site, params)
    return True


def _add_import(text: str, stmt: str) -> str:
    """Insert an import after the module's last top-level import (after a docstring / __future__ at least)."""
    tree = ast.parse(text)
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


def _add_regression_test(ctx: Context, rc: dict[str, Any], site: code_sites.CodeSite, params: dict[str, Any]) -> None:
    tests_dir = ctx.ws.root / "tests"
    base = f"test_traindoc_{site.template}"
    n, path = 1, tests_dir / f"{base}.py"
    while str(path) in ctx.ws.texts or path.exists():
        n += 1
        path = tests_dir / f"{base}_{n}.py"
    rel = _rel(ctx, site.file)
    content = render_template("regression_test", cause=rc["cause"], template=site.template,
                              description=site.description, rel_file=rel, depth=1,
                              function=site.function or "", **{k: v for k, v in params.items()
                                                                if k not in ("function", "description")})
    content = content.rstrip() + "\n"
    ctx.ws.text(str(path))
    ctx.ws.set_text(str(path), content, Edit(str(path), rc["cause"], "new_file",
                                             f"regression test for the {site.template} fix in {rel}",
                                             "medium", "low", "low", content.splitlines(), [], site.template))


def apply_sites_for(ctx: Context, rc: dict[str, Any], cause: str, templates: list[str] | None = None,
                    first_only: bool = False) -> bool:
    done = False
    for _ in range(20):  # re-locate after each edit: line numbers move
        sites = [s for s in code_sites.locate_in_texts(_code_texts(ctx), [cause])
                 if templates is None or s.template in templates]
        todo = [s for s in sites if (s.file, s.template, s.snippet) not in ctx.ws.__dict__.setdefault("_tried", set())]
        # the most encompassing template first (e.g. a rewritten ACT loss makes a fix inside it moot)
        order = _templates(cause)
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


# ------------------------------------------------------------------------------------------- per-cause defaults
def _templates(cause: str) -> list[str]:
    """The cause's fix templates, most encompassing first (its registry module's `templates`)."""
    return list(CAUSES[cause].templates) if cause in CAUSES else []


def _fixes_all_sites(cause: str | None) -> bool:
    return cause in CAUSES and CAUSES[cause].plan.fix_all_sites


def _first_value(ctx: Context, keys: str) -> tuple[Any, str] | None:
    """(value, key as written) of the first key of alias group `keys` (causes/keys.py) the project sets."""
    for key in KEYS[keys]:
        cur = _current_value(ctx, key)
        if cur is not None:
            return cur
    return None


def _scale_lr(factor: float, why: str, keys: str = "lr_to_scale") -> Callable[[Context, dict[str, Any]], bool]:
    def fixer(ctx: Context, rc: dict[str, Any]) -> bool:
        for key in KEYS[keys]:
            cur = _current_value(ctx, key)
            if cur and isinstance(cur[0], int | float) and not isinstance(cur[0], bool) and cur[0] > 0:
                new = float(f"{cur[0] * factor:.3g}")
                return apply_config(ctx, rc, key, new, why=f"{cur[1]}: {cur[0]:g} -> {new:g} ({why})")
        return False
    return fixer


def _set_first(keys: str, value: Callable[[Context, Any], Any], why: str) -> Callable[[Context, dict], bool]:
    def fixer(ctx: Context, rc: dict[str, Any]) -> bool:
        for key in KEYS[keys]:
            cur = _current_value(ctx, key)
            if cur is not None:
                new = value(ctx, cur[0])
                return apply_config(ctx, rc, key, new, why=f"{cur[1]}: {cur[0]!r} -> {new!r} ({why})")
        return False
    return fixer


def _warmup_steps(ctx: Context, _old: Any) -> int:
    # ~5% of the run (docs/causes.md: 1-5%), at least 10 steps so the first updates are really damped
    return max(10, round(0.05 * (ctx.total_steps or 200)))


def _code(cause: str, templates: list[str] | None = None, first_only: bool = False) -> Callable[[Context, dict], bool]:
    def fixer(ctx: Context, rc: dict[str, Any]) -> bool:
        return apply_sites_for(ctx, rc, cause, templates, first_only)
    return fixer


def _either(*fixers: Callable[[Context, dict], bool]) -> Callable[[Context, dict], bool]:
    def fixer(ctx: Context, rc: dict[str, Any]) -> bool:
        return any(f(ctx, rc) for f in fixers)
    return fixer


def _both(*fixers: Callable[[Context, dict], bool]) -> Callable[[Context, dict], bool]:
    def fixer(ctx: Context, rc: dict[str, Any]) -> bool:
        return any([f(ctx, rc) for f in fixers])
    return fixer


def _manual(advice: str) -> Callable[[Context, dict], bool]:
    def fixer(ctx: Context, rc: dict[str, Any]) -> bool:
        ctx.ws.notes.append(f"{rc['cause']}: no automatic edit; {advice}")
        return False
    return fixer


BYTE_TOKENIZERS = {"byte", "bytes", "char", "character", "utf8", "utf-8"}
BYTE_VOCAB_MAX = 512  # 256 byte values plus a generous allowance for special tokens


def _code_default(ctx: Context, key: str) -> Any:
    """The value the project's own Python code gives `key` (a dataclass / argparse default), if any."""
    for f in ctx.code_files:
        if not f.endswith(".py"):
            continue
        span = find_value(f, key, ctx.ws.text(f))
        if span is not None:
            return parse_value_text(span.text)
    return None


TARGET_EMBEDDING_SHARE = 0.45  # docs/causes.md flags >= 50%; aim a margin below so the next run is balanced


SMALL_TRAIN_SET = 1024  # rows; a cap below this on a model that memorises it is the overfitting's direct cause


def _raise_train_cap(ctx: Context, rc: dict[str, Any]) -> bool:
    """A config key that caps the training set at a handful of rows: let the model see more data (x256, at least
    2048 rows), which the data source must provide; the note says so."""
    for key in KEYS["train_cap"]:
        cur = _current_value(ctx, key)
        if cur and isinstance(cur[0], int) and not isinstance(cur[0], bool) and 0 < cur[0] < SMALL_TRAIN_SET:
            new = max(2048, cur[0] * 256)
            return apply_config(ctx, rc, cur[1], new,
                                why=f"{cur[1]}: {cur[0]} -> {new}: the model memorises {cur[0]} rows; more data is "
                                    "the first cure for overfitting")
    return False


def _tie_and_balance(ctx: Context, rc: dict[str, Any]) -> bool:
    """Tie the embeddings; if the estimated embedding share (vocab·d vs 12·d²·layers, the docs/causes.md estimate)
    is still >= 45%, add layers (at most 2x: capacity moves into the blocks without changing the tokenizer)."""
    done = _set_first("tie_embeddings", lambda c, v: True,
                      "share the input and output embedding: halves the embedding parameters")(ctx, rc)
    vocab, d, layers = _first_value(ctx, "vocab_size"), _first_value(ctx, "d_model"), _first_value(ctx, "n_layers")
    tied = _first_value(ctx, "tie_embeddings")
    nums = [x[0] if x else None for x in (vocab, d, layers)]
    if not all(isinstance(n, int) and n > 0 for n in nums):
        return done
    v, dm, n_layers = nums
    tok = _first_value(ctx, "tokenizer")
    if tok and str(tok[0]).lower() in BYTE_TOKENIZERS and v > BYTE_VOCAB_MAX:
        # a byte/char tokenizer only ever emits ~256 ids: every row above that is an embedding nothing uses
        small = _code_default(ctx, vocab[1])
        new_v = small if isinstance(small, int) and 256 <= small <= BYTE_VOCAB_MAX else 260
        return apply_config(ctx, rc, vocab[1], new_v,
                            why=f"{vocab[1]}: {v} -> {new_v}: the {tok[0]} tokenizer uses only ~256 ids, the other "
                                f"{v - new_v} embedding rows are never read") or done
    emb = v * dm * (1 if (tied and tied[0] is True) else 2)

    def share(n: int) -> float:
        return emb / (emb + 12 * dm * dm * n)

    if share(n_layers) < TARGET_EMBEDDING_SHARE:
        return done
    need = n_layers
    while share(need) >= TARGET_EMBEDDING_SHARE and need < 2 * n_layers:
        need += 1
    why = (f"{layers[1]}: {n_layers} -> {need}: estimated embedding share {share(n_layers):.0%} -> {share(need):.0%}"
           " (more capacity in the blocks)")
    if share(need) >= TARGET_EMBEDDING_SHARE:
        ctx.ws.notes.append(f"param_imbalance: even {need} layers leave the embeddings {share(need):.0%} of the "
                            "parameters; a smaller vocabulary (tokenizer) is the remaining fix")
    return apply_config(ctx, rc, layers[1], need, why=why) or done


# Named rules a cause's plan policy refers to (src/traindoc/causes/<id>.py: SetKey(computed=True), Strategy)
COMPUTED: dict[str, Callable[[Context, Any], Any]] = {
    "warmup_5pct": _warmup_steps,
    "patience_or_2": lambda ctx, old: 2 if not old else old,  # a patience of 0 stops nothing; keep a real one
}
STRATEGIES: dict[str, Callable[[Context, dict], bool]] = {
    "tie_and_balance": _tie_and_balance,
    "raise_train_cap": _raise_train_cap,
}


def _step_fixer(cause: str, step: Step) -> Callable[[Context, dict], bool]:
    if isinstance(step, ScaleKey):
        return _scale_lr(step.factor, step.why, step.keys)
    if isinstance(step, SetKey):
        value = COMPUTED[step.value] if step.computed else (lambda c, v, const=step.value: const)
        return _set_first(step.keys, value, step.why)
    if isinstance(step, FixCode):
        return _code(cause, first_only=step.first_only)
    if isinstance(step, Strategy):
        return STRATEGIES[step.name]
    if isinstance(step, Manual):
        return _manual(step.advice)
    raise TypeError(f"{cause}: unknown plan step {step!r}")


def _policy_fixer(cause: str, steps: tuple[Step, ...], mode: str) -> Callable[[Context, dict], bool]:
    fixers = [_step_fixer(cause, st) for st in steps]
    return _both(*fixers) if mode == "all" else _either(*fixers)


# the cause's default fixer, when none of the diagnosis's own changes can be realised
DEFAULT_FIXERS: dict[str, Callable[[Context, dict], bool]] = {
    cid: _policy_fixer(cid, c.plan.steps, c.plan.mode) for cid, c in CAUSES.items()}
# run after the diagnosis's own changes too: every remaining code site of a `fix_all_sites` cause is a bug on its
# own (its locators go silent once fixed), and a `complete` step may add what the diagnosis's one change missed
COMPLETE_AFTER_DIAGNOSIS: dict[str, Callable[[Context, dict], bool]] = {
    cid: _policy_fixer(cid, c.plan.complete + ((FixCode(),) if c.plan.fix_all_sites else ()), "all")
    for cid, c in CAUSES.items() if c.plan.complete or c.plan.fix_all_sites}


def apply_diagnosis_changes(ctx: Context, rc: dict[str, Any]) -> bool:
    """Realise the diagnosis's own proposed changes; True if at least one became an edit."""
    any_done = defer_all = False
    order = _templates(rc.get("cause", ""))
    changes = sorted((rc.get("fix") or {}).get("changes") or [], key=lambda ch: (
        ch.get("target") != "config", order.index(ch.get("template")) if ch.get("template") in order else len(order)))
    for ch in changes:
        if ch.get("target") == "config" and ch.get("key") and ch.get("after") not in (None, ""):
            value = parse_value_text(ch["after"])
            why = ch.get("description", "")
            if rc.get("cause") == "no_warmup" and "warmup" in ch["key"] and isinstance(value, int) \
                    and value < _warmup_steps(ctx, None):
                value = _warmup_steps(ctx, None)  # a warmup of a handful of steps does not damp anything
                why = f"{ch['key']} -> {value} (~5% of the steps, at least 10)"
            any_done |= apply_config(ctx, rc, ch["key"], value, ch.get("file"), why=why)
        elif ch.get("target") == "code" and ch.get("template"):
            file = _resolve(ctx, ch.get("file"))
            if file and file not in ctx.code_files:
                ctx.code_files.append(file)
            if _fixes_all_sites(rc.get("cause")):
                defer_all = True  # every site of the cause is fixed below, most encompassing template first
                continue
            sites = [s for s in code_sites.locate_in_texts(_code_texts(ctx), [rc["cause"]])
                     if s.template == ch["template"] and (file is None or s.file == file)]
            if ch.get("line"):
                sites.sort(key=lambda s: abs(s.line - int(ch["line"])))
            for s in sites[:1]:
                any_done |= apply_site(ctx, rc, s)
    if defer_all:
        any_done |= apply_sites_for(ctx, rc, rc["cause"])
    return any_done


# --------------------------------------------------------------------------------------------------- the plan
def choose_root_causes(diagnosis: dict[str, Any], fix: str | None) -> list[dict[str, Any]]:
    rcs = diagnosis.get("root_causes") or []
    if fix:
        try:
            ranks = [int(x) for x in fix.split(",") if x.strip()]
        except ValueError as e:
            raise PlanError(f"--fix takes root-cause ranks like 1,2 (got {fix!r})") from e
        by_rank = {rc.get("rank"): rc for rc in rcs}
        missing = [r for r in ranks if r not in by_rank]
        if missing:
            raise PlanError(f"no root cause with rank {missing[0]} (the diagnosis has {sorted(by_rank)})")
        return [by_rank[r] for r in ranks]
    return [rc for rc in rcs if float(rc.get("confidence", 0)) > 0.5]


def default_root(diagnosis: dict[str, Any], base: Path) -> Path:
    """The common folder of everything the diagnosis read, lifted out of a run's output folder."""
    run = diagnosis.get("run") or {}
    paths = list(run.get("paths") or []) + [s.get("path") for s in run.get("sources") or [] if s.get("path")]
    paths += list(run.get("code_files") or [])
    resolved = [str((base / p).resolve()) for p in paths if p]
    if not resolved:
        return base.resolve()
    root = Path(os.path.commonpath(resolved))
    if root.is_file():
        root = root.parent
    while any((root / m).exists() for m in RUN_OUTPUT_MARKERS) and root.parent != root:
        root = root.parent
    base = base.resolve()
    return targets.project_above(root, stop=base if root.is_relative_to(base) else None)


def _hunks(root: Path, ws: Workspace) -> list[dict[str, Any]]:
    changes = []
    for path, new in ws.texts.items():
        old = ws.originals.get(path)
        if old == new:
            continue
        rel = str(Path(path).resolve().relative_to(root))
        file_edits = [e for e in ws.edits if e.file == path]
        if old is None:
            e = file_edits[0]
            changes.append({"file": rel, "line": 1, "before": "", "after": new, "description": e.description,
                            "cause": e.cause, "kind": "new_file", "impact": e.impact, "effort": e.effort,
                            "risk": e.risk, "file_sha256": ""})
            continue
        a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
        sha = hashlib.sha256(old.encode("utf-8")).hexdigest()
        for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
            if tag == "equal":
                continue
            before, after = "".join(a[i1:i2]), "".join(b[j1:j2])
            line = i1 + 1
            if tag == "insert":  # anchor an insertion on the line before it (or after, at the top)
                if i1 > 0:
                    before, after, line = a[i1 - 1], a[i1 - 1] + after, i1
                else:
                    before, after, line = a[0], after + a[0], 1
            owner = _owner(file_edits, before, after)
            changes.append({"file": rel, "line": line, "before": before, "after": after,
                            "description": owner.description, "cause": owner.cause, "kind": owner.kind,
                            "impact": owner.impact, "effort": owner.effort, "risk": owner.risk,
                            "file_sha256": sha})
    return changes


def _owner(edits: list[Edit], before: str, after: str) -> Edit:
    """The edit that produced a hunk: the one sharing the most distinctive new (else removed) lines with it."""
    def lines(text: str | list[str]) -> set[str]:
        items = text.splitlines() if isinstance(text, str) else text
        return {ln.strip() for ln in items if len(ln.strip()) > 3}

    added = lines(after) - lines(before)
    best = max(edits, key=lambda e: (len(lines(e.new_lines) & added), len(lines(e.old_lines) & lines(before))))
    return best


def file_state_bytes(root: Path, rel: str) -> bytes:
    """The file's bytes for the plan id; a path that leaves the root is never read (apply refuses it anyway)."""
    p = root / rel
    if Path(rel).is_absolute() or not Path(os.path.realpath(p)).is_relative_to(os.path.realpath(root)):
        return b"outside\0"
    try:
        return b"present\0" + p.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return b"absent\0"


def compute_plan_id(plan: dict[str, Any]) -> str:
    """sha256 over the canonical plan (without plan_id) and the current bytes of every file it touches."""
    body = {k: v for k, v in plan.items() if k != "plan_id"}
    h = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    root = Path(plan["root"])
    for rel in sorted({c["file"] for c in plan["changes"]}):
        h.update(b"\0file\0" + rel.encode("utf-8") + b"\0")
        h.update(file_state_bytes(root, rel))
    return h.hexdigest()[:16]


def build_plan(diagnosis: dict[str, Any], diagnosis_path: str, fix: str | None = None,
               root: str | None = None, retrain_cmd: str | None = None) -> dict[str, Any]:
    base = Path(diagnosis_path).resolve().parent if diagnosis_path else Path.cwd()
    base = Path.cwd() if not diagnosis_path else base
    root_path = Path(root).resolve() if root else default_root(diagnosis, Path.cwd())
    if not root_path.is_dir():
        raise PlanError(f"project root {root_path} is not a folder")
    chosen = choose_root_causes(diagnosis, fix)
    run = diagnosis.get("run") or {}
    code_paths = [str((Path.cwd() / p).resolve()) for p in run.get("code_files") or []]
    code_paths.append(str(root_path))
    code_files = [str(Path(f).resolve()) for f in code_sites.python_files(code_paths)]
    code_files = [f for f in dict.fromkeys(code_files) if Path(f).resolve().is_relative_to(root_path)
                  and "tests" not in Path(f).relative_to(root_path).parts[:1]]
    step_range = run.get("step_range") or [None, None]
    total = step_range[1] if len(step_range) > 1 and isinstance(step_range[1], int) else None
    ws = Workspace(root_path)
    outputs = targets.RunOutputs.from_diagnosis(diagnosis, root_path, Path.cwd())
    try:
        launch, launch_notes = find_launch(root_path, diagnosis, outputs, code_files, retrain_cmd)
    except ValueError as e:
        raise PlanError(str(e)) from e
    ws.notes += launch_notes
    ctx = Context(ws, diagnosis, discover_config_files(root_path), code_files, total, Path.cwd(), outputs, launch)
    fixes = []
    for rc in chosen:
        cause = rc.get("cause", "")
        n_before = len(ws.edits)
        done = apply_diagnosis_changes(ctx, rc)
        if not done and cause in DEFAULT_FIXERS:
            done = DEFAULT_FIXERS[cause](ctx, rc)
        elif done and cause in COMPLETE_AFTER_DIAGNOSIS:
            COMPLETE_AFTER_DIAGNOSIS[cause](ctx, rc)  # the diagnosis may cite one site of several
        if not done and len(ws.edits) == n_before:
            ws.notes.append(f"rank {rc.get('rank')} {cause}: no change could be planned automatically")
        fixes.append({"rank": rc.get("rank"), "cause": cause, "summary": (rc.get("fix") or {}).get("summary", ""),
                      "confidence": rc.get("confidence"), "planned": len(ws.edits) > n_before})
    changes = _hunks(root_path, ws)
    tests_add = [{"file": c["file"], "content": c["after"], "description": c["description"]}
                 for c in changes if c["kind"] == "new_file"]
    expected = [p for rc in chosen for p in rc.get("expected_outcome") or []]
    diag_abs = str(Path(diagnosis_path).resolve()) if diagnosis_path else ""
    retrain = plan_retrain(ctx.launch, outputs.runs, ws.text, diag_abs)
    plan: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "plan_id": "",
        "root": str(root_path),
        "diagnosis": str(Path(diagnosis_path).resolve()) if diagnosis_path else "",
        "fixes": fixes,
        "changes": changes,
        "tests": {"add": tests_add, "run": argv_for_tests(root_path)},
        "verification": {**retrain, "expected_outcome": expected},
        "notes": ws.notes,
    }
    plan["plan_id"] = compute_plan_id(plan)
    return plan


# ------------------------------------------------------------------------------------------------ markdown
def _short(text: str) -> str:
    return " ".join(text.strip().split())


def render_markdown(plan: dict[str, Any]) -> str:
    out = ["## Implementation Plan", ""]
    by_cause: dict[str, list[dict[str, Any]]] = {}
    for c in plan["changes"]:
        by_cause.setdefault(c.get("cause", ""), []).append(c)
    n = 0
    for fx in plan.get("fixes", []):
        conf = fx.get("confidence")
        conf_s = f", confidence {conf:.0%}" if isinstance(conf, int | float) else ""
        out.append(f"### Fix for root cause {fx.get('rank')}: `{fx['cause']}`{conf_s}")
        if fx.get("summary"):
            out.append(fx["summary"])
        out.append("")
        for c in by_cause.get(fx["cause"], []):
            n += 1
            out.append(f"{n}. File: `{c['file']}`" + (f"  Line: {c['line']}" if c["kind"] != "new_file" else
                                                      " (new file)"))
            if c["kind"] == "new_file":
                out.append(f"   Adds: {c['description']}")
            elif not c["after"].strip():
                out.append(f"   Remove: `{_short(c['before'])}`")
                out.append(f"   Why: {c['description']}")
            elif "\n" not in c["before"].rstrip("\n") and "\n" not in c["after"].rstrip("\n"):
                out.append(f"   Change: `{_short(c['before'])}` → `{_short(c['after'])}`")
                out.append(f"   Why: {c['description']}")
            else:
                out.append(f"   Why: {c['description']}")
                diff = difflib.unified_diff(c["before"].splitlines(), c["after"].splitlines(), lineterm="", n=1)
                out += ["   ```diff"] + [f"   {ln}" for ln in list(diff)[2:]] + ["   ```"]
            out.append(f"   Impact: {c['impact'].upper()} · Effort: {c['effort'].upper()} · Risk: {c['risk'].upper()}")
            out.append("")
        if not by_cause.get(fx["cause"]):
            out += ["   (no automatic change: see notes)", ""]
    out.append("Testing:")
    for t in plan["tests"]["add"]:
        out.append(f"- Add `{t['file']}`: {t['description']}")
    out.append(f"- Run `{shown_command(plan['tests']['run'])}` before and after the change (every file is restored "
               "byte for byte if a test fails that passed before)")
    out.append("")
    ver = plan["verification"]
    out.append("Verification:")
    if ver.get("retrain"):
        out.append(f"- Retrain as you launched it ({ver.get('retrain_source')}), with the fix: `{ver['retrain']}`")
        out += [f"  ({n})" for n in ver.get("retrain_notes") or []]
    elif ver.get("retrain_missing"):
        out.append(f"- Retrain: {ver['retrain_missing']}")
    out.append(f"- Then: `{ver['verify']}`, which checks:")
    for p in ver.get("expected_outcome", []):
        out.append(f"  - {p.get('description', p)}")
    if plan.get("notes"):
        out += ["", "Notes:"] + [f"- {n}" for n in plan["notes"]]
    if not plan["changes"]:
        out += ["", "Nothing to apply automatically; manual steps:"] + [f"- {s}" for s in manual_steps(plan)]
        return "\n".join(out) + "\n"
    out += ["", f"Plan id: `{plan['plan_id']}` (root `{plan['root']}`)", "",
            f"Proceed? Approve with: `{program()} apply PLAN.json --approve {plan['plan_id']}`"]
    return "\n".join(out) + "\n"
