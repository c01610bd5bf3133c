"""Hugging Face model cards: the README.md the Trainer writes for every model it pushes (`Trainer.create_model_card`),
the commonest published record of a training run. Two parts of it are the run:

    ### Training hyperparameters

    The following hyperparameters were used during training:
    - learning_rate: 2e-05
    - train_batch_size: 8
    - optimizer: Adam with betas=(0.9,0.999) and epsilon=1e-08
    - lr_scheduler_warmup_steps: 500
    - num_epochs: 3
    - mixed_precision_training: Native AMP

    ### Training results

    | Training Loss | Epoch | Step | Validation Loss | Accuracy |
    |:-------------:|:-----:|:----:|:---------------:|:--------:|
    | No log        | 1.0   | 459  | 0.3519          | 0.8627   |

The table is the Trainer's log at each evaluation: the training loss of the last logging interval, the epoch (a
float), the global step, and the evaluation's `eval_*` values with the prefix stripped and the name title-cased
(`eval_wer` -> "Wer"). It is read by the Markdown-table parser (textlog_formats.parse_md_table, which takes the Step
column as the step and a "No log" cell as a missing value in that cell only); the columns get back the names the
Trainer logged them under: "Training Loss" -> loss, "Validation Loss" -> eval_loss, "Epoch" -> epoch, any other
column -> eval_<name> (eval_wer, eval_f1, eval_rouge1).

The hyperparameter list becomes configuration under the TrainingArguments names (learning_rate,
per_device_train_batch_size, gradient_accumulation_steps, warmup_steps / warmup_ratio, num_train_epochs / max_steps,
lr_scheduler_type, seed). "mixed_precision_training: Native AMP" is the Trainer's fp16 autocast on CUDA (fp16 true);
"Apex, opt level O1" is fp16 through apex. The optimizer line names the optimizer and its Adam betas and epsilon.

A README.md is claimed only when it holds the card's own headings ("### Training results" over a table, or
"### Training hyperparameters" over its list); any other document stays with the text-log reader, which reads a
Markdown file only when it is a console capture (text_log.sniff).
"""

from __future__ import annotations

import re
from array import array
from pathlib import Path

import numpy as np

from traindoc.ingest import budget
from traindoc.ingest.model import ConfigValue, Run, Series, Source
from traindoc.ingest.readers._config_line import scalar
from traindoc.ingest.readers.textlog_formats import State, canonical, parse_md_table
from traindoc.ingest.registry import Reader, ReadError

_SUFFIXES = {".md", ".markdown"}
_RESULTS = re.compile(rb"^#{2,4}\s*Training results\s*$", re.MULTILINE)
_HYPER = re.compile(rb"^#{2,4}\s*Training hyperparameters\s*$", re.MULTILINE)
_TABLE_HEAD = re.compile(rb"^\|\s*Training Loss\s*\|", re.MULTILINE)
_HYPER_INTRO = b"hyperparameters were used during training"
# (the text after the marker is stripped in code: a lazy `(.*?)\s*$` is quadratic in a run of spaces inside a line)
_HEADING = re.compile(r"^(#{1,6})(.*)$")
_BULLET = re.compile(r"^[-*]\s+([A-Za-z_][\w]*)\s*:(.*)$")
# a card's headings, bullets and table rows are short; a longer line is none of them and is not matched at all
MAX_CARD_LINE = 8192
MAX_LINES = 100_000  # a card is a page; past this the file is no card (the rest is left unread, with a warning)

# card key -> TrainingArguments name (causes/keys.py reads these groups)
_CONFIG_KEYS = {
    "learning_rate": "learning_rate",
    "train_batch_size": "per_device_train_batch_size",  # per device under DDP; num_devices and total follow it
    "eval_batch_size": "per_device_eval_batch_size",
    "total_train_batch_size": "total_batch_size",
    "total_eval_batch_size": "total_eval_batch_size",
    "gradient_accumulation_steps": "gradient_accumulation_steps",
    "seed": "seed",
    "lr_scheduler_type": "lr_scheduler_type",
    "lr_scheduler_warmup_steps": "warmup_steps",
    "lr_scheduler_warmup_ratio": "warmup_ratio",
    "num_epochs": "num_train_epochs",
    "training_steps": "max_steps",
    "num_devices": "num_devices",
    "distributed_type": "distributed_type",
    "label_smoothing_factor": "label_smoothing_factor",
}
# "Adam with betas=(0.9,0.999) and epsilon=1e-08"; newer cards name the enum ("OptimizerNames.ADAMW_TORCH with ...")
# The name ends only where a run of spaces starts ("(?<!\s)"): a later end inside the run finds the same clauses,
# and trying each made a long run of spaces quadratic (docs/architecture.md); the value is stripped, so the name is
# never a space.
_OPTIMIZER = re.compile(r"^(.+?)(?:(?<!\s)\s+with\s+betas=\(\s*([^,\s]+)\s*,\s*([^)\s]+)\s*\)\s+and\s+"
                        r"epsilon=(\S+?))?(?:(?<!\s)\s+and\s+optimizer_args=.*)?$")
