"""Catalogue of diagnostic warning and error lines found in training logs.

Each entry is one regular expression over a *normalised* log line (ANSI codes, timestamps and rank prefixes already
stripped, see readers/text_log.py) mapped to a stable tag, the event kind and the root cause (an id from
docs/causes.md) it hints at. The strings come from the libraries that print them (PyTorch, apex, DeepSpeed,
fairseq, Megatron, transformers, Lightning, detectron2, Keras ...; listed in docs/references.md, Log formats).

A hint is not a diagnosis: "Gradient overflow" a few times at the start of an fp16 run is normal loss-scale search,
and a single "lr_scheduler.step() before optimizer.step()" can be AMP skipping step 0. Detectors weigh counts and
steps; the catalogue only names what a line is.

Matching is ordered: the first entry that matches wins, so specific entries sit above general ones. Patterns are
anchored loosely (``re.search``) because lines arrive with prefixes we may not know how to strip.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class CatalogueEntry:
    tag: str  # stable id, used as LogEvent.tag
    kind: str  # "warning" | "error" | "info" (LogEvent.kind)
    pattern: re.Pattern[str]
    cause: str | None  # cause id (docs/causes.md) this line is evidence for, if any
    meaning: str  # one line for humans (shown in evidence)


def _e(tag: str, kind: str, pattern: str, cause: str | None, meaning: str, flags: int = 0) -> CatalogueEntry:
    return CatalogueEntry(tag, kind, re.compile(pattern, flags), cause, meaning)


# Order matters: fatal / specific forms first, then the general ones they would also match.
CATALOGUE: list[CatalogueEntry] = [
    # --- Numerical: variance over one element (the ACT halting-variance bug produces exactly this) ---------------
    _e("var_dof", "warning",
       r"\b(?:var|std|var_mean|std_mean)\(\): degrees of freedom is <= 0", "act_variance_collapse",
       "variance/std over a single element (size-1 dim or batch of 1) returns NaN"),
    _e("cov_dof", "warning", r"\bcov\(\): degrees of freedom is <= 0", "act_variance_collapse",
       "covariance with too few observations returns NaN"),
    # --- fp16 loss scaling ------------------------------------------------------------------------------------------
    _e("loss_scale_min", "error", r"Current loss scale already at minimum|Minimum loss scale reached", "fp16_overflow",
       "dynamic loss scale collapsed to its minimum: the fp16 run cannot continue"),
    _e("fp16_unscale_error", "error", r"Attempting to unscale FP16 gradients", "fp16_overflow",
       "fp16 parameters under fp16 AMP: GradScaler refuses to unscale"),
    _e("grad_overflow", "warning",
       r"Gradient overflow\.\s+Skipping step|OVERFLOW! Rank \d+ Skipping step|fp16 dynamic loss scale overflow"
       r"|Grad overflow on iteration|gradient overflow detected, ignoring gradient"
       r"|WARNING: overflow detected, setting loss"
       # Paddle's GradScaler (paddle.amp, PaddleOCR/PaddleClas/PaddleDetection): "Found inf or nan, current scale
       # is: 1024.0, decrease to: 1024.0*0.5"
       r" scale|AMP: overflow detected|Found inf or nan, current scale is", "fp16_overflow",
       "fp16 overflow: the step was skipped and the loss scale reduced"),
    _e("loss_scale_reduced", "info", r"Reducing dynamic loss scale from|reducing loss scale to", "fp16_overflow",
       "dynamic loss scale reduced"),
    # --- NaN / Inf in loss or gradients ----------------------------------------------------------------------------
    _e("anomaly_nan", "error", r"Function '\w+' returned nan values in its \d+(?:st|nd|rd|th) output", "nan_inf",
       "torch.autograd.detect_anomaly found the backward op that produced NaN (named in the line)"),
    _e("detect_anomaly_enabled", "info", r"Anomaly Detection has been enabled", None,
       "autograd anomaly detection is on (slow; a NaN hunt was in progress)"),
    _e("clip_nonfinite", "error", r"The total norm of order [\d.a-z]+ for gradients from `?parameters`? is non-finite",
       "nan_inf", "clip_grad_norm_ met a NaN/Inf gradient norm"),
    _e("megatron_nan", "error", r"Unexpected result .*found (?:NaN|Inf) in local (?:forward loss|grad norm)", "nan_inf",
       "Megatron's rerun machine found NaN/Inf in the loss or gradients"),
    _e("megatron_spiky_loss", "warning", r"Unexpected result .*Spiky loss", "lr_too_high",
       "Megatron's rerun machine flagged a loss spike"),
    _e("inf_loss", "error",
       r"Loss is (?:inf|-inf|Infinity)\b|loss (?:is|became) infinite|Loss became infinite(?! or NaN)",
       "nan_inf", "the training loss became infinite"),
    # detectron2's anomaly check raises "FloatingPointError: Loss became infinite or NaN at iteration=N!" with the
    # loss dict on the next line ("loss_dict = {'loss_cls': tensor(nan, device='cuda:0', ...), ...}", older and
    # derived trainers print plain floats); a pasted log or an issue excerpt often keeps only that second line, which
    # is the same guard firing: a dict entry whose value is nan/inf
    _e("nan_loss", "error",
       r"Loss is nan|Loss became infinite or NaN|Invalid loss, terminating training|loss (?:is|became) NaN"
       r"|NaN loss|nan loss detected|non-finite loss|Monitored metric \S+ = (?:nan|inf|-inf) is not finite"
       r"|Detected (?:NaN|inf) (?:loss|values)|found NaN in local forward loss|Encountered NaN"
       r"|\bloss_dict = \{[^}]*?:\s*(?:tensor\()?(?:nan|-?inf)\b",
       "nan_inf", "the training loss became NaN (or a NaN guard stopped training)", re.IGNORECASE),
    _e("nan_grad", "error",
       r"(?:NaN|nan|Inf|inf) (?:detected )?in (?:the )?grad(?:ient)?s?\b|grad(?:ient)? norm is (?:nan|inf)",
       "nan_inf", "NaN/Inf gradients reported"),
    # numpy's floating-point warnings name the op that made a non-finite value: a division by zero (log(0) is one:
    # numpy reports it as "divide by zero encountered in log") or a value outside an op's domain (log/sqrt of a
    # negative); an overflow ("overflow encountered in exp") is left out: a growing weight makes it too
    _e("fp_op_warning", "warning",
       r"RuntimeWarning: (?:divide by zero encountered in \w+|invalid value encountered in "
       r"(?:log|log2|log10|log1p|sqrt|arccos|arcsin|arccosh|arctanh|power|reciprocal|true_divide|divide)\b)",
       "nan_inf", "numpy names an op that returned inf/NaN (a division by zero, log of 0 or of a negative)"),
    _e("tbx_nan", "warning", r"NaN or Inf found in input tensor", "nan_inf", "a NaN/Inf value was logged"),
    _e("grads_inconsistent", "error", r"gradients are inconsistent between workers", "distributed_desync",
       "per-rank gradient norms disagree"),
    # --- Optimiser / scheduler / graph ------------------------------------------------------------------------------
    _e("scheduler_before_optimizer", "warning",
       r"Detected call of `?lr_scheduler\.step\(\)`? before `?optimizer\.step\(\)`?", "scheduler_misuse",
       "the LR scheduler stepped before the optimiser (bug, or once when AMP skipped step 0)"),
    _e("scheduler_epoch_deprecated", "warning", r"The epoch parameter in `scheduler\.step\(\)` was not necessary",
       "scheduler_misuse", "scheduler.step(epoch) is deprecated and may skip values"),
    _e("no_grad_inputs", "warning", r"None of the inputs have requires_grad=True", "frozen_params",
       "reentrant checkpointing with frozen inputs: the segment gets no gradient"),
    _e("no_trainable_params", "warning",
       r"^\s*0\s+Trainable params$|^Trainable params: 0$|trainable params: 0 \|\||Number of trainable parameters = 0$",
       "frozen_params",
       "the model has no trainable parameter"),
    _e("no_grad_fn", "error",
       r"element 0 of tensors does not require grad and does not have a grad_fn", "frozen_params",
       "nothing trainable in the graph"),
    _e("ddp_unused_params", "error", r"Expected to have finished reduction in the prior iteration", "frozen_params",
       "DDP found parameters that got no gradient"),
    _e("target_size_mismatch", "warning", r"Using a target size \(.*\) that is different to the input size",
       "data_pipeline_bug", "loss target broadcast against a different input shape: a silent shape bug"),
    _e("token_length_exceeded", "warning", r"Token indices sequence length is longer than the specified maximum",
       "data_pipeline_bug", "inputs longer than the model's context; truncation missing"),
    # TRL's completion-only collator found no response template in the example (truncated by max_seq_length, or the
    # template tokenises differently in context): it sets every label to the ignore index, so the example adds nothing
    # to the loss; when every example does, the loss is exactly 0
    _e("labels_all_masked", "warning", r"This instance will be ignored in loss calculation", "data_pipeline_bug",
       "every label of an example is masked out: it adds nothing to the loss"),
    # torch's broadcasting error: two tensors that must align element by element (tokens and their embeddings,
    # predictions and targets) do not; often caught and printed as a warning by model code that then goes on
    _e("shape_mismatch", "error", r"The size of tensor a \(\d+\) must match the size of tensor b \(\d+\)", None,
       "two tensors that must align element by element have different sizes"),
    _e("empty_epoch_iterator", "error", r"There seems not to be a single sample in your epoch_iterator",
       "data_pipeline_bug", "the dataloader yielded nothing"),
    _e("weights_newly_initialized", "warning", r"were not initialized from the model checkpoint|LOAD REPORT from:",
       None, "some weights were freshly initialised when loading the checkpoint"),
    _e("recompile_limit", "warning", r"torch\._dynamo hit config\.(?:recompile_limit|cache_size_limit)", None,
       "torch.compile gave up recompiling; running eager (slow)"),
    _e("device_assert", "error", r"device-side assert triggered|Assertion `t >= 0 && t < n_classes` failed"
       r"|srcIndex < srcSelectDimSize", "data_pipeline_bug", "label or token id out of range"),
    # --- Memory / distributed ----------------------------------------------------------------------------------------
    _e("oom", "error", r"CUDA out of memory|OutOfMemoryError|Ran out of memory with exception|MPS backend out of memory"
       r"|DefaultCPUAllocator: (?:can't allocate|not enough) memory", None, "out of memory"),
    _e("oom_recovered", "warning", r"attempting to recover from OOM", None, "fairseq recovered from an OOM"),
    _e("nccl_timeout", "error",
       r"Watchdog caught collective operation timeout|NCCL (?:timeout|communicator was aborted)"
       r"|Exception \(either an error or timeout\) detected by watchdog", "distributed_desync",
       "a collective timed out: ranks hung or desynchronised"),
    _e("nccl_error", "error",
       r"NCCL error|ncclInternalError|ncclSystemError|ncclUnhandledCudaError|ProcessGroupNCCL.*Error",
       "distributed_desync", "NCCL communication failed"),
    _e("child_failed", "error", r"ChildFailedError|Signal 9 \(SIGKILL\) received by PID", None,
       "a launcher child process failed or was killed"),
    _e("shm_bus_error", "error", r"Unexpected bus error encountered in worker|insufficient shared memory", None,
       "DataLoader worker ran out of shared memory"),
    _e("worker_died", "error",
       r"DataLoader worker \(pid\(s\)? [\d, ]+\) exited unexpectedly|Unexpected segmentation fault"
       r" encountered in worker", None, "a DataLoader worker died"),
    _e("killed", "error", r"^Killed$", None, "the process was killed (often the host OOM killer)"),
    # --- Run state --------------------------------------------------------------------------------------------------
    _e("keyboard_interrupt", "info", r"KeyboardInterrupt", None, "training was interrupted by hand"),
    _e("early_stopping", "info",
       r"Early ?stopping|EarlyStopping|stopping early|did not improve in the last \d+ records", None,
       "early stopping triggered",
       re.IGNORECASE),
    _e("stage_change", "stage_change",
       r"(?:curriculum|stage)\b.*(?:->|→|\bswitch(?:ed|ing)? to\b|\badvanc(?:ed|ing) to\b|\bentering\b|\bmoving to\b)"
       r"|\bentering stage\b|\bnew (?:curriculum )?stage\b", "curriculum_shock",
       "a curriculum / data stage boundary", re.IGNORECASE),
]

# Lines that are warnings or errors even when no catalogue entry knows them: Python's warnings format, logging
# levels, exceptions at the end of a traceback, C++ TORCH_WARN lines.
_GENERIC_ERROR = re.compile(
    r"^(?:[\w.]+\.)?(?:[A-Z]\w*(?:Error|Exception)|Traceback \(most recent call last\))\b"
    r"|\b(?:ERROR|CRITICAL|FATAL)\b[:\] -]|^(?:error|Error|ERROR)\b"
)
_GENERIC_WARNING = re.compile(
    r"\b[A-Z]\w*Warning: |\b(?:WARNING|WARN)\b[:\] -]|^Warning\b|^\[W[\w ]*\]"
)

# C++ TORCH_WARN suffix, stripped before matching and display.
_TRIGGERED = re.compile(r"\s*\(Triggered internally at [^)]*\)\.?\s*$")


def strip_triggered(line: str) -> str:
    return _TRIGGERED.sub("", line)


def classify(line: str) -> tuple[str, str | None, str | None] | None:
    """(kind, tag, cause) for a warning/error/notable line, or None for an ordinary line.

    `line` must already be normalised (see text_log.normalise_line). Catalogued lines get their tag; other lines
    that look like warnings or errors get tag None.
    """
    if not line:
        return None
    for entry in CATALOGUE:
        if entry.pattern.search(line):
            return entry.kind, entry.tag, entry.cause
    if _GENERIC_ERROR.search(line):
        return "error", None, None
    if _GENERIC_WARNING.search(line):
        return "warning", None, None
    return None


def entry(tag: str) -> CatalogueEntry | None:
    """The catalogue entry with this tag (for a detector that wants the meaning or the cause)."""
    for e in CATALOGUE:
        if e.tag == tag:
            return e
    return None


TAGS: tuple[str, ...] = tuple(e.tag for e in CATALOGUE)


def tags_for_cause(cause: str) -> frozenset[str]:
    """Every tag whose lines are evidence for `cause` (e.g. "nan_inf" -> nan_loss, inf_loss, anomaly_nan, ...), so a
    detector can ask for all of them instead of listing tag names that may grow."""
    return frozenset(e.tag for e in CATALOGUE if e.cause == cause)
