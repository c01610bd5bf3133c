"""Hugging Face Trainer: `trainer_state.json` and the console's printed log dicts.

trainer_state.json (`json.dumps(asdict(state), indent=2, sort_keys=True)`) holds `log_history`: train rows (loss,
grad_norm, learning_rate, epoch, step), eval rows (eval_*), and one end-of-training row (train_runtime, train_loss =
the mean over the run, which is NOT a step loss and goes to run.meta). Non-finite values are the bare tokens NaN /
Infinity, which Python's json accepts.

Console lines are `str(logs)`: transformers 4.x prints Python floats and a bare `nan` (so `ast.literal_eval` fails),
5.x quotes every float as '4.547'. The dict can be glued after a tqdm bar, so dicts are searched anywhere in a line,
after splitting on `\\r` and removing ANSI codes. The console never prints the step: it is taken from the tqdm bar
(`1999/24128 [`) when the log has one, else from epoch x (total steps / epochs) when the banner gives both, else the
row number.

Both apply HF's NaN filter rule (`logging_nan_inf_filter`, on by default): a step whose loss is NaN/Inf adds 0 to
the interval's accumulator, so a diverged run logs `loss 0.0` with `grad_norm nan`. Such a 0.0 is read as NaN and
the source carries a warning saying so.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import BinaryIO

from traindoc.ingest import budget
from traindoc.ingest.model import LogEvent, Run, Source
from traindoc.ingest.names import canonical_metric
from traindoc.ingest.readers._config_line import banner_pairs
from traindoc.ingest.readers._config_line import record as record_config
from traindoc.ingest.readers._param_lines import param_line
from traindoc.ingest.readers._precision_line import precision_line
from traindoc.ingest.readers._structured import Columns, LineStats, is_text, line_blocks, tag_line, to_float, to_step
from traindoc.ingest.readers.textlog_formats import ACCELERATE_EPOCH_DICT, Record, normalise
from traindoc.ingest.registry import Reader, ReadError

MAX_STATE_BYTES = 32 << 20  # one JSON document parsed whole (up to ~30x its size as objects): the budget cap

_SUMMARY_KEYS = {"train_runtime", "train_samples_per_second", "train_steps_per_second", "total_flos", "train_loss"}


def _is_masked_nan(loss: float | None, grad_norm: float | None, eval_nan_seen: bool) -> bool:
    """HF NaN filter: logged loss exactly 0.0 with a non-finite grad_norm (or, before grad_norm was logged, after
    an eval loss already went NaN) means the real loss was NaN/Inf."""
    if loss != 0.0:
        return False
    if grad_norm is not None:
        return not math.isfinite(grad_norm)
    return eval_nan_seen


def record_summary(row: dict, run: Run) -> bool:
    """The end-of-training row (`train_runtime`, the run-mean `train_loss`) into `run.meta["hf_*"]`; False for any
    other row."""
    if "train_runtime" not in row:
        return False
    for k in _SUMMARY_KEYS:
        v = to_float(row.get(k))
        if v is not None:
            run.meta[f"hf_{k}"] = v
    run.meta["hf_finished"] = True
    return True


def log_dicts(text: str) -> list[dict[str, object]]:
    """Every non-empty log dict (`{'loss': ...}`) in one line of console text."""
    return [row for m in _DICT.finditer(text) if (row := parse_log_dict(m.group(0)))]


class _Rows:
    """Shared row handling for trainer_state log_history and console dicts."""

    def __init__(self, run: Run, source: Source) -> None:
        self.run = run
        self.source = source
        self.cols = Columns()
        self.masked = 0
        self.eval_nan_seen = False
        self.last_epoch_int: int | None = None
        self.first_masked_step: int | None = None

    def add(self, row: dict, step: int) -> str:
        """Add one log row at `step`; returns its kind: "train", "eval" or "summary"."""
        if record_summary(row, self.run):
            return "summary"
        is_eval = any(k.startswith("eval_") for k in row)
        values: dict[str, float] = {}
        for k, v in row.items():
            if k == "step":
                continue
            fv = to_float(v)
            if fv is None:
                continue
            name = canonical_metric(k)
            values[name] = fv
        if is_eval:
            if any(not math.isfinite(v) for n, v in values.items() if n == "eval_loss"):
                self.eval_nan_seen = True
        elif "loss" in values and _is_masked_nan(values["loss"], values.get("grad_norm"), self.eval_nan_seen):
            values["loss"] = math.nan
            self.masked += 1
            if self.first_masked_step is None:
                self.first_masked_step = step
        raw_of = {canonical_metric(k): k for k in row}
        for name, fv in values.items():
            if is_eval and name == "epoch":
                continue  # the train rows carry the epoch clock
            self.cols.add(name, step, fv, raw_of.get(name, name))
        epoch = values.get("epoch")
        if not is_eval and epoch is not None and math.isfinite(epoch):
            e = int(epoch)
            if self.last_epoch_int is None or e != self.last_epoch_int:
                # HF's epoch is the fraction done: a row at exactly 1.0 closes epoch 0, so epoch 1 starts after it;
                # otherwise the first row past an integer is the first logged step of that epoch.
                start = step + 1 if epoch == e and e > 0 else step
                self.run.epoch_starts.append((start, e))
                self.last_epoch_int = e
        return "eval" if is_eval else "train"

    def finish(self, path: Path | str) -> None:
        if self.masked:
            self.source.warnings.append(
                f"{self.masked} train row(s) log loss 0.0 with grad_norm NaN/Inf: read as NaN (HF "
                f"logging_nan_inf_filter masks a non-finite loss; first at step {self.first_masked_step})"
            )
            self.run.events.append(
                LogEvent("warning", "loss logged as 0.0 with non-finite grad_norm: NaN loss masked by HF's "
                         "logging_nan_inf_filter", self.first_masked_step, "nan_loss", str(path))
            )
        self.source.metrics = self.cols.flush(self.run, str(path))


# ---------------------------------------------------------------------------------------------------------------
# trainer_state.json


def _superseded(path: Path) -> bool:
    """A checkpoint-N/trainer_state.json whose history a later copy also holds (the output folder's own copy, or a
    later checkpoint's): reading it again would only duplicate rows and events."""
    parent = path.parent
    if not parent.name.startswith("checkpoint-"):
        return False
    if (parent.parent / "trainer_state.json").is_file():
        return True
    try:
        n = int(parent.name.split("-", 1)[1])
        later = [int(p.name.split("-", 1)[1]) for p in parent.parent.glob("checkpoint-*")
                 if p.name.split("-", 1)[1].isdigit() and (p / "trainer_state.json").is_file()]
    except (ValueError, OSError):
        return False
    return any(m > n for m in later)


def sniff_state(path: Path, head: bytes) -> float:
    if not head.lstrip().startswith(b"{") or _superseded(path):
        return 0.0
    if b'"log_history"' in head:
        return 0.97
    if path.name == "trainer_state.json":
        return 0.9
    return 0.0


def read_state(path: Path, run: Run) -> Source:
    source = Source(str(path), "hf_trainer_state")
    try:
        state = json.loads(budget.read_whole(path, MAX_STATE_BYTES))
    except OSError as e:
        raise ReadError(f"cannot open ({e.strerror})") from None
    except (ValueError, RecursionError) as e:
        msg = str(e).splitlines()[0][:120] if str(e) else "invalid JSON"
        raise ReadError(f"not valid JSON, file truncated or corrupted ({msg})") from None
    if not isinstance(state, dict) or not isinstance(state.get("log_history"), list):
        raise ReadError("no log_history list: not a Hugging Face trainer_state.json")
    for key in ("global_step", "max_steps", "num_train_epochs", "logging_steps", "eval_steps", "save_steps",
                "train_batch_size", "best_metric", "best_global_step", "best_model_checkpoint", "epoch"):
        if key in state and isinstance(state[key], (int, float, str)):
            run.meta[f"hf_{key}"] = state[key]
    run.meta.setdefault("hf_finished", False)
    rows = _Rows(run, source)
    bad = 0
    last_step = 0
    for entry in state["log_history"]:
        if not isinstance(entry, dict):
            bad += 1
            continue
        step = to_step(entry.get("step"))
        if step is None:
            step = last_step  # very old files: rows without a step belong to the last one seen
        rows.add(entry, step)
        last_step = step
        source.records += 1
    rows.finish(path)
    if bad:
        source.warnings.append(f"{bad} log_history entries are not objects and were skipped")
    if not source.records:
        source.warnings.append("log_history is empty: nothing was logged (logging_steps larger than the run?)")
    return source


# ---------------------------------------------------------------------------------------------------------------
# Console dict lines

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][A-Z0-9]|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# a Python warning category ("UserWarning: ..."): the indented line under such a warning is its echoed source line
_PY_CATEGORY = re.compile(r"(?:^|\s)\w*Warning: ")
_DICT = re.compile(r"\{'[^{}]*\}")
_PAIR = re.compile(r"'((?:[^'\\]|\\.)*)'\s*:\s*('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[^,}]+)")
_KEYS = re.compile(r"\{'(?:loss|eval_loss|train_runtime|learning_rate|grad_norm|epoch|eval_runtime)'\s*:")
_TQDM = re.compile(r"\|\s*(\d+)/(\d+)\s*\[")
_BAR = re.compile(r"\s*(?:[^|\n]{0,80}:\s*)?\d+%\|[^|]*\|\s*\d+/\d+\s*\[[^\]]*\]")
# A tqdm bar's postfix ("steps:  5%|▊   | 100/2000 [00:57<18:14,  1.74it/s, avr_loss=0.0725]", a script's own loop set
# with `set_postfix`): its description, count, total and the pairs after the rate. The Trainer's own bars print none.
# Each part is bounded by the character that ends it, so the match stays linear.
_BAR_POSTFIX = re.compile(r"\s*(?:([^|\n:]{0,80}):\s*)?\d+%\|[^|]*\|\s*(\d+)/(\d+)\s*\[[^\],]*,\s*"
                          r"[^\],]*(?:it/s|s/it)\s*,\s*([^\]]+)\]")
