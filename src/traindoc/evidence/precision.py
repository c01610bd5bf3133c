"""Which floating-point format a run trains in: what it states (meta, config) and what its numbers show.

fp16 overflow is only a cause in a run whose tensors are float16; bf16 and fp32 share fp32's exponent range
(max ~3.4e38) and never overflow where fp16 (max 65504) does (Micikevicius et al. 2018, "Mixed Precision Training";
Kalamkar et al. 2019, "A Study of BFLOAT16 for Deep Learning Training"). A NaN's causes therefore split on this
one fact, and a run that does not state its precision cannot rule fp16 out.

Stated: `precision` / `mixed_precision` (Lightning "16-mixed", "bf16-mixed", "32"; accelerate "fp16", "bf16",
"no"), HF's `fp16` / `bf16` flags, a `dtype` (nanoGPT "float16" / "bfloat16"), Keras's `dtype_policy`
("mixed_float16" / "mixed_bfloat16"), timm's `amp_dtype`, apex's `fp16_opt_level`, an `amp` flag (torch.autocast
on CUDA defaults to float16).

Shown: a float16 number has an 11-bit significand, so a value printed at full precision (>= 6 significant
digits) that is exactly a float16 is one by construction; an fp32 value is by chance with probability 2^-13 per
value. A value printed to 6 digits shows a float16 when the nearest float16 is within its rounding (chance ~0.4 %).
Gradients live in their parameters' dtype, so grad norms that are all float16 values (and at least one is not a
bfloat16, whose 8-bit significand float16 also holds) show float16 parameters: a model cast with `.half()`,
without fp32 master weights. A dynamic loss scaler at work (its overflow lines, a logged scale that falls) shows
float16 too: no trainer runs one in bf16 or fp32.

Coded: where the logs neither state nor show it, the run's own training code may (evidence/precision_code.py): a
`.half()`, a float16 dtype, a `GradScaler()` or a literal fp16 setting that runs on every run. Like every reading
here it is context for a NaN or an overflow, never a cause on its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from traindoc.causes.keys import KEYS
from traindoc.evidence import stats
from traindoc.evidence.context import cite_config, cite_series, cite_source
from traindoc.evidence.precision_code import code_half_precision
from traindoc.ingest.model import Run

_HALF = ("16", "16-mixed", "16-true", "fp16", "float16", "half", "torch.float16", "o1", "o2", "o3", "amp",
         "mixed_float16")
_FULL_RANGE = ("bf16", "bf16-mixed", "bf16-true", "bfloat16", "torch.bfloat16", "32", "32-true", "fp32",
               "float32", "64", "64-true", "fp64", "float64", "no", "torch.float32", "mixed_bfloat16")
_DIGITS_MIN = 6  # significant digits a printed value needs before its bit pattern says anything
_FP16_MAX = 65504.0
_FP16_MIN_NORMAL = 2.0 ** -14


@dataclass(frozen=True)
class Precision:
    half: bool | None  # True: float16 tensors (overflow possible); False: bf16/fp32 stated; None: not known
    evidence: str  # what says so, with its source


def training_precision(run: Run) -> Precision:
    return stats.cached(run, "training_precision", lambda: _training_precision(run))


def _classify(value: object) -> bool | None:
    v = str(value).strip().lower()
    if v in _FULL_RANGE:
        return False
    if v in _HALF:
        return True
    return None


def _training_precision(run: Run) -> Precision:
    stated = _stated_precision(run)
    shown = (_half_grad_values(run) or _half_checkpoint(run)) if stated.half is not True else ""
    if stated.half is False and shown:
        # the numbers show the gradients' own dtype: a stated fp32/bf16 setting describes the trainer's autocast, not
        # a cast the code makes by hand (`model.half()` under Accelerate's "no" or Lightning's "32-true")
        return Precision(True, f"{shown}, though {stated.evidence}: a float16 cast by hand the setting does not "
                               f"describe")
    if stated.half is not None:
        return stated
    if shown:
        return Precision(True, shown)
    scaler = _scaler_at_work(run)
    if scaler:
        return Precision(True, scaler)
    cpu = _lightning_cpu_full_width(run)
    if cpu:
        return Precision(False, cpu)
    # the training code, last: what the run's own logs and config state or show decides before it
    # (evidence/precision_code.py reads only casts and literal settings that hold on every run)
    code = code_half_precision(run)
    if code:
        return Precision(True, code)
    return Precision(None, "")


def _stated_precision(run: Run) -> Precision:
    """The precision the run states (meta, config, a loss scale it sets), or Precision(None, "")."""
    meta = run.meta.get("precision")
    if meta is not None and _classify(meta) is not None:
        return Precision(_classify(meta), f"the run reports precision {meta}")
    # (a model config's `torch_dtype` is the dtype its checkpoint was saved in, not the training precision)
    for key in (*KEYS["precision"], "dtype", "amp_dtype", "dtype_policy"):
        cv = run.config_value(key)
        if cv is not None and _classify(cv.value) is not None:
            return Precision(_classify(cv.value), f"{cv.key}={cv.value} {cite_config(cv)}")
    flags = {k: run.config_value(k) for k in (*KEYS["fp16"], "bf16", "fp16_opt_level", "amp", "use_amp")}
    on = {k: _truthy(cv.value) for k, cv in flags.items() if cv is not None}
    if on.get("bf16"):
        cv = flags["bf16"]
        return Precision(False, f"{cv.key}={cv.value} {cite_config(cv)}")
    for k in KEYS["fp16"]:
        # an explicit fp16 flag decides (HF's TrainingArguments always write fp16_opt_level "O1", used or not)
        if k in on:
            cv = flags[k]
            return Precision(on[k], f"{cv.key}={cv.value} {cite_config(cv)}")
    for k in ("fp16_opt_level", "amp", "use_amp"):
        if on.get(k):
            cv = flags[k]
            return Precision(True, f"{cv.key}={cv.value} {cite_config(cv)}")
    scale = _loss_scale_set(run)
    if scale:
        return Precision(True, scale)
    return Precision(None, "")


# A loss scale is set only for float16 training: scaling keeps small fp16 gradients from underflowing (fp16's
# smallest normal is 6e-5), which bfloat16 and fp32, with fp32's exponent range, do not need (Micikevicius et al.
# 2018, "Mixed Precision Training" §3.2; Kalamkar et al. 2019). A static scale above 1 (apex's `loss_scale=128`,
# mmcv's `fp16 = dict(loss_scale=512.)`, `static_loss_scale`) or mmengine's `loss_scale='dynamic'` is that setting.
# A scale of 1 (or DeepSpeed's 0, "dynamic", inside an fp16 section the flags above read) is no scaling, and dumps
# print defaults (Megatron's `loss_scale None`), so only a value set on counts; fairseq's `fp16_init_scale`, which
# its argument dump prints in fp32 runs too, is not read.
_SCALE_KEYS = ("static_loss_scale", "loss_scale")


def _loss_scale_set(run: Run) -> str:
    """Why the run is float16 from a loss scale it configures, or ''."""
    for key in _SCALE_KEYS:
        cv = run.config_value(key)
        if cv is None:
            continue
        v = cv.value
        static = isinstance(v, (int, float)) and not isinstance(v, bool) and v > 1
        if static or (isinstance(v, str) and v.strip().lower() == "dynamic"):
            return (f"{cv.key}={v} {cite_config(cv)}: a loss scale is set only for float16 training (bf16/fp32 "
                    f"need none)")
    return ""


# A dynamic loss scaler at work shows float16 the way a configured scale does: it exists to keep float16 gradients
# inside 6e-5..65504 (Micikevicius et al. 2018 §3.2), and the trainers run none in bf16 or fp32, whose exponent range
# is fp32's (Kalamkar et al. 2019): torch's GradScaler is for float16 autocast, DeepSpeed's and fairseq's bf16 modes
# and Megatron's bf16 (a constant scale of 1.0) have no dynamic scaler. So the scaler's own lines (catalogued in
# ingest/catalogue.py: apex's and DeepSpeed's "Gradient overflow. Skipping step" / "OVERFLOW! Rank 0 Skipping step",
# fairseq's "overflow detected, setting loss scale", a "minimum loss scale" or "reducing loss scale" line, GradScaler
# refusing to unscale FP16 gradients) or a logged loss-scale series that falls (a scaler lowers it only on an
# overflow) say the run is float16. One line is enough: no bf16/fp32 run prints any. Untagged lines that only
# mention an overflow (numpy's "overflow encountered in", an unknown framework's wording) are not read.
_SCALER_TAGS = ("grad_overflow", "loss_scale_min", "loss_scale_reduced", "fp16_unscale_error")


def _scaler_at_work(run: Run) -> str:
    """Why a dynamic loss scaler shows the run is float16 (its messages, or a logged scale that falls), or ''."""
    lines = [e for e in run.events if e.tag in _SCALER_TAGS]
    if lines:
        e = lines[0]
        where = f"[{cite_source(e.source)}:{e.line}]" if e.line else f"[{cite_source(e.source)}]"
        return (f"its dynamic loss scaler reports overflows ({sum(x.count for x in lines)} line(s), first "
                f"\"{(e.message or '').strip()[:80]}\" {where}): only float16 training runs a loss scaler")
    ls = run.series("loss_scale")
    if ls is not None:
        st, v = ls.finite()
        fell = np.nonzero(np.diff(v) < 0)[0] if v.size >= 2 else np.array([], dtype=int)
        if fell.size:
            i = int(fell[0]) + 1
            return (f"its logged loss scale falls from {v[i - 1]:g} to {v[i]:g} at step {int(st[i])} "
                    f"{cite_series(ls)}: a dynamic loss scaler at work, which only float16 training runs")
    return ""


def _truthy(v: object) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return v != 0
    s = str(v).strip().lower()
    return s not in ("", "false", "no", "0", "off", "none", "null")


def _significant_digits(v: float) -> int:
    """Significant digits of the shortest repr that round-trips (what a full-precision print shows)."""
    mant = repr(abs(v)).lower().split("e")[0].replace(".", "").lstrip("0")
    return len(mant)


def _bits(v: float) -> int:
    """Significand bits `v` needs (1 for a power of two)."""
    m, _ = math.frexp(abs(v))
    n = 0
    while m != int(m) and n < 64:
        m *= 2
        n += 1
    return max(1, n)


# A value printed with d significant digits stands for anything within half a unit of its last digit: it shows a
# float16 when the nearest float16 lies within that half unit. A float32 value lands that close by chance with
# probability 2 x half-unit / float16 spacing (~0.4 % at 6 digits), and never below 2^-13 (its 13 extra significand
# bits all zero, the full-print case). The values together must be that close with a joint chance under 1 %:
# one 6-digit value (a log that NaNs after its first step) or several exact ones.
_CHANCE_MAX = 0.01
_FP32_EXTRA_BITS = 2.0 ** -13


def _half_unit(x: float) -> float:
    """Half a unit of the last significant digit of the shortest repr of `x`."""
    return 0.5 * 10.0 ** (math.floor(math.log10(abs(x))) - _significant_digits(x) + 1)


def _fp16_spacing(h: float) -> float:
    """Distance between consecutive float16 numbers around a normal float16 `h` (10 stored significand bits)."""
    return 2.0 ** (math.floor(math.log2(abs(h))) - 10)


def _half_grad_values(run: Run) -> str:
    """Evidence that the logged gradient norms are float16 numbers (to the digits printed), or ''."""
    vals: list[tuple[str, float]] = []
    for name, s in run.metrics.items():
        if "grad" not in name.lower():
            continue
        _, v = s.finite()
        for x in v[:200].tolist():
            if _FP16_MIN_NORMAL <= abs(x) <= _FP16_MAX and _significant_digits(x) >= _DIGITS_MIN:
                vals.append((name, x))
    if not vals:
        return ""
    chance = 1.0
    for _, x in vals:
        h = float(np.float16(x))
        if abs(h - x) > _half_unit(x):
            return ""
        chance *= min(1.0, max(2 * _half_unit(x) / _fp16_spacing(h), _FP32_EXTRA_BITS))
    if chance > _CHANCE_MAX:
        return ""
    # a bfloat16 (8-bit significand) is also an exact float16 within fp16's range: one value needing more bits
    # tells float16 apart
    if all(_bits(float(np.float16(x))) <= 8 for _, x in vals):
        return ""
    ex = ", ".join(f"{n}={x!r}" for n, x in vals[:3])
    return (f"all {len(vals)} full-precision grad-norm values are float16 numbers to the digits printed ({ex}; "
            f"chance for float32 values {chance:.1g}): the gradients, and so the parameters, are float16")


def _half_checkpoint(run: Run) -> str:
    """Why the weights trained in float16, from a training checkpoint whose floating tensors are all stored F16
    (ingest/readers/checkpoints.py: saved with its optimizer state beside it, the weights a resume continues from;
    safetensors stores each tensor in its own dtype), or ''. Mixed precision keeps float32 master weights, which
    such a checkpoint stores as F32 (Micikevicius et al. 2018 §3.1), and bfloat16 weights are BF16: all-F16 weights
    are a model loaded or cast to float16 (`torch_dtype=torch.float16`, `.half()`), AdamW's state with them."""
    for ck in run.meta.get("checkpoint_dtypes") or ():
        dtypes = ck.get("dtypes") or {}
        if set(dtypes) == {"F16"}:
            return (f"the {dtypes['F16']} floating tensors of the training checkpoint {ck.get('source', '')} are "
                    f"stored float16: the weights, and so AdamW's state, trained in float16")
    return ""


