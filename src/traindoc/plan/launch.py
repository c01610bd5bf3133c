"""How the user launched training: the command, recovered from evidence, never guessed.

Sources, in order (the first that yields a command wins; each is read as text, nothing is run):
1. launch scripts and Makefiles in the project (`*.sh`, `Makefile`, `*.mk`, at the root and one folder down):
   a line that runs python / accelerate / torchrun / deepspeed on a script that exists in the project (with
   several, the one that writes the diagnosed run, and among several such the one sources 2-3 record: as_recorded);
2. the argv a tracker recorded with the run: W&B's `wandb-metadata.json` (`program` + `args`);
3. a command echoed in the first lines of a text log the diagnosis read (`$ python train.py ...`,
   `command: ...`);
4. the config LightningCLI saved in the run folder, replayed by the script that calls LightningCLI
   (plan/launch_lightning.py);
5. an MLflow run's records: an MLflow Project's entry-point command filled with the run's params, or the entry
   script MLflow named when its own options name the output (plan/launch_mlflow.py);
6. the project's single entry script, when its own argparse options say how to name the output folder (the
   bundled trainer's workspaces: `python train.py --out DIR`); labelled as derived from the code.
The user's shell history is never read. When none applies, the plan says so and takes `--retrain-cmd`.

A command is kept as words with their character spans in the file they came from, so a fix to a flag is a
one-word edit of that file, keeping everything else byte for byte.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAX_SCRIPT_BYTES = 256_000  # a launch script or Makefile larger than this is not read
MAX_LOG_HEAD = 8_000  # characters read from the start of a text log
LOG_HEAD_LINES = 20
SKIP_DIRS = {".venv", "venv", ".git", "__pycache__", ".traindoc", "node_modules", "site-packages", "tests"}
LAUNCHERS = ("accelerate", "torchrun", "deepspeed")
PYTHON_WORD = re.compile(r"(^|/)python[\d.]*$|^\$[({]?PYTHON[)}]?$")
ECHO = re.compile(r"^\s*(?:\$|\+|>>>?|(?:command|cmd|launch(?:ed)?(?: with)?|running|argv)\s*[:=])\s*(?P<cmd>.+)$",
                  re.I)
CONFIG_FLAGS = ("config", "config_file", "config-file", "c", "cfg", "deepspeed", "deepspeed_config_file",
                "deepspeed_config")
WANDB_METADATA = ("wandb-metadata.json", "files/wandb-metadata.json", "*/files/wandb-metadata.json",
                  "wandb/*/files/wandb-metadata.json")
WANDB_BINARY = ("run-*.wandb", "*/run-*.wandb", "wandb/*/run-*.wandb")
OUTPUT_FLAGS = ("output_dir", "output-dir", "out_dir", "out", "save_dir", "default_root_dir",
                "trainer.default_root_dir", "hydra.run.dir", "log_dir", "logdir")


@dataclass
class Launch:
    argv: list[str]
    script: int  # index of the training script in argv
    cwd: Path  # where the command runs
    source: str  # human-readable origin ("run.sh:4", "W&B metadata", ...)
    file: str | None = None  # the editable file that holds it (None: only recorded)
    line: int | None = None
    overrides: dict[str, Any] = field(default_factory=dict)  # values a fix sets on a recorded-only command
    # the command's CLI reads dotted `--group.key=value` flags after its config (LightningCLI / jsonargparse): a fix
    # to a value of the run's saved config travels as such a flag
    dotted: bool = False
    next_run: Path | None = None  # the folder the framework writes next when the command names none (Lightning)
    extra: list[str] = field(default_factory=list)  # words a fix adds to the retrain command only (a resume flag)

    @property
    def script_path(self) -> Path:
        return (self.cwd / self.argv[self.script]).resolve()


# ------------------------------------------------------------------------------------------------ shell words
_WORD = re.compile(r"""(?:[^\s"'\\;&|#]|\\.|"(?:[^"\\]|\\.)*"|'[^']*')+""")


def command_words(text: str, start: int) -> list[tuple[int, int, str]]:
    """(start, end, raw) of each word of the command beginning at offset `start` (continuation lines joined), up
    to the end of the command (newline, `;`, `&&`, `|`, a comment)."""
    flat = text.replace("\\\r\n", "   ").replace("\\\n", "  ")
    out: list[tuple[int, int, str]] = []
    pos = start
    for m in _WORD.finditer(flat, start):
        gap = flat[pos:m.start()]
        if "\n" in gap or any(c in gap for c in ";&|#"):
            break
        out.append((m.start(), m.end(), m.group(0)))
        pos = m.end()
    return out


def command_at(text: str, line: int) -> list[tuple[int, int, str]]:
    """The words of the command that starts at 1-based `line` of a launch script or Makefile (a recipe's leading
    tab and `@` skipped)."""
    start = sum(len(x) for x in text.splitlines(keepends=True)[:line - 1])
    body = text[start:]
    return command_words(text, start + len(body) - len(body.lstrip(" \t@")))


def unquote(raw: str) -> str:
    try:
        parts = shlex.split(raw)
    except ValueError:
        return raw
    return parts[0] if len(parts) == 1 else raw


def script_index(argv: list[str], cwd: Path, root: Path) -> int | None:
    """Index of the .py script a command trains with, when the command is a python / launcher invocation."""
    i = 0
    while i < len(argv) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", argv[i]):
        i += 1  # env assignments
    if i < len(argv) and argv[i] in ("uv", "poetry", "pipenv") and i + 1 < len(argv) and argv[i + 1] == "run":
        i += 2
    if i >= len(argv):
        return None
    prog = argv[i].lstrip("@")
    if not (PYTHON_WORD.search(prog) or Path(prog).name in LAUNCHERS):
        return None
    for j in range(i + 1, len(argv)):
        if argv[j].endswith(".py"):
            p = (cwd / argv[j]).resolve()
            return j if p.is_file() and p.is_relative_to(root) else None
    return None


def read_small(path: Path, limit: int) -> str | None:
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > limit:
            return None
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


# ---------------------------------------------------------------------------------------------------- sources
def _script_files(root: Path) -> list[Path]:
    out = []
    for d in [root] + sorted(p for p in root.iterdir() if p.is_dir() and p.name not in SKIP_DIRS
                             and not p.name.startswith(".")):
        try:
            for f in sorted(d.iterdir()):
                if f.is_file() and (f.suffix in (".sh", ".mk") or f.name in ("Makefile", "makefile", "GNUmakefile")):
                    out.append(f)
        except OSError:
            continue
    return out


def from_scripts(root: Path, outputs: Any) -> list[Launch]:
    found = []
    for f in _script_files(root):
        if outputs.contains(f):
            continue
        text = read_small(f, MAX_SCRIPT_BYTES)
        if text is None:
            continue
        offset = 0
        for n, raw in enumerate(text.splitlines(keepends=True), 1):
            body = raw.lstrip(" \t@")
            start = offset + len(raw) - len(body)
            offset += len(raw)
            if not body.strip() or body.startswith("#"):
                continue
            words = command_words(text, start)
            argv = [unquote(w[2]) for w in words]
            if f.name.lower().endswith("makefile") or f.suffix == ".mk":
                argv = [re.sub(r"\$\((CURDIR|PWD)\)/?", "", a) for a in argv]
            cwd = f.parent
            idx = script_index(argv, cwd, root)
            if idx is not None:
                found.append(Launch(argv, idx, cwd, f"{f.relative_to(root)}:{n}", str(f), n))
    return found


def _wandb_launch(program: object, args: object, root: Path, origin: str) -> Launch | None:
    if not isinstance(program, str) or not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        return None
    script = Path(program)
    cand = [script] if script.is_absolute() else [root / script, root / script.name]
    hit = next((c for c in cand if c.is_file() and c.resolve().is_relative_to(root)), None)
    if hit is None:
        return None
    return Launch(["python", os.path.relpath(hit, root), *args], 1, root, origin)


def from_wandb(run_dirs: list[Path], root: Path) -> Launch | None:
    """W&B records the program and its argv: files/wandb-metadata.json (online runs, older offline runs), or the
    environment record inside the run's `run-<id>.wandb` (offline runs of wandb >= 0.19)."""
    from traindoc.ingest.readers.wandb import environment  # the binary record format lives with its reader

    for d in run_dirs:
        # where W&B puts it: <run>/files/, or the run folder given is wandb/ or the project holding it
        metas = [m for pat in WANDB_METADATA for m in sorted(d.glob(pat))[:20]]
        for meta in metas:
            text = read_small(meta, MAX_SCRIPT_BYTES)
            try:
                data = json.loads(text or "")
            except json.JSONDecodeError:
                continue
            if isinstance(data, dict) and (lc := _wandb_launch(data.get("program") or data.get("codePath"),
                                                               data.get("args"), root, f"W&B metadata {meta.name}")):
                return lc
        for binary in [b for pat in WANDB_BINARY for b in sorted(d.glob(pat))[:20]]:
            env = environment(binary)
            if env is None:
                continue
            # code_path is relative to the run's root (as recorded where it ran); program is absolute there
            for program in (env.get("code_path"), env.get("program")):
                lc = _wandb_launch(program, env.get("args"), root, f"W&B run record {binary.name}")
                if lc is not None:
                    return lc
    return None


def from_log_head(sources: list[Path], root: Path) -> Launch | None:
    for src in sources:
        if src.suffix not in (".log", ".txt", ".out", "") or not src.is_file():
            continue
        try:
            with open(src, encoding="utf-8", errors="replace") as fh:
                head = fh.read(MAX_LOG_HEAD)
        except OSError:
            continue
        for n, line in enumerate(head.splitlines()[:LOG_HEAD_LINES], 1):
            m = ECHO.match(line)
            if not m:
                continue
            try:
                argv = shlex.split(m.group("cmd"))
            except ValueError:
                continue
            idx = script_index(argv, root, root)
            if idx is not None:
                return Launch(argv, idx, root, f"echoed in {src.name}:{n}")
    return None


FRAMEWORK_CLI = re.compile(r"LightningCLI|hydra\.main|HfArgumentParser|accelerate|deepspeed")


def _output_option(text: str) -> str | None | bool:
    """For an entry script's text: its output option when its own argparse options name the output folder and
    nothing is required; None when it is not such a script; False when a framework's CLI launches it (its
    arguments cannot be derived this way)."""
    if "__main__" not in text or "add_argument" not in text or "required=True" in text:
        return None
    if FRAMEWORK_CLI.search(text):
        return False
    return next((o for o in OUTPUT_FLAGS if re.search(rf"add_argument\(\s*['\"]--{re.escape(o)}['\"]", text)), None)


def derivable(p: Path) -> bool:
    """`python <p>` is a command we may derive: the script names its output folder by its own options."""
    return bool(_output_option(read_small(p, MAX_SCRIPT_BYTES) or ""))


def from_code(root: Path, code_files: list[str]) -> Launch | None:
    """The project's one entry script whose argparse names an output folder option (and nothing required)."""
    entries = []
    for f in code_files:
        p = Path(f)
        if p.parent != root:
            continue
        out = _output_option(read_small(p, MAX_SCRIPT_BYTES) or "")
        if out is False:
            return None
        if out:
            entries.append(p)
    if len(entries) != 1:
        return None
    p = entries[0]
    return Launch(["python", p.name], 1, root, f"derived from {p.name}'s own options (no launch command recorded)")


RANK_FLAG = re.compile(r"--local[_-]rank")  # what the deepspeed launcher adds to the script's argv


def _launcher(lc: Launch) -> str:
    return next((Path(w).name for w in lc.argv[:lc.script] if Path(w).name in LAUNCHERS), "python")


def _script_args(lc: Launch) -> list[str]:
    """The words after the script, `--key=value` split as the script's parser reads them, the launcher's rank
    flag (`--local_rank=0`) dropped."""
    words: list[str] = []
    for w in lc.argv[lc.script + 1:]:
        words += w.split("=", 1) if w.startswith("--") and "=" in w else [w]
    out: list[str] = []
    skip = False
    for i, w in enumerate(words):
        if skip:
            skip = False
        elif RANK_FLAG.fullmatch(w):
            skip = i + 1 < len(words) and words[i + 1].isdigit()
        else:
            out.append(w)
    return out


def as_recorded(candidates: list[Launch], recorded: Launch) -> Launch | None:
    """The one candidate that is the recorded command: the same script, and where the record names its launcher (a
    command echoed in a log; W&B records the script's argv only) the same launcher; then the same words after the
    script, else (a value edited since) the same flags. None when none or several match."""
    def name(lc: Launch) -> str:
        return Path(lc.argv[lc.script]).name if lc.script < len(lc.argv) else ""

    def flags(lc: Launch) -> set[str]:
        return {w for w in _script_args(lc) if w.startswith("-")}

    pool = [lc for lc in candidates if name(lc) == name(recorded) and (
        recorded.source.startswith("W&B") or _launcher(lc) == _launcher(recorded))]
    rec_words = [w.split("=", 1)[0] for w in recorded.argv[recorded.script + 1:]]
    if any(RANK_FLAG.fullmatch(w) for w in rec_words):  # only the deepspeed launcher (or torch's old launch) adds it
        ranked = [lc for lc in pool if _launcher(lc) == "deepspeed" or "torch.distributed.launch" in lc.argv]
        pool = ranked or pool
    for same in (lambda lc: _script_args(lc) == _script_args(recorded), lambda lc: flags(lc) == flags(recorded)):
        hits = [lc for lc in pool if same(lc)]
        if hits:
            return hits[0] if len(hits) == 1 else None
    return None


def recover(root: Path, run_dirs: list[Path], sources: list[Path], code_files: list[str], outputs: Any
            ) -> tuple[Launch | None, list[str]]:
    """The launch command and notes on how it was chosen."""
    notes: list[str] = []
    scripts = from_scripts(root, outputs)
    if scripts:
        # several commands: those that write the diagnosed run (else all), and among them the one the run's own
        # records say was run (a plain `train` target beside an accelerate / DeepSpeed one often writes the same
        # folder), else the first
        def writes_run(lc: Launch) -> bool:
            val = output_value(lc)
            return val is not None and any((lc.cwd / val).resolve() == d for d in run_dirs)
        writers = [lc for lc in scripts if writes_run(lc)]
        pool = writers or scripts
        best, why = pool[0], "it writes the diagnosed run" if writers else "the first one"
        if len(pool) > 1:
            recorded = from_wandb(run_dirs, root) or from_log_head(sources, root)
            match = as_recorded(pool, recorded) if recorded is not None else None
            if match is not None and recorded is not None:
                best, why = match, f"it is the command {recorded.source} recorded"
            else:
                why = (f"{len(pool)} of them write the diagnosed run; " if writers else "") + (
                    "the first; nothing the run recorded tells which one was run (give --retrain-cmd if it was "
                    "another)" if recorded is None else
                    f"the first; the command {recorded.source} recorded does not single one out")
        if len(scripts) > 1:
            notes.append(f"{len(scripts)} launch commands in the project; using {best.source} ({why})")
        return best, notes
    # the run's own records; imported here because they build on this module's Launch and readers
    from traindoc.plan.launch_lightning import from_lightning_cli
    from traindoc.plan.launch_mlflow import from_mlflow

    for find_one in (lambda: from_wandb(run_dirs, root), lambda: from_log_head(sources, root),
                     lambda: from_lightning_cli(run_dirs, root, code_files)):
        lc = find_one()
        if lc is not None:
            return lc, notes
    lc, ml_notes, ml_run = from_mlflow(run_dirs, sources, root)
    notes += ml_notes
    if ml_run:  # MLflow named how the run was launched: never replaced by a guess from the code
        return lc, notes
    return from_code(root, code_files), notes


# ------------------------------------------------------------------------------------------------ flags
def flag_span(argv: list[str], key: str) -> tuple[int, int] | None:
    """(word index, offset of the value in that word) where `key` is set: `--key v`, `--key=v`, `--ke-y v`, or a
    Hydra override `key=v` / `+key=v` / `group.key=v` (a dotted override matches on its last part)."""
    dashed = key.replace("_", "-")
    for i, w in enumerate(argv[1:], 1):
        for name in (key, dashed):
            # a bare boolean flag (`--fp16 --output_dir x`) has no value word: the next flag is not its value
            if w == f"--{name}" and i + 1 < len(argv) and not argv[i + 1].startswith("--"):
                return i + 1, 0
            if w.startswith(f"--{name}="):
                return i, len(name) + 3
        if not w.startswith("-") and "=" in w:
            k = w.split("=", 1)[0].lstrip("+~")
            if k == key or k.endswith("." + key):
                return i, w.index("=") + 1
    return None


def output_value(lc: Launch) -> str | None:
    for o in OUTPUT_FLAGS:
        hit = flag_span(lc.argv, o)
        if hit is not None:
            return lc.argv[hit[0]][hit[1]:]
    return None


def launch_config_files(lc: Launch | None) -> list[str]:
    """Config files the command makes the run load, in the order given (later ones override earlier ones for
    most parsers, so the last is tried first)."""
    if lc is None:
        return []
    found: list[str] = []
    argv = lc.argv
    for name in CONFIG_FLAGS:
        hit = flag_span(argv, name)
        if hit is not None:
            found.append(argv[hit[0]][hit[1]:])
    for w in argv[1:]:
        if w != argv[lc.script] and not w.startswith("-") and "=" not in w and w.endswith((".json", ".yaml",
                                                                                            ".yml", ".py")):
            found.append(w)
    found += hydra_config(lc)
    out = []
    for f in reversed(found):
        p = (lc.cwd / f).resolve()
        if p.is_file() and str(p) not in out:
            out.append(str(p))
    return out


def hydra_config(lc: Launch) -> list[str]:
    """Hydra's primary config: `--config-path/--config-name` on the command, else the script's `@hydra.main`."""
    text = read_small(lc.script_path, MAX_SCRIPT_BYTES) or ""
    m = re.search(r"@hydra\.main\(([^)]*)\)", text)
    if not m:
        return []
    args = dict(re.findall(r"(config_path|config_name)\s*=\s*['\"]([^'\"]*)['\"]", m.group(1)))
    for flag, k in (("config-path", "config_path"), ("config-name", "config_name"), ("cp", "config_path"),
                    ("cn", "config_name")):
        hit = flag_span(lc.argv, flag)
        if hit is not None:
            args[k] = lc.argv[hit[0]][hit[1]:]
    if "config_name" not in args:
        return []
    rel = Path(lc.argv[lc.script]).parent / args.get("config_path", ".") / args["config_name"]
    return [str(rel) if rel.suffix in (".yaml", ".yml") else str(rel) + ".yaml"]


def find(root: Path, diagnosis: dict[str, Any], outputs: Any, code_files: list[str], given: str | None
         ) -> tuple[Launch | None, list[str]]:
    """The command given with `--retrain-cmd` (run from the root), else the one recovered from the evidence."""
    if given:
        try:
            argv = shlex.split(given)
        except ValueError as e:
            raise ValueError(f"--retrain-cmd is not a valid command line ({e})") from e
        if not argv:
            raise ValueError("--retrain-cmd is empty")
        idx = script_index(argv, root, root)
        return Launch(argv, idx if idx is not None else 0, root, "given with --retrain-cmd"), []
    sources = []
    for s in (diagnosis.get("run") or {}).get("sources") or []:
        if isinstance(s, dict) and isinstance(s.get("path"), str):
            sources.append(Path(s["path"]).resolve())
    return recover(root, outputs.runs, sources, code_files, outputs)