_TOTAL_STEPS = re.compile(r"Total optimization steps\s*=\s*([\d,]+)")
# the samples one optimiser update sees, as the banner prints it (devices and accumulation included)
_TOTAL_BATCH = re.compile(r"Total train batch size \(w\. parallel, distributed & accumulation\)\s*=\s*([\d,]+)")
_NUM_EPOCHS = re.compile(r"Num [Ee]pochs\s*=\s*([\d,]+)")
_BANNER = "***** Running training *****"
# a Python logger name (`%(name)s`: a dotted module path, then the format's separator) of a fine-tuning stack built on
# the HF Trainer: LLaMA-Factory (`llmtuner` before its v0.6 rename, `llamafactory` after), TRL, axolotl
_FT_LOGGER = re.compile(r"(?:^|[\s\[|])(llmtuner|llamafactory|trl|axolotl)(?:\.[a-z_]\w*)+(?::\d+)?\s*(?:-|>>|\])")
_FT_STACKS = {"llmtuner": "LLaMA-Factory", "llamafactory": "LLaMA-Factory", "trl": "TRL", "axolotl": "axolotl"}


def parse_log_dict(text: str) -> dict[str, object]:
    """`{'loss': '4.547', 'grad_norm': nan, 'x': 'a/b'}` -> {'loss': 4.547, 'grad_norm': nan, 'x': 'a/b'}."""
    out: dict[str, object] = {}
    for m in _PAIR.finditer(text):
        key, raw = m.group(1), m.group(2).strip()
        if raw[:1] in "'\"":
            inner = raw[1:-1]
            fv = to_float(inner)
            out[key] = fv if fv is not None else inner
        else:
            fv = to_float(raw)
            if fv is not None:
                out[key] = fv
    return out


