"""A log line that prints the run's hyperparameters is configuration, not a metric series.

Training scripts print their settings once at the start: `config seed=0 optimizer=adam lr=3e-4 act=relu ...`,
`hparams: lr=0.1 batch=32`, argparse's `Namespace(lr=0.1, batch_size=32, arch='resnet18')`. Read as metrics, such
a line becomes one-point series named "adam lr" or "relu bias_init"; read as configuration, its values are what
the detectors compare against reference ranges (the LR, the activation, the bias init, the depth).

A line counts only when it *starts* with one of those words and holds >= 2 `key=value` pairs: a metric line starts
with a step, an epoch or a metric name, never with "config". argparse's `Namespace(key=...` is its repr wherever it
stands (behind a logger prefix too).

Scripts also announce a run in words: `training mlp with adam lr=0.0006 batch=32 steps=300`, `Starting training
with sgd: lr=0.1 batch_size=128`. Such a line counts when it starts with a verb of starting a run, its words before
the first pair hold no number (a metric line names its step or epoch there), it has >= 2 pairs, one of them is a
learning rate or a batch size, and none is a loss, an accuracy or the current step (what a metric line carries).
An optimiser named in its words ("with adam") is recorded as `optimizer`.
"""

from __future__ import annotations

import re
from typing import Any

from traindoc.ingest.model import ConfigValue, Run

_HEAD = re.compile(
    r"^(?:config(?:uration)?|hparams|hyper[-_ ]?param(?:eter)?s|args|arguments|options|settings|Namespace)"
    r"\s*[:=(]?\s*", re.IGNORECASE)
# key=value, the value quoted ('resnet18', "x y") or a bare token up to a separator
# argparse's repr behind a logger prefix the reader does not strip ("INFO:root:04:17:33 Namespace(accumulate=None,
# batch_size=32, ..., lr=2e-05, seed=27, warmup_ratio=0.1)", GluonNLP's BERT fine-tuning log): `Namespace(` followed
# by `key=value` is that repr and nothing else, wherever the line puts it
_NAMESPACE = re.compile(r"(?:^|[\s:\]>|-])Namespace\((?=[A-Za-z_][\w]*=)")
_KV = re.compile(r"(?<![\w.])([A-Za-z_][\w.\-]*)\s*=\s*('[^']*'|\"[^\"]*\"|[^\s,()\[\]{}]+)")
_MIN_PAIRS = 2
_PROSE_HEAD = re.compile(r"^(?:start(?:ing)?\s+|begin(?:ning)?\s+)?(?:training|train|fitting|running|launching)\b",
                         re.IGNORECASE)
# keys that make a worded line a run announcement, and keys only a metric line carries
_HYPER_KEYS = {"lr", "learning_rate", "learning-rate", "base_lr", "max_lr", "peak_lr", "batch", "batch_size",
               "batch-size", "bs", "global_batch_size", "micro_batch_size"}
_METRIC_KEYS = re.compile(r"(?:^|_)(?:loss|acc|accuracy|step|iter|iteration|epoch)$", re.IGNORECASE)
# optimisers named in words ("training mlp with adam"): the common torch.optim / optax / Keras class names
_OPTIMISERS = ("adamw", "adam", "sgd", "rmsprop", "adagrad", "adadelta", "adamax", "nadam", "radam", "lamb", "lars",
               "lion", "adafactor", "muon", "sophia", "shampoo")
_WITH_OPTIMISER = re.compile(rf"\bwith\s+({'|'.join(_OPTIMISERS)})\b", re.IGNORECASE)
MAX_PAIRS = 500  # a hostile line cannot make one config with unbounded keys