# Bytes per parameter from a printed size and count. Lightning's model summary sizes the parameters at the trainer's
# precision (16 bits for "16-true"/"bf16-true" and the legacy "16"/"bf16"; 32 for "32" and for the mixed modes,
# whose weights stay fp32), so 2 bytes per parameter means the weights themselves are 16-bit: float16 or bfloat16,
# the size does not say which. Counts print rounded ("5.8 K") and sizes to 3 decimals ("0.012"): a total of at
# least SIZE_MIN_PARAMS and a size of at least SIZE_MIN_MB keep that rounding within ~5 %, far inside the 1.5..2.5
# bytes window around 2 (fp32 is 4, fp64 8).
SIZE_MIN_PARAMS = 1000
SIZE_MIN_MB = 0.005


def sixteen_bit_weights(run: Run) -> str | None:
    """Why the run's weights are 16-bit (a printed size of 2 bytes per parameter), or None when nothing says so."""
    summ = run.meta.get("param_summary") or {}
    size, total = summ.get("size_mb"), summ.get("total")
    if not isinstance(size, float) or not isinstance(total, int) or total < SIZE_MIN_PARAMS or size < SIZE_MIN_MB:
        return None
    per = size * 1e6 / total
    if not 1.5 <= per <= 2.5:
        return None
    return (f"the model summary sizes {total:,} parameters at {size:g} MB, {per:.2g} bytes each: 16-bit weights "
            f"(float16 or bfloat16; Lightning sizes them at the trainer's precision) [{summ.get('source', 'log')}]")