def sniff_console(path: Path, head: bytes) -> float:
    if not head or not is_text(head):
        return 0.0
    # Accelerate's "epoch N: {...}" evaluation prints are another family's lines (textlog_formats)
    hits = sum(len(_KEYS.findall(line)) for line in head.decode("utf-8", errors="replace").splitlines()
               if not ACCELERATE_EPOCH_DICT.match(line.strip()))
    if hits >= 2:
        return 0.85
    return 0.6 if hits == 1 else 0.0


def read_console(path: Path, run: Run) -> Source:
    try:
        f = budget.open_input(path)
    except OSError as e:
        raise ReadError(f"cannot open ({e.strerror})") from None
    with f:
        return read_console_stream(f, str(path), run)


def read_console_stream(f: BinaryIO, spath: str, run: Run) -> Source:
    """The console reader on an open binary stream (a file, or the console text of a notebook's outputs)."""
    source = Source(spath, "hf_console")
    stats = LineStats()
    bar_counts: dict[int, int] = {}  # tqdm total -> largest count seen; the largest total is the training bar
    total_steps = num_epochs = None
    banners = 0
    lineno = 0
    parsed: list[tuple[int, dict]] = []  # (line, row); steps are assigned once the whole log has been seen
    pending_events: list[tuple[int, LogEvent]] = []  # (index of the next row, event)
    warned: LogEvent | None = None  # the Python warning whose echoed source line may be the next line
    prints = _OwnPrints(spath)
    for block in line_blocks(f, stats):
        for raw in block:
            lineno += 1
            text = raw.decode("utf-8", errors="replace")
            if warned is not None and text[:1] in (" ", "\t") and text.strip() and "{" not in text:
                # the source line Python's warnings module prints (indented) under a warning: what it was raised on
                warned.detail = text.strip()[:2000]
                warned = None
                continue
            warned = None
            for seg in text.split("\r"):
                nested = "\x1b[A" in seg  # tqdm draws nested bars (HF's evaluation bar) with cursor-up codes
                seg = _ANSI.sub("", seg)
                if not seg.strip():
                    continue
                prints.frame()
                for m in () if nested else _TQDM.finditer(seg):
                    n, total = int(m.group(1)), int(m.group(2))
                    if n <= total and bar_counts.get(total, -1) < n:
                        bar_counts[total] = n
                if _BANNER in seg:
                    banners += 1
                if "finetune_stack" not in run.meta and (m := _FT_LOGGER.search(seg)) is not None:
                    run.meta["finetune_stack"] = _FT_STACKS[m.group(1)]
                if (m := _TOTAL_BATCH.search(seg)) is not None:
                    run.meta["hf_total_train_batch_size"] = int(m.group(1).replace(",", ""))
                if (m := _TOTAL_STEPS.search(seg)) is not None:
                    total_steps = int(m.group(1).replace(",", ""))
                if (m := _NUM_EPOCHS.search(seg)) is not None:
                    num_epochs = int(m.group(1).replace(",", ""))
                own = _BANNER not in seg  # a line of the Trainer's banner is never the script's own print
                if (accum := banner_pairs(seg)) is not None:  # "Gradient Accumulation steps = 8": configuration
                    record_config(accum, run, spath, lineno)
                    own = False
                found_dict = False
                for dm in _DICT.finditer(seg):
                    row = parse_log_dict(dm.group(0))
                    if row:
                        found_dict = True
                        parsed.append((lineno, row))
                if not found_dict:
                    bar = _BAR.match(seg)
                    if bar is not None and own and not nested and (post := _BAR_POSTFIX.match(seg)) is not None:
                        # the postfix of a script's own bar (its loop before or after the Trainer): an own print at
                        # the bar's count, as "<description>: step n/total, <pairs>" (the generic rules' fraction)
                        desc = f"{post.group(1).strip()}: " if post.group(1) and post.group(1).strip() else ""
                        prints.line(f"{desc}step {post.group(2)}/{post.group(3)}, {post.group(4)}", len(parsed))
                    if bar is not None:  # a progress bar: only text glued after it can be a warning
                        seg = seg[bar.end() :]
                        if not seg.strip():
                            continue
                    if param_line(seg, run, spath):  # "Number of trainable parameters = N"
                        continue
                    if precision_line(seg, run):  # "Using cuda_amp half precision backend"
                        continue
                    kind, tag = tag_line(seg.strip())
                    if kind in ("warning", "error"):
                        event = LogEvent(kind, seg.strip()[:2000], None, tag, spath, lineno)
                        pending_events.append((len(parsed), event))
                        if kind == "warning" and _PY_CATEGORY.search(seg):
                            warned = event
                    elif own:  # (text glued after a bar too: tqdm leaves no newline before a print)
                        prints.line(seg, len(parsed))
    if not parsed:
        raise ReadError("no Hugging Face log dict found")
    keep = _not_echoes(parsed)
    if not all(keep):
        kept_before = [0]
        for k in keep:
            kept_before.append(kept_before[-1] + k)
        pending_events = [(kept_before[index], event) for index, event in pending_events]
        source.warnings.append(f"{len(keep) - sum(keep)} row(s) echoed by a second logger (same epoch and values, "
                               f"fewer fields) were read once")
        parsed = [row for row, k in zip(parsed, keep, strict=True) if k]
    steps, clock = _console_steps(parsed, bar_counts, total_steps, num_epochs)
    run.meta["hf_step_clock"] = clock
    rows = _Rows(run, source)
    for (_, row), step in zip(parsed, steps, strict=True):
        rows.add(row, step)
        source.records += 1
    rows.finish(spath)
    prints.finish(run, source, steps)
    for index, event in pending_events:
        event.step = steps[index - 1] if index > 0 else None  # the step of the last row printed before it
        _fold(run, event)
    if clock == "row":
        source.warnings.append("console log has no step counter: steps are log-row numbers")
    elif clock == "epoch":
        source.warnings.append("console log has no step counter: steps are the printed epoch in units of its "
                               "densest logging interval")
    if banners > 1:
        source.warnings.append(f"{banners} training banners: the run was restarted (steps may overlap)")
    if stats.overlong:
        source.warnings.append(f"{stats.overlong} line(s) longer than 1 MiB skipped")
    return source


