"""MLPerf Training result logs: the `mlperf_logging` package's `:::MLLOG` lines and the older `:::MLPv0.5.0` form.

    :::MLLOG {"namespace": "", "time_ms": 1593141103611, "event_type": "POINT_IN_TIME", "key": "global_batch_size",
        "value": 832, "metadata": {"file": "/mnt/current/common/fit.py", "lineno": 1190}}
    :::MLLOG {"namespace": "main", "time_ms": 1591750692618, "key": "eval_accuracy", "value": 0.03462,
        "metadata": {"epoch_num": 4.0, "lineno": 322, "file": "resnet_main.py"}}
    :::MLLOG {"namespace": "main", "time_ms": 1592383079537, "key": "eval_accuracy",
        "value": {"BBOX": 0.0469, "SEGM": 0.0471}, "metadata": {"epoch_num": 1, ...}}
    :::MLPv0.5.0 resnet 1541661299.421723366 (in_memory_eval.py:262) eval_accuracy: {"value": 0.0603, "epoch": 0}
    :::MLPv0.5.0 resnet 1541660919.942373514 (resnet/resnet_main.py:362) opt_momentum: 0.9

(each one line in the log, wrapped here). Every submission of the MLPerf Training benchmark writes its result file in
this form: one JSON event per line (a key, its value, the epoch or sample count it belongs to in `metadata`), mixed
with whatever the implementation prints besides (shell traces, the trainer's own console). Read blind (issue 8,
session 31: tests/corpus/realworld/mlperf-*), six of seven such files were unreadable and the seventh (NVIDIA's DLRM)
was read only through its console lines.

What is read:
- `eval_accuracy`: the benchmark's quality metric, evaluated every epoch or block of epochs until it reaches its
  target. Its name says "accuracy" for every benchmark, but what it measures differs (Mattson et al. 2020, "MLPerf
  Training Benchmark", Table 1): top-1 accuracy (ResNet), mAP (SSD, Mask R-CNN: a dict with one value per head,
  read as `eval_accuracy_bbox`, `eval_accuracy_segm`), BLEU (GNMT, Transformer), HR@10 (NCF), AUC (DLRM), masked-LM
  accuracy (BERT), win rate (MiniGo): all higher-is-better, read as `eval_accuracy`. The later speech and LLM
  benchmarks log a lower-is-better quantity under the same key (word error rate for RNN-T; log perplexity for GPT-3,
  the Llama pre-training and LoRA fine-tuning benchmarks), so the benchmark named by `submission_benchmark` (or the
  v0.5 line's second token) decides the name: `eval_wer`, `eval_log_perplexity`. A value that names its own metric in
  `metadata.metric` (Stable Diffusion's FID and CLIP score) is read under that name.
- `train_loss`, where an implementation logs it: the training loss.
- The step: `metadata.samples_count` where given (the samples seen), else a whole `metadata.epoch_num` (or the v0.5
  value's `epoch`) as the epoch; a fractional epoch (DLRM evaluates 20 times per epoch) is no position of its own and
  the point takes the reader's current step.
- Hyperparameters are configuration (`mllog_config`): the base LR (`opt_base_learning_rate`, or with the optimiser's
  prefix, `sgd_opt_base_learning_rate`, `lars_opt_base_learning_rate`), `global_batch_size`, `opt_name`, the warmup
  steps and the weight decay. An optimiser named only by that prefix (DLRM logs `sgd_opt_base_learning_rate` and no
  `opt_name`) is recorded as the optimiser.

Every other event (run_start, block_start, submission_org ...) is this family's line with no point: claimed, so that
the generic rules do not read `"lineno": 83` or `"value": 832` as metrics.
"""

from __future__ import annotations

import json
import re
from typing import Any

from traindoc.ingest.readers.textlog_formats import Record, State

_MLLOG = re.compile(r":::MLLOG\s+(\{.*\})\s*$")
# :::MLPv0.5.0 <benchmark> <unix time> (<file>:<line>) <key>[: <value>]
# the value is the rest of the line after the colon, stripped in code (a lazy `(.*?)\s*$` is quadratic in a run of
# spaces inside the line)
_V05 = re.compile(r":::MLPv0\.5\.0\s+(\S+)\s+[\d.]+\s+\([^)]*\)\s+([A-Za-z_][\w]*)(?::(.*))?\s*$")
# benchmarks whose `eval_accuracy` is lower-is-better (module docstring)
_WER = ("rnnt", "speech_recognition")
_LOG_PERPLEXITY = ("gpt3", "llama2_70b_lora", "llama31_8b", "llama31_405b")
_OPT_PREFIX = re.compile(r"^(sgd|lars|lamb|adam|adamw)_opt_base_learning_rate$")