# A Lightning run on the CPU with 4-byte weights trains in no float16 (_device_line.py): Lightning replaces "16-mixed"
# on a CPU by "bf16-mixed" (1.x raised an error before that), and "16-true", the one float16 mode a CPU runs, sizes
# the weights at 2 bytes in the model summary. Lightning prints the size to 3 decimals and the count to one
# ("1.1 K": up to 5 % off), so the reading holds only when even the extremes of that rounding stay above
# FULL_WIDTH_MIN_BYTES, halfway between 16-bit (2) and 32-bit (4) weights. A float16 cast the module makes by hand
# (`self.half()` under "32-true") would escape it, as it escapes a configured precision.
FULL_WIDTH_MIN_BYTES = 3.0
_SIZE_HALF_UNIT_MB = 0.0005
_COUNT_ROUNDING = 0.05


def _lightning_cpu_full_width(run: Run) -> str:
    """Why a Lightning run trains without float16 (CPU accelerator, >= 3 bytes per parameter), or ""."""
    devices = run.meta.get("lightning_devices") or {}
    if devices.get("GPU") is not False or any(devices.values()):
        return ""
    summ = run.meta.get("param_summary") or {}
    size, total = summ.get("size_mb"), summ.get("total")
    if not isinstance(size, float) or not isinstance(total, int) or total < SIZE_MIN_PARAMS:
        return ""
    low = (size - _SIZE_HALF_UNIT_MB) * 1e6 / (total * (1 + _COUNT_ROUNDING))
    if low < FULL_WIDTH_MIN_BYTES:
        return ""
    return (f"Lightning reports no GPU used and sizes {total:,} parameters at {size:g} MB (at least {low:.2g} bytes "
            f"each): 32-bit weights on a CPU, where Lightning runs no float16 autocast (\"16-mixed\" becomes "
            f"\"bf16-mixed\") [{summ.get('source', 'log')}]")