class _OwnPrints:
    """A script's own prints in a Trainer console (a callback's `Epoch 3: val_acc=0.81`, a compute_metrics print, the
    user's own loop before or after the Trainer), read as the text-log reader reads them beside a family's lines
    (text_log.own_print_record; docs/ingest-structured.md): a counted line shape that no family reads and that the
    head's first text_log.HEAD_FRAMES frames repeat text_log.OWN_PRINT_MIN_LINES times, by the generic rules, on a
    clock of its own (a print that names only its epoch belongs to the step of the last log dict printed before it),
    a name the dicts also give kept apart as `<name>@print`; a shape first printed after the head is taken once it is
    seen that often (text_log.LateShapes). Dicts, bars, warnings and the banner never come here."""

    def __init__(self, spath: str) -> None:
        from traindoc.ingest.readers import text_log  # text_log imports this module (log_dicts)
        from traindoc.ingest.readers.textlog_formats import State

        self._tl = text_log
        self.state = State()
        self.head_left = text_log.HEAD_FRAMES
        self.shapes: frozenset[frozenset[str]] | None = None
        self.head: list[tuple[str, int]] = []  # (line, rows before it), until the shapes are known
        self.late = text_log.LateShapes()
        self.found: list[tuple[Record, int | None, int]] = []  # (record, rank, rows before it)
        self.spath = spath

    def frame(self) -> None:
        """One more frame of the console seen (a `\\r` segment, as text_log counts its head)."""
        if self.shapes is None:
            self.head_left -= 1
            if self.head_left <= 0:
                self._decide()

    def line(self, seg: str, rows_before: int) -> None:
        """A line no dict, bar, warning or banner took, printed after `rows_before` log dicts."""
        if self.shapes is None:
            self.head.append((seg, rows_before))
        else:
            self._read(seg, rows_before)

    def _decide(self) -> None:
        self.shapes = self._tl.own_print_shapes(seg for seg, _ in self.head)
        head, self.head = self.head, []
        for seg, rows_before in head:
            self._read(seg, rows_before, in_head=True)

    def _read(self, seg: str, rows_before: int, in_head: bool = False) -> None:
        line = normalise(seg)
        shapes = self.shapes or frozenset()
        rec = self._tl.own_print_record(line.text, self.state, shapes if in_head else None)
        if rec is None:
            return
        if frozenset(rec.metrics) in shapes:
            self.found.append((rec, line.rank, rows_before))
        else:  # a shape first printed after the head (text_log.LateShapes)
            for got, (at, rank) in self.late.offer(line.text, rec, (rows_before, line.rank)):
                self.found.append((got, rank, at))

    def finish(self, run: Run, source: Source, steps: list[int]) -> None:
        """The prints' series, now that the dicts' steps are known."""
        if self.shapes is None:
            self._decide()
        if not self.found:
            return
        tl = self._tl
        col = tl._Collector(self.spath)
        for rec, rank, rows_before in self.found:
            step = tl.own_print_step(rec, steps[rows_before - 1] if rows_before > 0 else None)
            if step is not None:
                tl.add_own_print(col, rec, step, rank)
                source.records += 1
        tl.add_own_series(run, source, col, set(source.metrics))


