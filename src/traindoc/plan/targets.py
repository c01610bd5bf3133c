"""Where the next run reads each value: the file (or launch command) a config fix must edit.

A training framework resolves a setting in a fixed order, and the plan edits the place that wins in that order:
1. the launch command's own flags (`--learning_rate 3e-4`, nanoGPT's `--learning_rate=3e-4`, Hydra's
   `optim.lr=3e-4`): edited in the launch script or Makefile that holds the command, or, when the command was only
   recorded (W&B metadata, a log line), carried by the plan's retrain command;
2. the config file the command loads (`--config x.yaml`, `--deepspeed ds.json`, HfArgumentParser's `args.json`,
   nanoGPT's `config/train_x.py`, Hydra's `config_path`/`config_name`); when that file is a run's own output (the
   config LightningCLI saved, which a recovered command replays) and sets the key, nothing below it can change the
   next run: the value goes on the command as a dotted override when the CLI takes one (LightningCLI), else the
   plan's manual step says where to set it;
3. the project's other config files, then the defaults in its code (dataclass fields, argparse defaults,
   `TrainingArguments(...)` keywords, module-level assignments).

A file a run wrote is never a target: anything under a diagnosed run's folder, or under a folder that holds a
run's output (checkpoints, `trainer_state.json`, a saved `training_args.bin`, a logger's `hparams.yaml`, W&B and
MLflow stores, TensorBoard events). Editing such a copy changes no future run and falsifies the evidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from traindoc.plan.config_edit import ConfigEditError, ValueSpan, edit_value, find_value, format_like, parse_value_text
from traindoc.plan.launch import Launch, command_at, flag_span, launch_config_files, unquote
from traindoc.plan.launch_lightning import dotted_path

# Files and folders that only a run writes. A folder holding one of them is a run's output folder.
RUN_OUTPUT_FILES = ("metrics.jsonl", "trainer_state.json", "training_args.bin", "hparams.yaml", "wandb-metadata.json",
                    "wandb-summary.json", "meta.yaml", "metrics.csv", "all_results.json", "train_results.json")
RUN_OUTPUT_DIRS = ("checkpoints", "wandb", "mlruns", "lightning_logs", "tb_logs", ".hydra")
RUN_OUTPUT_GLOBS = ("checkpoint-*", "events.out.tfevents.*", "*.wandb")
LAUNCH_KIND = "launch_flag"
RUN_COPY_KIND = "run_copy"  # the command loads a file a run wrote that sets the key: a manual step, no edit


@dataclass
class Site:
    """One place a key is written: a config or code file, or a flag of the launch command."""

    file: str | None  # None: the flag is in a recorded command only (no file to edit)
    key: str  # the key as written there
    kind: str  # "config" | "launch_flag" | "run_copy"
    why: str  # the precedence rule that picked it, for the plan's notes
    copy: str | None = None  # a flag not on the command yet: the run's saved config that holds its current value


def _has_output_marker(d: Path) -> bool:
    """`d` holds a file only a run writes (a folder named like a tracker's store is checked by name instead: a
    project that holds `wandb/` or `lightning_logs/` is not itself a run's output)."""
    try:
        if any((d / m).exists() for m in RUN_OUTPUT_FILES):
            return True
        return any(next(d.glob(g), None) is not None for g in RUN_OUTPUT_GLOBS)
    except OSError:
        return False


class RunOutputs:
    """Folders a run wrote: the diagnosed runs' own folders and any folder carrying a run-output marker."""

    def __init__(self, root: Path, run_dirs: list[Path]):
        self.root = root.resolve()
        self.run_dirs = [d.resolve() for d in run_dirs]
        self._cache: dict[Path, bool] = {}

    @classmethod
    def from_diagnosis(cls, diagnosis: dict[str, Any], root: Path, base: Path) -> RunOutputs:
        """The folders of every file the diagnosis read as the run's logs (its `sources`), and each diagnosed path
        that is itself a run folder (not the project that contains it)."""
        run = diagnosis.get("run") or {}
        dirs: list[Path] = []
        for s in run.get("sources") or []:
            p = s.get("path") if isinstance(s, dict) else None
            if not (isinstance(p, str) and p):
                continue
            q = (base / p).resolve()
            d = q if q.is_dir() else q.parent
            # a config the diagnosis read is the user's own file unless it sits in a run's output folder
            if not str(s.get("format", "")).endswith("_config") or _has_output_marker(d):
                dirs.append(d)
        for p in run.get("paths") or []:
            if isinstance(p, str) and p:
                q = (base / p).resolve()
                d = q if q.is_dir() else q.parent
                if d != root.resolve() and _has_output_marker(d):
                    dirs.append(d)
        return cls(root, dirs)

    @property
    def runs(self) -> list[Path]:
        """The diagnosed runs' folders (not the project root, when the diagnosis was pointed at the project)."""
        return list(dict.fromkeys(d for d in self.run_dirs if d != self.root))

    def contains(self, path: str | Path) -> bool:
        p = Path(path).resolve()
        if any(p == d or p.is_relative_to(d) for d in self.run_dirs if d != self.root):
            return True
        if not p.is_relative_to(self.root):
            return False
        if any(part in RUN_OUTPUT_DIRS for part in p.relative_to(self.root).parts[:-1]):
            return True
        d = p.parent
        while d != self.root and d.is_relative_to(self.root):  # the project root itself is never a run's output
            if d not in self._cache:
                self._cache[d] = _has_output_marker(d)
            if self._cache[d]:
                return True
            d = d.parent
        return False


PROJECT_FILES = ("pyproject.toml", "setup.py", "setup.cfg", "requirements.txt", "Makefile", ".git")
PROJECT_LIFT = 3  # a run usually sits at most runs/<name>/ or outputs/<date>/<time>/ below its project


def project_above(folder: Path, stop: Path | None = None) -> Path:
    """The project a run folder sits in: `folder` itself if it holds code, a launch script or a project file, else
    the nearest ancestor (at most PROJECT_LIFT levels up, and never above `stop`, the folder the user works in)
    that does; `folder` when none does. Without the stop, a run in a scratch folder would be "lifted" into /tmp or
    the home folder because some stray script lies there, and the plan would scan and edit files far outside it."""
    d = folder
    for _ in range(PROJECT_LIFT + 1):
        try:
            if any((d / m).exists() for m in PROJECT_FILES) or next(d.glob("*.py"), None) or next(d.glob("*.sh"),
                                                                                                   None):
                return d
        except OSError:
            break
        if d.parent == d or (stop is not None and d == stop):
            break
        d = d.parent
    return folder


# One setting, the names frameworks give it: HF TrainingArguments, plain scripts, nanoGPT, Lightning, DeepSpeed.
ALIASES = (
    ("learning_rate", "lr"),
    ("max_grad_norm", "grad_clip", "gradient_clipping", "gradient_clip_val", "clip_grad_norm"),
    ("warmup_steps", "warmup_iters", "num_warmup_steps"),
)


def key_candidates(key: str) -> list[str]:
    """`training_args.learning_rate` -> itself, `learning_rate`, then the setting's other names (`lr`): a dump's
    prefix is not the source's, and the same setting has another name in another framework."""
    parts = key.split(".")
    out = [key, parts[-1]] if len(parts) > 1 else [key]
    for group in ALIASES:
        if parts[-1] in group:
            out += [a for a in group if a not in out]
    return out


def _find_in(path: str, text: str, key: str) -> str | None:
    for k in key_candidates(key):
        try:
            span = find_value(path, k, text)
        except (ValueError, RecursionError):
            return None
        # DeepSpeed's "auto" means "take it from the launch arguments": the value lives elsewhere
        if span is not None and span.text.strip("\"'") != "auto":
            return k
    return None


def resolve(key: str, launch: Launch | None, named: str | None, configs: list[str], code: list[str],
            outputs: RunOutputs, text_of: Any) -> Site | None:
    """The site of `key` the next run reads, by the framework's precedence (module docstring). `text_of(path)` is
    the plan's in-memory text of a file (so earlier fixes compose)."""
    if launch is not None:
        for k in key_candidates(key):
            if flag_span(launch.argv, k) is not None:
                return Site(launch.file, k, LAUNCH_KIND, f"the launch command ({launch.source}) sets {k}, which "
                                                         "overrides every config file and default")
    loaded = launch_config_files(launch) if launch else []
    saved = _in_loaded_run_copy(key, launch, loaded, outputs, text_of)
    if saved is not None:
        return saved
    ordered = [(f, "the config file the launch command loads") for f in loaded]
    if named:
        ordered.append((named, "the config file the diagnosis cites"))
    ordered += [(f, "a config file of the project") for f in configs]
    ordered += [(f, "the default in the project's code") for f in code if f.endswith(".py")]
    seen: set[str] = set()
    for f, why in ordered:
        if f in seen or not Path(f).is_file() or outputs.contains(f):
            continue
        seen.add(f)
        try:
            if not Path(f).resolve().is_relative_to(outputs.root):
                continue
            text = text_of(f)
        except (OSError, UnicodeDecodeError):
            continue  # not a file we could edit byte-exactly: never a site
        k = _find_in(f, text, key)
        if k is not None:
            return Site(f, k, "config", why)
    return None


def _in_loaded_run_copy(key: str, launch: Launch | None, loaded: list[str], outputs: RunOutputs, text_of: Any
                        ) -> Site | None:
    """The site of `key` when the command loads a file a run wrote (LightningCLI's saved config) that sets it."""
    for f in loaded:
        if launch is None or not outputs.contains(f):
            continue
        try:
            text = text_of(f)
        except (OSError, UnicodeDecodeError):
            continue
        k = _find_in(f, text, key)
        if k is None:
            continue
        name = Path(f).relative_to(outputs.root) if Path(f).is_relative_to(outputs.root) else Path(f)
        span = find_value(f, k, text)
        path = dotted_path(text, span.start) if span is not None and launch.dotted else None
        if launch.file is None and path is not None:
            return Site(None, path, LAUNCH_KIND, f"the recovered command replays {name}, the run's saved config, "
                        f"which sets {path} and is never edited; a flag after --config overrides it", copy=f)
        return Site(f, k, RUN_COPY_KIND, f"the launch command loads {name}, a file the run wrote")
    return None


# ----------------------------------------------------------------------------------------- launch-script edits
def find_in_script(text: str, line: int, key: str) -> ValueSpan | None:
    """The span of `key`'s value in the launch command that starts at `line` of a script (continuation lines
    joined with a trailing backslash belong to it)."""
    words = command_at(text, line)
    hit = flag_span([unquote(w[2]) for w in words], key)
    if hit is None:
        return None
    ws, we, raw = words[hit[0]]
    vs = ws + raw.index("=") + 1 if hit[1] else ws
    return ValueSpan("", key, vs, we, line, text[vs:we], "shell")


def manual_for_run_copy(key: str, value: Any, rel: str) -> str:
    """The manual step when the only place holding `key` is a copy a run wrote."""
    name = key.rsplit(".", 1)[-1]
    return (f"{name}: set it to {value!r} where you launch training (the flag `--{name} {value}`, the config file "
            f"your launch command loads, or the value in your training script); {rel} is the finished run's own "
            "copy, which no next run reads, so it is left unchanged")


def shell_text(old: str, value: Any) -> str:
    """New value text for a shell word, in the old word's style and quoting."""
    q = old[0] if old[:1] in "\"'" and old.endswith(old[0]) and len(old) >= 2 else ""
    inner = old[1:-1] if q else old
    new = format_like(inner, value, "shell")
    if isinstance(value, str):
        new = value
    if isinstance(value, bool) and inner[:1].islower():
        new = new.lower()
    return f"{q}{new}{q}"


def edit_site(site: Site, text: str, value: Any, line: int | None) -> tuple[str, int, str]:
    """(new text, 1-based line, old value text) for setting `site`'s key to `value`; ConfigEditError if not."""
    if site.kind == LAUNCH_KIND:
        span = find_in_script(text, line or 1, site.key)
        if span is None:
            raise ConfigEditError(f"{site.file}: --{site.key} not found in the launch command")
        new_word = shell_text(span.text, value)
        if parse_value_text(new_word.strip("\"'")) != value and not isinstance(value, str):
            got = parse_value_text(new_word.strip("\"'"))
            if not (isinstance(got, int | float) and isinstance(value, int | float) and abs(got - value) <= 1e-9
                    * max(1.0, abs(value))):
                raise ConfigEditError(f"{site.file}: --{site.key} {new_word!r} would not read back as {value!r}")
        return text[:span.start] + new_word + text[span.end:], span.line, span.text
    assert site.file is not None
    new_text, span = edit_value(site.file, text, site.key, value)
    return new_text, span.line, span.text


def current(site: Site, launch: Launch | None, text: str | None) -> Any:
    """The value `site` holds now (None if it cannot be read)."""
    if site.kind == LAUNCH_KIND:
        if launch is None:
            return None
        if site.file is not None and text is not None:
            span = find_in_script(text, launch.line or 1, site.key)
            return parse_value_text(span.text.strip("\"'")) if span else None
        found = flag_span(launch.argv, site.key)
        if found:
            return parse_value_text(launch.argv[found[0]][found[1]:])
        site = Site(site.copy, site.key, "config", site.why) if site.copy else site
        if site.file is None:
            return None
        try:
            text = Path(site.file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
    assert site.file is not None
    span = find_value(site.file, site.key, text)
    return parse_value_text(span.text) if span else None