def _event(text: str) -> tuple[str, Any, dict[str, Any], str | None] | None:
    """(key, value, metadata, benchmark or None) of one MLLOG or MLPv0.5.0 line, or None for any other line."""
    if ":::ML" not in text:
        return None
    m = _MLLOG.search(text)
    if m is not None:
        try:
            ev = json.loads(m.group(1))
        except ValueError:
            return None
        if not isinstance(ev, dict) or not isinstance(ev.get("key"), str):
            return None
        md = ev.get("metadata")
        return ev["key"], ev.get("value"), md if isinstance(md, dict) else {}, None
    m = _V05.search(text)
    if m is None:
        return None
    raw = (m.group(3) or "").strip()
    value: Any = None
    if raw:
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
    md: dict[str, Any] = {}
    if isinstance(value, dict) and "value" in value:
        md = {k: v for k, v in value.items() if k != "value"}
        if "epoch" in md:
            md["epoch_num"] = md.pop("epoch")
        value = value["value"]
    return m.group(2), value, md, m.group(1)


def _number(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _eval_name(benchmark: str | None, md: dict[str, Any]) -> str:
    metric = md.get("metric")
    if isinstance(metric, str) and re.fullmatch(r"[A-Za-z][\w]*", metric):
        return f"eval_{metric.lower()}"
    b = (benchmark or "").lower()
    if b in _WER:
        return "eval_wer"
    if b in _LOG_PERPLEXITY:
        return "eval_log_perplexity"
    return "eval_accuracy"


def parse_mllog(line: str, st: State) -> Record | None:
    """One MLLOG / MLPv0.5.0 event (module docstring), or None for any other line."""
    got = _event(line)
    if got is None:
        return None
    key, value, md, benchmark = got
    if benchmark is not None:
        st.extra["mllog_benchmark"] = benchmark
    if key == "submission_benchmark" and isinstance(value, str):
        st.extra["mllog_benchmark"] = value
    metrics: dict[str, float] = {}
    is_eval = False
    if key == "eval_accuracy":
        is_eval = True
        name = _eval_name(st.extra.get("mllog_benchmark"), md)
        if isinstance(value, dict):
            for k, v in value.items():
                x = _number(v)
                if x is not None and re.fullmatch(r"[A-Za-z][\w]*", str(k)):
                    metrics[f"{name}_{str(k).lower()}"] = x
        elif (x := _number(value)) is not None:
            metrics[name] = x
    elif key == "train_loss" and (x := _number(value)) is not None:
        metrics["loss"] = x
    if not metrics:
        return Record(None, claimed=True)
    samples, epoch = _number(md.get("samples_count")), _number(md.get("epoch_num"))
    if samples is not None and samples >= 0 and samples.is_integer():
        return Record(int(samples), metrics, eval=is_eval)
    if epoch is not None and epoch >= 0 and epoch.is_integer():
        return Record(int(epoch), metrics, eval=is_eval, epoch=int(epoch), from_epoch=True)
    return Record(None, metrics, eval=is_eval)


def _opt_name(value: str) -> str:
    low = value.strip().lower()
    # v0.5 spells the optimiser out ("stochastic_gradient_descent_with_momentum")
    return "sgd" if low.startswith("stochastic_gradient_descent") else low


def mllog_config(text: str) -> list[tuple[str, str]] | None:
    """The (key, value text) hyperparameters of one MLLOG / MLPv0.5.0 line (module docstring), or None."""
    got = _event(text)
    if got is None:
        return None
    key, value, _, _ = got
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    if key == "opt_name" and isinstance(value, str):
        return [("optimizer", _opt_name(value))]
    if isinstance(value, str):
        return None
    text_value = json.dumps(value)
    if key == "global_batch_size":
        return [("global_batch_size", text_value)]
    if key.endswith("opt_base_learning_rate"):
        pairs = [("base_lr", text_value)]
        m = _OPT_PREFIX.match(key)
        if m is not None:
            pairs.append(("optimizer", m.group(1)))
        return pairs
    if key.endswith("opt_learning_rate_warmup_steps"):
        return [("warmup_steps", text_value)]
    if key.endswith("opt_weight_decay"):
        return [("weight_decay", text_value)]
    return None