ECHO_RTOL = 1e-3  # a value echoed at 4 significant digits ("4.9999e-02" for 0.0499987...) agrees to this


def _echo(a: dict, b: dict) -> bool:
    """b repeats a (or a repeats b): one row's keys are a strict subset of the other's and every shared value
    agrees to the shorter print's precision."""
    small, big = (a, b) if len(a) < len(b) else (b, a)
    if len(small) == len(big) or not set(small) < set(big) or "epoch" not in small:
        return False
    for k, v in small.items():
        w = big[k]
        if isinstance(v, float) and isinstance(w, float):
            if not (v == w or (math.isnan(v) and math.isnan(w)) or math.isclose(v, w, rel_tol=ECHO_RTOL)):
                return False
        elif v != w:
            return False
    return True


def _not_echoes(parsed: list[tuple[int, dict]]) -> list[bool]:
    """Which rows to keep. A second logger can echo the Trainer's dict on the line beside it (LLaMA-Factory's
    callback prints `{'loss': 0.0000, 'learning_rate': 4.9999e-02, 'epoch': 0.01}` next to the Trainer's
    `{'loss': 0.0, 'grad_norm': nan, 'learning_rate': 0.0499987..., 'epoch': 0.01}`): one log event printed twice.
    Read twice it would be two steps, and the echo, lacking grad_norm, would undo the Trainer's NaN filter on its
    step (a 0.0 loss beside a NaN grad norm is a NaN, evidence/context.py loss_series). Adjacent rows are one event
    when one holds a strict subset of the other's keys, both print the epoch, and every shared value agrees to the
    shorter print's precision; the fuller row is kept. Rows of one logger share their key set, so they never merge."""
    keep = [True] * len(parsed)
    for i in range(1, len(parsed)):
        a, b = parsed[i - 1][1], parsed[i][1]
        if keep[i - 1] and _echo(a, b):
            keep[i - 1 if len(a) < len(b) else i] = False
    return keep