_TRAINER_COLUMNS = {"training loss": "loss", "validation loss": "eval_loss", "epoch": "epoch"}


def sniff(path: Path, head: bytes) -> float:
    if path.is_dir() or path.suffix.lower() not in _SUFFIXES:
        return 0.0
    results = _RESULTS.search(head) is not None and _TABLE_HEAD.search(head) is not None
    hyper = _HYPER.search(head) is not None and _HYPER_INTRO in head
    return 0.7 if results or hyper else 0.0


def column_name(raw: str) -> str:
    """The name the Trainer logged a results column under: 'Validation Loss' -> eval_loss, 'Wer' -> eval_wer."""
    low = raw.strip().lower()
    if low in _TRAINER_COLUMNS:
        return _TRAINER_COLUMNS[low]
    return canonical("eval_" + re.sub(r"[^0-9a-z]+", "_", low).strip("_"))


def config_values(key: str, raw: str) -> list[tuple[str, object]]:
    """(TrainingArguments name, value) pairs for one hyperparameter bullet; [] for a key the card has no name for."""
    if key == "optimizer":
        m = _OPTIMIZER.match(raw)
        name = m.group(1) if m else raw
        out: list[tuple[str, object]] = [("optim", name.removeprefix("OptimizerNames.").lower())]
        if m and m.group(2):
            out += [("adam_beta1", scalar(m.group(2))), ("adam_beta2", scalar(m.group(3))),
                    ("adam_epsilon", scalar(m.group(4)))]
        return out
    if key == "mixed_precision_training":
        low = raw.lower()
        if low.startswith("native amp"):  # torch.cuda.amp autocast in float16 with a GradScaler: --fp16
            return [("fp16", True)]
        if low.startswith("apex"):  # "Apex, opt level O1"
            level = re.search(r"\bO\d\b", raw)
            return [("fp16", True)] + ([("fp16_opt_level", level.group(0))] if level else [])
        return [("mixed_precision", raw)]
    target = _CONFIG_KEYS.get(key)
    return [(target, scalar(raw))] if target else []


def read(path: Path, run: Run) -> Source:
    spath = str(path)
    try:
        f = budget.open_input(path)
    except OSError as exc:
        raise ReadError(f"{path}: cannot open ({exc.strerror or exc})") from None
    source = Source(path=spath, format="hf_model_card")
    steps: dict[str, array] = {}
    values: dict[str, array] = {}
    raw_of: dict[str, str] = {}
    section = ""
    st = State()
    with f:
        for line_no, raw_bytes in enumerate(f, 1):
            if line_no > MAX_LINES:
                source.warnings.append(f"read the first {MAX_LINES} lines only")
                break
            if len(raw_bytes) > MAX_CARD_LINE:
                continue
            line = raw_bytes.decode("utf-8", errors="replace").strip()
            heading = _HEADING.match(line)
            if heading:
                section = heading.group(2).strip().lower()
                parse_md_table("end of table", st)
                continue
            if section == "training hyperparameters":
                bullet = _BULLET.match(line)
                text = bullet.group(2).strip() if bullet else ""
                if text:
                    for key, value in config_values(bullet.group(1), text):
                        run.put_config(ConfigValue(key=key, value=value, file=spath, line=line_no, kind="hparams",
                                                   text=text))
            elif section == "training results" and line:
                rec = parse_md_table(line, st)
                if rec is None or rec.step is None:
                    continue
                source.records += 1
                for raw, value in rec.metrics.items():
                    name = column_name(raw)
                    raw_of.setdefault(name, raw)
                    steps.setdefault(name, array("q")).append(rec.step)
                    values.setdefault(name, array("d")).append(value)
    for name in sorted(steps):
        run.add_series(Series(name, np.frombuffer(steps[name], dtype=np.int64).copy(),
                              np.frombuffer(values[name], dtype=np.float64).copy(), spath, raw_of[name]))
        source.metrics.append(name)
    if not source.records and not any(cv.file == spath for cv in run.config.values()):
        source.warnings.append("a model card without a readable Training results table or hyperparameter list")
    return source


READERS = [Reader("hf_model_card", sniff, read)]
