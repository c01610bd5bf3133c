"""Line formats of training consoles: normalisation of captured text, and one parser per trainer family.

Every parser takes one *normalised* line (see `normalise`) and returns a `Record` (the step the line belongs to,
its metrics under the names the run printed, whether it is an evaluation line) or None. Parsers are small regex
tables written from each library's own format strings (docs/references.md, Log formats); the reader in
text_log.py picks the family with the most hits in the head of a file and streams the rest. Formats no family knows
go through general rules instead (the key | value table, and the generic parser's epoch-restarting counters, phase
markers and sentences; docs/references.md says what each rests on).

Pure functions, no I/O: the fuzz tests call them directly.
"""

from __future__ import annotations

import importlib
import json
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from traindoc.ingest.names import ID_KEYS, canonical_metric, data_count_key
from traindoc.ingest.readers import _deepspeed_chat, _dl4j

# --- numbers ---------------------------------------------------------------------------------------------------------

# A number as training consoles print them: plain, %.6E, thousands separators (torchtitan "tps: 7,282"), and the
# non-finite spellings of Python, C and JSON. Non-finite values are evidence and must survive.
NUM = (
    r"[-+]?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?"
    r"|nan|NaN|NAN|inf|Inf|INF|Infinity)"
)
_NUM_RE = re.compile(NUM)


# findall_keyed's usual `run` and `first`: a key made of word characters, starting with a letter or "_"
KEY_CHAR = re.compile(r"\w")
KEY_START = re.compile(r"[A-Za-z_]")


def findall_keyed(pattern: re.Pattern[str], text: str, sep: str, run: re.Pattern[str], first: re.Pattern[str],
                  gap: re.Pattern[str] | None = None) -> list[tuple[str, ...]]:
    """What pattern.findall(text) gives (unmatched groups as ""), in time linear in the text, for a pattern whose
    match starts with a key made of `run` characters, from a `first` character, that reaches the `sep` character
    right after it ("name=value" pairs, MACE; "loss is: [2.3]", Paddle's tutorials). findall tries the pattern at
    every position, and from each one the key scans its whole run for `sep`: quadratic in a long run with no `sep`
    (docs/architecture.md). A key cannot cross `sep`, so every start in the run that ends at a `sep` reaches that same
    `sep` and the same text after it: the pattern matches from the run's first `first` character or from none of it.
    So each `sep` is looked at once, from there (never before where the last match ended). `gap`: the characters the
    pattern allows between the key and `sep` (the "\\s*" of OpenNMT-tf's "name = value"), passed over first."""
    found: list[tuple[str, ...]] = []
    pos = 0
    while (at := text.find(sep, pos)) >= 0:
        start = end = at
        while gap is not None and start > pos and gap.match(text, start - 1):
            start = end = start - 1
        while start > pos and run.match(text, start - 1):
            start -= 1
        key = first.search(text, start, end)
        m = pattern.match(text, key.start()) if key else None
        if m:
            found.append(tuple(g or "" for g in m.groups()))
            pos = m.end()
        else:
            pos = at + 1
    return found


def parse_number(text: str) -> float | None:
    """A float from a printed number ("1.3E+00", "7,282", "nan", "-Infinity", "12%"), or None."""
    try:  # fast path: plain numbers and Python's own nan/inf spellings
        return float(text)
    except ValueError:
        pass
    t = text.strip().rstrip("%").replace(",", "")
    if not t:
        return None
    low = t.lower().lstrip("+")
    if low in ("nan", "-nan"):
        return math.nan
    if low in ("inf", "infinity"):
        return math.inf
    if low in ("-inf", "-infinity"):
        return -math.inf
    try:
        return float(t)
    except ValueError:
        return None


# --- normalisation ---------------------------------------------------------------------------------------------------

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Rank prefixes added by launchers: torchrun --tee "[rank0]:", multi-node "[default0]:", srun -l "0: ",
# mpirun --tag-output "[1,0]<stdout>:", torchtune "[trainer0|0]:".
_RANK_PREFIX = re.compile(
    r"^\s*(?:\[(?:rank|default)(?P<r1>\d+)\]:|\[\d+,(?P<r2>\d+)\]<std(?:out|err)>:|\[\w+\|(?P<r3>\d+)\]:"
    r"|(?P<r4>\d{1,4}): (?!\S+, \S+ avg\b))\s*"  # not Darknet's "<iteration>: <loss>, <avg> avg, ..." line
)
_LEVEL = r"(?P<level>DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL|FATAL)"
# ISO dates, and MMEngine's "2024/05/10 15:46:31"
_TIMESTAMP = (
    r"\d{4}(?:-\d{2}-\d{2}|/\d{2}/\d{2})[ T]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?"
    r"|\d{2}/\d{2}(?:/\d{2,4})? \d{2}:\d{2}:\d{2}(?:[.,]\d+)?"
)
# Logger prefixes, stripped one after another (a line can carry several: "[rank0]:[titan] <date> - root - INFO - ").
_PREFIXES = [
    re.compile(r"^\[titan\]\s*"),
    # absl / glog (JAX, TF, T5X): "I1128 10:00:00.123456 140000 train.py:123] "
    re.compile(r"^(?P<glog>[IWEF])\d{4} \d{2}:\d{2}:\d{2}\.\d+\s+\d+\s+[\w./-]+:\d+\]\s*"),
    # "[2023-04-28 06:51:29,903] ", "[11/28 10:00:00 d2.utils.events]: "
    re.compile(rf"^\[(?:{_TIMESTAMP})(?: [\w.]+)?\]:?\s*"),
    re.compile(rf"^(?:{_TIMESTAMP})\s*(?:[-|:]\s*)?"),
    # the time of day alone in brackets: MAE and the codebases copied from it (MAR, LLaMA-Adapter...) replace print
    # with one that prefixes "[11:41:33.534863] " (datetime.now().time())
    re.compile(r"^\[\d{2}:\d{2}:\d{2}(?:\.\d+)?\]\s*"),
    re.compile(rf"^[\w.]+\s+-\s+{_LEVEL}\s+-\s+"),  # "root - INFO - ", "mmengine - INFO - "
    re.compile(rf"^{_LEVEL}\s+-\s+(?:[\w.]+\s+-\s+)?"),  # HF examples "INFO - __main__ - ", "INFO - "
    re.compile(rf"^{_LEVEL}\s*\|\s*[\w.:<>-]+\s+-\s+"),  # loguru "INFO     | __main__:train:42 - "
    re.compile(rf"^\[{_LEVEL}\|[\w./-]+:\d+\]\s*"),  # transformers "[INFO|trainer.py:2128] "
    re.compile(r"^>>\s*"),  # ... "<date> >> "
    re.compile(rf"^\|?\s*{_LEVEL}\s*\|\s*"),  # fairseq "| INFO | "
    re.compile(rf"^\[{_LEVEL}\]\s*"),
    # Hydra's default job logging, "[%(asctime)s][%(name)s][%(levelname)s] - " (fairseq-hydra, every Hydra app): the
    # bracketed date goes with the rule above, then "[fairseq.trainer][INFO] - "
    re.compile(rf"^\[[\w.]+\]\[{_LEVEL}\]\s+-\s+"),
    # Swin Transformer & co: "[<date> <logger name>](main.py 221): INFO " (the date part goes with the rule above)
    re.compile(rf"^\([\w./-]+\.py[ :]\d+\):\s*(?:{_LEVEL}\s+)?"),
    re.compile(r"^\[[\w./-]+\.py:\d+(?::[\w<>]+)?\]\s*"),  # DeepSpeed "[loss_scaler.py:188:update_scale] "
    re.compile(r"^\[Rank (?P<rank>\d+)\]\s*"),
    re.compile(r"^\[PID:\d+\]\s*(?:\[RANK:(?P<rank>\d+)\]\s*)?"),  # axolotl
    re.compile(rf"^{_LEVEL}:[\w.]*:\s*"),  # logging.basicConfig "WARNING:root:"
    # the same fields in brackets, "[%(levelname)s:%(name)s]" and with the time and function before and after
    # (Sockeye: "[INFO:sockeye.training] ", "[2019-03-17:14:36:36:INFO:sockeye.training:__call__] ")
    re.compile(rf"^\[(?:[\d/:. -]+:)?{_LEVEL}:[\w.]+(?::[\w<>]+)?\]\s*"),
    re.compile(rf"^{_LEVEL}:\s+"),  # "INFO: "
    # yacs/PaddleSpeech-style loggers: "[INFO 2021/06/19 16:01:34 model.py:61] "
    re.compile(rf"^\[{_LEVEL}\s+(?:{_TIMESTAMP})\s+[\w./-]+:\d+\]\s*"),
    # NVIDIA DLLogger's stdout backend (DeepLearningExamples): "DLL 2020-05-30 07:35:01.358301 - " and, on the lines
    # it logs with step="PARAMETER" (settings, and the loss scale whenever it changes), that marker too.
    re.compile(rf"^DLL (?:{_TIMESTAMP}) - (?:PARAMETER\s+)?"),
    re.compile(rf"^{_LEVEL}\s+"),  # "%(asctime)s %(levelname)s %(message)s" (MXNet's examples): the level left bare
]
# A tqdm bar with text glued after it: "  8%|███  | 1999/24128 [1:52:09<20:27:23,  3.33s/it][2021-11-26 ...".
# the count before "%" is tried from the start of its digits only (the earliest start is the one kept, and it reads
# the same bar): trying it from every digit of a long run was quadratic (docs/architecture.md)
_TQDM_HEAD = re.compile(r"^.*?(?<!\d)\d+%\|[^|]*\|\s*[\d.]+[kMG]?/[\d.?]+[kMG]?\s*\[[^\]]*\]")


# One C-level test whether any prefix could start the line, so plain lines skip the per-prefix loop.
_ANY_PREFIX = re.compile("|".join(re.sub(r"\(\?P<\w+>", "(?:", p.pattern) for p in _PREFIXES))


@dataclass
class Line:
    text: str  # normalised text
    level: str | None = None  # logging level from a stripped prefix
    rank: int | None = None
    after_bar: str | None = None  # text glued after a progress bar on the same frame, normalised separately
    bare_rank: bool = False  # the rank came from a bare "N: " prefix (srun -l), which a counter can also print


def epoch_loss_line(pattern: re.Pattern[str], line: str,
                    st: State) -> tuple[re.Match[str], int, dict[str, float]] | None:
    """A console's `<epoch> ... <loss>` line: `pattern` with the epoch count in group 1 and the training loss in group
    2, matched on the stripped line; the epoch becomes the state's, or None when the line is another one."""
    m = pattern.match(line.strip())
    if m is None:
        return None
    loss = parse_number(m.group(2))
    if loss is None:
        return None
    st.epoch = int(m.group(1))
    return m, st.epoch, {"loss": loss}


def counter_restarted(x: dict, key: str, value: int, strict: bool = False) -> bool:
    """Keep a loop's counter in x[key]; True once it has gone back (with `strict`, once it has not risen): a second
    training printed into the same file, whose lines the family's reader skips from then on (x[key + "_done"])."""
    last = x.get(key)
    if isinstance(last, int) and (value <= last if strict else value < last):
        x[key + "_done"] = True
    if x.get(key + "_done"):
        return True
    x[key] = value
    return False


def epoch_banner(text: str, banner: re.Pattern[str], x: dict, key: str) -> bool:
    """Whether `text` is a family's epoch banner (`banner` group 1 the epoch), kept by counter_restarted."""
    m = banner.match(text)
    if m is None:
        return False
    counter_restarted(x, key, int(m.group(1)))
    return True


# Markdown strong emphasis around one token of a log pasted into an issue ("stage2_heatmaps_loss: **1.97**",
# "Epoch[29] **Validation-accuracy=0.58**", "perplexity=**17.43**"): the asker bolds the value they ask about, and
# GitHub renders the stars away. Only a whitespace-free token between two "**" with no other star or word character
# on either side: "2**16", "*** Epoch 1 ***" banners and "***NDCG@10***" keep their stars.
_MD_STRONG = re.compile(r"(?<![*\w])\*\*([^\s*]+)\*\*(?![*\w])")


def normalise(raw: str) -> Line:
    """Strip ANSI codes, control characters, backspaces, Markdown strong emphasis around a token, rank and logger
    prefixes and timestamps."""
    text = _ANSI.sub("", raw) if "\x1b" in raw else raw
    if "**" in text:
        text = _MD_STRONG.sub(r"\1", text)
    if "\b" in text:
        text = text.replace("\b", "")
    if not text.isprintable():
        text = _CONTROL.sub("", text)
    text = text.strip()
    rank = None
    level = None
    bare = False
    m = _RANK_PREFIX.match(text)
    if m:
        r = m.group("r1") or m.group("r2") or m.group("r3") or m.group("r4")
        rank = int(r)
        bare = m.group("r4") is not None
        text = text[m.end():]
    for _ in range(6 if _ANY_PREFIX.match(text) else 0):
        for p in _PREFIXES:
            m = p.match(text)
            if m and m.end() > 0:
                gd = m.groupdict()
                if gd.get("level"):
                    level = gd["level"]
                elif gd.get("glog"):
                    level = {"I": "INFO", "W": "WARNING", "E": "ERROR", "F": "FATAL"}[gd["glog"]]
                if gd.get("rank"):
                    rank = int(gd["rank"])
                text = text[m.end():]
                break
        else:
            break
    line = Line(text.strip(), level, rank, bare_rank=bare)
    if "%|" in line.text:
        bar = _TQDM_HEAD.match(line.text)
        if bar and bar.end() < len(line.text):
            rest = line.text[bar.end():].strip()
            if rest and not rest.startswith(","):
                line.after_bar = normalise(rest).text  # its own prefixes ("[<date>] [INFO] ...") go too
                line.text = line.text[:bar.end()]
    return line


# A console capture pasted as comments or quotes (a README's code block after "python mnist.py": "# Training Step:
# 860  | total loss: 0.29368"; an issue's "> Epoch 1/10"): when most non-empty lines of a file's head open with the
# same marker, it is stripped from every line of that file. A file only some of whose lines are comments (echoed
# source code, a script) keeps them as they are. "#>" is the output comment of R's reprex and of knitr documents that
# set it (README.Rmd files knit their code's output as "#> Epoch 1, Loss G: 1.1087, ..."); "##" is knitr's default
# output comment, the one R Markdown pages and the docs built from them carry ("    ## [1] Train-rmse=16.063282524034",
# tests/corpus/realworld/mxnet-r-tutorial-linear-regression-boston-50-rounds): left on, every line read as a comment.
_COMMENT_MARKER = re.compile(r"^\s*(#>|##|#|//|>)(?=\s|$)")
COMMENTED_SHARE = 0.8  # share of the head's non-empty lines that must carry the marker
COMMENTED_MIN_LINES = 3


def comment_marker(lines: Iterable[str]) -> str | None:
    """The comment marker that opens (nearly) every non-empty line, or None."""
    counts: dict[str, int] = {}
    total = 0
    for line in lines:
        if not line.strip():
            continue
        total += 1
        m = _COMMENT_MARKER.match(line)
        if m:
            counts[m.group(1)] = counts.get(m.group(1), 0) + 1
    marker, n = max(counts.items(), key=lambda kv: kv[1], default=(None, 0))
    return marker if n >= COMMENTED_MIN_LINES and n >= COMMENTED_SHARE * total else None


def uncomment(line: str, marker: str) -> str:
    """The line without its leading marker and the one space after it."""
    m = _COMMENT_MARKER.match(line)
    if m is None or m.group(1) != marker:
        return line
    rest = line[m.end():]
    return rest[1:] if rest[:1] == " " else rest


# --- canonical metric names -----------------------------------------------------------------------------------------


# Console-only spellings the shared table does not list ("Epoch: 0005 cost = 0.12" is the classic tutorial print).
_CONSOLE_ALIASES = {"cost": "loss", "train cost": "loss", "val cost": "eval_loss", "learning rate": "lr"}


def canonical(raw: str) -> str:
    """Canonical metric name for a name as printed: the same table the structured readers use."""
    try:
        name = canonical_metric(raw) or raw
    except Exception:  # noqa: BLE001 - a naming problem must never lose the series
        name = raw
    if name == raw:
        name = _CONSOLE_ALIASES.get(raw.strip().lower(), raw)
    return name


# --- records and parsers ---------------------------------------------------------------------------------------------


@dataclass
class Record:
    step: int | None  # None: the line has no step of its own (the reader then uses the last step seen)
    metrics: dict[str, float] = field(default_factory=dict)  # name as printed -> value
    eval: bool = False
    epoch: int | None = None
    from_epoch: bool = False  # the step is only the line's epoch number (no counter of its own)
    # with no metrics: the line is this family's own but holds no point (a table row that repeats an earlier one, a
    # row of missing values), and no later parser may read it as something else
    claimed: bool = False
    # the run's end-of-training summary ("Final validation accuracy: 0.11"): placed at the last step the log reached,
    # never on a step of its own, and dropped when no step came before it (the reader's doing)
    at_last: bool = False


@dataclass
class State:
    """What a parser remembers between lines of one file (current epoch, batches per epoch, last step)."""

    epoch: int | None = None
    steps_per_epoch: int | None = None
    last_step: int | None = None
    extra: dict = field(default_factory=dict)


def _num(s: str | None) -> float | None:
    return None if s is None else parse_number(s)


def _put(metrics: dict[str, float], key: str, raw: str | None) -> None:
    v = _num(raw)
    if v is not None:
        metrics[key.strip()] = v


# key: value pairs with single-token keys ("loss: 0.52", "lr=1e-3", "grad_norm:  0.83", "memory:  9.46GiB").
# (a value followed by a time unit word is a duration: MMEngine's "eta: 1 day, 2:03:04"; a unit word that is the
# next key, "std=0.02 min=-0.04", is not)
_PAIR = re.compile(
    rf"(?<![\w./])([A-Za-z_][\w./@\-\[\]]*)\s*[:=]\s*({NUM})(?:%|ms|s|GiB|GB|MiB|MB|M|K|k)?(?![\w.]|:\d)"
    r"(?!\s+(?:days?|hours?|hrs?|minutes?|mins?)(?![\w/]|\s*[=:]))"
)