def _console_steps(
    parsed: list[tuple[int, dict]], bar_counts: dict[int, int], total_steps: int | None, num_epochs: int | None
) -> tuple[list[int], str]:
    """Steps of the console rows. The printed `epoch` is the fraction of training done, so step = epoch x steps per
    epoch, where steps per epoch comes from the banner (total steps / epochs) or, more robustly (a crashed run never
    reaches its last epoch), from the training bar: its largest count over the largest epoch printed."""
    epochs = [to_float(row.get("epoch")) for _, row in parsed]
    finite = [e for e in epochs if e is not None and math.isfinite(e) and e > 0]
    per_epoch = None
    clock = "row"
    if bar_counts and finite:
        # the training bar: the one whose total the banner names, else the longest one
        train_total = total_steps if total_steps in bar_counts else max(bar_counts)
        per_epoch = bar_counts[train_total] / max(finite)
        clock = "tqdm+epoch"
    elif total_steps and num_epochs:
        per_epoch = total_steps / num_epochs
        clock = "banner+epoch"
    elif (rate := _epoch_rate(parsed, epochs)) is not None:
        per_epoch = rate
        clock = "epoch"
    steps: list[int] = []
    last = 0
    train_rows = 0
    for (_, row), epoch in zip(parsed, epochs, strict=True):
        is_train = not any(k.startswith("eval_") for k in row) and "train_runtime" not in row
        if per_epoch and epoch is not None and math.isfinite(epoch):
            step = round(epoch * per_epoch)
            if clock == "epoch":
                step = max(step, 1)  # a first row at epoch 0.0 is still the first logged step, as row numbers had it
        elif is_train:
            train_rows += 1
            step = train_rows
        else:
            step = last
        if is_train and step <= last and steps:
            step = last + 1  # keep train rows strictly ordered when the clock is coarse
        elif not is_train:
            step = max(step, last) if per_epoch else last
        steps.append(step)
        last = step
    return steps, clock