def scalar(text: str) -> Any:
    """The value as a config file would hold it: number, bool, None, else the string without its quotes."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def config_pairs(text: str) -> list[tuple[str, str]] | None:
    """The (key, value text) pairs of a hyperparameter line, or None when the line is not one."""
    m = _HEAD.match(text)
    if m is None and "Namespace(" in text:
        m = _NAMESPACE.search(text)
    if m is None:
        return _announcement_pairs(text)
    found = _KV.findall(text, m.end())
    return found[:MAX_PAIRS] if len(found) >= _MIN_PAIRS else None


def _announcement_pairs(text: str) -> list[tuple[str, str]] | None:
    """Pairs of a worded run announcement (`training mlp with adam lr=... batch=...`), see the module docstring."""
    if _PROSE_HEAD.match(text) is None:
        return _with_list_pairs(text)
    first = _KV.search(text)
    if first is None or any(ch.isdigit() for ch in text[: first.start()]):
        return None
    found = _KV.findall(text, first.start())[:MAX_PAIRS]
    keys = [k.lower() for k, _ in found]
    if len(found) < _MIN_PAIRS or not _HYPER_KEYS.intersection(keys) or any(_METRIC_KEYS.search(k) for k in keys):
        return None
    named = _WITH_OPTIMISER.search(text, 0, first.start())
    if named is not None and "optimizer" not in keys and "optim" not in keys:
        found.insert(0, ("optimizer", named.group(1).lower()))
    return found


# The same announcement with its settings as a sentence's list, "name: value" items after "with" joined by commas and
# a last "and": orbit's `Using SVI (Pyro) with steps: 501, samples: 1000, learning rate: 0.2,
# learning_rate_total_decay: 0.05 and particles: 100.` (realworld orbit-ktr-simulation-svi-fit). Read as metric pairs
# it gave one-point series "lr", "samples" and "and particles" at a step past the run's last. The whole rest of the
# line must be that list (a metric line goes on with its step or loss), with the same conditions as above: the words
# before "with" hold no number and no pair, >= 2 items, one a learning rate or a batch size, none a loss, an accuracy
# or a counter. A name of words becomes one key ("learning rate" -> learning_rate).
_WITH_LIST_HEAD = re.compile(r"^(?:using|fitting|training|running|optimi[sz]ing|starting)\b[^:=\d]*?\bwith\s+",
                             re.IGNORECASE)
_WITH_LIST_ITEM = re.compile(r"(?<![\w.\-])([A-Za-z_][\w.\-]*(?: [A-Za-z_][\w.\-]*){0,2})\s*:\s*([^\s,;:]+?)\.?"
                             r"(?:,\s*|\s+and\s+|\s*$)")


def _with_list_pairs(text: str) -> list[tuple[str, str]] | None:
    """Pairs of an announcement's "with name: value, ... and name: value" list, see above."""
    head = _WITH_LIST_HEAD.match(text)
    if head is None:
        return None
    found: list[tuple[str, str]] = []
    at = head.end()
    while at < len(text) and len(found) < MAX_PAIRS:
        item = _WITH_LIST_ITEM.match(text, at)
        if item is None:
            return None
        found.append(("_".join(item.group(1).lower().split()), item.group(2)))
        at = item.end()
    keys = [k for k, _ in found]
    if len(found) < _MIN_PAIRS or not _HYPER_KEYS.intersection(keys) or any(_METRIC_KEYS.search(k) for k in keys):
        return None
    return found


# The training banner of the Hugging Face Trainer and of the `accelerate` / transformers `no_trainer` example loops
# ("***** Running training *****", then "  Gradient Accumulation steps = 8"): the accumulation factor the updates
# follow, stated by the library (or the loop) itself. It is configuration, the same setting as the Trainer's
# `gradient_accumulation_steps` argument, and is recorded under that key so the accumulation rules (a period of k
# steps, a loss k times another) read it where no config file was kept.
# A logger's prefix may come first ("[INFO|trainer.py:1819] 2024-03-12 11:24:23,876 >>   Gradient ..."); the phrase
# and its "= N" ending the line are the banner's own wording.
_ACCUM_BANNER = re.compile(r"(?:^|\s)Gradient Accumulation steps\s*=\s*(\d+)\s*$", re.IGNORECASE)


def banner_pairs(text: str) -> list[tuple[str, str]] | None:
    """[("gradient_accumulation_steps", "8")] for the training banner's accumulation line, else None."""
    m = _ACCUM_BANNER.search(text)
    return [("gradient_accumulation_steps", m.group(1))] if m is not None else None


def record(pairs: list[tuple[str, str]], run: Run, path: str, line_no: int) -> None:
    for key, raw in pairs:
        run.put_config(ConfigValue(key=key, value=scalar(raw), file=path, line=line_no, kind="log_line", text=raw))