def pairs(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for m in _PAIR.finditer(text):
        _put(out, m.group(1), m.group(2))
    return out


_UNIT_CHARS = "%abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def pipe_pairs(text: str) -> dict[str, float]:
    """`a: 1 | b c: 2 | d 3` -> {a: 1, 'b c': 2, d: 3}: multi-word keys are safe between pipes.

    Plain string operations, not a regex: Megatron lines carry a dozen segments and this runs on each of them."""
    out: dict[str, float] = {}
    for seg in text.split("|"):
        seg = seg.strip()
        if not seg:
            continue
        if ":" in seg:
            key, _, val = seg.rpartition(":")
        elif "=" in seg:
            key, _, val = seg.rpartition("=")
        else:
            parts = seg.rsplit(None, 1)
            if len(parts) != 2:
                continue
            key, val = parts
        key, val = key.strip(), val.strip()
        if not key or not (key[0].isalpha() or key[0] == "_") or not val:
            continue
        v = parse_number(val)
        if v is None and val[-1] in _UNIT_CHARS:  # "5.2ms", "9.46GiB", "10%"
            v = parse_number(val.rstrip(_UNIT_CHARS))
        if v is not None:
            out[key] = v
    return out


# nanoGPT: "iter 100: loss 4.2312, time 152.33ms, mfu 31.02%"; "step 500: train loss 3.21, val loss 3.30".
_NANO_ITER = re.compile(rf"^iter (\d+): loss ({NUM})(?:, time ({NUM})ms)?(?:, mfu ({NUM})%)?")
_NANO_EVAL = re.compile(rf"^step (\d+): train loss ({NUM}), val loss ({NUM})")


def parse_nanogpt(line: str, st: State) -> Record | None:
    m = _NANO_ITER.match(line)
    if m:
        metrics: dict[str, float] = {}
        _put(metrics, "loss", m.group(2))
        _put(metrics, "time_ms", m.group(3))
        mfu = _num(m.group(4))
        if mfu is not None and mfu > -100.0:  # -100.00% is nanoGPT's "not measured yet" sentinel
            metrics["mfu"] = mfu
        return Record(int(m.group(1)), metrics)
    m = _NANO_EVAL.match(line)
    if m:
        metrics = {}
        _put(metrics, "train_loss_at_eval", m.group(2))  # estimate over eval_iters batches
        _put(metrics, "val_loss", m.group(3))
        return Record(int(m.group(1)), metrics, eval=True)
    return None


# --- whole-line layouts (the reader's fast path) ----------------------------------------------------------------------
#
# A big log repeats one line shape hundreds of thousands of times. For the commonest shape of a family, `layout`
# returns a regex for the whole normalised line whose groups are exactly what the family's parser reads from it,
# so the reader can take every such line of a block in one C-level `findall` and convert columns at once. A layout
# only ever matches lines its parser reads the same way: any other line (other fields, units, a negative mfu, extra
# text, odd whitespace) fails to match and takes the per-line path.

STEP = "\x00step"  # role of the group holding the step
_INT = r"(\d{1,18})"  # a step that fits int64; longer digit runs take the per-line path
# The numbers a layout takes: a cheap character class (the block scan stays near the cost of a bare regex), or one of
# NUM's non-finite words. The reader converts each column exactly as Python's float() would (_number_columns.py); for
# strings of this class float() accepts exactly NUM's plain numbers, and a block with any other string (like "1-2" or
# "--5") goes line by line, so a layout never reads a number the parser would not.
_FNUM = r"([-+0-9.eE]+|[-+]?(?:nan|NaN|NAN|inf|Inf|INF|Infinity))"
_NUM_FULL = re.compile(rf"(?:{NUM})\Z")


@dataclass(frozen=True)
class Layout:
    body: str  # regex source matching the whole normalised text (no "\s": it must never cross a line end)
    roles: tuple[str | None, ...]  # per group: STEP, the metric name as printed, or None (read but not kept)


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def layout_nanogpt(text: str, rec: Record) -> Layout | None:
    m = _NANO_ITER.match(text)
    if not m or m.end() != len(text) or rec.eval:
        return None
    body, roles = rf"iter {_INT}: loss {_FNUM}", [STEP, "loss"]
    if m.group(3) is not None:
        body += rf", time {_FNUM}ms"
        roles.append("time_ms")
    if m.group(4) is not None:
        # only plain non-negative mfu: the parser drops nanoGPT's -100 % "not measured yet" sentinel
        body += r", mfu ([0-9.]+)%"
        roles.append("mfu")
    return Layout(body, tuple(roles))


def layout_megatron(text: str, rec: Record) -> Layout | None:
    """The step line with its own sequence of "key: number" segments, e.g. "iteration 71/ 100 | lm loss: 1.8E+00 |"."""
    m = _MEGATRON.match(text)
    if not m or rec.eval:
        return None
    body, roles = rf"iteration[ \t]+{_INT}[ \t]*/[ \t]*\d+[ \t]*\|", [STEP]
    segments = text[m.end():].split("|")
    seen: set[str] = set()
    for i, seg in enumerate(segments):
        last = i == len(segments) - 1
        if not seg.strip():
            body += r"[ \t]*" if last else r"[ \t]*\|"
            continue
        key, colon, val = seg.rpartition(":")
        key, val = key.strip(), val.strip()
        if not colon or key in seen or key not in rec.metrics or not _NUM_FULL.match(val):
            return None
        got = parse_number(val)
        if got is None or not _same(got, rec.metrics[key]):
            return None
        seen.add(key)
        body += rf"[ \t]*{re.escape(key)}[ \t]*:[ \t]*{_FNUM}[ \t]*" + ("" if last else r"\|")
        roles.append(key)
    if seen != set(rec.metrics):
        return None
    return Layout(body, tuple(roles))


# modded-nanogpt: "step:1390/1390 val_loss:3.2773 train_time:79740ms step_avg:57.37ms"
_MODDED = re.compile(r"^step:(\d+)/(\d+)\s")
_MODDED_PAIR = re.compile(rf"(\w+):({NUM})(?:ms)?")


def plan_steps(st: State, total: int) -> None:
    """The run's planned length in steps, as its own progress counter prints it ("iter 100/5000"): the reader hands
    the largest total on to run.meta["planned_steps"] (a schedule that ends long before it, or a warmup longer than
    it, is visible only against this when the log is an excerpt)."""
    if total > 0:
        st.extra["planned_steps"] = max(st.extra.get("planned_steps", 0), total)


def parse_modded_nanogpt(line: str, st: State) -> Record | None:
    m = _MODDED.match(line)
    if not m:
        return None
    plan_steps(st, int(m.group(2)))
    metrics: dict[str, float] = {}
    for k, v in findall_keyed(_MODDED_PAIR, line[m.end():], ":", KEY_CHAR, KEY_CHAR):  # findall's pairs, in linear time
        _put(metrics, k, v)
    return Record(int(m.group(1)), metrics, eval="val_loss" in metrics)


# Megatron: " iteration       71/     100 | consumed samples: 9088 | ... | lm loss: 1.818812E+00 | grad norm: 1.300 |"
_MEGATRON = re.compile(r"^iteration\s+(\d+)\s*/\s*(\d+)\s*\|")
_MEGATRON_VAL = re.compile(r"validation loss at iteration (\d+)")


_MEGATRON_SKIPPED = "number of skipped iterations"
_MEGATRON_NAN = "number of nan iterations"


def _megatron_unprinted_loss(metrics: dict[str, float]) -> None:
    """An iteration line that prints no loss at all, while its own counters say its iterations were not skipped for
    an overflow, read as a NaN "lm loss" (the name Megatron's GPT, BERT and T5 pretraining scripts give it).
    Megatron's training_log prints a loss only `if avg > 0.0`, and a NaN average fails that test: where DeepSpeed steps
    the optimiser skipped_iter stays 0, so a NaN loss leaves the line without its loss and both counters at 0
    (Megatron-DeepSpeed PR 434: "the only way we can judge this issue is no lm loss print"); where Megatron skips the
    step itself its NaN counter says so. A line whose iterations were all skipped for an fp16 overflow (skipped > 0,
    NaN 0: the loss-scale search) also prints no loss, and that loss was finite: it stays unread. Stateless, as the
    layout fast path requires: a line without the loss does not match the learned layout, so it comes here."""
    if _MEGATRON_SKIPPED not in metrics or any(k.endswith("loss") for k in metrics):
        return
    if metrics.get(_MEGATRON_NAN, 0.0) > 0 or metrics[_MEGATRON_SKIPPED] == 0:
        metrics["lm loss"] = math.nan


def parse_megatron(line: str, st: State) -> Record | None:
    m = _MEGATRON.match(line)
    if m:
        metrics = pipe_pairs(line[m.end():])
        _megatron_unprinted_loss(metrics)
        return Record(int(m.group(1)), metrics)
    m = _MEGATRON_VAL.search(line)
    if m:
        metrics: dict[str, float] = {}
        for k, v in pipe_pairs(line[m.end():]).items():  # "lm loss value" -> "lm loss validation"
            if k.endswith(" value"):
                metrics[k[: -len(" value")] + " validation"] = v
            elif k.endswith(" PPL"):
                metrics[k[: -len(" PPL")] + " validation ppl"] = v
            else:
                metrics[k] = v
        return Record(int(m.group(1)), metrics, eval=True)
    return None


# DeepSpeed: "step=2000, skipped=1995, lr=[0.001, 0.001], mom=[0.0, 0.0]" and the timer line.
_DS_STEP = re.compile(r"\bstep=(\d+), skipped=(\d+), lr=\[([^\]]*)\]")
_DS_TIMER = re.compile(
    rf"epoch=(\d+)/micro_step=(\d+)/global_step=(\d+), RunningAvgSamplesPerSec=({NUM}), CurrSamplesPerSec=({NUM})"
)
_DS_SCALE = re.compile(
    rf"(?:Attempted loss scale: ({NUM}), reducing to ({NUM})|Reducing dynamic loss scale from ({NUM}) to ({NUM}))"
)


def parse_deepspeed(line: str, st: State) -> Record | None:
    # DeepSpeed-Chat's evaluation heading and the figures on the line after it (_deepspeed_chat.py)
    kind = _deepspeed_chat.heading(line)
    if kind is not None:
        st.extra["dschat_eval"] = kind
        return None
    held_out = _deepspeed_chat.eval_values(line, st.extra.pop("dschat_eval", None))
    if held_out is not None:
        return Record(None, held_out, eval=True)
    epoch_loss = _deepspeed_chat.epoch_loss(line)
    if epoch_loss is not None:
        return Record(None, {"loss": epoch_loss})
    m = _DS_STEP.search(line)
    if m:
        metrics: dict[str, float] = {"skipped": float(m.group(2))}
        lrs = [parse_number(x) for x in m.group(3).split(",") if x.strip()]
        lrs = [x for x in lrs if x is not None]
        if lrs:
            metrics["lr"] = lrs[0]
            if len(set(lrs)) > 1:  # distinct groups: keep each, as "lr/<group index>"
                for i, v in enumerate(lrs):
                    metrics[f"lr/{i}"] = v
        return Record(int(m.group(1)), metrics)
    m = _DS_TIMER.search(line)
    if m:
        return Record(int(m.group(3)), {"samples_per_s": float(parse_number(m.group(5)) or 0.0)}, epoch=int(m.group(1)))
    m = _DS_SCALE.search(line)
    if m:  # an overflow line carries the new loss scale; it belongs to the last step seen
        new = m.group(2) or m.group(4)
        v = _num(new)
        if v is not None:
            return Record(None, {"loss_scale": v})
    return None


# fairseq: "train_inner | epoch 001:   3615 / 6547 loss=0.439, ..., num_updates=3600, lr=9e-06, gnorm=3.952, ...",
# "valid | epoch 001 | valid on 'valid' subset | loss 8.1 | ... | num_updates 600", json lines with string values,
# and the legacy "| epoch 001 | loss 7.1 | ..." form.
# The Lua-era/0.x form prints no colon after the epoch: "| epoch 005  1000 / 8223 loss=2.17 (3.20), wps=959, ...".
_FS_INNER = re.compile(r"^(?:(?:train_inner|train)\s*\|\s*)?\|?\s*epoch (\d+):?\s+(\d+)\s*/\s*(\d+)\s+(.*)$")
# "| epoch 004 | valid on 'valid' subset  1000 / 1311 loss=3.24": a running mean part-way through validation; the
# line "| epoch 004 | valid on 'valid' subset | valid loss 3.69 | ..." that follows holds the result.
_FS_VALID_PROGRESS = re.compile(r"valid on '[^']*' subset\s+\d+\s*/\s*\d+")
_FS_EPOCH = re.compile(r"^(?:(train_inner|train|valid)\s*\|\s*)?\|?\s*epoch (\d+)\s*\|(.*)$")
_FS_JSON = re.compile(r"^(?:(train_inner|train|valid)\s*\|\s*)?(\{\s*\"epoch\".*\})\s*$")


def parse_fairseq(line: str, st: State) -> Record | None:
    m = _FS_INNER.match(line)
    if m:
        metrics = pairs(m.group(4))
        ep = int(m.group(1))
        st.steps_per_epoch = int(m.group(3)) or st.steps_per_epoch
        step = metrics.pop("num_updates", None)
        if step is None:
            step = (ep - 1) * int(m.group(3)) + int(m.group(2))
        return Record(int(step), metrics, epoch=ep)
    m = _FS_JSON.match(line)
    if m:
        try:
            obj = json.loads(m.group(2))
        except ValueError:
            return None
        if not isinstance(obj, dict):
            return None
        metrics = {}
        for k, v in obj.items():
            val = parse_number(str(v)) if isinstance(v, (str, int, float)) and not isinstance(v, bool) else None
            if val is not None:
                metrics[k] = val
        is_valid = m.group(1) == "valid" or any(k.startswith("valid_") for k in metrics)
        # the update count names the step: "num_updates" on train_inner lines, "valid_num_updates" on validation
        # lines and, from fairseq 0.10 on, "train_num_updates" on the end-of-epoch summary (whose keys all carry the
        # split); without it the summary would sit at its epoch number among the update counts
        counts = [metrics.pop(k, None) for k in ("num_updates", "valid_num_updates", "train_num_updates")]
        step = next((c for c in counts if c is not None), None)
        ep = metrics.pop("epoch", None)
        metrics.pop("update", None)
        if is_valid:
            metrics = {(k if k.startswith("valid_") else "valid_" + k): v for k, v in metrics.items()}
        return Record(int(step) if step is not None and math.isfinite(step) else None, metrics, eval=is_valid,
                      epoch=int(ep) if ep is not None and math.isfinite(ep) else None)
    m = _FS_EPOCH.match(line)
    if m:
        body = m.group(3)
        if _FS_VALID_PROGRESS.search(body):
            return None
        is_valid = m.group(1) == "valid" or "valid on" in body
        metrics = pipe_pairs(body)
        step = metrics.pop("num_updates", None) or metrics.pop("valid_num_updates", None)
        if is_valid:  # "valid_loss" (json/simple) or "valid loss" (0.x legacy) already say it
            metrics = {(k if k.startswith(("valid_", "valid ")) else "valid_" + k): v for k, v in metrics.items()}
        else:  # the end-of-epoch summary repeats the running means under the same names: keep them apart
            metrics = {("epoch_" + k): v for k, v in metrics.items()}
        if not metrics:
            return None
        return Record(int(step) if step is not None and math.isfinite(step) else None, metrics, eval=is_valid,
                      epoch=int(m.group(2)))
    return None


# Keras: "Epoch 3/10" then "422/422 [====] - 13s 29ms/step - loss: 0.7840 - accuracy: 0.7643 - val_loss: ..."
# (Keras 3: "469/469 ━━━━ 8s 17ms/step - accuracy: ... - loss: ..."; verbose=2: "239/239 - 6s - 27ms/step - ...").
_KERAS_EPOCH = re.compile(r"^Epoch (\d+)/(\d+)\s*$")
_KERAS_PROG = re.compile(r"^\s*(\d+)/(\d+|Unknown)\b.*?\s-\s")
# Keras 0.x abbreviated its accuracy with a full stop: "32/32 [====] - 1s - loss: 11.8727 - acc.: 0.6562".
_KERAS_METRIC = re.compile(rf"\s-\s([A-Za-z_][\w]*)\.?: ({NUM})")


# Pasted with the header joined to its progress line: "Epoch 1/10 235/235 [====] - 1s 3ms/step - loss: 0.5015".
_KERAS_EPOCH_INLINE = re.compile(r"^Epoch (\d+)/(\d+)\s+(?=\d+/(?:\d+|Unknown)\b)")
# Keras 2.0-2.2 with fit(verbose=2) prints no bar, only the epoch's time: " - 572s - loss: 0.1689 - acc: 0.9452". Read
# only under an "Epoch i/N" header, so a bulleted " - 5s - ..." line elsewhere is not taken for an epoch.
_KERAS_V2 = re.compile(r"^\s*-\s+\d+(?:\.\d+)?m?s\s+-\s")


def parse_keras(line: str, st: State) -> Record | None:
    m = _KERAS_EPOCH.match(line)
    if m:
        st.epoch = int(m.group(1))
        done = st.extra.get("keras_done", 0) if st.extra.get("keras_counted") else 0
        if done and not st.extra.get("keras_header_seen") and st.epoch > done + 1:
            # An excerpt that begins inside a run ("... val_loss: 1.7710" then "Epoch 113/300"): Keras prints the
            # header before each epoch's bar, so the bars counted before the first header are the epochs just before
            # it, not epochs 1..done. The reader moves the points already taken (text_log._Parser.restep).
            st.extra["keras_restep"] = (done, st.epoch - 1 - done)
        st.extra["keras_header_seen"] = True
        st.extra.pop("keras_counted", None)  # headers from here on: they number the epochs
        return None
    m = _KERAS_EPOCH_INLINE.match(line)
    if m:
        st.epoch = int(m.group(1))
        st.extra.pop("keras_counted", None)
        line = line[m.end():]
    m = _KERAS_PROG.match(line)
    if not m:
        if st.epoch is None or st.extra.get("keras_counted") or not _KERAS_V2.match(line):
            return None
        metrics = {k: v for k, v in ((k, parse_number(v)) for k, v in _KERAS_METRIC.findall(line)) if v is not None}
        return Record(st.epoch, metrics, epoch=st.epoch) if metrics else None
    metrics = {k: v for k, v in ((k, parse_number(v)) for k, v in _KERAS_METRIC.findall(line))
               if v is not None and k != "ETA"}  # "- ETA: 0s" is the time left, not a metric
    if not metrics:
        return None
    _keep_bar(st, int(m.group(1)), metrics)
    if st.epoch is None or st.extra.get("keras_counted"):
        # Progress lines without "Epoch i/N" headers (cut from the paste, or printed by a callback that swallowed
        # them): a bar that reaches its total ends an epoch, so the epochs are counted from 1.
        st.extra["keras_counted"] = True
        done = st.extra.get("keras_done", 0)
        if m.group(2) != "Unknown" and int(m.group(1)) >= int(m.group(2)):
            st.extra["keras_done"] = done + 1
        st.epoch = done + 1
    # Keras logs per epoch: the step is the epoch number; only the epoch's last progress line is final, and a later
    # line of the same epoch replaces an earlier one (Run.finalize keeps the last value of a step).
    return Record(st.epoch, metrics, epoch=st.epoch)


# A paste of one epoch only (the first epoch's bar, copied while it runs: a forum question's "Epoch 1/10" and the
# bar redrawn every few batches) holds one point per metric at the epoch, too few to read a trend. Its bars are kept
# here, while no second epoch has begun, so text_log._Parser.finish can read them as steps: each bar prints the
# running mean since the epoch began at its batch (or sample) count. Capped: a long epoch redraws its bar thousands
# of times, and only a paste short of a second epoch needs them.
KERAS_BARS_MAX = 4096


def _keep_bar(st: State, count: int, metrics: dict[str, float]) -> None:
    if st.extra.get("keras_multi"):
        return
    bars = st.extra.setdefault("keras_bars", [])
    counted = st.epoch is None or st.extra.get("keras_counted")
    epoch = st.extra.get("keras_done", 0) + 1 if counted else st.epoch
    if bars and bars[0][0] != epoch:
        st.extra["keras_multi"] = True  # a second epoch: the epochs themselves are the series
        st.extra.pop("keras_bars", None)
        return
    if len(bars) < KERAS_BARS_MAX:
        bars.append((epoch, count, metrics))


# PaddlePaddle's high-level API (`paddle.Model.fit`; the ProgBarLogger of paddle/hapi/callbacks.py drawing
# paddle/hapi/progressbar.py): "Epoch 3/10" before each epoch, "step 10/32 - loss: 2.3025 - acc: 0.1062 - 5ms/step"
# every log_freq batches (verbose=1 draws "step 10/32 [====>....] - loss: ... - ETA: 0s - 5ms/step" instead),
# "Eval begin..." before an evaluation whose step lines count evaluation batches, "Eval samples: 256" after it.
# Values are printed "%.4f", or "%.4e" below 1e-3; a list-valued metric (top-k accuracy) prints one value per k.
_PADDLE_OPEN = re.compile(r"^(?:Epoch (\d+)/(\d+)|Eval begin\.\.\.|Predict begin\.\.\.)\s*$")
_PADDLE_STEP = re.compile(r"^step\s+(\d+)/(\d+)(?:\s*\[[=>.]*\])?\s+-\s")
_PADDLE_METRIC = re.compile(rf"\s-\s([A-Za-z_]\w*): \[?({NUM})")


def parse_paddle_hapi(line: str, st: State) -> Record | None:
    m = _PADDLE_OPEN.match(line)
    if m:
        st.extra["paddle_mode"] = "train" if m.group(1) else ("eval" if line.startswith("Eval") else "predict")
        if m.group(1):
            st.epoch = int(m.group(1))
        return None
    if line.startswith("Eval samples:"):
        st.extra["paddle_mode"] = "train"
        return None
    mode = st.extra.get("paddle_mode")
    m = _PADDLE_STEP.match(line) if mode else None  # step lines count only after a ProgBarLogger header
    if not m or mode == "predict":
        return None
    metrics = {k: v for k, v in ((k, parse_number(v)) for k, v in _PADDLE_METRIC.findall(line[m.end() - 3:]))
               if v is not None and k != "ETA"}
    if not metrics:
        return None
    if mode == "eval":
        # the evaluation belongs to the last training step; its final line (the one before "Eval samples") wins
        return Record(None, {f"val_{k}": v for k, v in metrics.items()}, eval=True, epoch=st.epoch)
    k, per_epoch = int(m.group(1)), int(m.group(2))
    st.steps_per_epoch = per_epoch
    done = (st.epoch - 1) * per_epoch if st.epoch else 0
    return Record(done + k, metrics, epoch=st.epoch)


# PaddlePaddle's dygraph tutorials (the MNIST / LeNet / PALM chapters of its docs and AI Studio courses):
# print("epoch: {}, batch_id: {}, loss is: {}".format(epoch, batch_id, loss.numpy())), some with ", acc is: {}"
# after it, and after each epoch print("[validation] accuracy/loss: {}/{}".format(acc, loss)). loss.numpy() prints
# "[2.3025851]" before Paddle 2.5 and "2.3025851" since. Epochs and batch ids count from 0; the batch id restarts
# every epoch, and the largest one seen so far stands in for batches per epoch (the loop prints every N batches).
_PADDLE_TUT = re.compile(r"^epoch(?:_id)?:\s*(\d+),\s*batch(?:_id)?:\s*(\d+),\s*(.+)$")
_PADDLE_TUT_PAIR = re.compile(rf"([A-Za-z_][\w ]*?)(?: is)?:\s*\[?({NUM})\]?(?:,|\s|$)")
_PADDLE_VALID = re.compile(r"^\[validation\]\s+([\w/ ]+?):\s*(\S+)\s*$")
_WORD_OR_SPACE = re.compile(r"[\w ]")


def parse_paddle_tutorial(line: str, st: State) -> Record | None:
    m = _PADDLE_TUT.match(line)
    if m:
        epoch, batch = int(m.group(1)), int(m.group(2))
        metrics = {}
        for k, v in findall_keyed(_PADDLE_TUT_PAIR, m.group(3), ":", _WORD_OR_SPACE, KEY_START):
            _put(metrics, k.strip().replace("valid ", "val_"), v)
        if not metrics:
            return None
        per_epoch = max(st.extra.get("paddle_batches", 0), batch + 1)
        st.extra["paddle_batches"] = per_epoch
        return Record(epoch * per_epoch + batch, metrics, epoch=epoch)
    m = _PADDLE_VALID.match(line)
    if m:  # "accuracy/loss: 0.93/0.21": names and values both joined by "/"
        names, values = m.group(1).split("/"), m.group(2).strip("[]").split("/")
        metrics = {}
        if len(names) == len(values):
            for k, v in zip(names, values, strict=True):
                _put(metrics, f"val_{k.strip()}", v.strip("[]"))
        return Record(None, metrics, eval=True) if metrics else None
    return None


# detectron2: " eta: 0:10:02  iter: 19  total_loss: 1.923  loss_cls: 0.7  time: 0.2540  data_time: 0.0084  lr: 0.0071"
_D2 = re.compile(r"(?:^|\s)iter: (\d+)\s")
_D2_ETA = re.compile(r"\beta: (?:(\d+) days?, )?(\d+):(\d\d):(\d\d)")


def parse_detectron2(line: str, st: State) -> Record | None:
    m = _D2.search(line)
    if not m or line.startswith("Train:"):
        return None
    metrics = pairs(line[m.end():])
    if not metrics:
        return None
    it = int(m.group(1))
    eta = _D2_ETA.search(line, 0, m.start())
    t = metrics.get("time")
    if eta and t and t > 0:
        # detectron2 prints eta = (max_iter - iter - 1) x seconds per iteration (its "time"): the planned length is
        # iter + 1 + eta / time. The latest line's estimate is the closest (the least time left to extrapolate).
        d, h, mi, sec = (int(g or 0) for g in eta.groups())
        total = it + 1 + round((((d * 24 + h) * 60 + mi) * 60 + sec) / t)
        if total > it:
            st.extra["planned_steps"] = total
    return Record(it, metrics)


# mmcv / MMEngine: "Epoch [1][50/1000]\tlr: 1.000e-02, eta: ..., loss: 0.7", "Epoch(train) [1][10/25]  lr: ...",
# "Iter(train) [100/2000]  lr: ...", "Epoch(val) [1][25/25]  accuracy/top1: 70.1".
_MM_EPOCH = re.compile(r"^Epoch(?:\((train|val|test)\))?\s*\[(\d+)\]\[\s*(\d+)(?:/(\d+))?\]")
_MM_ITER = re.compile(r"^Iter(?:\((train|val|test)\))?\s*\[\s*(\d+)(?:/(\d+))?\]")


def parse_mmcv(line: str, st: State) -> Record | None:
    m = _MM_EPOCH.match(line)
    if m:
        mode, ep, i, n = m.group(1), int(m.group(2)), int(m.group(3)), m.group(4)
        metrics = pairs(line[m.end():])
        if mode in ("val", "test"):
            return Record(None, {f"val_{k}" if not k.startswith("val") else k: v for k, v in metrics.items()},
                          eval=True, epoch=ep)
        if n:
            st.steps_per_epoch = int(n)
        per = st.steps_per_epoch or 0
        return Record((ep - 1) * per + i if per else i, metrics, epoch=ep)
    m = _MM_ITER.match(line)
    if m:
        metrics = pairs(line[m.end():])
        if m.group(1) in ("val", "test"):
            return Record(None, {f"val_{k}": v for k, v in metrics.items()}, eval=True)
        if m.group(3):
            plan_steps(st, int(m.group(3)))  # "Iter(train) [100/2000]": max_iters
        return Record(int(m.group(2)), metrics)
    return None


# timm: "Train: 3 [ 100/500 ( 20%)]  Loss: 3.127 (3.21)  Time: ...  LR: 1.000e-03  Data: ..." and
# "Test: [  50/78]  Time: ...  Loss:  1.2345 (1.3000)  Acc@1: 70.1 (69.8)  Acc@5: ...".
_TIMM_TRAIN = re.compile(r"^Train: (\d+) \[\s*(\d+)/(\d+)\s*\(\s*\d+%\)\]")
_TIMM_TEST = re.compile(r"^Test(?: \(EMA\))?: \[\s*(\d+)/(\d+)\]")
_TIMM_VAL = re.compile(rf"([A-Za-z@\d]+):\s+({NUM})\s*\(\s*({NUM})\s*\)")
_TIMM_KEY = re.compile(r"[A-Za-z@\d]")


def _timm_pairs(line: str) -> list[tuple[str, ...]]:
    """_TIMM_VAL.findall(line), in time linear in a long run of name characters with no ":" after it (findall_keyed)."""
    return findall_keyed(_TIMM_VAL, line, ":", _TIMM_KEY, _TIMM_KEY)


def parse_timm(line: str, st: State) -> Record | None:
    m = _TIMM_TRAIN.match(line)
    if m:
        ep, i, n = int(m.group(1)), int(m.group(2)), int(m.group(3))
        st.steps_per_epoch = n + 1 if n else None
        metrics: dict[str, float] = {}
        for k, cur, avg in _timm_pairs(line):
            if k == "Loss":  # the value before the parentheses is the current batch, inside: the running mean
                _put(metrics, "loss", cur)
                _put(metrics, "loss_avg", avg)
        lr = re.search(rf"LR: ({NUM})", line)
        if lr:
            _put(metrics, "lr", lr.group(1))
        return Record(ep * (st.steps_per_epoch or 1) + i, metrics, epoch=ep)
    m = _TIMM_TEST.match(line)
    if m:
        metrics = {}
        for k, _cur, avg in _timm_pairs(line):
            if k != "Time":
                _put(metrics, "val_" + k.lower().replace("@", "_top"), avg)  # running mean over the eval set so far
        return Record(None, metrics, eval=True) if metrics else None
    return None

# pytorch/examples imagenet (and the many scripts copied from it): "Epoch: [83][200/10010]\tTime 0.401 (0.418)\tData
# ...\tLoss 1.9176 (1.6593)\tPrec@1 55.469 (61.979)" (newer: "Acc@1  0.00 ( 0.10)"), "Test: [0/196]\t...". Each meter
# prints the current batch, then the running mean in parentheses. Epochs count from 0. Swin Transformer's copy:
# "Train: [3/300][370/1251]  eta 0:08:57 lr 0.000166 time 0.6068 (0.6098)  loss 6.3568 (6.1324)  grad_norm 2.03 (inf)".
_IMNET_TRAIN = re.compile(r"^(?:Epoch|Train): \[(\d+)(?:/\d+)?\]\[\s*(\d+)/(\d+)\]\s")
_IMNET_LR = re.compile(rf"\blr ({NUM})\s")
_IMNET_TEST = re.compile(r"^Test: \[\s*(\d+)/(\d+)\]\s")
# A meter is tried only from the start of a run of name characters, the name from its first letter: a name reaches
# the end of its run wherever it starts in it, so a later start reads the same meter, and trying every letter of a
# long run was quadratic (docs/architecture.md). A meter ends at ")", so the next is never tried from inside a run.
_IMNET_METER = re.compile(rf"(?<![\w@])(?:(?![A-Za-z])[\w@])*([A-Za-z][\w@]*)\s+({NUM})\s+\(\s*({NUM})\s*\)")
# The example's ProgressMeter joins its meters with tabs, and a meter's name may have several words: the Transfer-
# Learning-Library's domain-adaptation scripts print "Loss   0.97 (  1.44)\tCls Acc 75.0 (67.3)\tDomain Acc 100.0
# (94.2)". Where tabs separate the meters, each tab-separated piece is one meter and its name is all the words before
# the value: read by the pattern above, both accuracies were "Acc" and the domain classifier's overwrote the task's.
_IMNET_TAB_METER = re.compile(rf"^([A-Za-z][\w@]*(?: [A-Za-z][\w@]*)*)\s+({NUM})\s+\(\s*({NUM})\s*\)$")
# The example's validate() ends with the averages over the whole held-out set, " * Acc@1 76.130 Acc@5 92.862" (older
# copies " * Prec@1 ... Prec@5 ..."): the epoch's held-out result, which the last "Test: [i/N]" line only nears.
_IMNET_SUMMARY = re.compile(rf"^\* ((?:Acc|Prec)@1) ({NUM}) ((?:Acc|Prec)@5) ({NUM})$")  # on the stripped line


def _imnet_meters(line: str, start: int) -> list[tuple[str, str, str]]:
    """(name, current, running mean) of each meter after the line's header."""
    rest = line[start:]
    if "\t" in rest:
        out = []
        for piece in rest.split("\t"):
            m = _IMNET_TAB_METER.match(piece.strip())
            if m:
                out.append((m.group(1), m.group(2), m.group(3)))
        return out
    return _IMNET_METER.findall(line, start)


def parse_imagenet_example(line: str, st: State) -> Record | None:
    m = _IMNET_TRAIN.match(line) or _IMNET_TEST.match(line)
    if not m:
        summary = _IMNET_SUMMARY.match(line) if line.startswith("* ") else None
        if summary is None:
            return None
        return Record(None, {"val_" + summary.group(1): float(summary.group(2)),
                             "val_" + summary.group(3): float(summary.group(4))}, eval=True)
    metrics: dict[str, float] = {}
    for k, cur, avg in _imnet_meters(line, m.end()):
        if k.lower() in ("time", "data"):
            continue
        if k.lower() == "loss":
            _put(metrics, "loss", cur)
            _put(metrics, "loss_avg", avg)
        else:
            _put(metrics, k, cur)
    lr = _IMNET_LR.search(line, m.end())
    if lr:
        _put(metrics, "lr", lr.group(1))
    if not metrics:
        return None
    if m.re is _IMNET_TEST:  # the running means over the validation set so far: the last line holds the result
        # (the loss's running mean is the held-out loss so far, read as such: named "val_loss_avg" it was no
        # held-out loss to the rules that judge one)
        return Record(None, {("val_loss" if k == "loss_avg" else "val_" + k): v for k, v in metrics.items()
                             if k != "loss"}, eval=True)
    ep, i, n = int(m.group(1)), int(m.group(2)), int(m.group(3))
    return Record(ep * n + i, metrics, epoch=ep)


# The `MetricLogger` console of the torchvision reference scripts and the codebases copied from them (DETR, DeiT, MAE,
# DINO, BEiT, ConvNeXt, LLaMA-Adapter...): "Epoch: [8]  [ 200/2293]  eta: 1:52:52  lr: 0.000004  loss: 0.2606 (0.2654)
# time: 3.0808  data: 0.0002  max mem: 32637", "Test:  [  0/196]  eta: 0:01:23  loss: 0.81 (0.81)  acc1: 80.0 (80.0)".
# The header and the "[i/N]" position are apart, then two-space separated meters "name: value" or "name: median
# (global average)"; every line the logger prints carries "eta:". The windowed median is the current value, the
# parenthesised global average the running mean (as the ImageNet example's meters above). Clock meters are no training
# metrics. Excerpts pasted into reports keep the header and the meters but often drop the clock meters, "eta:"
# included ("Epoch: [1]  [8000/9465]  loss: nan (nan)", novalli1993/SDCombo's README), so "eta:" is not required: the
# header with its apart "[i/N]" and at least one two-space separated "name: value" meter are (a line whose meters are
# not in that form, "Epoch: [3]  [ 12/40]  loss 0.5", yields nothing here and stays with the other readers).
_MLOG = re.compile(r"^(?:(Test|Val|Eval)\w*:|(?:Epoch|Train): \[(\d+)(?:/\d+)?\])\s+\[\s*(\d+)/(\d+)\]\s{2,}(?=\S)")
_MLOG_METER = re.compile(rf"^([A-Za-z][\w@/.]*(?: [a-z]+)?): ({NUM})(?: \(({NUM})\))?$")
_MLOG_CLOCK = frozenset(("eta", "time", "data", "max mem", "img/s", "iter_time", "data_time"))


def parse_metric_logger(line: str, st: State) -> Record | None:
    m = _MLOG.match(line)
    if not m:
        return None
    metrics: dict[str, float] = {}
    for piece in re.split(r"\s{2,}", line[m.end():]):
        mm = _MLOG_METER.match(piece.strip())
        if mm is None or mm.group(1) in _MLOG_CLOCK:
            continue
        name, cur, avg = mm.group(1).replace(" ", "_"), mm.group(2), mm.group(3)
        if m.group(1):  # evaluation: the running means over the held-out set so far; the last line is the result
            _put(metrics, "val_" + name, avg if avg is not None else cur)
            continue
        _put(metrics, name, cur)
        if name == "loss" and avg is not None:
            _put(metrics, "loss_avg", avg)
    if not metrics:
        return None
    if m.group(1):
        return Record(None, metrics, eval=True)
    ep, i, n = int(m.group(2)), int(m.group(3)), int(m.group(4))
    return Record(ep * n + i, metrics, epoch=ep)


# torchtitan: "step: 14  loss:  3.24405  grad_norm:  0.8319  memory:  9.46GiB(64.99%)  tps: 7,282  tflops: 0.52
# mfu: 0.17%" (colour codes around each field unless disabled)
_TITAN = re.compile(r"^(validate )?step:\s*(\d+)\s+loss:")


def parse_torchtitan(line: str, st: State) -> Record | None:
    m = _TITAN.match(line)
    if not m:
        return None
    metrics = pairs(line[len("validate "):] if m.group(1) else line)
    metrics.pop("step", None)
    if m.group(1):
        return Record(int(m.group(2)), {"val_" + k: v for k, v in metrics.items()}, eval=True)
    return Record(int(m.group(2)), metrics)


# litgpt: "Epoch 1 | iter 40 step 10 | loss train: 2.1, val: n/a | iter time: 181.34 ms (step) remaining time: ..."
# fine-tune: "Ep 1 | iter 4 | step 1: loss train (curr): 1.585, val (prev val iter): None | iter time: ..."
# older lit-gpt: "iter 40 step 10: loss 2.1234, iter time: 181.34ms (optimizer.step)"
_LIT = re.compile(r"^(?:Epoch|Ep) (\d+) \| iter (\d+)(?: \|)? step (\d+)\s*[:|]")
_LIT_OLD = re.compile(rf"^iter (\d+) step (\d+): loss ({NUM}), iter time: ({NUM}) ?ms")
_LIT_TRAIN = re.compile(rf"loss train(?: \(curr\))?: ({NUM})")
_LIT_VAL = re.compile(rf"val(?: \(prev val iter\))?: ({NUM})")
_LIT_TIME = re.compile(rf"iter time: ({NUM}) ?ms")


def parse_litgpt(line: str, st: State) -> Record | None:
    m = _LIT.match(line)
    if m:
        metrics: dict[str, float] = {}
        for rx, name in ((_LIT_TRAIN, "loss"), (_LIT_VAL, "val_loss"), (_LIT_TIME, "iter_time_ms")):
            mm = rx.search(line)
            if mm:
                _put(metrics, name, mm.group(1))
        return Record(int(m.group(3)), metrics, epoch=int(m.group(1))) if metrics else None
    m = _LIT_OLD.match(line)
    if m:
        metrics = {}
        _put(metrics, "loss", m.group(3))
        _put(metrics, "iter_time_ms", m.group(4))
        return Record(int(m.group(2)), metrics)
    return None


# tqdm bars with a metrics postfix (Lightning, accelerate loops, torchtune): "Epoch 0:   6%|██ | 32040/500150
# [6:28:43<94:39:17,  1.37it/s, loss=2.6, v_num=95nc, reduced_train_loss=2.590, global_step=3.2e+4]". The step is
# global_step when printed, else epoch*total + batch; a bar without an epoch that restarts from 0 continues the count.
# The rate's unit is tqdm's `unit` argument ("it" by default; "img", "batch", "samples", "B" where a script names its
# items): "79/79 [00:12<00:00,  6.33img/s, loss (batch)=-9.27e+5]" (Pytorch-UNet).
_BAR = re.compile(
    r"^(?P<desc>.{0,200}?):?\s*\d+%\|[^|]*\|\s*(?P<n>\d+)/(?P<total>\d+)\s*"
    r"\[[^\]]*?,\s*[\d.?]+\s*(?:[A-Za-z]{1,12}/s|s/[A-Za-z]{1,12})(?P<post>(?:,[^\]]*)?)\]"
)
# a postfix key set_postfix(**{"loss (batch)": x}) wrote with a qualifier saying which loss it is: the batch's own
# (the per-step training loss a bar shows), not another split's; the qualifier is dropped from the name
_POSTFIX_QUALIFIED = re.compile(
    rf"(?:^|,)\s*([A-Za-z_][\w./]*) \((?:batch|step|iter|train|running|avg|mean|curr|current)\)\s*=\s*({NUM})\s*(?=,|$)"
)


def _bar_postfix(post: str) -> dict[str, float]:
    """The metrics of a bar's postfix: `key=value` pairs, a key with a batch/step qualifier read as its bare name."""
    metrics = pairs(post)
    for m in _POSTFIX_QUALIFIED.finditer(post):
        _put(metrics, m.group(1), m.group(2))
    return metrics
_DESC_EPOCH = re.compile(r"(?:Epoch|epoch|Ep)\s*[:#]?\s*(\d+)")
# torchtune's bar description: "1|5|Loss: 1.2345"
_TORCHTUNE_DESC = re.compile(rf"^(\d+)\|(\d+)\|Loss: ({NUM})")


# GluonTS-MXNet's epoch bar carries only the running mean of the epoch's loss: the epoch's exact value follows in its
# own log line, read with the epoch by _gluonts_trainer.py (stepped here by the bar's n, every epoch fell on one step)
_GLUONTS_BAR_KEYS = frozenset({"avg_epoch_loss", "validation_avg_epoch_loss"})


def parse_lightning_bar(line: str, st: State) -> Record | None:
    m = _BAR.match(line)
    if not m:
        return None
    desc = m.group("desc").strip()
    metrics = {k: v for k, v in _bar_postfix(m.group("post")).items() if k != "v_num"}
    tune = _TORCHTUNE_DESC.match(desc)
    if tune:
        _put(metrics, "loss", tune.group(3))
        return Record(int(tune.group(2)), metrics, epoch=int(tune.group(1)))
    if not metrics or set(metrics) <= _GLUONTS_BAR_KEYS:
        return None
    n, total = int(m.group("n")), int(m.group("total"))
    gs = metrics.pop("global_step", None)
    em = _DESC_EPOCH.search(desc)
    if gs is not None and math.isfinite(gs):
        return Record(int(gs), metrics, epoch=int(em.group(1)) if em else None)
    if desc.lower().startswith(("val", "test", "eval", "predict")):
        return Record(None, metrics, eval=True)
    if em:
        ep = int(em.group(1))
        return Record(ep * total + n, metrics, epoch=ep)
    # No epoch in the description: a new bar (n going back) continues after the previous one.
    offset = st.extra.get("bar_offset", 0)
    last_n = st.extra.get("bar_last_n")
    if last_n is not None and n < last_n:
        offset += st.extra.get("bar_total", total)
        st.extra["bar_offset"] = offset
    st.extra["bar_last_n"], st.extra["bar_total"] = n, total
    return Record(offset + n, metrics)


# Lightning's RichProgressBar, as written to a file (no TTY): the final state of the bar, its metrics wrapped onto
# the following indented lines: "Epoch 3/3  ━━━━━━━━ 75/75 0:00:01 • 0:00:00 37.80it/s v_num: 0 train_loss_step: "
# then "1.492 val_loss:", "1.428", ... The epoch is 0-based, so the step is epoch*total + n.
_RICH = re.compile(r"^Epoch (\d+)/(\d+)\s+[━─╸╺╍ ]+\s*(\d+)/(\d+)\s+[\d:]+\s*•\s*[\d:-]+\s*[\d.]+\s*(?:it/s|s/it)(.*)$")
# A wrapped line: [number] [name:] [number], as Rich word-wraps "name: value name: value". Written as two branches, with
# and without the name, so that no two quantified parts can take the same characters: the old single form
# "NUM? \s* (name:)? \s* NUM?" let two numbers split one run of digits, and two "\s*" split one run of spaces, either
# way quadratic on a long line that does not fit (docs/architecture.md). Without a name, two numbers need space between
# them: Rich prints none run together, so only shapes like "1-2" or "1.5.5" stop reading as a wrapped line.
_RICH_PART = re.compile(rf"^(?:(?:{NUM})?\s*[A-Za-z_][\w/.\-]*:\s*(?:{NUM})?|(?:{NUM})?(?:\s+(?:{NUM})?)?)$")


def parse_rich_bar(line: str, st: State) -> Record | None:
    m = _RICH.match(line)
    if m:
        ep, n, total = int(m.group(1)), int(m.group(3)), int(m.group(4))
        st.extra["rich"] = {"step": ep * total + n, "epoch": ep, "buf": m.group(5)}
    else:
        cur = st.extra.get("rich")
        if cur is None:
            return None
        if not line.strip() or not _RICH_PART.match(line.strip()):
            st.extra.pop("rich", None)  # the wrapped metrics ended
            return None
        cur["buf"] += " " + line.strip()
    cur = st.extra["rich"]
    metrics = {k: v for k, v in pairs(cur["buf"]).items() if k != "v_num"}
    return Record(cur["step"], metrics, epoch=cur["epoch"]) if metrics else None


# PyTorch examples (mnist & co): "Train Epoch: 1 [640/60000 (1%)]\tLoss: 2.279" and
# "Test set: Average loss: 0.0363, Accuracy: 9877/10000 (99%)". The step counts samples seen, as the line does.
# Copies of the loop add text inside the brackets ("[7007/7010 Srno: 1 (100%)]"), count epochs from 0, drop the
# percentage and print more after the loss (pytorch-cifar100: "Training Epoch: 1 [3976/8000]\tLoss: 0.3088\tLR:
# 0.004970"; a NIN CIFAR-10 script: "...(26%)]\tLoss: 2.289754\tLR: 0.1"): those values are read too. A model
# with a loss in named parts prints them in place of "Loss:" (a VRNN: "...(21%)]\t KLD Loss: 2.97 \t NLL Loss: 78.7"):
# the line is the same batch line, its step the same sample count, and the parts are loss terms
# (evidence/context.py: loss_terms); read as epoch numbers, a whole epoch of batch lines would fold into one point.
_PT_TRAIN = re.compile(
    rf"^Train(?:ing)? Epoch: (\d+) \[(\d+)/(\d+)(?:[^\]\[]*?\(\s*\d+%\))?\]\s+(?:Loss: ({NUM}))?")
# a loop copied for a task without classes prints the average loss alone ("Test set: Average loss: 0.2714")
_PT_TEST = re.compile(rf"^Test set: Average loss: ({NUM})(?:, Accuracy: (\d+)/(\d+))?")


def parse_pytorch_examples(line: str, st: State) -> Record | None:
    m = _PT_TRAIN.match(line)
    if m:
        ep, seen, total = int(m.group(1)), int(m.group(2)), int(m.group(3))
        rest = line[m.end():]
        found = pairs(rest)
        # the loop separates its values by tabs; a name of two words ("KLD Loss") is whole only between them
        tabbed = pipe_pairs(rest.replace("\t", "|")) if "\t" in rest else {}
        metrics = {k: v for k, v in (tabbed if len(tabbed) > len(found) else found).items() if k.lower() != "loss"}
        _put(metrics, "loss", m.group(4))
        if not metrics:
            return None
        if ep == 0:
            st.extra["zero_based_epochs"] = True
        done = ep if st.extra.get("zero_based_epochs") else ep - 1
        return Record(done * total + seen, metrics, epoch=ep)
    m = _PT_TEST.match(line)
    if m:
        metrics = {}
        _put(metrics, "val_loss", m.group(1))
        if m.group(3) and int(m.group(3)):
            metrics["val_accuracy"] = int(m.group(2)) / int(m.group(3))
        return Record(None, metrics, eval=True)
    return None


# Pytorch-UNet's first console (milesial/Pytorch-UNet train.py, 2018-2019): "Starting epoch 3/10." opens an epoch,
# each batch prints "{i * batch_size / N_train:.4f} --- loss: {loss:.6f}" (the fraction of the epoch done, then that
# batch's loss), "Epoch finished ! Loss: x" the epoch's mean and "Validation Dice Coeff: y" the evaluation. The
# fraction is no step: the batch lines are counted from the file's first one, each its own point (read as the
# epoch's number, an epoch of batches would fold into one point). The epoch mean repeats the batch losses and is
# not kept as a second training loss.
_UNET_EPOCH = re.compile(r"^Starting epoch (\d+)/(\d+)\.?\s*$")
_UNET_BATCH = re.compile(rf"^[01]\.\d{{4}} --- loss: ({NUM})\s*$")
_UNET_EPOCH_END = re.compile(rf"^Epoch finished ! Loss: ({NUM})\s*$")
_UNET_DICE = re.compile(rf"^Validation Dice Coeff: ({NUM})\s*$")


def parse_unet_progress(line: str, st: State) -> Record | None:
    m = _UNET_BATCH.match(line)
    if m:
        n = st.extra.get("unet_batches", 0) + 1
        st.extra["unet_batches"] = n
        metrics: dict[str, float] = {}
        _put(metrics, "loss", m.group(1))
        return Record(n, metrics, epoch=st.extra.get("unet_epoch")) if metrics else None
    m = _UNET_EPOCH.match(line)
    if m:
        st.extra["unet_epoch"] = int(m.group(1))
        return None
    if _UNET_EPOCH_END.match(line):
        return None
    m = _UNET_DICE.match(line)
    if m and "unet_batches" in st.extra:
        metrics = {}
        _put(metrics, "val_dice", m.group(1))
        return Record(None, metrics, eval=True) if metrics else None
    return None


# Hugging Face Accelerate's examples print each evaluation as `accelerator.print(f"epoch {epoch}:", eval_metric)`:
# "epoch 2: {'accuracy': 0.84, 'f1': 0.88}" (nlp_example.py), the dict of the evaluation's metrics. The dict is not a
# HF Trainer log dict (those always carry the Trainer's 'epoch' key and no "epoch N:" prefix); its values are
# held-out metrics, named with an eval_ prefix where the script gave them none.
ACCELERATE_EPOCH_DICT = re.compile(r"^epoch (\d+):\s*\{('[^{}]*)\}\s*$")
_ACCEL_PAIR = re.compile(rf"'([^'\\]+)'\s*:\s*({NUM})\s*(?:,|$)")


def parse_accelerate_epoch(line: str, st: State) -> Record | None:
    m = ACCELERATE_EPOCH_DICT.match(line)
    if m is None:
        return None
    metrics: dict[str, float] = {}
    for k, v in _ACCEL_PAIR.findall(m.group(2)):
        _put(metrics, k if k.startswith(("eval_", "val_", "test_")) else f"eval_{k}", v)
    return Record(None, metrics, eval=True, epoch=int(m.group(1))) if metrics else None


# fastai's Recorder without a progress bar (`learn.no_bar()`, or no ProgressCallback): it hands each epoch's log to
# `print` as a bare list, no header -- "[0, 1.9848957061767578, 1.9337577819824219, 0.3984375, '00:00']": the epoch
# from 0, the smoothed training loss, the validation loss, the metrics in the order the Learner was given them, and
# the epoch's duration as a quoted "mm:ss". Without a header the metrics have no names: they are kept as
# valid_metric_<k> (validation metrics: fastai computes them on the validation set), a direction no rule assumes.
_FASTAI_LIST = re.compile(r"^\[(\d+), ((?:[^,\]]+, )*)'(\d\d:\d\d(?::\d\d)?)'\]\s*$")
_FASTAI_LIST_CELL = re.compile(rf"^(?:{NUM}|None|#na#)$")


def parse_fastai_recorder(line: str, st: State) -> Record | None:
    m = _FASTAI_LIST.match(line)
    if not m or not m.group(2):
        return None
    cells = [c.strip() for c in m.group(2).split(", ") if c.strip()]
    if not cells or not all(_FASTAI_LIST_CELL.match(c) for c in cells):
        return None
    names = ["train_loss", "valid_loss", *(f"valid_metric_{k}" for k in range(1, len(cells) - 1))]
    metrics: dict[str, float] = {}
    for name, cell in zip(names, cells, strict=False):
        _put(metrics, name, cell)  # "None" / "#na#" (no validation set) carry no value
    if not metrics:
        return None
    epoch = int(m.group(1)) + 1  # epochs completed, the clock of the fastai table and its CSVLogger (parse_table)
    return Record(epoch, metrics, epoch=epoch)


# Tables printed once per epoch: fastai ("epoch  train_loss  valid_loss  accuracy  time" then rows), Ultralytics
# YOLO ("Epoch  GPU_mem  box_loss  cls_loss ..." then "1/100  2.1G  0.05 ..."). The header is remembered.
_TABLE_HEADER = re.compile(
    r"^\s*(?i:epoch|step|iter|iteration|it|batch)(?:\s+[A-Za-z_][\w/()%@.:-]*){2,}\s*$"
)
# Columns a header may name instead of "loss": YOLOv5/YOLOR print their loss parts bare ("box obj cls total").
_TABLE_LOSS_PARTS = {"box", "obj", "cls", "total", "dfl", "seg", "giou", "l1"}
# Columns that are counts or sizes, not metrics.
# columns that are no metric: durations (fastai's "time", skorch's "dur"), counts and sizes
_TABLE_NOT_METRIC = {"time", "dur", "duration", "instances", "size", "gpu_mem", "targets", "img_size", "labels"}
# a column whose name already says its split (skorch's "valid_acc" beside "valid_loss") keeps it
_TABLE_SPLIT_PREFIX = ("valid_", "val_", "eval_", "test_", "dev_", "train_", "trn_")
_TABLE_CELL = re.compile(rf"^(?:{NUM}|\d+/\d+)[A-Za-z%]*$|^\d\d:\d\d(?::\d\d)?$|^#na#$")


# the bar after a row: "...: 100%|####| 1626/1626" or, without a TTY's bar characters, "448: 100% 1626/1626 [...]"
# tried only where a run of spaces starts, or a run of digits with no space before it: a later start in the same run
# finds the same bar, and the search keeps the first; trying each was quadratic in a long run (docs/architecture.md)
_TABLE_BAR = re.compile(r":?(?:(?<!\s)\s+|(?<![\s\d]))\d+%(?:\||\s+\d+/\d+)")
_TABLE_ROW_DURATION = re.compile(r"\(\d+:\d{2}(?::\d{2})?\)")


# fastai computes its metrics on the validation set only (Learner.validate); its tables are the ones that print both a
# train and a validation loss column, so there the other metric columns are validation metrics.
_TABLE_TRAIN_LOSS = {"train_loss", "trn_loss"}
_TABLE_VALID_LOSS = {"valid_loss", "val_loss"}


# YOLOv5/v7 tables pasted without their first columns ("box  obj  cls  total  labels  img_size" over "nan  0.0074
# 0  nan  22  1280"): a header made only of the loss parts and the count columns, rows numbered by their order.
def _bare_loss_header(cols: list[str]) -> bool:
    low = [c.lower() for c in cols]
    return (len(low) >= 3 and all(c in _TABLE_LOSS_PARTS or c in _TABLE_NOT_METRIC for c in low)
            and sum(c in _TABLE_LOSS_PARTS for c in low) >= 2)


# fastai's console table (fastprogress) pads each cell to its header's width and prints a wider value unpadded, so a
# large loss runs into the next cell: "8         15344.932617154326.796875392.84448200:00". Its floats are always
# written with 6 decimals (f"{x:.6f}"), which splits such a row again without guessing.
_FASTAI_GLUED = re.compile(r"#na#|-?nan|-?inf|-?\d+\.\d{6}|\d\d:\d\d(?::\d\d)?")


def _unglue_fastai_row(cols: list[str], cells: list[str]) -> list[str]:
    """The row's cells with run-together fastai values split apart; `cells` unchanged when the table is not
    fastai's (epoch ... train_loss ... valid_loss ... time) or the split does not account for every character."""
    low = [c.lower() for c in cols]
    if low[0] != "epoch" or low[-1] != "time" or "train_loss" not in low or not cells or not cells[0].isdigit():
        return cells
    rest = "".join(cells[1:])
    parts = _FASTAI_GLUED.findall(rest)
    if "".join(parts) != rest or len(parts) != len(cols) - 1:
        return cells
    return [cells[0], *parts]


def parse_table(line: str, st: State) -> Record | None:
    if _bare_loss_header(line.split()):
        st.extra["table"], st.extra["table_rows"] = ["row", *line.split()], 0
        return None
    if _TABLE_HEADER.match(line):
        cols = line.split()
        if any(_METRICY.search(c) or c.lower() in _TABLE_LOSS_PARTS for c in cols[1:]):
            low = {c.lower() for c in cols}
            if low & _TABLE_TRAIN_LOSS and low & _TABLE_VALID_LOSS:
                cols = cols[:1] + [c if "loss" in c.lower() or c.lower() in _TABLE_NOT_METRIC
                                   or c.lower().startswith(_TABLE_SPLIT_PREFIX) else f"valid_{c}" for c in cols[1:]]
            if cols != st.extra.get("table"):  # YOLO repeats its header above every row: the same table goes on
                st.extra.pop("table_offset", None)
                st.extra.pop("table_last", None)
            else:
                st.extra["table_reheader"] = True
            st.extra["table"] = cols
            st.extra.pop("table_rows", None)
        return None
    cols = st.extra.get("table")
    if not cols:
        return None
    bar = _TABLE_BAR.search(line)  # YOLO prints each row as the description of a tqdm bar
    cells = (line[: bar.start()] if bar else line).split()
    # fastai v1.0.x (before its 'time' column) printed each row's duration after the last metric, outside the header:
    # "epoch train_loss valid_loss error_rate" over "1 1.513021 1.041628 0.507326 (00:13)"; that cell is not a column.
    if len(cells) == len(cols) + 1 and _TABLE_ROW_DURATION.fullmatch(cells[-1]):
        cells = cells[:-1]
    if len(cells) < len(cols):
        cells = _unglue_fastai_row(cols, cells)
    if cols[0] == "row" and "table_rows" in st.extra:  # a header without its step column: rows count
        st.extra["table_rows"] += 1
        cells = [str(st.extra["table_rows"]), *cells]
    if len(cells) != len(cols) or not all(_TABLE_CELL.match(c) for c in cells):
        return None
    first = cells[0].split("/")[0]
    if not first.isdigit():
        return None
    metrics: dict[str, float] = {}
    for name, cell in zip(cols[1:], cells[1:], strict=True):
        if ":" in cell or cell == "#na#":  # "00:12" is a duration, "#na#" fastai's missing value
            continue
        v = parse_number(cell)  # "nan" is a value; a unit suffix ("10.2G") is stripped only when it is not one
        if v is None:
            v = parse_number(re.sub(r"[A-Za-z]+$", "", cell))
        if v is not None and name.lower() not in _TABLE_NOT_METRIC:
            metrics[name] = v
    if not metrics:
        return None
    idx = int(first)
    is_epoch = cols[0].lower() == "epoch"
    reheader = st.extra.pop("table_reheader", False)
    if is_epoch:
        # fastai numbers its epochs from 0: read as epochs completed (1..n), the clock of the same run's CSVLogger
        # history (readers/csv_metrics.py) and of Keras-style consoles; a table that counts from 1 keeps its numbers
        offset = st.extra.setdefault("table_offset", 1 if idx == 0 else 0)
        last = st.extra.get("table_last")
        # The same header again with its epoch counter back at or below the last row's: fastai's fine_tune prints
        # its frozen epochs and then its unfrozen epochs as two tables, each from epoch 0, and fit calls run one
        # after another on one Learner print one table each. The training goes on, so the new table's rows follow
        # the last row read (read as a restart at 1, they would overwrite the first table's rows). YOLO's header
        # repeated above every row keeps counting up and is not shifted.
        if reheader and last is not None and idx + offset <= last:
            offset = st.extra["table_offset"] = last + 1 - idx
        idx += offset
        st.extra["table_last"] = idx
        inner = _within_epoch_step(cols, metrics, idx, st)
        if inner is not None:
            return Record(inner, metrics, epoch=idx)
    return Record(idx, metrics, epoch=idx if is_epoch else None)


# An epoch column followed by a step column that restarts every epoch ("epoch  Step  Loss" over "0  100.0  0.6797",
# a hand-rolled JAX/PyTorch loop's log): one row per logged step, not per epoch. The step is the position in the
# whole run: each new epoch starts one logging interval after the last step logged in the one before.
def _within_epoch_step(cols: list[str], metrics: dict[str, float], epoch: int, st: State) -> int | None:
    if len(cols) < 3 or _STEPISH.match(cols[1]) is None or cols[1].lower().startswith("epoch"):
        return None
    inner = metrics.pop(cols[1], None)
    if inner is None or not inner.is_integer() or inner < 0:
        return None
    ctx = st.extra.setdefault("table_inner", {"epoch": epoch, "base": 0, "last": None, "gap": 1})
    if epoch != ctx["epoch"]:
        if ctx["last"] is not None:
            ctx["base"] += ctx["last"] + ctx["gap"]
        ctx["epoch"], ctx["last"] = epoch, None
    elif ctx["last"] is not None and inner > ctx["last"]:
        ctx["gap"] = int(inner) - ctx["last"]
    ctx["last"] = int(inner)
    return ctx["base"] + int(inner)

# PyTorch's word_language_model example (and its many copies): "| epoch   1 |   200/ 2983 batches | lr 20.00 |
# ms/batch 11.61 | loss  6.90 | ppl   992.1", then "| end of epoch   1 | time: 35.13s | valid loss  5.53 | valid ppl
# 251.30" and "| End of training | test loss  4.87 | test ppl   130.37". The step counts batches over epochs.
_WLM_BATCH = re.compile(r"^\|\s*epoch\s+(\d+)\s*\|\s*(\d+)\s*/\s*(\d+)\s+batches\s*\|(.*)$")
_WLM_END = re.compile(r"^\|\s*(?:end of epoch\s+(\d+)|(End of training))\s*\|(.*)$", re.I)


def parse_word_lm(line: str, st: State) -> Record | None:
    m = _WLM_BATCH.match(line)
    if m:
        ep, i, n = int(m.group(1)), int(m.group(2)), int(m.group(3))
        metrics = pipe_pairs(m.group(4))
        return Record(max(ep - 1, 0) * n + i, metrics, epoch=ep) if metrics else None
    m = _WLM_END.match(line)
    if m:
        metrics = {k: v for k, v in pipe_pairs(m.group(3)).items() if k != "time"}
        return Record(None, metrics, eval=True, epoch=int(m.group(1)) if m.group(1) else None) if metrics else None
    return None


# OpenNMT. OpenNMT-py 0.1-0.3: "Epoch  1,    50/21692; acc:   0.41; ppl: 992.10; 3324 src tok/s; ...; 22 s elapsed";
# 0.4 on: "Step 5350/50000; acc:  51.25; ppl:  8.43; xent: 2.13; lr: 0.00066; 1320/1445 tok/s;  19995 sec", then
# "Validation perplexity: 9.1" and "Validation accuracy: 48.2". OpenNMT-tf: "Step = 435100 ; steps/s = 2.97, source
# words/s = 12176 ; Learning rate = 1.202480 ; Loss = 185912.781250" and "Evaluation result for step 435000: loss =
# 148890.718750 ; perplexity = inf".
_ONMT_EPOCH = re.compile(r"^Epoch\s+(\d+),\s+(\d+)\s*/\s*(\d+);\s*(.*)$")
_ONMT_STEP = re.compile(r"^Step\s+(\d+)\s*/\s*(\d+);\s*(.*)$")
_ONMT_VALID = re.compile(rf"^Validation (perplexity|accuracy|xent|loss):\s*({NUM})\s*$")
_ONMT_TF_STEP = re.compile(r"^Step = (\d+)\s*;(.*)$")
_ONMT_TF_EVAL = re.compile(r"^Evaluation result for step (\d+):(.*)$")
_ONMT_TF_PAIR = re.compile(rf"([A-Za-z][\w/ ]*?)\s*=\s*({NUM})")
_ONMT_TF_KEY, _LETTER, _SPACE = re.compile(r"[\w/ ]"), re.compile(r"[A-Za-z]"), re.compile(r"\s")
# OpenNMT (Lua/Torch; docs/references.md, Log formats): "Epoch 1 ; Iteration 74000/77776 ; Learning rate 1.0000 ; Source
# tokens/s 1270 ; Perplexity 14.64", later releases "... ; Optim SGD LR 0.100000 ; Source tokens/s 3264 ; Perplexity
# 2907.71" (with " ; Time 1.2 sec" or ", FMem 123" after it); its validation line is the "Validation perplexity: x"
# read above. Perplexity is exp(trainLoss / targetWords), the token cross-entropy the trainer minimises.
_ONMT_LUA = re.compile(r"^Epoch (\d+) ; Iteration (\d+)/(\d+) ; (.*)$")
_ONMT_LUA_PPL = re.compile(rf"(?:^|; )Perplexity ({NUM})")
_ONMT_LUA_LR = re.compile(rf"(?:^|; )(?:Learning rate|Optim \w+ LR) ({NUM})")
_ONMT_NAMES = {"xent": "loss", "acc": "accuracy", "ppl": "ppl", "lr": "lr", "learning rate": "lr", "loss": "loss",
               "perplexity": "ppl", "accuracy": "accuracy"}


def _onmt_metrics(pairs_: dict[str, float]) -> dict[str, float]:
    out = {_ONMT_NAMES[k.lower()]: v for k, v in pairs_.items() if k.lower() in _ONMT_NAMES}
    if "loss" not in out and "ppl" in out and out["ppl"] > 0:
        # OpenNMT-py before 0.4 prints only ppl = exp(min(xent, 100)) (onmt/Trainer.py, Statistics.ppl); its log is
        # the token cross-entropy the trainer minimises, i.e. the training loss the later versions print as xent
        out["loss"] = math.log(out["ppl"])
    return out


def parse_opennmt(line: str, st: State) -> Record | None:
    m = _ONMT_STEP.match(line)
    if m:
        # "Step 50/100000000": the total is -train_steps, the planned run (a warmup or schedule is judged against it
        # when the log is an excerpt of the run's first steps)
        plan_steps(st, int(m.group(2)))
        metrics = _onmt_metrics(pairs(m.group(3)))
        return Record(int(m.group(1)), metrics) if metrics else None
    m = _ONMT_EPOCH.match(line)
    if m:
        ep, i, n = int(m.group(1)), int(m.group(2)), int(m.group(3))
        metrics = _onmt_metrics(pairs(m.group(4)))
        return Record(max(ep - 1, 0) * n + i, metrics, epoch=ep) if metrics else None
    m = _ONMT_LUA.match(line)
    if m:
        ep, i, n = int(m.group(1)), int(m.group(2)), int(m.group(3))
        found: dict[str, float] = {}
        for key, rx in (("ppl", _ONMT_LUA_PPL), ("lr", _ONMT_LUA_LR)):
            hit = rx.search(m.group(4))
            v = parse_number(hit.group(1)) if hit else None
            if v is not None:
                found[key] = v
        metrics = _onmt_metrics(found)
        return Record(max(ep - 1, 0) * n + i, metrics, epoch=ep) if metrics else None
    m = _ONMT_VALID.match(line)
    if m:
        name = _ONMT_NAMES[m.group(1)]
        return Record(None, {f"eval_{name}": float(parse_number(m.group(2)) or 0.0)}, eval=True)
    m = _ONMT_TF_STEP.match(line) or _ONMT_TF_EVAL.match(line)
    if m:
        # findall_keyed: _ONMT_TF_PAIR.findall's pairs, linear in a long run of name characters with no "=" after it
        pairs_ = findall_keyed(_ONMT_TF_PAIR, m.group(2), "=", _ONMT_TF_KEY, _LETTER, gap=_SPACE)
        found = {k.strip(): parse_number(v) for k, v in pairs_}
        metrics = _onmt_metrics({k: v for k, v in found.items() if v is not None})
        if m.re is _ONMT_TF_EVAL:
            return Record(int(m.group(1)), {f"eval_{k}": v for k, v in metrics.items() if k != "lr"},
                          eval=True) if metrics else None
        return Record(int(m.group(1)), metrics) if metrics else None
    return None


# Marian NMT: "Ep. 1 : Up. 500 : Sen. 180,689 : Cost 6.78076077 : Time 621.39s : 8698.01 words/s : L.r. 3.0000e-04"
# (the cost may read "Cost 6.01253986 * 414,436 after 414,436": mean * labels), and validation lines "[valid] Ep. 3 :
# Up. 5000 : ce-mean-words : 1.89655 : new best" (also cross-entropy, perplexity, translation = the validation
# script's score, bleu, ...). "Up." counts updates: the step.
_MARIAN_TRAIN = re.compile(rf"^Ep\. (\d+) : Up\. (\d+) : .*?\bCost ({NUM})(.*)$")
_MARIAN_LR = re.compile(rf": L\.r\. ({NUM})")
# "... : 5532.88 words/s : gNorm 20126.2366": the global gradient norm that later Marian builds print on the display
# line (marian-dev#699); a nan/inf norm is kept, it is evidence like a nan cost
_MARIAN_GNORM = re.compile(rf": gNorm ({NUM})")
_MARIAN_VALID = re.compile(rf"^\[valid\] Ep\. (\d+) : Up\. (\d+) : ([\w-]+) : ({NUM})\b")
# ce-mean-words is per target word, like the training cost; cross-entropy (Marian's ce-mean) sums over a sentence
_MARIAN_VALID_NAMES = {"ce-mean-words": "eval_loss", "perplexity": "eval_ppl"}


def parse_marian(line: str, st: State) -> Record | None:
    m = _MARIAN_TRAIN.match(line)
    if m:
        v = parse_number(m.group(3))
        if v is None:
            return None
        metrics = {"loss": v}
        lr = _MARIAN_LR.search(m.group(4))
        if lr and parse_number(lr.group(1)) is not None:
            metrics["lr"] = parse_number(lr.group(1))
        gnorm = _MARIAN_GNORM.search(m.group(4))
        if gnorm and parse_number(gnorm.group(1)) is not None:
            metrics["grad_norm"] = parse_number(gnorm.group(1))
        return Record(int(m.group(2)), metrics, epoch=int(m.group(1)))
    m = _MARIAN_VALID.match(line)
    if m:
        v = parse_number(m.group(4))
        if v is None:
            return None
        name = _MARIAN_VALID_NAMES.get(m.group(3), "eval_" + m.group(3).replace("-", "_"))
        return Record(int(m.group(2)), {name: v}, eval=True, epoch=int(m.group(1)))
    return None


# Flair's ModelTrainer: "epoch 1 - iter 4/40 - loss 3.28409882 - time (sec): 1.10 - samples/sec: 2611.84 - lr:
# 0.100000", "EPOCH 1 done: loss 2.5892 - lr 0.100000" (the epoch's mean, already in the iter lines), then "DEV : loss
# 2.0097 - f1-score (micro avg)  0.41" and "TEST : loss ... - score ...": evaluation lines, never the training loss.
_FLAIR_ITER = re.compile(rf"^epoch (\d+) - iter (\d+)/(\d+) - loss ({NUM})(.*)$")
_FLAIR_LR = re.compile(rf"\blr: ({NUM})")
_FLAIR_EVAL = re.compile(rf"^(DEV|TEST) : loss ({NUM})(?: - (.*?)\s+({NUM}))?\s*$")
_FLAIR_DONE = re.compile(r"^EPOCH \d+ done: loss ")


def parse_flair(line: str, st: State) -> Record | None:
    m = _FLAIR_ITER.match(line)
    if m:
        ep, i, n = int(m.group(1)), int(m.group(2)), int(m.group(3))
        metrics: dict[str, float] = {}
        _put(metrics, "loss", m.group(4))
        lr = _FLAIR_LR.search(m.group(5))
        if lr:
            _put(metrics, "lr", lr.group(1))
        return Record(max(ep - 1, 0) * n + i, metrics, epoch=ep) if metrics else None
    m = _FLAIR_EVAL.match(line)
    if m:
        split = "eval" if m.group(1) == "DEV" else "test"
        metrics = {}
        _put(metrics, f"{split}_loss", m.group(2))
        if m.group(3):
            _put(metrics, f"{split}_" + re.sub(r"\W+", "_", m.group(3).lower()).strip("_"), m.group(4))
        return Record(None, metrics, eval=True) if metrics else None
    if _FLAIR_DONE.match(line):
        st.extra["flair_done"] = True  # counted for detection; the epoch mean repeats the iter lines
    return None


# MXNet (Module.fit, the image-classification examples, gluon-cv): "Epoch[101] Batch [250]\tSpeed: 581.56 samples/sec
# \taccuracy=1.000000", "Epoch[101] Train-accuracy=1.000000", "Epoch[101] Validation-accuracy=0.808193",
# "Epoch[10] Validation-cross-entropy=0.515972"; gluon-cv also writes "[Epoch 3] ...". Epochs count from 0.
_MX_BATCH = re.compile(r"^\[?Epoch\s*\[?\s*(\d+)\]?\]?\s*Batch\s*\[\s*(\d+)\]\s*(.*)$")
_MX_EPOCH = re.compile(rf"^\[?Epoch\s*\[?\s*(\d+)\]?\]?\s*(Train|Validation)-([\w-]+)=({NUM})\s*$")
_MX_PAIR = re.compile(rf"(?<![\w-])([A-Za-z][\w-]*)=({NUM})")
# MXNet's metric names that are the loss the example optimises (mx.metric.CrossEntropy, Perplexity's log, NLL)
_MX_LOSS = {"cross-entropy", "ce", "nll-loss", "nll_loss", "loss", "softmaxcrossentropyloss"}


def _mx_name(name: str) -> str:
    return "loss" if name.lower() in _MX_LOSS else name


def parse_mxnet(line: str, st: State) -> Record | None:
    m = _MX_BATCH.match(line)
    if m:
        ep, batch = int(m.group(1)), int(m.group(2))
        # batches per epoch: the last batch index logged in an epoch (the log prints every N batches)
        last = st.extra.get("mx_last")
        if last is not None and ep != last[0]:
            st.extra["mx_per_epoch"] = max(st.extra.get("mx_per_epoch", 0), last[1])
        st.extra["mx_last"] = (ep, batch)
        metrics = {_mx_name(k): v for k, v in ((k, parse_number(v)) for k, v in _MX_PAIR.findall(m.group(3)))
                   if v is not None}
        if not metrics:
            return None
        return Record(ep * st.extra.get("mx_per_epoch", 0) + batch, metrics, epoch=ep)
    m = _MX_EPOCH.match(line)
    if m:
        ep = int(m.group(1))
        v = parse_number(m.group(4))
        if v is None:
            return None
        name = _mx_name(m.group(3))
        is_eval = m.group(2) == "Validation"
        # after batch lines the epoch's result belongs to the last step seen; a log of epoch lines only counts epochs
        step = None if "mx_last" in st.extra else ep
        return Record(step, {(f"eval_{name}" if is_eval else name): v}, eval=is_eval, epoch=ep)
    return None


# spaCy's training tables. v3: "E    #       LOSS TOK2VEC  LOSS NER  ENTS_F  ENTS_P  ENTS_R  SCORE" then rows
# "  0     200         120.55    5192.01    56.22    59.73    53.10     0.56"; v2: "Itn.  Dep Loss  NER Loss  UAS
# NER P. ..." (or tab-separated "Itn.\tP.Loss\tN.Loss\t..."). Columns are named with single spaces inside, so the
# header splits on tabs and runs of spaces. LOSS columns are the components' training losses summed since the last
# row; the others score the dev set.
_SPACY_HEADER = re.compile(r"^(?:E\s+#|Itn\.?)(?:\t|\s{2,})(?=.*loss)", re.I)
_SPACY_SPLIT = re.compile(r"\t|\s{2,}")


def parse_spacy(line: str, st: State) -> Record | None:
    if _SPACY_HEADER.match(line):
        st.extra["spacy_cols"] = [c.strip() for c in _SPACY_SPLIT.split(line.strip()) if c.strip()]
        return None
    cols = st.extra.get("spacy_cols")
    if not cols:
        return None
    cells = line.split()
    if len(cells) != len(cols) or not cells[0].isdigit():
        return None
    nums = [parse_number(c) for c in cells]
    if any(v is None for v in nums):
        return None
    metrics: dict[str, float] = {}
    losses: list[float] = []
    for name, v in zip(cols, nums, strict=True):
        low = name.lower()
        if low in ("e", "#", "itn", "itn.") or "wps" in low:
            continue  # counters and words-per-second throughput
        if "loss" in low:
            losses.append(v)
            metrics["loss_" + re.sub(r"\W+", "_", low.replace("loss", "")).strip("_")] = v
        else:
            metrics["eval_" + re.sub(r"\W+", "_", low).strip("_")] = v
    if losses:
        # spaCy's update minimises the sum of its components' losses; that sum is the run's training loss
        metrics["loss"] = math.fsum(losses)
    if cols[0] == "#" or cols[1] == "#":
        step = int(nums[1])
        epoch: int | None = int(nums[0])
    else:  # v2 counts iterations over the data (epochs) only
        step = epoch = int(nums[0])
    return Record(step, metrics, epoch=epoch)


# llm.c's main.log (also written by the nanoGPT speedrun baselines built on it): "s:120 trl:3.4521" (training loss),
# "s:250 tel:3.3811" (validation loss), "s:250 eval:0.2950" (HellaSwag accuracy).
_LLMC = re.compile(rf"^s:(\d+)((?:\s+[a-z_]+:{NUM})+)\s*$")
_LLMC_PAIR = re.compile(rf"([a-z_]+):({NUM})")
_LLMC_NAMES = {"trl": "loss", "tel": "val_loss"}


def parse_llmc(line: str, st: State) -> Record | None:
    m = _LLMC.match(line)
    if not m:
        return None
    metrics: dict[str, float] = {}
    for k, v in _LLMC_PAIR.findall(m.group(2)):
        _put(metrics, _LLMC_NAMES.get(k, k), v)
    return Record(int(m.group(1)), metrics, eval="loss" not in metrics) if metrics else None


# Caffe's solver (glog prefix stripped by normalise): "Iteration 2380, loss = 2.04238",
# "Iteration 2380 (1.2 iter/s, 16.6s/20 iters), loss = 2.04", "Iteration 2380, lr = 0.001",
# "    Train net output #0: loss = 2.04 (* 1 = 2.04 loss)", "    Test net output #0: accuracy = 0.51".
_CAFFE_ITER = re.compile(rf"^Iteration (\d+)(?: \([^)]*\))?, (loss|lr) = ({NUM})\s*$")
_CAFFE_OUT = re.compile(rf"^(Train|Test) net output #\d+: ([\w/.-]+) = ({NUM})")
# scikit-learn's MLPClassifier/MLPRegressor (verbose=True) print the same "Iteration %d, loss = %.8f" line per epoch,
# and with early_stopping=True "Validation score: %f" after it: the estimator's `score` on the held-out tenth
# (accuracy for a classifier, R^2 for a regressor: the log does not say which, so it keeps its own name).
_SKLEARN_VAL = re.compile(rf"^Validation score: ({NUM})\s*$")


def parse_caffe(line: str, st: State) -> Record | None:
    m = _CAFFE_ITER.match(line)
    if m:
        return Record(int(m.group(1)), {m.group(2): float(parse_number(m.group(3)) or 0.0)})
    m = _CAFFE_OUT.match(line)
    if m:
        v = parse_number(m.group(3))
        if v is None:
            return None
        if m.group(1) == "Test":
            return Record(None, {"test_" + m.group(2): v}, eval=True)
        return Record(None, {"train_" + m.group(2): v})
    m = _SKLEARN_VAL.match(line)
    if m:
        v = parse_number(m.group(1))
        return Record(None, {"val_score": v}, eval=True) if v is not None else None
    return None


# Darknet (pjreddie/darknet and AlexeyAB/darknet, the YOLO v2-v4 trainer written in C) prints one line per
# iteration: "1012: 112495697920.000000, 11258310656.000000 avg, 0.001000 rate, 1.947555 seconds, 6072 images"
# (AlexeyAB: "avg loss", and later ", 3.21 hours left"): the batch loss, its running mean (avg = 0.9 avg + 0.1 loss),
# the learning rate (burn_in ramps it as lr * (iter/burn_in)^4, so it prints 0.000000 at first), time and images
# seen. Non-finite values print as C's "-nan"/"nan". The "Region N Avg IOU: x, Class: x, Obj: x, No Obj: x, .5R: x,
# .75R: x,  count: n" lines (YOLOv3; v2 prints "Region Avg IOU: ..." without N) are per-layer diagnostics printed
# before each iteration line: N is the YOLO layer's index in the network, no step and no metric. The figures are that
# layer's matches on the batch, no training loss: count is the number of ground-truth boxes the layer was given, and
# the IOU, class, objectness and recall figures are means over them, so they print NaN when count is 0 (0/0, not a
# numeric failure). A Region line is read as that layer's count and no-object score ("region82_count",
# "region82_no_obj"; "region_count" without N), its means only where count > 0, and never as a loss; the generic rules
# took the layer index for a metric "Region".
_DARKNET = re.compile(rf"^(\d+): ({NUM}), ({NUM}) avg(?: loss)?, ({NUM}) rate, {NUM} seconds, \d+ images\b")
_DARKNET_REGION = re.compile(rf"^Region(?: (\d+))? Avg IOU: ({NUM}), Class: ({NUM}), Obj: ({NUM}), No Obj: ({NUM}),?"
                             rf"(?: \.5R: ({NUM}), \.75R: ({NUM}),| Avg Recall: ({NUM}),)\s+count: (\d+)\s*$")


def _darknet_region(m: re.Match[str], st: State) -> Record:
    # printed during the forward pass of the iteration whose "i: loss, ..." line follows: the last one seen + 1; before
    # the first iteration line (an excerpt's first pass, or iteration 1's) its number is not known yet, so step 0 for
    # every layer alike: a stepless record would take a running line number, a different step per layer
    last = st.extra.get("darknet_iter")
    layer = f"region{m.group(1)}_" if m.group(1) else "region_"
    metrics: dict[str, float] = {layer + "count": float(m.group(9))}
    _put(metrics, layer + "no_obj", m.group(5))
    if int(m.group(9)) > 0:
        for key, i in (("avg_iou", 2), ("class", 3), ("obj", 4), ("recall50", 6), ("recall75", 7), ("recall", 8)):
            if m.group(i) is not None:
                _put(metrics, layer + key, m.group(i))
    return Record(last + 1 if isinstance(last, int) else 0, metrics)


def parse_darknet(line: str, st: State) -> Record | None:
    m = _DARKNET.match(line)
    if not m:
        region = _DARKNET_REGION.match(line)
        return _darknet_region(region, st) if region else None
    st.extra["darknet_iter"] = int(m.group(1))
    metrics: dict[str, float] = {}
    _put(metrics, "loss", m.group(2))
    _put(metrics, "loss_avg", m.group(3))
    _put(metrics, "lr", m.group(4))
    return Record(int(m.group(1)), metrics)


# The Hugging Face example scripts (run_translation, run_clm, run_glue, ... through Trainer.log_metrics) end with one
# table per split: "***** eval metrics *****" then "  eval_loss                 =     nan" rows, one metric each, up to
# the next line of another shape. Each row is read as a point of its metric ("eval_"/"test_"/"predict_" rows as
# held-out); rows that measure the process, not the model (memory deltas, runtime, samples per second, FLOs, sample
# counts), and the fractional epoch are left out.
_HF_BLOCK = re.compile(r"^\*{5} (\w+) metrics \*{5}$")
_HF_ROW = re.compile(rf"^([A-Za-z_][\w/.-]*)\s*=\s*({NUM})(?:[A-Za-z%]*)\s*$")
_HF_PROCESS = re.compile(r"(?:^|_)(?:mem|runtime|flos|samples|steps_per_second|samples_per_second)(?:_|$)|^epoch$")


def parse_hf_metrics(line: str, st: State) -> Record | None:
    head = _HF_BLOCK.match(line)
    if head:
        st.extra["hf_block"] = head.group(1).lower()
        return None
    if "hf_block" not in st.extra:
        return None
    m = _HF_ROW.match(line)
    if not m:
        del st.extra["hf_block"]  # the table ended
        return None
    key = m.group(1)
    if _HF_PROCESS.search(key):
        return Record(None, {})  # a row of the table, but no measurement of the model
    v = parse_number(m.group(2))
    if v is None:
        return None
    held_out = key.startswith(("eval_", "test_", "predict_")) or st.extra["hf_block"] in ("eval", "test", "predict")
    return Record(None, {key: v}, eval=held_out)


# fastText (the C++ CLI and its Python binding) rewrites one progress line with "\r" while it trains: "Progress:  42.3%
# words/sec/thread:  123456 lr:  0.057700 avg.loss:  0.334556 ETA:   0h 1m 2s" (releases before 0.9 print "loss:" and
# "eta:"). The only position it prints is the share of the planned words processed, to 0.1 %: that tenth of a percent
# is the step (the run is 1000 of them), so 100.0 % is step 1000 whatever the corpus size. Its LR decays linearly to 0
# over the same span, so the LR printed beside it is the schedule's value at that point.
_FASTTEXT = re.compile(rf"^Progress:\s*({NUM})%\s+words/sec/thread:\s*({NUM})\s+lr:\s*({NUM})\s+"
                       rf"(?:avg\.)?loss:\s*({NUM})")
FASTTEXT_STEPS = 1000  # 100 % in tenths of a percent


def parse_fasttext(line: str, st: State) -> Record | None:
    m = _FASTTEXT.match(line)
    if not m:
        return None
    progress = parse_number(m.group(1))
    if progress is None or not 0 <= progress <= 100:
        return None
    plan_steps(st, FASTTEXT_STEPS)
    metrics: dict[str, float] = {}
    _put(metrics, "loss", m.group(4))
    _put(metrics, "lr", m.group(3))
    _put(metrics, "words_per_sec_thread", m.group(2))
    return Record(round(progress * 10), metrics)


# CNTK (Microsoft Cognitive Toolkit; BrainScript's cntk.exe and the Python ProgressPrinter) prints the training
# criterion first on each minibatch line, then the evaluation nodes, each as "<node> = <mean> * <samples>":
# " Epoch[ 1 of 30]-Minibatch[ 501-1000]: ce = 1.#QNAN000 * 500; errs = 0.000% * 500; time = 0.9243s; ..."; CNTK 1.x
# wrote "SamplesSeen = 500; TrainLossPerSample =  5.87155566; EvalErr[0]PerSample = 0.276; ...". The epoch summary is
# "Finished Epoch[ 1 of 30]: [Training Set] TrainLossPerSample = 5.54; ...; AvgLearningRatePerSample = 0.0047" (2.x:
# "[Training] ce = 0.3 * 5000; ... learningRatePerSample = 0.01"; "[Validate]" for the cross-validation set), and each
# epoch opens with "Starting Epoch 1: learning rate per sample = 0.020000 ...". The Python API's ProgressPrinter writes
# the summary without the bracket: "Finished Epoch[936 of 300]: loss = 0.000055 * 512, metric = 0.00% * 512 0.662s".
# Minibatch ranges restart every epoch.
# On Windows the C runtime prints NaN as "1.#QNAN000" ("-1.#IND000") and infinity as "1.#INF000".
_MSVC_NONFINITE = r"[-+]?1\.#(?:QNAN|SNAN|IND|INF)\d*"
_CNTK_NUM = rf"(?:{_MSVC_NONFINITE}|{NUM})"
_CNTK_MB = re.compile(r"^(?:Epoch\[\s*(\d+) of \d+\]-)?Minibatch\[\s*\d+-\s*(\d+)(?:,\s*[\d.]+%)?\]:\s*(.*)$")
_CNTK_EPOCH = re.compile(r"^Finished Epoch\[\s*(\d+) of \d+\]:\s*(?:\[(Training Set|Training|Validate)\]\s*)?(.*)$")
_CNTK_START = re.compile(rf"^Starting Epoch (\d+): learning rate per sample = ({NUM})\b")
_CNTK_CRIT = re.compile(rf"(?<![\w\[\]])([A-Za-z_][\w\[\]]*)\s*=\s*({_CNTK_NUM})(%?)\s*\*\s*\d+")
_CNTK_V1 = re.compile(rf"(?<![\w\[\]])([A-Za-z][\w\[\]]*)\s*=\s*({_CNTK_NUM})")
# CNTK 1.x names: the per-sample training criterion, the evaluation error, the LR averaged over the epoch
_CNTK_V1_NAMES = {"TrainLossPerSample": "loss", "EvalErrPerSample": "errs", "EvalErr[0]PerSample": "errs",
                  "AvgLearningRatePerSample": "lr", "learningRatePerSample": "lr"}


def _cntk_number(raw: str) -> float | None:
    if "#" in raw:  # the MSVC spellings: only "#INF" is infinite, the rest are NaN
        return (-math.inf if raw.startswith("-") else math.inf) if "#INF" in raw else math.nan
    return parse_number(raw)


def _cntk_metrics(body: str) -> dict[str, float]:
    metrics: dict[str, float] = {}
    crit = _CNTK_CRIT.findall(body)
    for i, (name, raw, pct) in enumerate(crit):
        v = _cntk_number(raw)
        if v is not None:
            metrics["loss" if i == 0 else name] = v / 100.0 if pct else v
    for name, raw in _CNTK_V1.findall(body):
        key = _CNTK_V1_NAMES.get(name)
        v = _cntk_number(raw)
        if key is not None and v is not None and key not in metrics:
            metrics[key] = v
    return metrics


def parse_cntk(line: str, st: State) -> Record | None:
    m = _CNTK_MB.match(line)
    if m:
        metrics = _cntk_metrics(m.group(3))
        if "loss" not in metrics:
            return None
        ep, mb = int(m.group(1) or 1), int(m.group(2))
        # minibatches per epoch: the last range end logged in the previous epoch (the log prints every N)
        last = st.extra.get("cntk_last")
        if last is not None and ep != last[0]:
            st.extra["cntk_per_epoch"] = max(st.extra.get("cntk_per_epoch", 0), last[1])
        st.extra["cntk_last"] = (ep, mb)
        return Record((ep - 1) * st.extra.get("cntk_per_epoch", 0) + mb, metrics, epoch=ep)
    m = _CNTK_EPOCH.match(line)
    if m:
        metrics = _cntk_metrics(m.group(3))
        if not metrics:
            return None
        ep, is_eval = int(m.group(1)), m.group(2) == "Validate"
        if is_eval:
            metrics = {f"eval_{k}": v for k, v in metrics.items() if k != "lr"}
        # after minibatch lines the summary belongs to the last step seen; a log of summaries only counts epochs
        if "cntk_last" in st.extra:
            return Record(None, metrics, eval=is_eval, epoch=ep)
        return Record(ep, metrics, eval=is_eval, epoch=ep, from_epoch=True)
    m = _CNTK_START.match(line)
    if m:
        v = parse_number(m.group(2))
        return Record(None, {"lr": v}, epoch=int(m.group(1))) if v is not None else None
    return None


# EESEN (CTC speech recognition on Kaldi's tooling) logs from train-ctc-parallel every --report-step sequences:
# "VLOG[1] (train-ctc-parallel:EvalParallel():ctc-loss.cc:182) After 62000 sequences (33.1789Hr): Obj(log[Pzx]) =
# -8.45854   TokenAcc = 97.4986%". Obj is the mean log-likelihood log P(z|x) of the label sequences, so the CTC loss
# is its negative; -1e+30 is the floor of its log(0), i.e. a path probability that underflowed. The step is the
# number of sequences seen, the only counter the line has.
_EESEN = re.compile(
    rf"\bAfter (\d+) sequences \({NUM}Hr\):\s*Obj\(log\[Pzx\]\)\s*=\s*({NUM})\s+TokenAcc\s*=\s*({NUM})%"
)


def parse_eesen(line: str, st: State) -> Record | None:
    m = _EESEN.search(line)
    if not m:
        return None
    obj = parse_number(m.group(2))
    if obj is None:
        return None
    metrics = {"loss": -obj}
    acc = parse_number(m.group(3))
    if acc is not None:
        metrics["token_acc"] = acc / 100.0
    return Record(int(m.group(1)), metrics)


# PyTorch's "NLP From Scratch" tutorials (char-RNN classification and generation, seq2seq translation) and the many
# scripts copied from them print positional numbers with no names: "5000  5% (0m12s) 2.9460 Jigalev / Portuguese ✗
# (Russian)" (iter, progress, elapsed, average loss, one sample) and "0m 5s (5000 5%) 2.9460" or "1m 40s (- 7m 23s)
# (5000 6%) 2.8801" (elapsed [and left], then iter and progress, then the average loss). The decimal after the
# counter and its percentage is the loss; the sample's guess is one example, not an accuracy.
_TUTORIAL_ITER = re.compile(rf"^(\d+)\s+\d{{1,3}}%\s+\(\d+m\s?\d+s\)\s+({NUM})(?=\s|$)")
_TUTORIAL_TIME = re.compile(rf"^\d+m\s?\d+s\b[^()]*(?:\(-\s*\d+m\s?\d+s\)\s*)?\((\d+)\s+\d{{1,3}}%\)\s+({NUM})\s*$")


def parse_nlp_tutorial(line: str, st: State) -> Record | None:
    m = _TUTORIAL_ITER.match(line) or _TUTORIAL_TIME.match(line)
    if not m:
        return None
    v = parse_number(m.group(2))
    return Record(int(m.group(1)), {"loss": v}) if v is not None else None


# YOLOv5's results.txt (one row per epoch, no header): epoch/last, GPU memory, then "%10.4g" cells: train box, obj,
# cls and total loss, targets, image size, then precision, recall, mAP@0.5, a fourth metric (mAP@0.5:0.95 in YOLOv5,
# F1 in ultralytics/yolov3), and validation box, obj and cls loss. Names as Ultralytics' results.csv spells them.
_YOLO_ROW = re.compile(rf"^\s*(\d+)/(\d+)\s+[\d.]+[KMG]?((?:\s+{NUM}){{13}})\s*$")
_YOLO_COLS = ("train/box_loss", "train/obj_loss", "train/cls_loss", "loss", None, None, "metrics/precision",
              "metrics/recall", "metrics/mAP_0.5", None, "val/box_loss", "val/obj_loss", "val/cls_loss")


def parse_yolo_results(line: str, st: State) -> Record | None:
    m = _YOLO_ROW.match(line)
    if not m:
        return None
    metrics: dict[str, float] = {}
    for name, cell in zip(_YOLO_COLS, m.group(3).split(), strict=True):
        if name is not None:
            _put(metrics, name, cell)
    ep = int(m.group(1))
    return Record(ep, metrics, epoch=ep)


# Trax's supervised training loop (trax.supervised.training.Loop, its `_log_summary`): one metric a line,
# "Step    500: train WeightedCategoryCrossEntropy |  0.62914723", "Step    500: eval  WeightedCategoryAccuracy |
# 0.74062500", beside "Step    500: Ran 499 train steps in 5.77 secs" and "Step      1: Total number of trainable
# weights: 2327042" (no metric). The train line's metric is the train task's loss layer, the eval lines the eval
# task's metrics; the Loop names them by their layer (CrossEntropyLoss, WeightedCategoryCrossEntropy, L2Loss,
# WeightedCategoryAccuracy, SequenceAccuracy, ...), so a cross-entropy or "...Loss" layer is the loss and an accuracy
# layer the accuracy.
_TRAX = re.compile(rf"^Step\s+(\d+): (train|eval)\s+([A-Za-z]\w*)\s*\|\s*({NUM})\s*$")


def _trax_name(layer: str) -> str:
    low = layer.lower()
    if "crossentropy" in low or low.endswith("loss"):
        return "loss"
    if "accuracy" in low:
        return "accuracy"
    return re.sub(r"(?<!^)(?=[A-Z])", "_", layer).lower()  # "SequenceAccuracy"-like names as snake case


def parse_trax(line: str, st: State) -> Record | None:
    m = _TRAX.match(line)
    if not m:
        return None
    v = parse_number(m.group(4))
    if v is None:
        return None
    name = _trax_name(m.group(3))
    if m.group(2) == "eval":
        return Record(int(m.group(1)), {f"eval_{name}": v}, eval=True)
    return Record(int(m.group(1)), {name: v})


# nolearn's NeuralNet(verbose=1) prints one row an epoch under the header "epoch  train loss  valid loss  train/val
# [valid acc]  dur" (nolearn.lasagne.handlers.PrintLog, tabulate). People paste the rows without the header: "    241
# 1.62136       3.61951      0.44795  1.04s". Read as nolearn's only when the row proves it: its fourth number is
# the train/valid ratio of the second and third (PrintLog's own column) to its printed precision, the last cell is
# the epoch's duration in seconds, and the valid accuracy column is there only for a classifier. Once a row has
# proven it, rows whose losses are non-finite (the ratio then prints nan) keep the layout.
_NOLEARN_ROW = re.compile(rf"^\s*(\d+)\s+({NUM})\s+({NUM})\s+({NUM})(?:\s+({NUM}))?\s+{NUM}s\s*$")


def _nolearn_ratio_holds(train: float, valid: float, ratio: float) -> bool:
    if not (math.isfinite(train) and math.isfinite(valid) and math.isfinite(ratio)) or valid == 0:
        return False
    return abs(train / valid - ratio) <= 1e-5 + 1e-4 * abs(ratio)  # printed to 5-6 decimals


def parse_nolearn_rows(line: str, st: State) -> Record | None:
    m = _NOLEARN_ROW.match(line)
    if not m:
        return None
    train, valid, ratio = (parse_number(m.group(i)) for i in (2, 3, 4))
    if train is None or valid is None or ratio is None:
        return None
    if not _nolearn_ratio_holds(train, valid, ratio):
        if not st.extra.get("nolearn_rows") or all(math.isfinite(x) for x in (train, valid, ratio)):
            return None  # an unproven row, or finite numbers that are not nolearn's ratio: another table
    st.extra["nolearn_rows"] = True
    ep = int(m.group(1))
    metrics = {"loss": train, "eval_loss": valid}
    if m.group(5) is not None:
        _put(metrics, "eval_accuracy", m.group(5))
    return Record(ep, metrics, epoch=ep, from_epoch=True)


# The image-to-image GAN trainers' visualizer (pytorch-CycleGAN-and-pix2pix's loss_log.txt, pix2pixHD, SPADE, CUT
# and their forks): "(epoch: 3, iters: 400, time: 0.181, data: 0.002) D_A: 0.267 G_A: 0.371 cycle_A: 2.511 ...",
# newer versions with commas ("(epoch: 1, iters: 100, time: 0.109, data: 0.097) , D_A: 0.306, G_A: 0.446"). Every
# value after the prefix is a loss: the trainer prints its `get_current_losses()`, whose keys are the `loss_<name>`
# attributes with the prefix dropped, so the series keep that name (`loss_G_A`; the generator/discriminator pair is
# then recognised as an adversarial game, evidence/context.py). `iters` counts images within the epoch and restarts
# every epoch: the step is (epoch - 1) * images per epoch + iters, with the largest count seen so far standing in for
# the images per epoch (the line does not print it).
# Each training session appends to the same file under its own banner ("================ Training Loss (<date>)
# ================"). A session resumed with `--continue_train` counts its epochs from `--epoch_count`, 1 unless the
# user sets it, so its epochs can start again at 1 (tests/corpus/realworld/g15s35-pix2pix-facades-loss-log-resumed-run:
# epochs 1-139, then 1-81): read at its printed epochs, it would interleave with the earlier session's points. A
# session whose first point lies at or before the last one read continues the run after it, as parse_table does with
# a repeated header whose epoch goes back; a session that sets --epoch_count past the earlier one keeps its steps.
_GANVIS = re.compile(rf"^\(epoch: (\d+), iters: (\d+)(?:, time: {NUM})?(?:, data: {NUM})?\)\s*,?(.*)$")
_GANVIS_BANNER = re.compile(r"^=+ Training Loss \(.*\) =+$")
# "name: value" after a fixed prefix (the GAN visualizer's and BasicSR's loss prints)
_COLON_PAIR = re.compile(rf"(?<![\w.])([A-Za-z][\w]*): ({NUM})(?![\w.])")


def parse_gan_visualizer(line: str, st: State) -> Record | None:
    m = _GANVIS.match(line)
    if not m:
        if "Training Loss" in line and _GANVIS_BANNER.match(line.strip()):
            st.extra["ganvis_session"] = True  # a new session's banner: its first point may restart the count
        return None
    metrics: dict[str, float] = {}
    for name, val in _COLON_PAIR.findall(m.group(3)):
        _put(metrics, "loss_" + name, val)
    if not metrics:
        return None
    ep, it = int(m.group(1)), int(m.group(2))
    per = st.extra["ganvis_images"] = max(st.extra.get("ganvis_images", 0), it)
    step = max(ep - 1, 0) * per + it
    offset = st.extra.get("ganvis_offset", 0)
    last = st.extra.get("ganvis_last")
    if st.extra.pop("ganvis_session", False) and last is not None and step + offset <= last:
        offset = st.extra["ganvis_offset"] = last  # a resumed session whose epochs count from 1 again
    step += offset
    st.extra["ganvis_last"] = step
    return Record(step, metrics, epoch=ep)


# BasicSR's MessageLogger (and the restoration trainers built on it: Real-ESRGAN, GFPGAN, SwinIR/HAT training,
# traiNNer): "[<name>..][epoch: 14, iter: 135,000, lr:(2.000e-04,)] [eta: 3 days, 16:37:09, time (data): 0.863
# (0.002)] l_pix: 1.3308e-02", and its mmsr ancestor "<epoch:  1, iter:     100, lr:2.000e-04> l_pix: 6.0063e-02"
# (whose "<epoch: 86, iter: 107,000> psnr: 1.3831e+01" line, with no lr, is a validation result). The iteration is
# printed with thousands separators; lr is the first optimiser's (a tuple for several). The loss keys follow the
# library's `l_<name>` convention (`loss_dict['l_pix']`, `l_g_gan`, `l_d_real`): read back as `loss_<name>`, so that
# the generator/discriminator pair is known as an adversarial game (evidence/context.py); the discriminator's raw
# outputs (D_real, out_d_fake) keep their names.
_BASICSR = re.compile(r"(?:\]\[|<)epoch:\s*(\d+), iter:\s*([\d,]+)(?:, lr:\s*\(?([^)>\]]*)\)?)?[\]>]\s*"
                      r"(?:\[eta:[^\]]*\]\s*)?(.*)$")


def parse_basicsr(line: str, st: State) -> Record | None:
    m = _BASICSR.search(line)
    if not m:
        return None
    metrics: dict[str, float] = {}
    for name, val in _COLON_PAIR.findall(m.group(4)):
        _put(metrics, "loss_" + name[2:] if name.startswith("l_") and len(name) > 2 else name, val)
    if not metrics:
        return None
    step = int(m.group(2).replace(",", ""))
    if m.group(3) is None:  # mmsr's validation line: "<epoch: 86, iter: 107,000> psnr: ..."
        return Record(step, {"val_" + k: v for k, v in metrics.items()}, eval=True)
    lr = parse_number(m.group(3).split(",")[0].strip()) if m.group(3).strip() else None
    if lr is not None:
        metrics["lr"] = lr
    return Record(step, metrics, epoch=int(m.group(1)))


# Markdown tables as people paste them: "| epoch | train loss | val loss |", "| :--- | ---: |", "| 5 | 2.24 | 2.89 |".
# A header (names, one metric-like) counts only once the separator row under it is seen; a row then needs a number in
# every cell. The step is the first column when it is a step or epoch column, else the row's number.
_MD_SEP = re.compile(r"^\|?(?:\s*:?-{2,}:?\s*\|)+(?:\s*:?-{2,}:?\s*)?$")
_STEPISH = re.compile(r"^(?:epoch|epochs|step|steps|iter|iteration|it|batch|update|global[_ ]step)$", re.I)


def _md_cells(line: str) -> list[str] | None:
    if line.startswith("|") and line.endswith("|") and len(line) >= 3:
        return [c.strip() for c in line[1:-1].split("|")]
    # GitHub's tables may leave out the outer bars ("epoch | loss | val_loss" over "-- | -- | --"): a line with two
    # or more bars whose cells are all filled. It is a table row only under a header seen with its separator row.
    if line.count("|") >= 2 and not line.startswith("|") and not line.endswith("|"):
        cells = [c.strip() for c in line.split("|")]
        return cells if all(cells) else None
    return None


# The same tables drawn with box characters, as Rich prints them (`┃ Epoch ┃ Train Loss ┃` under a `┏━━┳━━┓` top,
# `┡━━╇━━┩` under the header, `│ 1 │ 2.41 │` rows, `├──┼──┤` between rows with show_lines, a `└──┴──┘` bottom):
# the bars are read as `|`, the rule under a header as the separator row, a rule between rows as nothing.
_BOX_BARS = str.maketrans({"│": "|", "┃": "|", "║": "|"})
_BOX_RULE = re.compile(r"^[\u2500-\u257f]+$")


def parse_md_table(line: str, st: State) -> Record | None:
    if _BOX_RULE.match(line):
        if st.extra.get("md_candidate"):
            line = "|---|"  # the rule under a header row
        elif st.extra.get("md_table") is not None and line[0] in "├╟┠":
            return None  # a rule between rows: the table goes on
        else:
            st.extra.pop("md_table", None)
            return None
    elif "│" in line or "┃" in line or "║" in line:
        line = line.translate(_BOX_BARS)
    if _MD_SEP.match(line):
        cand = st.extra.pop("md_candidate", None)
        group = st.extra.pop("md_group", None)
        if cand:
            st.extra["md_table"], st.extra["md_rows"] = _md_header(cand, None), 0
        elif group:
            st.extra["md_await_header"] = group  # the names come in the first row under the separator
        return None
    cells = _md_cells(line)
    if cells is None:
        st.extra.pop("md_table", None)  # a table ends at the first line that is not a row
        return None
    group = st.extra.pop("md_await_header", None)
    if group is not None and len(group) == len(cells) and _md_names(cells, metricy=True):
        st.extra["md_table"], st.extra["md_rows"] = _md_header(cells, group), 0
        return None
    header = st.extra.get("md_table")
    values = _md_values(header, cells) if header is not None and len(cells) == len(header) else None
    if values is None:
        st.extra.pop("md_table", None)
        if _md_names(cells, metricy=True):
            st.extra["md_candidate"] = cells
        elif _md_names(cells, metricy=False) and "" in cells:
            st.extra["md_group"] = _fill_groups(cells)
        return None
    st.extra["md_rows"] += 1
    return _header_row(header, values, st.extra["md_rows"])


# Side-by-side tables (apex's ImageNet example as pasted in its issues): a group row "| train | | | | | validate |
# | | |" above the separator, the names "| epoch | Top1 | Loss | | epoch | Top1 | Loss |" in the first row under it,
# an empty spacer column between the groups. A column takes its group's name as a prefix ("validate Loss"), the
# spacer and a repeated step column are no metric. Cells of names may be empty only as such spacers.
def _md_names(cells: list[str], *, metricy: bool) -> bool:
    names = [c for c in cells if c]
    if len(names) < 2 or not all(c[0].isalpha() for c in names):
        return False
    return any(_METRICY.search(c) for c in names) if metricy else True


def _fill_groups(cells: list[str]) -> list[str]:
    out, cur = [], ""
    for c in cells:
        cur = c or cur
        out.append(cur)
    return out


def _md_header(cells: list[str], group: list[str] | None) -> list[str | None]:
    header: list[str | None] = []
    lead = _STEPISH.match(cells[0]) is not None
    for i, c in enumerate(cells):
        if not c or (i > 0 and lead and _STEPISH.match(c)):
            header.append(None)  # a spacer, or a step column repeated for the second group
        elif group and group[i] and not (i == 0 and _STEPISH.match(c)):
            header.append(f"{group[i]} {c}")
        else:
            header.append(c)
    return header


# A cell that reads as a clock ("00:07", "1:02:33") is the wall time the row took, as fastai's progress table prints
# it in its `time` column (docs.fast.ai pages render that table as a Markdown table): no measurement of the model,
# so it is no metric, and it does not disqualify the row the way a word in a metric column does.
_MD_CLOCK = re.compile(r"^\d+:\d{2}(?::\d{2})?$")
# The Hugging Face Trainer writes "No log" where nothing was logged yet (its notebook progress table and the
# "Training results" table of a model card: "| No log | 1.0 | 459 | 0.3519 | 0.8627 |", the training loss not yet
# logged at the first evaluation): a missing value in that cell only; the row's other columns are still read.
_MD_NO_LOG = "no log"
# A step column that is not the first one (a model card's "| Training Loss | Epoch | Step | Validation Loss |"):
# the row's step is that column's integer, not the row's number.
_MD_STEP_COL = re.compile(r"^(?:step|steps|global[_ ]step)$", re.I)


def _md_values(header: list[str | None], cells: list[str]) -> list[float | None] | None:
    values: list[float | None] = []
    for name, c in zip(header, cells, strict=True):
        if _MD_CLOCK.match(c) or (name is not None and c.lower() == _MD_NO_LOG):
            values.append(None)
            continue
        v = parse_number(c) if c else None
        if name is not None and v is None:
            return None  # every named column needs a number
        if name is None and c and v is None:
            return None
        values.append(v if name is not None else None)
    return values


def _header_row(header: list[str] | list[str | None], values: list[float | None], row: int) -> Record | None:
    """A table row under its header of names: the first column is the step when it is a step or epoch counter
    holding an integer, else the row's number; an epoch column also places the row in its epoch. A column without
    a name (a spacer) is no metric."""
    first, head = values[0], header[0] or ""
    stepish = _STEPISH.match(head) is not None and first is not None and first.is_integer()
    if not stepish:  # a step column further right (a model card's "| Training Loss | Epoch | Step | ...")
        at = next((i for i, name in enumerate(header) if name and _MD_STEP_COL.match(name)), None)
        if at is not None and values[at] is not None and values[at].is_integer():
            first, head, stepish = values[at], header[at] or "", True
    metrics = {name: v for name, v in zip(header, values, strict=True) if v is not None and name}
    if stepish:
        metrics.pop(head, None)
    step = int(first) if stepish and first is not None else row
    is_epoch = head.lower().startswith("epoch") and stepish
    return Record(step, metrics, epoch=step if is_epoch else None) if metrics else None


# Tab-separated tables a script writes itself: a header of names (spaces allowed inside a name: "Learning Rate<TAB>
# Train Loss<TAB>Theta Loss<TAB>") over rows of numbers, one row per logging interval (TimeCycle's log.txt, csv-like
# loggers writing "\t"). The header counts when at least one name is a metric name and none is a number; a row needs
# a number in every cell and the header's cell count (a trailing tab is no cell). The step is the first column when
# it is a step or epoch column, else the row's number.
def _tab_cells(line: str) -> list[str] | None:
    if "\t" not in line:
        return None
    cells = [c.strip() for c in line.split("\t")]
    while cells and not cells[-1]:
        cells.pop()
    return cells if len(cells) >= 2 and all(cells) else None


def parse_tsv_table(line: str, st: State) -> Record | None:
    cells = _tab_cells(line)
    if cells is None:
        st.extra.pop("tsv_table", None)
        return None
    values = [parse_number(c) for c in cells]
    if all(v is None for v in values):
        if all(c[0].isalpha() for c in cells) and any(_METRICY.search(c) for c in cells):
            st.extra["tsv_table"], st.extra["tsv_rows"] = cells, 0
        else:
            st.extra.pop("tsv_table", None)
        return None
    header = st.extra.get("tsv_table")
    if header is None or len(cells) != len(header) or any(v is None for v in values):
        return None
    st.extra["tsv_rows"] += 1
    return _header_row(header, values, st.extra["tsv_rows"])


# Julia's `@show` in a Flux/Knet training loop: `@show i, loss(x, y)` prints "(i, loss(x, y)) = (1, 0.2960)", with
# " (tracked)" after the value under Tracker-era Flux; `@show loss(x, y)` before the loop prints the starting loss
# "loss(x, y) = 0.2001 (tracked)". The first tuple element is the step when its name is a counter; the second is the
# loss when its expression names one, else a metric under its own name.
_JL_TUPLE = re.compile(r"^\((\w+),\s*(.+?)\)\s*=\s*\((\d+),\s*(\S+?)(?:\s*\(tracked\))?\)$")
_JL_SHOW = re.compile(r"^([A-Za-z_]\w*(?:\(.*\))?)\s*=\s*(\S+?)(?:\s*\(tracked\))?$")
_JL_COUNTER = re.compile(r"^(?:i|e|n|k|t|ep|epoch|epochs|step|iter|iteration|it|batch)$", re.I)


def _jl_metric(expr: str) -> str | None:
    if "loss" in expr.lower():
        return "loss"
    return expr if re.fullmatch(r"[A-Za-z_]\w*", expr) and _METRICY.search(expr) else None


def parse_julia_show(line: str, st: State) -> Record | None:
    m = _JL_TUPLE.match(line)
    if m:
        name, value = _jl_metric(m.group(2)), parse_number(m.group(4))
        if _JL_COUNTER.match(m.group(1)) is None or name is None or value is None:
            return None
        st.extra["julia_steps"] = True
        return Record(int(m.group(3)), {name: value})
    m = _JL_SHOW.match(line)
    if m and "julia_steps" not in st.extra and "(" in m.group(1):
        name, value = _jl_metric(m.group(1)), parse_number(m.group(2))
        if name == "loss" and value is not None:
            return Record(0, {name: value})  # the loss printed before the loop's first step
    return None


# Key/value tables a logger prints once per iteration between dashed rules: stable-baselines3 and OpenAI baselines
# ("| rollout/ |  |", "|    ep_rew_mean | 1.67 |", "| time/ |  |", "|    total_timesteps | 6144 |"), Spinning Up
# ("|      AverageEpRet |  -1.23 |", "| TotalEnvInteracts |  4000 |"). A row with an empty value names the section of
# the rows under it ("train/" + "loss"), as does the first cell of a three-cell row ("| train | loss | 0.5 |", an
# empty first cell keeping the section above); the table is one record, read when its closing rule comes. Its step
# is the counter it prints: environment or global steps first, then iterations or updates, then the epoch. A table
# without any counter is a table of settings, not a log record, and is not read.
# a rule line: only rule characters, with a run of >= 3 dashes or equals signs. Two linear checks: the one pattern
# `^[-=+|]*[-=]{3,}[-=+|]*$` backtracked cubically on a long run of dashes ending in another character (4,000 dashes
# and a letter: over a minute)
_KV_RULE_CHARS = re.compile(r"[-=+|]+\n?")
_KV_RULE_RUN = re.compile(r"[-=]{3}")


def _kv_rule(line: str) -> bool:
    return _KV_RULE_CHARS.fullmatch(line) is not None and _KV_RULE_RUN.search(line) is not None
_KV_ROW = re.compile(r"^\|([^|]*)\|([^|]*)\|(?:([^|]*)\|)?$")
_KV_COUNTERS = (
    re.compile(r"^(?:global_?step|steps?|total_?steps|num_?steps|env_?steps|(?:total_?|num_?)?timesteps(?:_?total)?"
               r"|total_?env_?(?:steps|interacts))$", re.I),
    re.compile(r"^(?:iterations?|iters?|n_?updates|num_?updates|updates|nupdates)$", re.I),
    re.compile(r"^epochs?$", re.I),
)
_KV_OTHER_COUNTERS = re.compile(r"^(?:episodes|n_?episodes|time_?elapsed)$", re.I)
_KV_MAX_ROWS = 1000  # a longer "table" is no per-iteration record: dropped, so the state stays small


def parse_kv_table(line: str, st: State) -> Record | None:
    first = line[:1]
    if first not in "|-=+":
        st.extra.pop("kv", None)  # a table ends at the first line that is neither a row nor a rule
        return None
    table = st.extra.get("kv")
    row = _KV_ROW.match(line)
    if row is None:
        if not _kv_rule(line):
            st.extra.pop("kv", None)
            return None
        st.extra["kv"] = {"rows": [], "section": ""}  # a rule closes the table before it and opens the next one
        return _kv_record(table["rows"]) if table and table["rows"] else None
    if table is None:
        return None
    key, value = row.group(1).strip(), row.group(2).strip()
    if row.group(3) is not None:  # "| section | key | value |"
        if key:
            table["section"] = key.rstrip("/")
        key, value = value, row.group(3).strip()
    if not key:
        return None
    if not value:  # "| rollout/ |  |": the section of the rows below
        table["section"] = key.rstrip("/")
        return None
    v = parse_number(value)
    if v is None or not key[0].isalpha() and key[0] != "_":
        return None
    if len(table["rows"]) >= _KV_MAX_ROWS:
        st.extra.pop("kv", None)
        return None
    table["rows"].append((table["section"], key, v))
    return None


def _kv_record(rows: list[tuple[str, str, float]]) -> Record | None:
    counters: list[dict[str, float]] = [{} for _ in _KV_COUNTERS]
    metrics: dict[str, float] = {}
    for section, key, v in rows:
        kind = next((i for i, rx in enumerate(_KV_COUNTERS) if rx.match(key)), None)
        if kind is not None:
            counters[kind].setdefault(key, v)
        elif not _KV_OTHER_COUNTERS.match(key):
            metrics[f"{section}/{key}" if section else key] = v
    found = next((c for c in counters if c), None)
    if found is None or not metrics:
        return None
    step = next(iter(found.values()))
    epoch = next(iter(counters[2].values()), None)
    if not (math.isfinite(step) and (epoch is None or math.isfinite(epoch))):
        return None
    # a table of only evaluation sections ("eval/mean_reward" and the counters) is an evaluation record
    held_out = all(_ALREADY_HELD_OUT.match(name) for name in metrics)
    return Record(int(step), metrics, eval=held_out, epoch=int(epoch) if epoch is not None else None)



# Generic prints: "iter 100: loss 2.3", "Epoch: 0005 cost = 0.123", "step 100 | loss 2.3 | lr 1e-3",
# "Iter 860: Train loss 0.413, Learning Rate 1.000e-06" (mlx-lm), "step=10 loss=2.1 lr=0.001", "loss: 0.5, acc: 0.9".
# Between key and value "\s*[:=]\s*|\s+", not "\s*(?:[:=]\s*|\s+)": the same separators, but there "\s*" and "\s+"
# split one run of spaces every way, quadratic on a key, a long run of spaces and no number (docs/architecture.md).
_GEN_PAIR = re.compile(
    rf"(?<![\w./])([A-Za-z_][\w./@\-]*(?: {{1,2}}[A-Za-z_][\w./@\-]*){{0,2}}?)(?:\s*[:=]\s*|\s+)({NUM})"
    # "2021-03-16", "00:16": a date or a time, not a value; "1.2.3": a version. A period after the value that ends a
    # sentence ("Step: 2000. Mean Reward: 1.319. Std of Reward: 0.693.", ML-Agents' summaries; "Epochs 1. Current
    # error: 0.2997876704.", FANN's reports) closes the value: a space or the line's end follows it
    r"(?:%|ms|s|GiB|GB|MiB|MB)?(?![\w]|\.(?![ \t]|$)|:\d|-\d)"
)
STEP_KEYS = {"step", "iter", "iteration", "it", "global_step", "update", "num_updates", "batch", "global step",
             "steps", "iters", "train step", "optimizer step", "trainer/global_step", "_step",
             "total_train_updates",  # ParlAI's count of optimizer updates since the start (its `updates` is per report)
             # TF1 tutorial loops print their batch counter as "Minibatch: 050 | Cost: 0.693" (rasbt's
             # deeplearning-models notebooks): a position, never a metric of the line
             "minibatch", "mini-batch", "mini batch"}
EPOCH_KEYS = {"epoch", "ep", "epochs"}
# A generic line counts only when it names something metric-like; otherwise "Saving 3 files to disk" is a metric.
# "tok" is a throughput ("tok/s", "tokens_per_sec"), not the preprocessing word ("Tokenizing Time=0.05s" in GluonNLP's
# examples). The task metrics of whole fields are named by their abbreviation alone ("Dev: UAS 95.9% LAS 94.8%" for
# dependency parsing, "BLEU", "WER"/"CER" for speech, "F1", "AUC", "IoU"/"Dice" for segmentation, "PSNR"/"SSIM" for
# restoration, "ROUGE" for summarisation): as whole words only, so that "mapping" or "dice_roll" stay out.
_METRICY = re.compile(r"loss|cost|lr\b|learning|grad|norm|acc|ppl|perplexity|score|reward|error|mfu|tps|tok(?!eni[sz])"
                      # a cross-entropy named by its layer ("WeightedCategoryCrossEntropy", Trax's Loop) is a loss
                      r"|crossentropy|(?<![a-z])xent(?![a-z])"
                      r"|(?<![a-z])err(?![a-z])"  # "err-top1", "top5_err": an error rate
                      r"|(?<![a-z])(?:f1|uas|las|bleu|wer|cer|auc|iou|miou|dice|psnr|ssim|rouge(?:lsum|l|\d)?)(?![a-z])"
                      # regression and likelihood metrics as boosting libraries and R/MXNet loops name them
                      # ("train-rmse:21.6", "valid_1's mae: 3.0", "logloss"), and an RL loop's episode return ("Mean
                      # Return: 18.0"); a process's "return code" is none
                      r"|(?<![a-z])(?:r?mse|mae|mape|logloss|nll)(?![a-z])|(?<![a-z])returns?(?![a-z])(?!\s*code)",
                      re.I)
# A loss printed as its components under one label, each a bare "name value" with no ':' or '=' of its own (the YOLO
# v2/v3 PyTorch ports: marvis/pytorch-yolo2 and its forks print "loss: x 2.349184, y 2.490905, w 4.355775, h
# 3.614321, conf 39.847290, cls 65.046005, total 117.703484", eriklindernoren/PyTorch-YOLOv3 "[Losses: x 0.155323,
# ..., cls 2.145512, total 8.272396, recall: 0.00000]"; docs/references.md, Log formats). The names inside the group
# are parts of that loss: each reads as "<name>_loss", so "total" is the total loss (names.py: total_loss -> loss)
# and the line names what it measures. Two pairs at least make a group; a lone "loss: x 3.1" stays as it was.
_LOSS_GROUP = re.compile(rf"\b(?:losses|loss)\s*:\s*((?:[A-Za-z_]\w*\s+{NUM}\s*,\s*)+[A-Za-z_]\w*\s+{NUM})(?![\w.])",
                         re.I)
_LOSS_GROUP_ITEM = re.compile(rf"([A-Za-z_]\w*)\s+({NUM})")


def loss_group(line: str) -> str:
    """The line with a labelled group of bare loss components rewritten as "<name>_loss: value" pairs."""
    m = _LOSS_GROUP.search(line) if "oss" in line else None
    if m is None:
        return line
    inner = _LOSS_GROUP_ITEM.sub(lambda g: f"{g.group(1)}_loss: {g.group(2)}", m.group(1))
    return line[:m.start()] + inner + line[m.end():]


# "Epoch [1/10], Step [100/600], Loss: 0.2" (the classic tutorial loop), "epoch 3/10 step 50/100 ...",
# "[1,  2000] loss: 2.182" (the CIFAR tutorial), "[10]\ttrain-rmse:0.3" (xgboost).
_FRACTION = re.compile(r"\b(epoch|step|iter|iteration|batch)\s*[:#]?\s*[\[(]?\s*(\d+)\s*/\s*(\d+)\s*[\])]?", re.I)
# The count before its unit: "| epoch   1 |   200/ 2983 batches | lr 20.00 | ms/batch  7.59 | loss 12.28" (PyTorch's
# word_language_model example, copied into many language-model scripts), "120/5000 steps", "40/100 iterations": the
# same position as "batch 200/2983", with the unit after the numbers. Read as a step only when the unit follows the
# fraction; a bare "2001 / 60000" (samples seen, "Training with 2001 / 60000") stays no counter.
_FRACTION_UNIT_AFTER = re.compile(
    r"(?<![\w./])(\d{1,12})[ \t]*/[ \t]*(\d{1,12})[ \t]+(batch|step|iter|iteration)(?:e?s)?\b", re.I)
_BRACKET_PAIR = re.compile(r"^\[\s*(\d+),\s*(\d+)\]")
# The epoch and the batch within it as two bracketed counters, "Epoch: [83][200/10010]" (the PyTorch ImageNet
# example's ProgressMeter and the many scripts that copy it), "Epoch: [0/40][ 100/2052]", "Epoch: [1]  [7500/9465]"
# (torchvision's MetricLogger): written as "epoch: 83 batch 200/10010", the fraction rule then counts the step
_EPOCH_BRACKETS = re.compile(
    r"\b(epoch):?[ \t]*\[[ \t]*(\d{1,9})[ \t]*(/[ \t]*\d{1,9}[ \t]*)?\]"
    r"[ \t]*\[[ \t]*(\d{1,12})[ \t]*/[ \t]*(\d{1,12})[ \t]*\]",
    re.I)


def _epoch_brackets(m: re.Match) -> str:
    total = m.group(3).replace(" ", "").replace("\t", "") if m.group(3) else ""
    return f"{m.group(1)} {m.group(2)}{total} batch {m.group(4)}/{m.group(5)} "
# a counter name glued to its count in brackets, "Epoch[3]", "Iter[120]" (PyTorch-Ignite's README and examples), or
# one space apart, "Epoch[0] Batch [199]" (MXNet's Speedometer, gluon-cv's training scripts: a batch counter that
# restarts every epoch)
_BRACKETED_COUNTER = re.compile(r"\b(epoch|iter|iteration|step|batch) ?\[(\d{1,12})\]", re.I)
_BRACKETED_STEP = re.compile(r"\b(?:iter|iteration|step|batch) ?\[\d{1,12}\]", re.I)
_BRACKET_STEP = re.compile(r"^\[(\d+)\]\s")


# A counter written with a number sign ("Epoch #3:", "Iter #120") and a bare counter column before a pipe
# ("120 | loss 4.84 | ..."): both read as the step or epoch they print. The column needs a name-value pair after the
# pipe, so a table row of numbers is not taken for it.
_NUMBER_SIGN = re.compile(r"\b(epoch|step|iter|iteration|episode)\s*#\s*(\d+)\b", re.I)
# The top-k idiom written with a space, "Top 1: 0.34", "top 5 acc: 0.91" (google-research/simclr's distillation colab
# prints "[Iter 3] Loss: 6.06 Top 1: 0.34"): the k is part of the metric's name, not its value. Only before a name
# separator and a number; "Top 1" glued to "Top1" so that the pair rules read "Top1: 0.34", not "Top: 1"
_TOPK_SPACED = re.compile(rf"(?<![\w./])(top|Top|TOP) ([1-9]\d?)(?=(?: [A-Za-z_]\w*)?\s*[:=]\s*{NUM})")
_LEAD_COUNTER = re.compile(r"^(\d{1,12})\s+\|\s+(?=[A-Za-z_][\w/.]*\s*[:=]?\s*[-+]?\d)")
# A progress bar's count before its bar, "  230/10000 [=>............] - ETA: 12s - loss: 7.4283 - acc: 0.5391" (Keras'
# Progbar and the ports that draw it, tests/corpus/realworld/g25-geeksmental-dsse-relu-output-bce-acc-0.5): the
# position within the epoch an "Epoch 2/10" line of its own announced, read as "epoch 2 batch 230/10000". Without
# it each bar line had no step and the epoch's lines fell on one point (the last kept). Only under such an epoch line:
# a count that restarts every epoch is no step of its own.
_BAR_COUNT = re.compile(r"^[ \t]*(\d{1,12})/(\d{1,12})[ \t]+\[[=>.]{1,200}\]")


# MosaicML Composer's console logger (llm-foundry): a header "[batch=12/500]:" (after "[epoch=1]" in some versions)
# alone on its line, then one indented "Train <name>: <value>" line per metric; the batch is the global batch count
# (Composer's time/batch), not a position within the epoch
_COMPOSER_HEADER = re.compile(r"^(?:\[epoch=(\d+)\])?\[batch=(\d+)/\d+\]:?$")


# A progress bar's postfix whose pairs are joined by " - " ("46/46 [00:12<00:00,  3.59it/s, dice_loss - 0.2156,
# iou_score - 0.6585]", segmentation_models.pytorch's epoch runner): inside the postfix, after the bar's rate, each
# "name - value" is a pair. Only a name right after the rate or a comma, and a value that ends the item, so a range
# or a negative number elsewhere on the line is left alone.
_BAR_DASH_PAIR = re.compile(rf"((?:it/s|s/it|,)[ \t]*)([A-Za-z_][\w@]{{0,60}}) - ({NUM})(?=[ \t]*[,\]]|[ \t]*$)")
# A metric name in braces before its value, "iter=199 {Training loss}=1.5021580457687378" (NNabla's monitors): the
# name without its braces, so the pair scan reads it as any "name=value"
_BRACED_NAME = re.compile(r"\{([A-Za-z_][\w ]{0,40})\}(?=\s*[:=])")
_TENSOR_REPR = re.compile(rf"tensor\(\[?\s*({NUM})\]?[^)]*\)")  # printing a tensor: "loss=tensor(2.3456, device=...)"
# A one-element array printed as the value (PaddlePaddle fetches numpy arrays: "loss: [10.000229]"). Arrays of
# several values (per-device losses) stay unread: which element is the run's loss is not for us to choose.
_ONE_ELEMENT = re.compile(rf"([:=]\s*)\[\s*({NUM})\s*\](?!\s*[\[\d])")
# Keys that name a process, not a measurement ("Train: Rank: 0, epoch: 1, step: 5310, ..."; the training session
# a resumed run counts, "[session 1][epoch  1][iter    0/  88] loss: 4.7430", jwyang/faster-rcnn.pytorch).
# "every" names an interval, never a measurement: "Loss: nan [28.90s every  120 data]" (a timing note: the seconds
# per 120 samples), "log every 50 steps". "fold" and "seed" name which training of a cross-validation (and of a
# multi-seed average) a line belongs to ("seed: 0, FOLD: 1, EPOCH: 10, train_loss: ..."; _cv_fold).
# a counter inside the epoch named by gluing "epoch" to its unit ("epochiter: 32/139|| Totel iter 310", lxztju's
# pytorch_classification): a position, no metric, and not the global step the line prints beside it
_IN_EPOCH_COUNTER = re.compile(r"^(?:epoch|ep)_?(?:iter|iteration|step|batch)s?$")
_GEN_NOT_METRIC = ID_KEYS | {"session", "every"}
# a source location "train.py:42" (Rich's RichHandler prints the logging call's file and line at the right edge of
# every record; loguru's "__main__:train:42" has no dot): a line number, not a metric named after a file
_SOURCE_FILE = re.compile(r"\.(?:py|pyx|ipynb|cc|cpp|cxx|c|h|hpp|cu|rs|go|java|js|ts|lua|sh)$", re.I)
# A count of steps the script was set up with, as the HF Trainer / transformers no_trainer banner prints it ("Gradient
# Accumulation steps = 2", "Total optimization steps = 300"): configuration, not a metric series
_SETTING_COUNT = re.compile(r"^(?:gradient accumulation|total optimization|warmup) steps$")
# A Python dict of metrics printed as the report (ParlAI's "[ time:4.0s total_exs:2114 epochs:4.23 ] {'exs': 1134,
# 'loss': 0.949, 'ppl': 2.583, ..., 'total_train_updates': 151}", a script's `print(metrics)`): its quoted keys read as
# bare ones. Only where a key names a measurement of the model (a loss, an accuracy, a perplexity, a score): a printed
# settings dict ({'lr': 0.001, 'batch_size': 32}) stays unread, as configuration does.
_QUOTED_KEY = re.compile(r"['\"]([A-Za-z_][\w./@-]*)['\"]\s*:")
_QUOTED_METRIC_KEY = re.compile(r"['\"][\w./@-]*(?:loss|acc|ppl|perplexity|score|reward|error)[\w./@-]*['\"]\s*:",
                                re.I)
# A settings dict names a metric word too ("Hyperparameters: {'checkpoint_every_steps': 1000, ...,
# 'log_loss_every_steps': 100, 'seed': 42, 'warmup_epochs': 1}", CLU's logging writer; fairseq-hydra's config dump
# with 'best_checkpoint_metric': 'wer'). What gives it away is a value no metric report holds: True, False, None or a
# word in quotes ('cosine', 'spherical_mnist/rotated'); a report's values are numbers, quoted or not ('0.2141',
# 'nan'). Its pairs stay unread, as any printed configuration's do: read, they put the settings at the first step as
# one-point series and an "LR" of 0.001 before a warmup that starts at 5e-05.
_SETTING_VALUE = re.compile(r"['\"][\w./@-]+['\"]\s*:\s*(?:(True|False|None)\b|'([^']*)')")


def settings_dict(line: str) -> bool:
    """Whether a printed dict holds a value no metric report holds (a bool, None, a word in quotes)."""
    for m in _SETTING_VALUE.finditer(line):
        if m.group(1) or parse_number(m.group(2).strip()) is None:
            return True
    return False
# Durations are the clock, not the training: an ETA ("eta: 31", InsightFace's "Required: 31 hours"), the time left or
# spent ("time left", "remaining", "elapsed", "time cost: 1194.5" per epoch). Their value follows the wall clock and
# the run's length, so as a series they would read as a metric that "falls" or "climbs" with no meaning for the
# model. A key is a duration when one of its words says so; a value is one when a time unit word follows it ("31
# hours", "12 min", "519s", "0.25 sec"). A time and a rate of the machine are the clock too, in the generic fallback
# (clock_key): a key with the word "time" ("time: 519s" per epoch, "data_time", "Batch Time"), a speed ("Speed 4802.20
# samples/sec", "speed: 1.2 it/s", "fps"), a throughput ("samples/sec", "img/s", "examples per second"). They follow
# the hardware, the data loader and what else shares the machine, not what the model learns; no detector reads one,
# and every detector that scans all series (a non-finite value, a rise, a plateau) would read a slower epoch as a
# symptom. The one rate the project names, tokens per second (names.py: "tok/sec" -> tokens_per_s), stays.
# "dt" is the time one iteration took, as Karpathy's minGPT ("iter_dt 78.12ms; iter 10: ...") and build-nanogpt
# ("step 10 | loss: 6.1 | ... | dt: 412.3ms") name it: the clock, like the ETA
_DURATION_WORDS = {"eta", "required", "remaining", "elapsed", "left", "duration", "took", "dt"}  # "Took 88.23 sec"
# (the one- and two-letter units in lower case only, and not before a "-": "Loss:1.06 S-loss:0.96" names a metric)
_TIME_UNIT = re.compile(r"(?<!\s)\s*(?:(?i:hours?|hrs?|minutes?|mins?|days?|seconds?|secs?)|h|s|ms)(?![\w/-]|\s*[=:])")


_KEY_WORD_SEP = re.compile(r"[\s_/.-]+")  # compiled once: duration_key runs for every pair of every line


def _clock_t(m: re.Match[str]) -> bool:
    """A bare `t` whose value carries seconds ("Epoch 01/20 \t lr=1.0e-03\t t=25s \tloss=0.870", the epoch's wall
    time in a Kaggle solution's print, realworld theoviel-*): the clock, as "dt" is. A bare `t` without a unit is
    left alone."""
    if m.group(1).strip() not in ("t", "T"):
        return False
    return m.group(0)[m.end(2) - m.start(0):].lstrip().startswith(("s", "ms", "sec"))


def duration_key(key: str) -> bool:
    """Whether a printed key names a duration (an ETA, the time left or spent), never a metric."""
    words = set(_KEY_WORD_SEP.split(key.lower()))
    return bool(words & _DURATION_WORDS) or ("time" in words and "cost" in words)


_CLOCK_WORDS = {"time", "runtime", "speed", "fps", "throughput", "sec", "secs", "seconds"}
# a rate per second: "samples/sec", "img/s", "it/s", "examples_per_second", "steps per sec"
_PER_SECOND = re.compile(r"(?:/|(?<![a-z])per[ _-]?)(?:s|sec|second)(?![a-z])")


def clock_key(key: str) -> bool:
    """Whether a printed key names a time or a rate of the machine (see above), never a metric of the model."""
    low = key.lower()
    if not (set(_KEY_WORD_SEP.split(low)) & _CLOCK_WORDS or _PER_SECOND.search(low)):
        return False
    return canonical(key) != "tokens_per_s"
# (an assignment's right side opens with a name, a call, a bracket or a quote; a "(" right after a printed number and
# its "=" is a labelled sum, "train loss = 0.47162 = (mf)0.47137 + (embed)0.00025" (Microsoft Recommenders' LightGCN
# epoch line), no code)
_CODE = re.compile(r"^\s*(?:def|class|import|from|return|if|elif|else|for|while|with|try|except|assert|raise|@)\b"
                   r"|\bself\.|\s=\s*(?!(?:nan|NaN|inf|Inf|Infinity|None|N/A)\b)"
                   r"(?:[A-Za-z_\[{'\"]|(?<!\d =)(?<!\d = )(?<!\d=)(?<!\d= )\()|^\s*#"
                   r"|:\s*(?:int|float|str|bool)\s*=|(?<![=<>!])==(?![=>])|\+=|-=")
# An epoch and its inner counter glued by "_" ("Epoch: 4_Iter:8", a custom print): split into the spaced form the
# pair regex reads ("Epoch: 4 Iter:8"). Only after an epoch number, so metric names with digits stay whole.
_GLUED_COUNTER = re.compile(r"(\bepoch\s*[:=]?\s*\d+)_(?=(?:iter|iteration|step|batch)\s*[:=]?\s*\d)", re.I)
# "step: 100", "Epoch 3:", "Epoch 3/10" on a line of their own: the metric lines that follow belong to that step. The
# announcement a trainer prints before an epoch counts too ("STARTING Epoch 0009" in DeepSpeech, "Going into epoch 4"
# in SpeechBrain, "Starting epoch 3", "Start of epoch 2"): an epoch it names is also the epoch of those lines, so an
# excerpt that begins in epoch 9 is known not to begin at the run's start.
_ONLY_STEP = re.compile(r"^(?:[a-z_]\w*(?:\.[a-z_]\w*)+\s+-\s+)?"  # a Python logger's "%(name)s - " before it
                        # or its "[%(name)s:%(lineno)d, rank=N] " (OLMo's "[olmo.train:816, rank=0] [step=1/739328]",
                        # whose metrics follow on indented lines of their own)
                        r"(?:\[[a-z_][\w.]*:\d+(?:,\s*rank=\d+)?\]\s+)?"
                        r"\W*(?:(?:start(?:ing)?|begin(?:ning)?|going\s+into|entering)\s+(?:of\s+)?)?"
                        # "Epoch 3/10", and "Epoch 3 out of 500" (GluonNLP's parsing example, many loops)
                        r"(global[_ ]step|step|iter|iteration|epoch)\W+(\d+)(?:\s*(?:/|(?:out\s+)?of)\s*\d+)?\W*$",
                        re.I)
POSITION_ONLY = _ONLY_STEP  # read by the reader too (_nan_guard.step_marker: where a NaN guard line goes)


# Warning and error lines carry numbers ("Attempted loss scale: 65536 ... Reducing hysteresis to 1") that are not
# metrics: the catalogue owns them. An exception name is followed by a colon ("ValueError: 3 is not ..."); a metric
# named like one is followed by its value ("AngleError 27.60").
# A line that opens with "Error" is a message ("Error: 3 files missing"), unless the word is a metric's name: its
# value closes the line or another "name: value" pair follows ("Error:0.3025 Prediction:0.25", the squared error a
# one-unit gradient-descent loop prints after each update, Grokking Deep Learning ch. 4-6, tests/corpus/realworld/
# g7-grokking-dl-ch4-no-alpha-input-2-error-diverges). The lookahead is anchored at the line's start and each of its
# runs is bounded by what follows it, so the check stays linear.
_GEN_SKIP = re.compile(
    r"overflow|OVERFLOW|[Ww]arning|WARNING|\b[A-Z]\w*Error\b(?!\s+[-+]?(?:\d|\.\d|nan\b|inf\b))"
    rf"|^Error\b(?![ \t]*[:=][ \t]*{NUM}(?:[ \t]*$|[ \t,;|]+[A-Za-z_]\w{{0,40}}[ \t]*[:=][ \t]*[-+.\d]))|ERROR"
    r"|Exception|Traceback|Skipping"
)


# Sentences instead of pairs (TF1 tutorials and the scripts that copy them): "After 1001 training step(s), loss on
# training batch is 0.2329.", "loss is inf, stopping training at step 48". The step phrase becomes "step=1001" and
# "<metric> on <split> batch is <value>" becomes "loss=0.2329" (or "val_loss=", "test_loss=" for a held-out split), so
# that the pair scan reads them as it reads any "key=value".
_STEP_PHRASE = re.compile(
    r"\b(?:after|at)\s+(?:(\d+)\s+(?:(?:training|train|global|optimi[sz]ation|gradient)\s+)?"
    r"(step|iteration|iter|update|batch|epoch)(?:\(s\)|s|es)?"
    r"|(step|iteration|iter|update|batch|epoch)\s+(\d+))\b", re.I)  # "after 1001 training step(s)", "at step 48"
_IS_PHRASE = re.compile(
    r"\b(?:(train|training|valid|validation|val|eval|evaluation|test|testing|dev)\s+)?([A-Za-z][\w-]*)"
    rf"(?:\s+on\s+(?:the\s+)?(\w+)(?:\s+(?:batch|set|data|dataset|split|examples))?)?"
    # "is 0.23", and "is : 0.677" / "is: 0.5" (caffe2 example scripts: "Overall validation accuracy is : 0.677"), "is
    # ==> -1020.8" (an arrow after the verb: keras-io's DDPG example, "Episode * 0 * Avg Reward is ==> -1020.82")
    rf"\s+(?:is|was|equals)(?:\s*(?::|={{1,3}}>|-{{1,3}}>))?\s+({NUM})\.?(?=[\s,;]|$)", re.I)
# "<metric> of/for <whom> [is] : <value>": "The accuracy for the model is : 0.156", "The loss of the training :
# 2.43" (caffe2 example scripts, one metric per line under an "Iteration : N" line). Only when what is measured is the
# model, the network or a split (never "accuracy for class cat: 0.8", a per-class figure that would join the overall
# series); a held-out split names the series with its prefix, as _IS_PHRASE does.
_OF_PHRASE = re.compile(
    r"\b([A-Za-z][\w-]*)\s+(?:of|for|on)\s+(?:(?:the|thee|this|our|a)\s+)?"
    r"(model|network|net|train|training|valid|validation|val|eval|evaluation|test|testing|dev)"
    rf"(?:\s+(?:batch|set|data|dataset|split))?(?:\s+(?:is|was))?\s*[:=]\s*({NUM})(?=[\s,;%]|$)", re.I)
_TRAIN_WORDS = {"train", "training"}
_HELD_OUT_PREFIX = {"valid": "val_", "validation": "val_", "val": "val_", "eval": "val_", "evaluation": "val_",
                    "dev": "val_", "test": "test_", "testing": "test_"}
_HELD_OUT_SPLITS = "|".join(sorted(_HELD_OUT_PREFIX, key=len, reverse=True))


def _step_phrase(m: re.Match) -> str:
    unit, n = (m.group(2), m.group(1)) if m.group(1) else (m.group(3), m.group(4))
    return f"; {'epoch' if unit.lower() == 'epoch' else 'step'}={n}"  # "; ": no word before it joins the name


def _of_phrase(m: re.Match) -> str:
    word, whom = m.group(1), m.group(2).lower()
    if not _METRICY.search(word):
        return m.group(0)  # "Number of the training: 3": no measurement named, left as printed
    return f"; {_HELD_OUT_PREFIX.get(whom, '')}{word}={m.group(3)} "


def _is_phrase(m: re.Match) -> str:
    word, split = m.group(2), (m.group(1) or m.group(3) or "").lower()
    if not _METRICY.search(word):
        return m.group(0)  # "the model is 3": no measurement named, left as printed
    # "; " ends the words before it, which would otherwise join the name ("the validation loss is 0.4")
    return f"; {_HELD_OUT_PREFIX.get(split, '')}{word}={m.group(4)} "


# The metric named before the step phrase and its value after a colon: "Cost after iteration 1000: 0.6931" and
# "Cost after epoch 0: 0.690736" (the deeplearning.ai course notebooks' `print_cost` lines, copied into countless
# numpy loops). Left to the step phrase alone, the name would be cut from its value ("Cost ; step=1000: 0.69"); the
# whole sentence becomes "step=1000; Cost=0.69" instead. Only a name the metric words know (cost, loss, accuracy ...)
# is taken, so "Saved after epoch 3: 12 files" stays as printed. "for" reads the same, with a colon after the unit
# and the value as a one-element list: "loss for step: 622 = [-0.9068]" (brain-segmentation-pytorch's per-step
# print); read as a pair, the step number became the loss. The one two-word name taken is "learning rate": the same
# notebooks print "learning rate after epoch 1000: 0.000100" under each cost line of their decay exercise, and with
# one word ("rate", which names no measurement) the schedule was left unread.
_NAME_AFTER_STEP = re.compile(
    rf"\b(learning\s+rate|[A-Za-z][\w-]*)\s+(?:after|at|for)\s+(step|iteration|iter|update|batch|epoch)(?:\s*:\s*|\s+)"
    rf"(\d+)\s*[:=]\s*"
    rf"(?:\[\s*({NUM})\s*\]|({NUM}))(?=[\s,;]|$)", re.I)


def _name_after_step(m: re.Match) -> str:
    if not _METRICY.search(m.group(1)):
        return m.group(0)
    unit = "epoch" if m.group(2).lower() == "epoch" else "step"
    name = re.sub(r"\s+", "_", m.group(1))  # "learning rate" -> learning_rate, a name the pair scan reads whole
    return f"; {unit}={m.group(3)}; {name}={m.group(4) or m.group(5)} "


# A split named by a heading line of its own, the metric on the next line: "On the training set:" / "Accuracy: 0.948"
# then "On the test set:" / "Accuracy: 0.915" (the deeplearning.ai course notebooks' `predict` prints). Without it the
# test accuracy lands on the training accuracy's step under the same name and replaces it.
_SPLIT_HEADING = re.compile(
    r"^(?:on|for)\s+(?:the\s+)?(train|training|valid|validation|val|dev|test|testing)\s+(?:set|data|dataset|split)\s*:?\s*$",
    re.I)


# One name for two splits, their values in the same order: "Acc(train/val): 41.33/49.75, Loss(train/val) 1.50/1.39"
# (a course notebook's `print('Epoch {}, Acc(train/val): {:2.2f}/{:2.2f}, Loss(train/val) {:2.2f}/{:2.2f}'...)`),
# "loss (train/test): 0.5 / 0.6". Written out as two pairs, the training value under the name and the held-out one
# under the split's prefix, so neither value is lost and the held-out one never joins the training series.
_SPLIT_PAIR = re.compile(
    rf"\b([A-Za-z][\w-]*)\s*\(\s*(?:train|training)\s*/\s*({_HELD_OUT_SPLITS})\s*\)\s*[:=]?\s*({NUM})\s*/\s*({NUM})"
    r"(?=[\s,;.]|$)", re.I)


def _two_splits(whole: str, word: str, split: str, train: str, held: str) -> str:
    """A training value under the name and the held-out one under the split's prefix (a non-metric name left as is)."""
    if not _METRICY.search(word):
        return whole
    return f"; {word}={train}; {_HELD_OUT_PREFIX[split.lower()]}{word}={held} "


def _split_pair(m: re.Match) -> str:
    return _two_splits(m.group(0), m.group(1), m.group(2), m.group(3), m.group(4))


# The same with the splits before the name: "Train/Valid ACC: 0.152/0.145" (rasbt's deeplearning-models TF1
# notebooks' epoch line). Read as one pair it put the training value into the held-out series.
_SPLITS_THEN_NAME = re.compile(
    rf"\b(?:train|training)\s*/\s*({_HELD_OUT_SPLITS})\s+([A-Za-z][\w-]*)\s*[:=]\s*({NUM})\s*/\s*({NUM})"
    r"(?=[\s,;|]|$)", re.I)


def _splits_then_name(m: re.Match) -> str:
    return _two_splits(m.group(0), m.group(2), m.group(1), m.group(3), m.group(4))


# An accuracy printed as a split word and a percentage alone: "Epoch: 001/100 | Train: 95.37% | Validation: 81.92%"
# (rasbt's deeplearning-models notebooks print their compute_accuracy results so). A share of a split with no other
# name is its accuracy; written out as "<split>_accuracy" so the pair scan names it. Only a percentage with decimals
# and not glued to a bar ("Train: 27%|###| 95/351" is tqdm's progress, which prints whole percents before a "|").
_SPLIT_PERCENT = re.compile(
    r"(?<![\w/.-])(train|training|valid|validation|val|test|testing|dev)\s*:\s*(\d{1,3}\.\d+)\s*%(?!\s*\|\S)", re.I)


def _split_percent(m: re.Match) -> str:
    split = m.group(1).lower()
    return f"{'train_' if split in _TRAIN_WORDS else _HELD_OUT_PREFIX[split]}accuracy: {m.group(2)}%"


# "Best Validation (Ep. 097): 82.10%" beside the epoch's own figures (rasbt's notebooks): the running maximum and the
# epoch it was reached at, no measurement of this epoch (and its "Ep. 097" would read as a metric). Dropped before
# the pair scan; only with the parenthesised epoch or step that names where the best was reached.
_BEST_AT_COUNTER = re.compile(
    rf"\bbest\b[^|,;()]*\(\s*(?:ep|epoch|step|iter|it)\.?\s*:?\s*\d+\s*\)\s*[:=]?\s*(?:{NUM})\s*%?", re.I)


def _sentences(line: str) -> str:
    if " of " in line or " for " in line or " on " in line:
        line = _OF_PHRASE.sub(_of_phrase, line)
    if " is " in line or " was " in line or " equals " in line:
        line = _IS_PHRASE.sub(_is_phrase, line)
    if "fter " in line or "at " in line or "At " in line or "AT " in line or " for " in line:  # most lines have none
        line = _NAME_AFTER_STEP.sub(_name_after_step, line)
        line = _STEP_PHRASE.sub(_step_phrase, line)
    return line


# Phase markers: the metrics after "(valid)", "[test]" or "validation:" (a marker word, a colon, then a name, not a
# number) are measured on held-out data, those after "(train)" or "training:" on the training data, up to the next
# marker ("1/4 * Epoch 1 (valid): ... loss=2.339" in Catalyst, "[Epoch 0] validation: err-top1=0.93" in gluon-cv,
# "train: loss 0.5 valid: loss 0.6"). A held-out metric is named with the split's prefix, so it never joins the
# training series of the same name.
_PHASE_WORDS = r"train|training|valid|validation|val|eval|evaluation|test|testing|dev"
# A results heading ("Validation Results - Epoch[3] Avg accuracy: 0.91 Avg loss: 0.27", PyTorch-Ignite's README and
# examples; "Test results: ...", GluonNLP's BERT fine-tuning "validation metrics:accuracy:0.8260,f1:0.8849") marks its
# line's metrics as that split's too.
# A line that opens with a held-out split and then its counter ("eval epoch: 99, loss: 0.9427, accuracy: 76.42", the
# Flax ImageNet example's train.py; "Test Epoch: 3 loss ...", "val step 200: loss ...") reports that split's metrics
# too: read without the marker, the evaluation would join the training loss at its epoch number.
# A sentence whose verb comes before the split ("The result of ResNet18 with Adam is test acc: 76.82%, loss: 0.68")
# marks the pairs after it likewise (_COPULA_HEAD below takes the verb out of the first name).
_HELD_OUT_WORDS = r"valid|validation|val|eval|evaluation|test|testing|dev"
_PHASE = re.compile(rf"[(\[]({_PHASE_WORDS})[)\]]|(?<![\w/.-])({_PHASE_WORDS})\s*:\s*(?=[A-Za-z_])"
                    rf"|(?<![\w/.-])({_PHASE_WORDS})\s+(?:results?|metrics)\s*[-:|]"
                    rf"|^({_HELD_OUT_WORDS})\s+(?=(?:epoch|step|iter|iteration)\b)"
                    rf"|(?<![\w/.-])(?:is|are|was|were)\s+({_HELD_OUT_WORDS})\s+(?=[A-Za-z_][\w ]*:)", re.I)


def _phase_word(m: re.Match[str]) -> str:
    return next(g for g in m.groups() if g).lower()
# Settings and timers a held-out line repeats are no measurement of the held-out split ("_base/lr", "_timers/_fps").
_PROCESS_KEY = re.compile(r"(?<![a-z])(?:lr|learning[_ ]?rate|momentum|fps|speed|time|timers?|throughput)(?![a-z])",
                          re.I)
_ALREADY_HELD_OUT = re.compile(r"(?:val|valid|validation|eval|test|dev)(?![a-z])", re.I)


def _may_mark_phase(line: str) -> bool:
    """Cheap test before the marker regex (most lines name no phase): every phase word holds one of these."""
    low = line.lower()
    return "val" in low or "train" in low or "test" in low or "dev" in low


def held_out_line(text: str) -> bool:
    """Whether a line marks its metrics as held-out ("(valid)", "validation: acc=..."): the reader gives such lines to
    the generic rules even in a log whose family parser does not read them."""
    return _may_mark_phase(text) and (_GERUND_PHASE.match(text) is not None or any(
        _phase_word(m) not in _TRAIN_WORDS for m in _PHASE.finditer(text)))


def phase_line(text: str) -> bool:
    """Whether a line carries any phase marker, training included ("[Epoch 3] training: accuracy=0.16" in gluon-cv):
    a line a family parser does not read may still be read by the generic rules (text_log.py says when)."""
    return _may_mark_phase(text) and (_PHASE.search(text) is not None or _GERUND_PHASE.match(text) is not None)


# A progress bar's description that says what the loop is doing ("Validating, loss=766.122:  94%|####| 256/271", kur;
# "Evaluating: loss=0.41", "Testing ...") marks the metrics after it as held-out, as "validation:" does: without it a
# validation pass would be read into the training series of the same name.
_GERUND_PHASE = re.compile(r"^(validating|evaluating|testing)\b", re.I)


def _phase_prefixes(line: str) -> list[tuple[int, str | None]]:
    """(position, metric-name prefix) per phase marker: "" for training, "val_"/"test_" for held-out."""
    out: list[tuple[int, str | None]] = []
    g = _GERUND_PHASE.match(line)
    if g:
        out.append((g.end(), "test_" if g.group(1).lower() == "testing" else "val_"))
    for m in _PHASE.finditer(line):
        word = _phase_word(m)
        out.append((m.end(), "" if word in _TRAIN_WORDS else _HELD_OUT_PREFIX[word]))
    return out


def _epoch_position(st: State, epoch: int, count: int, update: bool, x: dict | None = None) -> int:
    """A step counter printed beside the epoch ("Epoch 00003 | Step 00020 | Loss ...", DGL's examples) is either the
    run's global step or one that restarts every epoch. Restarting shows when the epoch goes up and the counter goes
    down; from then on each epoch starts where the previous one ended: its largest count plus one logging interval
    (the smallest rise between two lines of one epoch), so the position rises monotonically. The first epoch keeps its
    counts, and a counter that never goes back is the global step, unchanged. `x`: where the clock is kept (default
    the parser's own state)."""
    x = st.extra if x is None else x
    last_epoch = x.get("ep_epoch")
    if last_epoch is None or epoch < last_epoch:  # first counted line, or the run started over
        if update:
            x.update(ep_epoch=epoch, ep_count=count, ep_max=count, ep_gap=0, ep_offset=0)
        return count
    if epoch > last_epoch:
        offset = x["ep_offset"]
        # a counter back at its start value (0 or 1) in a later epoch restarts too, when the previous epoch printed no
        # other count ("Epoch 0, Iter 0: ...", "Epoch 1, Iter 0: ...": one print per epoch at its first iteration):
        # a global step cannot stand at its start after a whole epoch of training. Read as global, every epoch's
        # line fell on the same step and only the last survived.
        first_again = count == x["ep_count"] == x["ep_max"] <= 1
        # Once the counter has restarted, an epoch whose count does not rise past the previous epoch's largest
        # ("Epoch 1, Iter 500", "Epoch 2, Iter 500") restarted too. One that rises past it went on counting: a
        # global counter after the one step back of a second run appended to the same file (the script run again,
        # "Step 100 .. 7600" twice, each run's epochs closed by a row). Read as restarting, each later epoch was
        # pushed a whole epoch further and the run's steps grew ever larger gaps.
        went_on = count > x["ep_max"]
        if (x.get("ep_restarts") and not went_on) or count < x["ep_count"] or first_again:
            # epochs that printed nothing in between still took their steps
            offset += (x["ep_max"] + (x["ep_gap"] or 1)) * (epoch - last_epoch)
        if update:
            x["ep_restarts"] = x.get("ep_restarts") or count < x["ep_count"] or first_again
            x.update(ep_epoch=epoch, ep_count=count, ep_max=count, ep_offset=offset)
        return offset + count
    if update:
        if count > x["ep_count"]:
            x["ep_gap"] = min(x["ep_gap"] or count - x["ep_count"], count - x["ep_count"])
        x.update(ep_count=count, ep_max=max(x["ep_max"], count))
    return x["ep_offset"] + count


# (minGPT's adder: "saving model with new top score of 12.0", the best test score so far, announced on saving)
_BEST_SO_FAR = re.compile(r"(?:currently\s+|so\s+far\s+)?(?:best|top\s+score)\b", re.I)
# "Best model at epoch 3. Validation metrics:accuracy:0.8873,f1:0.9196" (GluonNLP's fine-tuning scripts), "best
# checkpoint from step 1200: ...": the line names where an earlier best was reached and repeats its values; read, it
# would put them at that earlier step (or at the epoch number as a step) as if measured again
_BEST_AT = re.compile(r"\bbest\s+(?:model|checkpoint|epoch|result)\s+(?:at|from|was|is|in)\b", re.I)
# pycocotools' summary (" Average Precision  (AP) @[ IoU=0.50      | area=   all | maxDets=100 ] = 0.391"): the pairs
# inside "@[...]" are the row's selectors (an IoU threshold, a detection cap), not measurements; the AP after "=" has
# no name of its own on the line. Left to the detection-family parsers, as the generic rules always did.
_COCO_SUMMARY = re.compile(r"^\s*Average (?:Precision|Recall)\s+\(A[PR]\)")


# A score printed as a count of right answers, its total and their share: "train final score: 12/9500 = 0.13%
# correct" (minGPT's adder), "accuracy: 45/50 (90%)". The pair rule would read the count (12) as the value; the
# measurement is the share, read as the fraction count/total (as the MNIST example's "Accuracy: 9836/10000 (98%)" is
# read). Only where the printed percentage agrees with count/total (to its rounding), so that "epoch: 3/10" or a
# ratio of two other things is never taken for a score.
_COUNT_SHARE = re.compile(r"([:=]\s*)(\d{1,12})\s*/\s*(\d{1,12})\s*(?:=\s*|\(\s*)(\d+(?:\.\d+)?)\s*%\s*\)?")


def _count_share(m: re.Match) -> str:
    count, total, percent = int(m.group(2)), int(m.group(3)), float(m.group(4))
    if total <= 0 or count > total or abs(100.0 * count / total - percent) > 0.5 + 1e-9:
        return m.group(0)
    return f"{m.group(1)}{count / total:.6g} "


# A finished run's summary: "Final validation accuracy: 0.11420" / "Final test accuracy: 0.12190" (the Udacity deep
# learning course's batch-normalisation lesson, tests/corpus/realworld/udacity-dl-batchnorm-20-conv-relu-no-bn-acc-
# 0.1-flat), "Last train loss = 0.2". "Final" / "last" says where the value belongs, the run's last step, and is no
# part of what is measured; the split word after it names the split. Read as printed, each was a one-point series
# named "Final validation accuracy" that no rule knew, while the held-out accuracy ended an evaluation earlier. Only
# with a split word (a bare "Final loss" may be a training or a held-out figure: left as printed). A running best
# ("Best val loss: x") is not the last step's value and stays unread (_BEST_SO_FAR below).
_FINAL_KEY = re.compile(
    r"^(?:final|last)[\s_]+((?:train|training|valid|validation|val|eval|evaluation|test|testing|dev)[\s_]+\S.*)$", re.I)


# A sentence that ends in the name: "The result of BN_Relu_RestNet18 with Adam is test acc: 76.82%, loss: 0.68" (a
# CIFAR-10 script's evaluation print, tests/corpus/realworld/g6s33-cifar10-resnet18-adam-50-epochs-test-every-5). The
# key the pairs rule takes holds the sentence's verb ("is test acc"), so the split word was not its first word and
# the line read as training figures: its test loss landed in the training loss every fifth epoch. A copula is never
# the first word of a metric's name; only a name of two or more words after it is cut ("is: 3" stays as printed).
_COPULA_HEAD = re.compile(r"^(?:is|was|are|were)\s+(?=\S+\s+\S)", re.I)

# A change of one quantity told as a sentence: "Reducing dynamic loss scale from 65536 to 32768.0" (DeepSpeed's fp16
# optimizer), "reducing learning rate from 0.1 to 0.01". Read as pairs it gave two series, "loss scale from" (the old
# value) and "to" (the new one); it is the quantity named before "from", now at the value after "to": written as
# "<name> <new value>". A participle between the name and "from" ("reduced", "changed") is the verb of the sentence,
# no part of the name. "improved" announces a new best ("val_loss improved from 1.55635 to 1.52850, saving model to
# ...", Keras' ModelCheckpoint, tests/corpus/realworld/yolov2-keras-6-val-loss-rises): a running best that repeats
# the figure the epoch's own line prints, read as no value (as _BEST_SO_FAR's lines are), or the held-out series
# would hold each improving epoch twice.
_FROM_TO = re.compile(
    rf"\b([A-Za-z_][\w./@-]{{0,60}})(?:[ \t]+([a-z]{{1,20}}ed))?[ \t]+from[ \t]+(?:{NUM})[ \t]+to[ \t]+({NUM})"
    r"(?![\w]|\.\d)")


def _from_to(m: re.Match) -> str:
    return f"{m.group(1)} (best)" if m.group(2) == "improved" else f"{m.group(1)} {m.group(3)}"
# The same change told with the verb first, as schedulers and scalers announce a new value: "reducing learning rate
# from 0.1 to 0.01", "Reducing dynamic loss scale from 65536 to 32768.0" (DeepSpeed's fp16 optimizer), PyTorch's
# ReduceLROnPlateau(verbose=True) "Epoch 00012: reducing learning rate of group 0 to 1.0000e-04.", Keras' "Epoch 5:
# ReduceLROnPlateau reducing learning rate to 0.0001.", "setting learning rate to 0.001". The verb says what happened
# to the quantity and is no part of its name: read as pairs the series was "reducing learning rate" (or nothing, when
# "of group 0" came between). The name is the one to three words after the verb, its value the one after "to" (the
# new value, from that point on; the old one after "from" is dropped, as _FROM_TO does); a parameter group other
# than the first is the name's group, "lr/group_1" as a per-group learning rate is named (ingest/names.py).
# Values printed as a list joined by " - " after one name: "scores : 0.8289 - 0.6422 - 0.2067" (a Kaggle detection
# solution's per-epoch print of three scores, realworld theoviel-nfl-effdet-d4-scores-15ep). The name covers all of
# them and which one it means is not for us to choose (as with a printed array, _ONE_ELEMENT): read as a pair, the
# first became a series "scores". The name is left unread. A " - " before a name ("ETA: 0s - loss: 0.5", Keras) is
# the separator between pairs, not a list.
_DASH_LIST = re.compile(rf"(?<![ \t])[ \t]+-[ \t]+{NUM}(?![\w:]|\.\d)")
# A cross-validation summary: "-> CV auc : 0.8880" (printed after the last fold, realworld
# theoviel-nfl-resnet18-cls-5fold-auc), "OOF score: 0.91", "CV score: 0.78". It is the mean (or the pooled score) of
# every fold's held-out predictions, printed once after all folds: no point of the training the log's epochs trace,
# and as a one-point series at the last epoch it stood beside that fold's own "auc" as another metric. A name that
# starts with the word "CV" or "OOF" (out-of-fold) is left unread; LightGBM's per-round "cv_agg's auc: 0.8 + 0.01"
# (one word after the possessive, `cv_agg_auc`) is a series of rounds and stays.
_FOLD_SUMMARY = {"cv", "oof"}
_CHANGED_TO = re.compile(
    r"\b(?:reducing|decreasing|increasing|lowering|raising|setting|updating|changing|adjusting|decaying|dropping"
    r"|cutting|annealing)[ \t]+([A-Za-z_][\w./@-]{0,40}(?:[ \t][A-Za-z_][\w./@-]{0,40}){0,2}?)"
    r"(?:[ \t]+of[ \t]+(?:param(?:eter)?[ \t]+)?group[ \t]+(\d{1,6}))?"
    rf"(?:[ \t]+from[ \t]+{NUM})?[ \t]+to[ \t]*:?[ \t]*({NUM})(?![\w]|\.\d)", re.I)


def _changed_to(m: re.Match) -> str:
    group = m.group(2)
    name = m.group(1) if group is None or int(group) == 0 else f"{m.group(1)}/group_{int(group)}"
    return f"; {name}={m.group(3)} "  # "; ": the words before the verb ("Epoch 00012:") join no name
# The little words at a name's edges belong to the sentence, not to the name: "Epoch 3 with loss of 0.5" is the loss,
# "loss 0.3 and acc: 0.5" the accuracy. A name that ends in one of them before a non-finite word ("number of nan
# iterations: 0", Megatron's count of skipped NaN steps) has no value there: the "nan" is a word of a longer name, and
# read as a value it made a NaN series out of a healthy run's "0"; nor before a number a separator follows ("Test
# Accuracy of 3: 97%", a per-class line: the 3 names the class). A name of only such words is no name.
_EDGE_WORDS = frozenset({"a", "an", "and", "at", "by", "for", "from", "in", "of", "on", "or", "per", "the", "to",
                         "with"})
_SEPARATOR_NEXT = re.compile(r"[ \t]*[:=]")
_NAME_REST = re.compile(r"[ \t]+[A-Za-z_]\w{0,40}(?:[ \t]+[A-Za-z_]\w{0,40}){0,2}[ \t]*[:=]")


def _name_words(m: re.Match, line: str) -> str:
    """The pair's printed name without the sentence's little words at its edges ("" when it has none, or no value)."""
    words, value = m.group(1).split(), m.group(2)
    if words[-1].lower() in _EDGE_WORDS and (
            _SEPARATOR_NEXT.match(line, m.end())  # "Test Accuracy of 3: 97%": the number names a class, no value
            or (value[-1].isalpha()  # "number of nan iterations: 0": "nan" is a word of the name the separator
                and _NAME_REST.match(line, m.end()))):  # closes ("a loss of nan at step 3" stays)
        return ""
    while words and words[0].lower() in _EDGE_WORDS:
        words.pop(0)
    while words and words[-1].lower() in _EDGE_WORDS:
        words.pop()
    return " ".join(words)


# A count inside a name phrase: "Avg return in last 50 episodes: 16.5" (mlpack's reinforcement-learning examples),
# "Accuracy on 100 samples: 0.13" (the Udacity deep learning course notebooks). The count says over how many
# episodes or samples the figure was taken, it is no value of its own: read as pairs it gave "return in last" = 50
# and "episodes" = 16.5. The phrase (a preposition, an optional "the"/"last"/"first", the count and one word) is
# dropped and the name before it keeps the value after the colon.
_COUNT_PHRASE = re.compile(
    r"(?<=[A-Za-z])[ \t]+(?:on|in|over|of|for|across)[ \t]+(?:the[ \t]+)?(?:(?:last|first|past|next)[ \t]+)?"
    r"\d{1,12}[ \t]+[A-Za-z]{1,30}(?=[ \t]*[:=][ \t]*[-+.\d])", re.I)
# A possessive name, "<set>'s <metric>": "[10]\ttraining's l1: 0.457448\tvalid_1's l1: 0.456464" (LightGBM's
# evaluation lines, and any loop that names a metric after the data it was measured on). The possessive says the
# value is a measurement of that set, whatever the metric's name (l1, l2, ndcg@5, ...): written as "<metric>" under
# the set's prefix (a training set's none, a held-out set's "val_"/"test_" as the phase markers give), or as
# "<set>_<metric>" for a set of another name.
_POSSESSIVE = re.compile(r"(?<![\w.'-])([A-Za-z_][\w.-]{0,40})'s[ \t]+([A-Za-z_][\w@.-]{0,60})(?=[ \t]*[:=])")
_SET_WORD = re.compile(rf"^({_PHASE_WORDS}|learn)(?:_?\d+)?$", re.I)


def _possessive(m: re.Match) -> str:
    owner, metric = m.group(1), m.group(2)
    split = _SET_WORD.match(owner)
    if split is None:
        return f"{owner}_{metric}"
    word = split.group(1).lower()
    return metric if word in _TRAIN_WORDS or word == "learn" else f"{_HELD_OUT_PREFIX[word]}{metric}"


# A data set's metric joined to the set's name by a hyphen, "<set>-<metric>": "[500]\teval-logloss:0.41906\t
# train-logloss:0.160439" (XGBoost's evaluation lines, tests/corpus/realworld/g34-xgboost-2777-eval-logloss-rises-to-
# 0.91), "[1] Train-rmse=16.06" (MXNet's R package), "validation_0-rmse" (the sklearn wrapper's eval_set). The set is a
# split word (with a set number), the metric any name. A loss-type metric is named as the boosting libraries' readers
# name it (_gbdt_names: rmse or logloss of the training set is the `loss`, of a held-out set the `val_loss`); any other
# keeps its name with its held-out set's prefix ("Test-Err" is "test_Err", "eval-auc" "val_auc"), or as printed where
# the shared vocabulary already knows it ("Validation-accuracy" is eval_accuracy). As printed, "eval-logloss" was a
# name no rule knew, so a rising held-out loss read as nothing. Only a metric a metric word or the boosters' metric
# list names (the ranking metrics ndcg, map, pre, error rates): "train-images-idx3-ubyte: 60000" is a file and its size.
_SET_HYPHEN = re.compile(rf"({_PHASE_WORDS}|learn)(?:_?\d{{1,3}})?-([A-Za-z][\w@.-]{{0,60}})", re.I)
_BOOSTER_METRIC = re.compile(r"(?:ndcg|map|pre|aucpr|m?error|mlogloss|poisson-nloglik|gamma-deviance)(?:@[\w.-]+)?",
                             re.I)


def _set_hyphen(key: str, metrics: dict[str, float]) -> str | None:
    """The name of a "<set>-<metric>" key (above), or None for any other key."""
    m = _SET_HYPHEN.fullmatch(key)
    if m is None:
        return None
    from traindoc.ingest.readers._gbdt_names import name_metric  # imports this module: not at load time

    set_name, metric = m.group(1), m.group(2)
    name = name_metric(set_name, metric, metrics)
    if name in ("loss", "val_loss"):
        return name
    if not (_METRICY.search(metric) or _BOOSTER_METRIC.fullmatch(metric)):
        return None
    if canonical_metric(key) != key:
        return key  # a name the vocabulary knows as printed ("Train-accuracy", "Validation-accuracy"): kept for quoting
    split = set_name.lower()
    return metric if split in _TRAIN_WORDS or split == "learn" else f"{_HELD_OUT_PREFIX.get(split, 'val_')}{metric}"


# A record that names its metric in one field and holds its number in another: `{"key": "eval_accuracy", "value":
# 0.07864, "metadata": {"epoch_num": 4, ...}}` (MLPerf's `:::MLLOG` event lines, tests/corpus/realworld/mlperf-v07-
# alibaba-v100-256-resnet; the same key/value/step fields as a metric history exported from a tracking server), or a
# name before such a dict, `eval_accuracy: {"value": 0.0603, "epoch": 0}` (MLPerf's v0.5 lines). As printed the pairs
# were "lineno" and "value", so nothing was read; written as "epoch=4 eval_accuracy=0.07864" (the record's step, epoch
# or sample count as its counter), the pair scan reads the metric. Only a record with such a counter: a setting is
# recorded once and at no step ("key": "lars_opt_base_learning_rate", "value": 21.2), and only a number as the value
# (a dict or a null is none).
_NAME_FIELD = re.compile(r"""["'](?:key|name|metric|tag)["']\s*:\s*["']([A-Za-z_][\w./@-]{0,80})["']""")
_VALUE_FIELD = re.compile(rf"""["']value["']\s*:\s*({NUM})(?=\s*[,}}])""")
_NAME_BEFORE_DICT = re.compile(r"""(?<![\w./@-])([A-Za-z_][\w./@-]{0,80}):[ \t]*\{(?=[^{}]{0,2000}["']value["'])""")
_COUNTER_FIELD = re.compile(
    r"""["'](step|global_step|iteration|epoch|epoch_num|samples_count)["']\s*:\s*(\d{1,15})(?:\.0)?(?=\s*[,}])""")


def _named_value(line: str) -> str | None:
    """A named-value record (above) as "<counter>=<n> <name>=<value>", or None for any other line."""
    value = _VALUE_FIELD.search(line)
    if value is None:
        return None
    name = _NAME_FIELD.search(line) or _NAME_BEFORE_DICT.search(line)
    counters = _COUNTER_FIELD.findall(line)
    if name is None or not counters:
        return None
    spelled = {"epoch_num": "epoch", "samples_count": "step"}
    return " ".join(f"{spelled.get(key, key)}={n}" for key, n in counters) + f" {name.group(1)}={value.group(1)}"


# The losses of a GAN's two networks named by their letter, "D_A: 0.267 G_A: 0.371 ... D_B: 0.552" (CycleGAN),
# "G_GAN: 0.8 G_L1: 20.1 D_real: 0.5 D_fake: 0.6" (pix2pix): D the discriminator's, G the generator's. Case
# matters (a capital D or G, then "_" and a capital or one of the words a GAN's losses are named by), so that a
# setting such as "d_model" or "D_in" stays out.
_GAN_TERM = re.compile(r"(?<![A-Za-z0-9])[DG]_(?:[A-Z]|(?:real|fake|adv|gan|gp|cls|rec)(?![a-z]))")


# Counted training lines an epoch row must follow to close their epoch: two, so that a loop's lone first print
# (cs231n's Solver prints "(Iteration 1 / 40) loss: ..." once, then only "(Epoch e / 20) train acc: ..." rows) leaves
# the rows at their epochs; an epoch printed in batches shows two counted lines or more.
_CLOSED_BY_ROW = 2


# A metric and its value split by a pipe at the line's end, after the line's counter: "Step    500: train
# WeightedCategoryCrossEntropy |  0.62914723", "Step    500: eval      WeightedCategoryAccuracy |  0.74062500" (Trax's
# training Loop pads its names to one column). Written as "<split> <name>: <value>", so the pair scan reads it and a
# held-out split word names the series as held out. Only with one pipe, the value closing the line, and something
# before the name (the counter, with a digit): a two-column settings table ("lr | 0.001", "| lr | 0.001 |") has
# nothing before the name and stays as printed. String operations, no pattern: linear in the line.
_PIPE_SPLITS = frozenset(_PHASE_WORDS.split("|"))
_PIPE_NAME = re.compile(r"[A-Za-z_][\w./@-]{0,80}")


def _pipe_value(line: str) -> str:
    left, right = line.split("|")
    value = right.strip()
    if _NUM_RE.fullmatch(value) is None:
        return line
    head = left.rstrip()
    name = head.rsplit(None, 1)[-1] if head else ""
    if _PIPE_NAME.fullmatch(name) is None:
        return line
    head = head[:len(head) - len(name)].rstrip()
    split = head.rsplit(None, 1)[-1] if head else ""
    if split.lower() in _PIPE_SPLITS:
        head = head[:len(head) - len(split)].rstrip()
        name = f"{split} {name}"
    if not any(c.isdigit() for c in head):
        return line
    return f"{head} {name}: {value}"


# A counter or a rate abbreviated with a period: "Ep. 1 : Up. 500 : Sen. 180,689 : Cost 6.78 : ... : L.r. 3.0000e-04"
# (Marian's training line), "Best Validation (Ep. 097)": the epoch, the update count and the learning rate. Read as
# printed, "Ep." and "Up." were metrics of their own and the line had no position (its 100 points fell on 29).
# Only these spellings, each the head of its word: a sentence's period after another word stays where it was.
_ABBREVIATED = {"ep.": "epoch", "epo.": "epoch", "it.": "iter", "itr.": "iter", "iter.": "iter", "up.": "update",
                "upd.": "update", "l.r.": "lr"}
_ABBREV_MAX = max(map(len, _ABBREVIATED))


# A name with a one-word qualifier in parentheses before its separator: "loss (batch)=-9.27e+5" (a tqdm postfix,
# milesial's Pytorch-UNet, tests/corpus/realworld/pytorch-unet-84-png-masks-negative-loss), "loss (avg): 0.5", "acc
# (val): 0.8". An aggregate over the batch or the interval measures the same quantity and is the name alone; a split
# names the split ("val_acc"), as a phase marker does. Any other qualifier (a unit, "(ms)"; a group, "(group 1)") is
# left as printed: its name then has no pair. Read as printed, "(batch)" cut the name from its value and the run's
# loss was lost.
_QUALIFIED_NAME = re.compile(
    r"(?<![\w.])([A-Za-z_]\w{0,40})[ \t]?\([ \t]{0,3}([A-Za-z]{1,12})[ \t]{0,3}\)(?=[ \t]*[:=])")
_AGGREGATE_WORDS = frozenset({"batch", "avg", "average", "mean", "running", "smoothed", "step", "iter", "train",
                              "training"})


def _qualified_name(m: re.Match[str]) -> str:
    word = m.group(2).lower()
    if word in _HELD_OUT_PREFIX:
        return f"{_HELD_OUT_PREFIX[word]}{m.group(1)}"
    return m.group(1) if word in _AGGREGATE_WORDS else m.group(0)


# A bare "Error" (or "error") in a loop that names no loss is the quantity it minimises: the squared error of
# Grokking Deep Learning's loops ("Error:0.3025 Prediction:0.25"), the cross-entropy a from-scratch network prints
# after each epoch ("Error:  nan", tests/corpus/realworld/g32-nn-from-scratch-10-log-of-zero-error-nan), R neuralnet's
# and FANN's error, t-SNE's "error = 75.27" (its KL divergence). Read under its own name no detector knew it for the
# training loss, and a run whose error diverged read as healthy. A name that qualifies it ("error rate", "top1 error",
# "test error", XGBoost's "train-error", a classification error) is another quantity and keeps its name, and so does
# a bare error beside another metric on its line ("error 0.12, error rate 0.1", "[learning_rate=0.001] [Best :
# Accuracy(T1/T5)=65.93/86.76, Error=34.07/13.24]": a summary of other things), on a line about a best or a test,
# or in a log whose lines name a loss (then the error is something else the loop measures).
_BARE_ERROR = frozenset({"Error", "error", "ERROR"})


# A per-class row ("  Class 1: P=87.89%  R=77.91%  IoU=70.35%  Dice=82.60%", a DINOv3 segmentation script's final
# block; "category 3 | AP: 0.41"): one class's figures, listed over the classes at one moment, no point of a curve
# over steps. Read, the class number became a line-order step and every column a series over the classes. The label
# is a number or a word, and named pairs follow it ("Class Loss: 0.5", a detector's classification loss, is no row).
# The row of their mean or average right after the rows ("  Mean: P=52.88% R=61.59% mIoU=42.87%") belongs to the
# block: it summarises the classes once, at no step of its own (read, it overwrote an epoch's mIoU).
_PER_CLASS = re.compile(r"^\s*(?:class|category|cls|label)\s*#?\s*(?:\d+|[A-Za-z_][\w-]*)\s*[:|-]\s*"
                        r"[A-Za-z][\w ./%-]{0,40}?\s*[:=]\s*[-+.\d]", re.I)
_CLASS_MEAN = re.compile(r"^\s*(?:mean|average|avg|overall|macro(?:\s+avg)?|all(?:\s+classes)?)\s*[:|]", re.I)


def parse_generic(line: str, st: State) -> Record | None:
    if _PER_CLASS.match(line):
        st.extra["class_rows"] = True
        return None
    if st.extra.pop("class_rows", False) and _CLASS_MEAN.match(line):
        return None
    if line.startswith("wandb:") or _GEN_SKIP.search(line) or _COCO_SUMMARY.match(line):
        return None  # W&B's end-of-run summary repeats last values without steps; warnings are events
    if ("best" in line or "Best" in line) and _BEST_AT.search(line):
        return None  # an earlier best repeated (read before the sentence rules turn "at epoch 3" into a step)
    if "value" in line and "{" in line and (named := _named_value(line)) is not None:
        line = named
    if "%" in line and "/" in line:
        line = _COUNT_SHARE.sub(_count_share, line)
    if "tensor(" in line:
        line = _TENSOR_REPR.sub(r"\1", line)
    if "}" in line:
        line = _BRACED_NAME.sub(r"\1", line)
    if " - " in line and ("it/s" in line or "s/it" in line):
        line = _BAR_DASH_PAIR.sub(r"\1\2=\3", line)
    if "[" in line:
        line = _ONE_ELEMENT.sub(r"\1\2", line)
    if "|" in line and line.count("|") == 1 and not line.lstrip().startswith("|"):
        line = _pipe_value(line)
    if _CODE.search(line):
        return None  # source code echoed into the log ("lr: float = 0.0036", "loss = model(x)")
    if "{" in line and _QUOTED_METRIC_KEY.search(line) and not settings_dict(line):
        line = _QUOTED_KEY.sub(r"\1:", line)
    if "_" in line:
        line = _GLUED_COUNTER.sub(r"\1 ", line)
    line = loss_group(line)
    if "ing " in line or "ING " in line:
        line = _CHANGED_TO.sub(_changed_to, line)
    if "from" in line:
        line = _FROM_TO.sub(_from_to, line)
    owned: set[str] = set()  # the names a possessive gave: a set's measurement, whatever the metric's name
    if "'s" in line:
        line = _POSSESSIVE.sub(lambda m: owned.add(name := _possessive(m)) or name, line)
    if ":" in line or "=" in line:
        line = _COUNT_PHRASE.sub("", line)
    if "/" in line:
        if "(" in line:
            line = _SPLIT_PAIR.sub(_split_pair, line)
        line = _SPLITS_THEN_NAME.sub(_splits_then_name, line)
    if "%" in line:
        line = _SPLIT_PERCENT.sub(_split_percent, line)
        if "est" in line:
            line = _BEST_AT_COUNTER.sub("", line)
    line = _sentences(line)
    if "(" in line:
        line = _QUALIFIED_NAME.sub(_qualified_name, line)
    if "op " in line or "OP " in line:
        line = _TOPK_SPACED.sub(r"\1\2", line)
    if "#" in line:  # "Epoch #3: ..." (tianshou, many RL loops): the number sign is no part of the counter
        line = _NUMBER_SIGN.sub(r"\1 \2", line)
    if "][" in line or "]  [" in line or "] [" in line:
        line = _EPOCH_BRACKETS.sub(_epoch_brackets, line)
    if "]" in line and _BRACKETED_STEP.search(line):
        # "Epoch[3] Iter[120] loss=..." (PyTorch-Ignite's examples): counters in brackets. Only with a step
        # counter: the quickstart's "Epoch[3] Loss: 0.52", printed every few iterations, names its epoch alone, and
        # the line order keeps its points apart
        line = _BRACKETED_COUNTER.sub(r"\1: \2 ", line)
    if "header_epoch" in st.extra and "/" in line and (bar := _BAR_COUNT.match(line)) is not None:
        line = f"epoch {st.extra['header_epoch']} batch {bar.group(1)}/{bar.group(2)} {line[bar.end():]}"
    lead = _LEAD_COUNTER.match(line)
    if lead:  # "120 | loss 4.84 | lr 3e-4 | 13671.82ms": a loop's own step column before the first pipe
        line = f"step={lead.group(1)} | {line[lead.end():]}"
    composer = _COMPOSER_HEADER.match(line) if line.startswith("[") else None
    if composer:  # Composer's "[batch=12/500]:": its "Train <name>: <value>" lines follow, one per line
        st.extra["pending_step"] = int(composer.group(2))
        if composer.group(1) is not None:
            st.extra["pending_epoch"] = int(composer.group(1))
        return None
    heading = _SPLIT_HEADING.match(line)
    if heading:  # "On the test set:" on its own line: the metric line after it is measured on that split
        st.extra["pending_phase"] = _HELD_OUT_PREFIX.get(heading.group(1).lower(), "")
        return None
    only = _ONLY_STEP.match(line)
    if only:  # "step: 100" on its own line: the metric lines that follow belong to it
        st.extra["pending_step"] = int(only.group(2))
        if only.group(1).lower() == "epoch":
            st.extra["pending_epoch"] = st.extra["header_epoch"] = int(only.group(2))
        return None
    # a percentage is progress, never a step or epoch counter ("Step: 100%|####| 1827/1827" is a tqdm bar)
    matches = [m for m in _GEN_PAIR.finditer(line)
               if not _TIME_UNIT.match(line, m.end())  # "Required: 31 hours": a duration, not a value
               and m.group(0)[m.end(2) - m.start(0):] not in ("s", "ms")  # "time: 519s", "12.3ms"
               and not _clock_t(m)]
    # "valid: 100%|####| 101/101 [...]": a bar's percentage is the progress of the phase it names, no metric; a
    # held-out phase's name marks the bar's postfix metrics as held out
    bar_phase = ""
    if "%|" in line:
        bars = [m for m in matches if m.group(0).endswith("%") and line.startswith("|", m.end())]
        for m in bars:
            bar_phase = bar_phase or _HELD_OUT_PREFIX.get(" ".join(m.group(1).split()).lower(), "")
        matches = [m for m in matches if m not in bars]
    found = [(name, m.group(2), m.group(0).endswith("%"), m.start())
             for m in matches if (name := _name_words(m, line))]
    listed = {m.start() for m in matches if _DASH_LIST.match(line, m.end())} if " - " in line else set()
    if not found:
        return None
    phases = _phase_prefixes(line) if _may_mark_phase(line) else []
    if bar_phase and not phases:
        phases = [(0, bar_phase)]
    pending_phase = st.extra.pop("pending_phase", None)  # the heading covers the one metric line after it
    if pending_phase and not phases:
        phases = [(0, pending_phase)]
    step: int | None = None
    epoch: int | None = None
    fr = {m.group(1).lower(): (int(m.group(2)), int(m.group(3))) for m in _FRACTION.finditer(line)}
    if "/" in line:
        for m in _FRACTION_UNIT_AFTER.finditer(line):
            fr.setdefault(m.group(3).lower(), (int(m.group(1)), int(m.group(2))))
    if "epoch" in fr:
        epoch = fr["epoch"][0]
        # "epoch 5/50": the run is planned for 50 epochs (the reader hands the largest total on to run.meta)
        st.extra["planned_epochs"] = max(st.extra.get("planned_epochs", 0), fr["epoch"][1])
        # ... and the first such counter names where the log starts: "Epoch 39/49" first is an excerpt of a run
        # whose earlier epochs are not in it, whatever step the line order gives its points (late_window)
        st.extra.setdefault("first_counted_epoch", epoch)
    inner = fr.get("step") or fr.get("iter") or fr.get("iteration") or fr.get("batch")
    global_fraction = inner is not None and inner is not fr.get("batch") and "epoch" not in line.lower()
    if global_fraction:
        plan_steps(st, inner[1])  # "iter 100/5000" with no epoch: a global counter and its planned total
    m = _BRACKET_PAIR.match(line) or _BRACKET_STEP.match(line)
    if inner is None and m is not None and m.re is _BRACKET_PAIR:
        epoch, count = int(m.group(1)), int(m.group(2))
        x = st.extra
        if x.get("bracket_epoch") is not None and epoch > x["bracket_epoch"] and "bracket_global" not in x:
            # the first change of epoch decides what the second number counts: a per-epoch batch counter starts
            # over (the new epoch's first print is at most the previous epoch's largest), a global step counter
            # ("[5, 10]", "[10, 20]": epoch and update) keeps rising and is the step itself
            x["bracket_global"] = count > x.get("bracket_max", 0)
        x["bracket_epoch"] = epoch
        if x.get("bracket_global"):
            step = count
        else:
            # the per-epoch counter's largest value so far stands in for batches per epoch
            inner = (count, x.get("bracket_max", 0))
        x["bracket_max"] = max(x.get("bracket_max", 0), count)
    metrics: dict[str, float] = {}
    explicit: int | None = None
    held_out = 0  # metrics named for a held-out phase marker
    summary: set[str] = set()  # metrics of the run's end-of-training summary (_FINAL_KEY)
    for raw_key, raw_val, percent, at in found:
        key = raw_key.strip()
        if ". " in key:
            # a word that ends a sentence before the name ("Done. loss: 0.5", "Complete: Avg. Loss: 0.0148") is
            # no part of it: the name is what follows the last period
            key = key.rsplit(". ", 1)[1].strip()
        copula = _COPULA_HEAD.match(key)
        if copula:
            # "The result of ResNet18 with Adam is test acc: 76.82%": the verb of the sentence before the name
            # is no part of it (no metric's name starts with "is"); the name is what follows
            key = key[copula.end():]
        final = _FINAL_KEY.match(key) if key[:1] in "FfLl" else None
        if final:
            key = final.group(1)
        if "-" in key and (hyphen := _set_hyphen(key, metrics)) is not None:
            key = hyphen
            owned.add(key)  # a set's measurement, whatever the metric's name (as the possessive's)
        if key.endswith(".") and len(key) <= _ABBREV_MAX:
            key = _ABBREVIATED.get(key.lower(), key)
        low = key.lower()
        words = low.split()
        # "Total steps: 33" (a count of every step so far, printed beside an RL loop's returns) is the counter too
        if low in STEP_KEYS or (words and words[-1] in ("step", "steps", "iter", "iteration") and len(words) <= 2):
            if percent or (words and words[-1] in fr):
                continue  # a progress percentage, or already taken from "step [i/n]"
            v = parse_number(raw_val)
            if v is not None and math.isfinite(v) and explicit is None:
                # a counter printed on its own ("iter: 72630" beside "epoch: [6/6]", "step: 5310" beside
                # "batch : 1559/1876") is the run's global step: it wins over one made from a per-epoch fraction
                explicit = int(v)
            continue
        if words and words[-1] in fr and len(words) <= 2 and parse_number(raw_val) == fr[words[-1]][0]:
            continue  # "TRAIN Batch 20100/282164" (WeNet): the counter the fraction already gave, no metric
        if low in EPOCH_KEYS or (words and words[-1] == "epoch"):
            if "epoch" in fr:
                continue
            v = parse_number(raw_val)
            if v is not None and math.isfinite(v) and epoch is None:
                epoch = int(v)
            continue
        if (low in _GEN_NOT_METRIC or duration_key(low) or clock_key(low) or _SOURCE_FILE.search(low)
                or _SETTING_COUNT.match(low) or data_count_key(low)):  # "Total tokens: 12236": no measurement
            continue
        if words[-1] in ("in", "took", "every"):
            # "batch done in 5.037s.", "at epoch 0.90 in 265s.": how long something took, not a metric;
            # "Decaying learning rate every 30 epochs": a schedule's period, no value of the rate
            continue
        if _IN_EPOCH_COUNTER.match(low):
            continue  # "epochiter: 32/139": the batch within the epoch, a position beside the global "iter 310"
        if at in listed:
            continue  # "scores : 0.8289 - 0.6422 - 0.2067": the first of a list of values, no value of its own
        if words[0] in _FOLD_SUMMARY:
            continue  # "-> CV auc : 0.8880": the mean over every fold's held-out set, no point of this training
        v = parse_number(raw_val)
        if v is None:
            continue
        prefix = next((pre for pos, pre in reversed(phases) if pos <= at), "")
        if prefix and words[0] in _TRAIN_WORDS:
            # a name that says its split itself ("train loss" after "(eval)0.4s:", a timing label in Microsoft
            # Recommenders' epoch line) is that split's, whatever marker came before it
            prefix = ""
        if prefix:
            if _PROCESS_KEY.search(key):
                continue
            if not _ALREADY_HELD_OUT.match(key):
                key = prefix + key
            held_out += 1
        elif key in owned and _ALREADY_HELD_OUT.match(key):
            held_out += 1  # "valid_0's multi_logloss": the possessive named a held-out set
        metrics[key] = v
        if final:
            summary.add(key)
    if any(canonical_metric(k) == "loss" for k in metrics):
        st.extra["names_loss"] = True
    elif (not st.extra.get("names_loss")
          and len(errs := [k for k in metrics if _METRICY.search(k)]) == 1 and errs[0] in _BARE_ERROR
          and errs[0] not in owned and "est" not in line):
        metrics["loss"] = metrics.pop(errs[0])  # "Error:0.3025 Prediction:0.25": the loop's objective (_BARE_ERROR)
    if not any(_METRICY.search(k) or k in owned or _GAN_TERM.match(k) for k in metrics):
        return None
    if all(_BEST_SO_FAR.match(k) for k in metrics):
        # "currently best f1 socre: 80.36 on epoch: 2" (GluonNLP's NER example), "best acc: 0.91 at step 300": a
        # running best repeats an earlier value, and its epoch or step is where that value was reached, an earlier
        # point than the line's own; read as a measurement it would send the step back every time the best holds
        return None
    # (after the pairs: the epoch of "epoch: 2, iter: 100/600" or "[epoch  2][iter 0/88]" is a pair of its own, and a
    # per-epoch count placed before it would put every epoch's lines on the same steps)
    if epoch == 0:
        st.extra["zero_based_epochs"] = True
    if inner is not None:
        # a per-epoch counter becomes a global step that keeps rising across epochs (0- or 1-based epochs)
        done = 0 if epoch is None else (epoch if st.extra.get("zero_based_epochs") else max(epoch - 1, 0))
        step = done * inner[1] + inner[0]
    elif m is not None and m.re is _BRACKET_STEP:
        step = int(m.group(1))
    marked_eval = held_out == len(metrics)
    if summary and summary == set(metrics) and step is None and epoch is None and explicit is None and inner is None:
        # a summary line alone: at the run's last step, held-out unless every value is the training split's
        return Record(None, metrics, eval=not all(_KEY_WORD_SEP.split(k.lower())[0] in _TRAIN_WORDS for k in metrics),
                      at_last=True)
    if explicit is not None:
        step = explicit
        if epoch is None:
            st.extra["global_counter"] = True
            # a counter printed alone ("Minibatch: 0200 | Cost: 2.43") between epoch rows that close each epoch
            # ("Epoch: 001 | AvgCost: ..."): when it goes back after such a row it counts within the epoch, and each
            # epoch's counts go on from the previous epoch's end (_epoch_position, the rows as its epoch clock). A
            # counter that never goes back is returned unchanged.
            step = _epoch_position(st, st.extra.get("closing_rows", 0), explicit, update=not marked_eval,
                                   x=st.extra.setdefault("row_clock", {}))
        elif inner is None:  # a counter beside the epoch: global, or restarting every epoch
            step = _epoch_position(st, epoch, explicit, update=not marked_eval)
    elif inner is not None and st.extra.get("global_counter") and not global_fraction:
        # (a "step 20/150" with no epoch beside it is the global counter itself, whatever an evaluation line such
        # as "[Eval] step 15 - loss: ..." printed before it)
        # the log prints the run's global step on lines of its own ("Training Step: 860 | total loss ..."): a
        # within-epoch "iter: 55000/55000" is the position inside the epoch, and the line belongs to the last step
        return Record(None, metrics, eval=marked_eval, epoch=epoch)
    pending = st.extra.pop("pending_step", None)  # used once: the reader then carries it as the last step
    if step is None and pending is not None:
        step = pending
    pending_epoch = st.extra.pop("pending_epoch", None)
    if epoch is None and pending_epoch is not None:
        epoch = pending_epoch
    from_epoch = step is None and epoch is not None
    # held-out: marked by a phase, or a metric named for a held-out split ("val loss"), or every metric named with a
    # split prefix, however it was printed ("val_loss: 0.53", or "the validation loss is 0.53", which the sentence
    # rule writes as "val_loss=0.53")
    evalish = marked_eval or any(re.match(r"(?:val|valid|eval|test)\b|validation", k, re.I) for k in metrics) \
        or all(_ALREADY_HELD_OUT.match(k) for k in metrics)
    if from_epoch and st.extra.get("counted_since_row", 0) >= _CLOSED_BY_ROW:
        # an epoch row after the loop's own counted lines of that epoch ("Epoch: 001/100 | Batch 120/156 | Cost: .."
        # then "Epoch: 001/100 Train Acc.: 63.35% | Validation Acc.: 62.12%"; TF1's "Minibatch: 1400 | Cost: .."
        # then "Epoch: 001 | AvgCost: .."): it closes the epoch, at the last step counted; its epoch number is no
        # position in that count (read as one, the step went back from 15564 to 1 every epoch)
        if not evalish:
            st.extra["counted_since_row"] = 0
            st.extra["closing_rows"] = st.extra.get("closing_rows", 0) + 1
        return Record(None, metrics, eval=evalish, epoch=epoch)
    if from_epoch:
        step = epoch  # per-epoch logs ("Epoch: 0005 cost = 0.12"): the epoch is the step
    elif step is not None and not evalish:
        st.extra["counted_since_row"] = st.extra.get("counted_since_row", 0) + 1
    return Record(step, metrics, eval=evalish, epoch=epoch, from_epoch=from_epoch)


# Bare "step value" lines, the commonest print of a hand-written loop (`print(step, loss.item())`; yanmtt's
# pretraining prints "76930 2.6496577"), or the same pair written with a comma (`f.write(f"{epoch}, {avg_loss}\n")`,
# a mesh-deformation loop's loss_log.txt: "1, 0.004008313849044498"): an integer counter and one number, nothing else
# on the line. The value of such a loop print is its training loss (what a loop prints when it prints one number),
# read under that name. Guards against tables of numbers: the value has a decimal point or is non-finite (integer
# pairs are counts), and the counter rises strictly (a line whose counter does not is no step of this log), except
# that a counter back at the value the log opened with is the same loop run again and appended to the same file
# (tests/corpus/realworld/g15s35-mesh-deformation-edgeconv-loss-log-resumed: epochs 1-19, then 1-100): it continues
# the run after the last step read, as a repeated table header whose epoch goes back does (parse_table).
_STEP_VALUE = re.compile(r"^(\d{1,12})(?:\s+|\s*,\s*)"
                         r"([-+]?(?:\d+\.\d*(?:[eE][-+]?\d+)?|\d+[eE][-+]?\d+|nan|NaN|inf|-inf|Inf))$")


def parse_step_value(line: str, st: State) -> Record | None:
    m = _STEP_VALUE.match(line.strip())
    if not m:
        return None
    raw = int(m.group(1))
    last_raw = st.extra.get("step_value_raw")
    if last_raw is not None and raw <= last_raw:
        if raw != st.extra.get("step_value_first") or raw == last_raw:
            return None
        st.extra["step_value_offset"] = st.extra["step_value_last"]  # the loop run again, appended
    st.extra.setdefault("step_value_first", raw)
    st.extra["step_value_raw"] = raw
    step = st.extra["step_value_last"] = raw + st.extra.get("step_value_offset", 0)
    return Record(step, {"loss": float(m.group(2))})


# Deeplearning4j: ScoreIterationListener's "Score at iteration N is x" (the training loss) and Evaluation.stats()
# blocks (held-out metrics on the last iteration seen); the lines are recognised in _dl4j.py, which says why.
def parse_dl4j(line: str, st: State) -> Record | None:
    got = _dl4j.score_line(line)
    if got is not None:
        st.extra.pop("dl4j_eval", None)
        return Record(got[0], {"loss": got[1]})
    kind = _dl4j.banner(line)
    if kind is not None:
        if kind == "eval":
            st.extra["dl4j_eval"] = True
        else:
            st.extra.pop("dl4j_eval", None)
        return None
    if st.extra.get("dl4j_eval"):
        metric = _dl4j.eval_metric(line)
        if metric is not None:
            return Record(None, {metric[0]: metric[1]}, eval=True)
    return None


@dataclass(frozen=True)
class Format:
    name: str
    parse: Callable[[str, State], Record | None]
    specific: bool = True  # False: the generic fallback
    # whole-line layout of the family's commonest line (only for parsers that keep no state between such lines)
    layout: Callable[[str, Record], Layout | None] | None = None
    # the family's lines open with the loop's own counter as a bare "N: " (normalise() takes it for an srun rank tag):
    # detection shows this parser the line with the counter put back, "N | rest", as the reader does once the head's
    # bare prefixes rise like a counter (text_log.bare_prefix_counts)
    counter_prefix: bool = False


def _own_module(module: str, name: str) -> Callable[[str, State], Record | None]:
    """The parser of a family read in its own module (one file per format), imported on its first line: those modules
    import this one's Record/State/NUM, and the reader registry may import them first, so importing them here at
    load time would be circular."""
    found: list[Callable[[str, State], Record | None]] = []

    def resolve() -> Callable[[str, State], Record | None]:
        if not found:
            found.append(getattr(importlib.import_module(f"traindoc.ingest.readers.{module}"), name))
        return found[0]

    def parse(line: str, st: State) -> Record | None:
        return resolve()(line, st)

    parse.__name__ = name
    parse.resolve = resolve  # for direct_parser
    return parse


def direct_parser(fmt: Format) -> Callable[[str, State], Record | None]:
    """The format's parser with no `_own_module` wrapper in between (its module imported now): the same function,
    one Python call less per line, for loops that run every parser on every head line (text_log._Detection)."""
    resolve = getattr(fmt.parse, "resolve", None)
    if resolve is None:
        return fmt.parse
    try:
        return resolve()
    except Exception:  # noqa: BLE001 - a module that fails to import fails per line, as through the wrapper
        return fmt.parse


FORMATS: list[Format] = [
    Format("nanogpt", parse_nanogpt, layout=layout_nanogpt),
    Format("modded_nanogpt", parse_modded_nanogpt),
    Format("megatron", parse_megatron, layout=layout_megatron),
    Format("deepspeed", parse_deepspeed),
    Format("fairseq", parse_fairseq),
    Format("keras", parse_keras),
    Format("paddle_hapi", parse_paddle_hapi),
    Format("paddle_tutorial", parse_paddle_tutorial),
    Format("detectron2", parse_detectron2),
    Format("mmcv", parse_mmcv),
    Format("timm", parse_timm),
    Format("imagenet_example", parse_imagenet_example),
    Format("metric_logger", parse_metric_logger),
    Format("torchtitan", parse_torchtitan),
    Format("litgpt", parse_litgpt),
    # before the Lightning bar, which reads their tqdm bars too but not their postfix layout (the modules say how)
    Format("widedeep_trainer", _own_module("_widedeep_trainer", "parse_widedeep_trainer")),
    Format("smp_epoch_runner", _own_module("_smp_epoch_runner", "parse_smp_epoch_runner")),
    Format("lightning_bar", parse_lightning_bar),
    Format("rich_bar", parse_rich_bar),
    Format("accelerate_epoch", parse_accelerate_epoch),
    Format("pytorch_examples", parse_pytorch_examples),
    Format("unet_progress", parse_unet_progress),
    Format("word_lm", parse_word_lm),
    Format("llmc", parse_llmc),
    Format("caffe", parse_caffe),
    Format("darknet", parse_darknet),
    Format("wav2letter", _own_module("_wav2letter_log", "parse_wav2letter")),
    Format("deepspeech_console", _own_module("_deepspeech_console", "parse_deepspeech_console")),
    Format("frcnn_pytorch", _own_module("_frcnn_pytorch_console", "parse_frcnn_pytorch")),
    Format("deeplearntoolbox", _own_module("_deeplearntoolbox_log", "parse_deeplearntoolbox")),
    Format("dl4j", parse_dl4j),
    Format("nnabla_monitor", _own_module("_nnabla_monitor", "parse_nnabla_monitor")),
    Format("matlab_trainnetwork", _own_module("_matlab_trainnetwork", "parse_matlab_trainnetwork")),
    Format("fann", _own_module("_fann_console", "parse_fann")),
    Format("neon", _own_module("_neon_console", "parse_neon")),
    Format("encog", _own_module("_encog_console", "parse_encog")),
    Format("r_nnet", _own_module("_r_nnet_trace", "parse_r_nnet")),
    Format("r_neuralnet", _own_module("_r_neuralnet_lifesign", "parse_r_neuralnet")),
    Format("syncognite", _own_module("_syncognite_console", "parse_syncognite")),
    Format("julia_symbol_tuple", _own_module("_julia_symbol_tuple", "parse_julia_symbol_tuple")),
    Format("kotlindl", _own_module("_kotlindl_console", "parse_kotlindl")),
    Format("pointnetlk_epoch", _own_module("_pointnetlk_epoch_log", "parse_pointnetlk_epoch")),
    Format("pointnet2_pytorch", _own_module("_pointnet2_pytorch_log", "parse_pointnet2_pytorch")),
    Format("dgcnn_iostream", _own_module("_dgcnn_iostream", "parse_dgcnn_iostream")),
    Format("xgboost", _own_module("_xgboost_eval", "parse_xgboost")),
    Format("lightgbm", _own_module("_lightgbm_eval", "parse_lightgbm")),
    Format("catboost", _own_module("_catboost_console", "parse_catboost")),
    Format("vw_progress", _own_module("_vw_progress", "parse_vw_progress")),
    Format("tesseract_lstmtraining", _own_module("_tesseract_lstmtraining", "parse_tesseract_lstmtraining")),
    Format("dtrb_console", _own_module("_dtrb_console", "parse_dtrb")),
    Format("rwkv_train_log", _own_module("_rwkv_train_log", "parse_rwkv_train_log")),
    Format("aenet_train", _own_module("_aenet_train", "parse_aenet_train")),
    Format("flaml_automl", _own_module("_flaml_automl", "parse_flaml_automl")),
    Format("fasttext", parse_fasttext),
    Format("hf_metrics", parse_hf_metrics),
    Format("cntk", parse_cntk),
    Format("eesen", parse_eesen),
    Format("nlp_tutorial", parse_nlp_tutorial),
    Format("opennmt", parse_opennmt),
    Format("marian", parse_marian),
    Format("flair", parse_flair),
    Format("mxnet", parse_mxnet),
    Format("spacy", parse_spacy),
    Format("yolo_results", parse_yolo_results),
    Format("yolo_console", _own_module("_yolo_console", "parse_yolo_console")),
    Format("trax", parse_trax),
    Format("nolearn_rows", parse_nolearn_rows),
    Format("gan_visualizer", parse_gan_visualizer),
    Format("basicsr", parse_basicsr),
    Format("kair_val", _own_module("_kair_val", "parse_kair_val")),
    Format("fastai_recorder", parse_fastai_recorder),
    Format("table", parse_table),
    Format("md_table", parse_md_table),
    Format("html_table", _own_module("_html_table_log", "parse_html_table")),
    Format("tsv_table", parse_tsv_table),
    Format("julia_show", parse_julia_show),
    Format("kv_table", parse_kv_table),
    Format("step_value", parse_step_value),
    Format("counter_loss", _own_module("_counter_loss_print", "parse_counter_loss")),
    Format("gan_pair", _own_module("_gan_pair_print", "parse_gan_pair"), counter_prefix=True),
    Format("tslib_epoch", _own_module("_tslib_epoch", "parse_tslib_epoch")),
    Format("epoch_banner_error", _own_module("_epoch_banner_error", "parse_epoch_banner_error")),
    Format("grad_tts", _own_module("_grad_tts_train_log", "parse_grad_tts")),
    Format("fomm_log", _own_module("_fomm_log", "parse_fomm_log")),
    Format("error_prediction", _own_module("_error_prediction_print", "parse_error_prediction")),
    Format("nielsen_network", _own_module("_nielsen_network_print", "parse_nielsen_network")),
    Format("epoch_running", _own_module("_epoch_running_print", "parse_epoch_running")),
    Format("rl_episode_print", _own_module("_rl_episode_print", "parse_rl_episode_print")),
    Format("dlrm", _own_module("_dlrm_console", "parse_dlrm")),
    Format("speechbrain_train_log", _own_module("_speechbrain_train_log", "parse_speechbrain_train_log")),
    Format("torch7_stochastic_gradient", _own_module("_torch7_stochastic_gradient",
                                                  "parse_torch7_stochastic_gradient")),
    Format("mxnet_r", _own_module("_mxnet_r_console", "parse_mxnet_r")),
    Format("mlpack_rl", _own_module("_mlpack_rl_print", "parse_mlpack_rl")),
    Format("rl_games", _own_module("_rl_games_console", "parse_rl_games")),
    Format("fastshap", _own_module("_fastshap_print", "parse_fastshap")),
    Format("tune_status", _own_module("_tune_status_table", "parse_tune_status")),
    Format("gluonts_trainer", _own_module("_gluonts_trainer", "parse_gluonts_trainer")),
    Format("epoch_of_took", _own_module("_epoch_of_took_block", "parse_epoch_of_took")),
    Format("pandas_frame", _own_module("_pandas_frame_print", "parse_pandas_frame")),
    Format("super_gradients", _own_module("_super_gradients_summary", "parse_super_gradients")),
    Format("ludwig", _own_module("_ludwig_console", "parse_ludwig")),
    Format("recommenders_epoch", _own_module("_recommenders_epoch", "parse_recommenders_epoch")),
    Format("freerec_coach", _own_module("_freerec_coach", "parse_freerec_coach")),
    Format("pytorch_kaldi_res", _own_module("_pytorch_kaldi_res", "parse_pytorch_kaldi_res")),
    Format("tsne_verbose", _own_module("_tsne_verbose", "parse_tsne_verbose")),
    Format("stan_advi", _own_module("_stan_advi", "parse_stan_advi")),
    Format("deepmd_lcurve", _own_module("_deepmd_lcurve", "parse_deepmd_lcurve")),
    Format("deepxde_loss_dat", _own_module("_deepxde_loss_dat", "parse_deepxde_loss_dat")),
    Format("gpumd_nep_loss", _own_module("_gpumd_nep_loss", "parse_gpumd_nep_loss")),
    Format("nequip_log", _own_module("_nequip_log", "parse_nequip_log")),
    Format("mace_console", _own_module("_mace_console", "parse_mace_console")),
    Format("chemprop_log", _own_module("_chemprop_log", "parse_chemprop_log")),
    Format("mlagents_summary", _own_module("_mlagents_summary", "parse_mlagents")),
    Format("fuxictr_log", _own_module("_fuxictr_log", "parse_fuxictr")),
    Format("ngcf_epoch", _own_module("_ngcf_epoch", "parse_ngcf_epoch")),
    Format("enmf_console", _own_module("_enmf_console", "parse_enmf")),
    Format("lr_gccf_print", _own_module("_lr_gccf_print", "parse_lr_gccf")),
    Format("vits_loss_list", _own_module("_vits_loss_list", "parse_vits_loss_list")),
    Format("mllog", _own_module("_mllog", "parse_mllog")),
    Format("stylegan_log", _own_module("_stylegan_training_loop", "parse_stylegan_log")),
    Format("minitorch", _own_module("_minitorch_interface", "parse_minitorch")),
    Format("lerobot", _own_module("_lerobot_train_log", "parse_lerobot")),
    Format("nanochat", _own_module("_nanochat_console", "parse_nanochat")),
    Format("minimind_epoch", _own_module("_minimind_epoch_print", "parse_minimind_epoch")),
    Format("generic", parse_generic, specific=False),
]
FORMAT_BY_NAME = {f.name: f for f in FORMATS}

# HF Trainer console dicts ("{'loss': 2.05, ...}") belong to ingest-structured's reader; we only count them so that a
# file made of them is left to that reader.
HF_DICT = re.compile(r"\{'(?:loss|eval_loss|train_runtime|learning_rate|grad_norm|epoch)'\s*:")