def _epoch_rate(parsed: list[tuple[int, dict]], epochs: list[float | None]) -> float | None:
    """Rows per unit of epoch when the log has no step counter, or None (log-row numbers stay the clock).

    The printed epoch is the row's position in the run even where no bar or banner says how many optimiser steps
    an epoch holds. Numbering the rows 1, 2, 3 instead restarts every excerpt at step 1: two excerpts of one run
    (epochs 72-90 and 153-160 pasted apart) collide on the same steps and one overwrites the other, and an excerpt
    that starts mid-run reads as the run's start. So the densest logging interval printed (the smallest rise of
    the epoch between consecutive training rows) is one step: for a log that logs evenly from its first interval
    this numbers the rows exactly as 1, 2, 3 did, and it keeps an excerpt's place and the gap between excerpts.
    Only a training-row epoch that never decreases is a clock (a restarted run prints epochs that go back, and
    row numbers keep its rows apart); epochs that never rise (all 0.0) give no interval."""
    train = [e for (_, row), e in zip(parsed, epochs, strict=True)
             if e is not None and math.isfinite(e) and not any(k.startswith("eval_") for k in row)
             and "train_runtime" not in row]
    rises = [b - a for a, b in zip(train, train[1:], strict=False)]
    if len(train) < 2 or any(r < 0 for r in rises):
        return None
    step = min((r for r in rises if r > 0), default=None)
    return 1.0 / step if step else None


def _fold(run: Run, event: LogEvent) -> None:
    if run.events:
        last = run.events[-1]
        if last.message == event.message and last.source == event.source:
            last.count += 1
            return
    run.events.append(event)


READERS = [
    Reader("hf_trainer_state", sniff_state, read_state),
    Reader("hf_console", sniff_console, read_console),
]
