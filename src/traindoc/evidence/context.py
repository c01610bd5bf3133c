"""Facts about a run that many detectors need: optimiser family, configured learning rates against reference
ranges, shared symptoms (spikes, divergence, progress), and how to cite a value's source.

Reference LR ranges (docs/causes.md; sources in docs/references.md):
- AdamW/Adam on transformers: ~1e-4 .. 3e-3 (GPT-2/nanoGPT 6e-4, HF default 5e-5, LLaMA 3e-4).
- SGD (with momentum): ~1e-3 .. 0.5; the usable range depends on batch size, so only extremes are flagged.
- Muon: ~0.02 with its own scaling (KellerJordan/Muon default, modded-nanogpt 0.023-0.05).
- MuGrokfast (the bundled phase1 trainer): Muon with a Grokfast filter that amplifies the slow gradient, so its
  healthy muon_lr is lower: 5e-3 (the trainer's default; the seed calls 1e-2 "2x recommended 5e-3").

A reference LR belongs to a batch size (docs/diagnose.md, "LR references and the batch size"). When the run states
its batch (per device x devices x accumulation, through the alias table) the reference is scaled to it before an LR
is judged: linearly for SGD (Goyal et al. 2017: 0.1 x batch/256, so our 0.05 is the LR of a 128 batch) and by the
square root for the Adam family (Hoffer et al. 2017; Malladi et al. 2022), from a 32 batch (Keras' default batch,
at which its Adam default 1e-3 is set). The reference follows the batch both ways and the ceiling rises with it;
below the reference batch the ceiling falls by the square root of the rule's factor only (divergence is bounded by
curvature as well as by gradient noise). The floor only falls with a smaller batch and is never raised: past the
critical batch size (McCandlish et al. 2018) the best LR stops growing, so a large batch allows a larger LR but does
not require one. Muon normalises its update (its LR is
per-update spectral norm, batch-independent to first order) and an unknown optimiser has no rule: neither scales.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from traindoc.causes.keys import KEYS
from traindoc.evidence import stats
from traindoc.evidence.rl import rl_run
from traindoc.ingest.model import ConfigValue, Run, Series
from traindoc.ingest.names import layer_grad_param
from traindoc.ingest.readers._training_call import FASTAI_CALL

# family -> (low, reference, high). "reference" is the value we recommend when lowering/raising.
LR_REFERENCE: dict[str, tuple[float, float, float]] = {
    "adamw": (1e-4, 3e-4, 3e-3),
    "adam": (1e-4, 3e-4, 3e-3),
    "sgd": (1e-3, 0.05, 0.5),
    "muon": (5e-3, 0.02, 0.05),
    # RMSprop scales each step by a running RMS of the gradient, as Adam does, so its LRs sit on Adam's scale: 1e-3
    # in Hinton's lecture 6e (2012) and Keras's default, 1e-2 torch.optim.RMSprop's default, 1e-4 at the low end
    # (Graves 2013, "Generating Sequences With Recurrent Neural Networks")
    "rmsprop": (1e-4, 1e-3, 1e-2),
    # LARS (You et al. 2017, "Large Batch Training of Convolutional Networks") multiplies its global LR by each
    # layer's trust ratio eta * |w| / |g| (eta ~ 1e-3), so the global LR sits orders of magnitude above SGD's for
    # the same step: MLPerf v0.7's ResNet-50 LARS submissions run 20.8 at batch 32,768 and 24.7 at 65,536
    # (tests/corpus/realworld/mlperf-v07-*); no batch rule (those two grow far less than linearly)
    "lars": (0.1, 10.0, 50.0),
    "mugrokfast_muon": (1e-3, 5e-3, 5e-3),
    "mugrokfast_adam": (3e-4, 3e-3, 3e-3),  # the trainer's AdamW side for embeddings/1-D params: 3e-3
    # wide: an unknown optimiser may be SGD (0.1 is a standard ResNet LR) or Adam; only extremes are flagged
    "unknown": (1e-5, 1e-3, 0.3),
    # AdamW fine-tuning a pretrained transformer (`fine_tune`; docs/diagnose.md, "Fine-tuning ranges"). The whole
    # model: BERT's grid 2e-5..5e-5 (Devlin et al. 2019), LLaMA/Alpaca SFT 1e-5..2e-5, T5 with AdamW up to 3e-4.
    "adamw_finetune": (1e-5, 3e-5, 3e-4),
    # LoRA/PEFT adapters: 1e-4..5e-4 (Hu et al. 2021), 1e-4..2e-4 (Dettmers et al. 2023, QLoRA)
    "adamw_adapter": (1e-4, 2e-4, 1e-3),
    # a fine-tune whose kind the log does not state: the whole model's floor and the adapters' ceiling
    "adamw_finetune_any": (1e-5, 1e-4, 1e-3),
    # the policy of an LLM policy-gradient run (GRPO, RLOO, RLHF's PPO: `rl_policy`), adapters or the whole model:
    # 1e-6 in DeepSeekMath's GRPO (Shao et al. 2024) and TRL's GRPOConfig default, 3e-7 for Tulu 3's RLVR (Lambert et
    # al. 2024), ~1e-5 for InstructGPT's PPO policy (Ouyang et al. 2022); the adapters' ceiling, as a fine-tune's
    "adamw_rl_policy": (3e-7, 1e-6, 1e-3),
}


# family -> (batch the reference belongs to, exponent of the scaling rule): linear for SGD, square root for Adam
BATCH_RULE: dict[str, tuple[int, float]] = {
    "sgd": (128, 1.0),
    "adamw": (32, 0.5),
    "adam": (32, 0.5),
    # fine-tuning recipes are stated at batch 16-32 (Devlin et al. 2019: 32; Hu et al. 2021: 8-32)
    "adamw_finetune": (32, 0.5),
    "adamw_adapter": (32, 0.5),
    "adamw_finetune_any": (32, 0.5),
}

# how a family is named in evidence
FAMILY_NAMES = {
    "rmsprop": "RMSprop",
    "lars": "LARS",
    "unknown": "an unknown optimiser (wide range)",
    "adamw_finetune": "AdamW fine-tuning a pretrained model",
    "adamw_adapter": "AdamW training LoRA/PEFT adapters",
    "adamw_finetune_any": "AdamW fine-tuning a pretrained model (adapters or the whole model)",
    "adamw_rl_policy": "AdamW training an LLM policy with a policy-gradient objective (GRPO, RLOO, PPO)",
}


def family_name(family: str) -> str:
    return FAMILY_NAMES.get(family, family.replace("_", " "))
# a stated batch beyond this is no per-update sample count (a token count, a dataset size): no scaling from it
MAX_BATCH = 1 << 20


@dataclass(frozen=True)
class Batch:
    size: int  # samples per optimiser update
    how: str  # how it was read, for evidence ("batch_size=2 x 4 devices")
    cv: ConfigValue | None


def effective_batch(run: Run) -> Batch | None:
    """Samples one optimiser update sees, from the config (per device x devices x accumulation, or a global
    batch), None when the run does not state its batch."""
    return stats.cached(run, "effective_batch", lambda: _effective_batch(run))


def _count(cv: ConfigValue | None) -> int | None:
    if cv is None or isinstance(cv.value, bool):
        return None
    v = _as_float(cv.value)
    return int(v) if v is not None and v >= 1 and v == int(v) else None


def _effective_batch(run: Run) -> Batch | None:
    gcv = run.config_value(*KEYS["global_batch_size"])
    g = _count(gcv)
    if g is not None and g <= MAX_BATCH:
        return Batch(g, f"{gcv.key.rsplit('.', 1)[-1]}={g}", gcv)
    bcv = run.config_value(*KEYS["batch_size"])
    b = _count(bcv)
    if b is None or b > MAX_BATCH:
        return None
    parts = [f"{bcv.key.rsplit('.', 1)[-1]}={b}"]
    dcv = run.config_value(*KEYS["devices"])
    d = _count(dcv) or _as_int(run.meta.get("world_size"))
    acv = accumulation_setting(run)
    a = _count(acv)
    size = b
    if d and d > 1:
        size *= d
        parts.append(f"{d} devices")
    if a and a > 1:
        size *= a
        parts.append(f"{a} accumulation steps")
    return Batch(size, " x ".join(parts), bcv) if size <= MAX_BATCH else None


def accumulation_setting(run: Run) -> ConfigValue | None:
    """The gradient-accumulation setting that took effect: the first key of the `grad_accum` group present
    (causes/keys.py order), unless it is 1 and another accumulation key of the config is > 1.

    Why: one config can record two accumulation mechanisms, a framework's own and the user's loop. A LightningCLI run
    saves every Trainer argument, so its config holds Lightning's `trainer.accumulate_grad_batches: 1` beside the
    module's own `model.grad_accum_steps: 8` when the module accumulates by hand (manual optimisation, where
    Lightning refuses an accumulate_grad_batches other than 1 and leaves accumulation to the user's
    training_step); the HF Trainer's `gradient_accumulation_steps: 1` sits the same way beside a custom loop's
    setting. A 1 says that mechanism does not accumulate; the key > 1 is the one the run's updates follow. Two
    keys > 1 that disagree leave the group's order to decide, as before."""
    first = run.config_value(*KEYS["grad_accum"])
    if _count(first) != 1:
        return first
    names = set(KEYS["grad_accum"])
    for key, cv in run.config.items():
        if (key in names or key.rsplit(".", 1)[-1] in names) and (_count(cv) or 0) > 1:
            return cv
    return first


def accumulation_steps(run: Run) -> tuple[float | None, ConfigValue | None]:
    """`config_number` of the accumulation setting that took effect (accumulation_setting)."""
    cv = accumulation_setting(run)
    if cv is None:
        return None, None
    return (float(cv.value) if isinstance(cv.value, bool) else _as_float(cv.value)), cv


def _as_int(v: Any) -> int | None:
    f = _as_float(v)
    return int(f) if f is not None and f >= 1 and f == int(f) else None


def optimizer_family(run: Run) -> str:
    """Best guess of the optimiser family from meta and config (never from a label)."""
    names = []
    for k in ("optimizer", "optim", "optimizer_name"):
        v = run.meta.get(k)
        if isinstance(v, str):
            names.append(v.lower())
    for key in KEYS["optimizer_name"]:
        cv = run.config_value(key)
        if cv is not None and isinstance(cv.value, str):
            names.append(cv.value.lower())
    # An optimiser the run names (meta or config) wins; only when it names none we know do we infer it from its
    # keys. A trainer may keep muon_lr/grokfast_* in its config while running another optimiser (phase1's
    # optim.name=sgd or adamw), and judging that run's LR against Muon's range would be wrong by orders of magnitude.
    named = _family_from_names(names)
    if named == "muon" and run.config_value(*KEYS["grokfast_lambda"], *KEYS["grokfast_alpha"]):
        return "mugrokfast"  # Muon behind a Grokfast filter: its healthy LR is lower than plain Muon's
    if named != "unknown":
        return named
    if run.config_value("muon_lr") is not None:
        names.append("mugrokfast" if run.config_value(*KEYS["grokfast_lambda"], *KEYS["grokfast_alpha"]) else "muon")
    named = _family_from_names(names)
    if named != "unknown":
        return named
    default = framework_optimizer(run)
    return default[0] if default is not None else "unknown"


# TrainingArguments fields no other common trainer spells the same way: a config holding two of them was written
# for the HF Trainer or a stack that passes its arguments through (LLaMA-Factory, TRL, axolotl)
_HF_TRAINING_ARGS = ("per_device_train_batch_size", "per_device_eval_batch_size", "lr_scheduler_type", "eval_strategy",
                     "evaluation_strategy", "save_strategy", "logging_strategy")


def hf_trainer(run: Run) -> str | None:
    """How the run shows it was trained by the HF Trainer (its log rows, trainer_state.json, training_args.bin, or
    TrainingArguments fields in its config), None when it does not."""
    for s in run.sources:
        if s.format.startswith("hf_") or "transformers" in s.format:
            return f"its {s.format} log"
    keys = [k for k in _HF_TRAINING_ARGS if run.config_value(k) is not None]
    return f"TrainingArguments fields in its config ({', '.join(keys[:3])})" if len(keys) >= 2 else None


def framework_optimizer(run: Run) -> tuple[str, str] | None:
    """(family, why) of the optimiser the run's framework uses when the run names none (docs/diagnose.md,
    "Framework defaults"). The HF Trainer builds AdamW unless TrainingArguments.optim says otherwise (its default is
    adamw_torch, adamw_torch_fused on recent torch; adamw_hf in transformers before 4.x's switch), and so does every
    stack built on it. Passing an optimiser object in code (`Trainer(optimizers=...)`) overrides it unseen."""
    how = hf_trainer(run)
    if how is not None:
        return "adamw", f"AdamW, the HF Trainer's default (TrainingArguments.optim), read from {how}"
    call = run.config_value(FASTAI_CALL)
    if call is not None and call.kind == "python_call":
        # fastai's Learner builds Adam unless its opt_func names another: v2 `opt_func=Adam`, v1
        # `opt_func=AdamW`, which is torch's Adam with betas (0.9, 0.99) and decoupled weight decay (fastai docs,
        # Learner); an optimiser passed as opt_func overrides it unseen, as a Trainer's optimizers argument does
        return "adam", (f"Adam, fastai's default (Learner's opt_func), read from its `{call.value}` call "
                        f"{cite_config(call)}")
    return None


@dataclass(frozen=True)
class FineTune:
    adapter: bool | None  # True: LoRA/PEFT adapters; False: the whole model; None: the log does not say
    why: str


_FULL = ("full", "freeze")  # LLaMA-Factory's finetuning_type values that train the model's own weights
_NONE = ("", "none", "null", "false", "0", "no")


def _stated(cv: ConfigValue | None) -> bool:
    """A config value that says something (not false, 0, empty or none)."""
    return cv is not None and str(cv.value).strip().lower() not in _NONE


def fine_tune(run: Run) -> FineTune | None:
    """Whether the run fine-tunes a pretrained transformer, and how, from what the log shows: adapter keys (LoRA,
    PEFT's adapter_config.json or its "trainable params ... || all params" line), a published checkpoint the
    model starts from (`_name_or_path` in a saved model's config.json: a model built from a config has it empty;
    `model_name_or_path`, axolotl's `base_model`), LLaMA-Factory's `finetuning_type`, or a fine-tuning stack named
    by its logger (LLaMA-Factory, TRL, axolotl: `meta.finetune_stack`). None for a run that shows none of these."""
    return stats.cached(run, "fine_tune", lambda: _fine_tune(run))


def _fine_tune(run: Run) -> FineTune | None:
    ft = run.config_value(*KEYS["finetuning_type"])
    kind = str(ft.value).strip().lower() if ft is not None else ""
    acv = run.config_value(*KEYS["adapter"])
    if kind in _FULL:
        return FineTune(False, f"{ft.key}={ft.value} {cite_config(ft)}")
    if kind and kind not in _NONE:
        return FineTune(True, f"{ft.key}={ft.value} {cite_config(ft)}")
    if (run.meta.get("param_summary") or {}).get("adapter"):
        return FineTune(True, "the PEFT parameter summary (trainable params || all params) in the log")
    if _stated(acv):
        return FineTune(True, f"adapter key {acv.key}={acv.text or acv.value} {cite_config(acv)}")
    ckpt = run.config_value(*KEYS["pretrained_checkpoint"], *KEYS["base_model"])
    if _stated(ckpt):
        # a saved model's config.json carries `_name_or_path` (what its weights were loaded from); adapters would have
        # written an adapter_config.json instead, so with no adapter key the whole model was trained
        full = ckpt.key.rsplit(".", 1)[-1] == "_name_or_path"
        return FineTune(False if full else None, f"{ckpt.key}={ckpt.value} {cite_config(ckpt)}")
    stack = run.meta.get("finetune_stack")
    if isinstance(stack, str) and stack:
        return FineTune(None, f"the log is written by {stack}, a fine-tuning stack on the HF Trainer")
    policy = rl_policy(run)
    if policy is not None:
        return FineTune(None, policy)
    return None


def rl_policy(run: Run) -> str | None:
    """Evidence that the run trains an LLM policy with a policy-gradient objective (evidence/rl.py: a reward of the
    completions it sampled beside the KL to a reference policy), or None. Such a run fine-tunes by construction: the
    KL is measured against a frozen copy of the model it starts from, a pretrained or SFT checkpoint (Ouyang et al.
    2022; Shao et al. 2024), so its LR is judged against the RL policy range, not from-scratch AdamW's."""
    rl = rl_run(run)
    if rl is None or not rl.sampled:
        return None
    return (f"an LLM policy-gradient run: a reward ({rl.reward}) of sampled completions and the KL to a reference "
            f"policy ({', '.join(rl.sampled)}), a fine-tune of the model it starts from")


def _regime(run: Run, family: str) -> str:
    """The reference family for an LR: AdamW's from-scratch range, or its fine-tuning range for a fine-tune."""
    if family not in ("adamw", "adam"):
        return family
    ft = fine_tune(run)
    if ft is None:
        return family
    if rl_policy(run) is not None:
        # adapters or the whole model alike: the policy's step is kept small so that the sampled completions stay
        # near the reference's (the Unsloth LoRA GRPO notebooks run 5e-6, realworld
        # unsloth-notebooks-llama31-8b-grpo-loss-zero-then-rising: 20x under the adapters' supervised floor of 1e-4)
        return "adamw_rl_policy"
    return {True: "adamw_adapter", False: "adamw_finetune", None: "adamw_finetune_any"}[ft.adapter]


def _family_from_names(names: list[str]) -> str:
    joined = " ".join(names)
    if "mugrokfast" in joined or "grokfast" in joined:
        return "mugrokfast"
    if "muon" in joined:
        return "muon"
    if re.search(r"\blars", joined):  # LARS, LARSOptimizer, lars_momentum
        return "lars"
    if "sgd" in joined:
        return "sgd"
    if "adam" in joined or "lamb" in joined:
        return "adamw"
    if "rmsprop" in joined:
        return "rmsprop"
    return "unknown"


@dataclass
class ConfiguredLR:
    group: str  # "muon", "adam", "main"
    value: float
    family: str  # key into LR_REFERENCE
    cv: ConfigValue | None  # where it is written, when known
    logged: bool = False  # taken from the logged LR series rather than a config
    # for a logged LR: the series shows its peak (>= 2 points and not still rising at its last one); a single point
    # or a warmup still climbing is only a lower bound of the peak, evidence for "too high" but not for "too low"
    peak_seen: bool = True
    batch: Batch | None = None  # the run's batch, when stated (the reference is scaled to it)

    @property
    def scale(self) -> float:
        """Factor from the family's reference batch to the run's (1 when either is unknown)."""
        rule = BATCH_RULE.get(self.family)
        if rule is None or self.batch is None:
            return 1.0
        ref_batch, power = rule
        return (self.batch.size / ref_batch) ** power

    @property
    def reference(self) -> tuple[float, float, float]:
        lo, ref, hi = LR_REFERENCE.get(self.family, LR_REFERENCE["unknown"])
        k = self.scale
        # below the reference batch the ceiling falls by the square root of the rule's factor only: divergence is
        # bounded by curvature (Cohen et al. 2021), which the batch does not change, as well as by gradient noise,
        # which it does (McCandlish et al. 2018), so the ceiling falls more slowly than the best LR
        return lo * min(1.0, k), ref * k, hi * (k if k >= 1.0 else math.sqrt(k))

    @property
    def floor_reference(self) -> tuple[float, float]:
        """(floor, reference) for judging an LR as too low: both follow a smaller batch down, neither is raised by
        a larger one (a large batch allows a larger LR, it does not require one)."""
        lo, ref, _ = LR_REFERENCE.get(self.family, LR_REFERENCE["unknown"])
        k = min(1.0, self.scale)
        return lo * k, ref * k

    def batch_note(self, low_side: bool = False) -> str:
        """How the reference was scaled to the batch, for evidence ('' when it was not)."""
        if self.scale == 1.0 or self.batch is None or (low_side and self.scale > 1.0):
            return ""
        ref_batch, power = BATCH_RULE[self.family]
        rule = "linearly (Goyal et al. 2017)" if power == 1.0 else "by the square root (Malladi et al. 2022)"
        base = LR_REFERENCE[self.family][1]
        return (f" at batch {self.batch.size} ({self.batch.how} {cite_config(self.batch.cv)}; "
                f"{fmt_lr(base)} at batch {ref_batch}, scaled {rule})")


def _as_float(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def configured_lrs(run: Run) -> list[ConfiguredLR]:
    """Learning rates the run was configured with (config first, else the peak of the logged LR series)."""
    return stats.cached(run, "configured_lrs", lambda: _configured_lrs(run))


# A logged LR whose largest value is its first and that falls >= 1000x within its first logging interval was
# already decaying that fast before it was first logged: an epoch-level history (Keras' History, a per-epoch CSV)
# logs the LR at each epoch's end, after a per-batch-stepped decay has acted for a whole epoch. No planned
# schedule falls 1000x in one interval (docs/diagnose.md, scheduler_misuse: a linear/cosine decay stays above
# 1e-3 x its peak until its last ~2 % of steps), so the first value is not the LR the run was configured with:
# its peak is unseen, evidence for a collapsing schedule (detect_lr_collapse), not for an LR set too low.
FIRST_INTERVAL_FALL = 1e-3


def _falling_from_first(vals: np.ndarray) -> bool:
    # (a fall to exactly 0 is an LR of 0 or a schedule's end, which the scheduler rows read; a decay stays > 0)
    return vals.size >= 2 and vals[0] > 0 and float(vals[0]) == float(vals.max()) \
        and 0 < float(vals[1]) < FIRST_INTERVAL_FALL * float(vals[0])


def _configured_lrs(run: Run) -> list[ConfiguredLR]:
    fam = optimizer_family(run)
    out: list[ConfiguredLR] = []
    if fam in ("mugrokfast", "muon"):
        for group, key in (("muon", "muon_lr"), ("adam", "adam_lr")):
            cv = run.config_value(key)
            v = _as_float(cv.value) if cv else None
            if v is not None:
                rf = f"mugrokfast_{group}" if fam == "mugrokfast" else ("muon" if group == "muon" else "adamw")
                out.append(ConfiguredLR(group, v, rf, cv))
    if not out:
        cv = run.config_value(*KEYS["learning_rate"])
        v = _as_float(cv.value) if cv else None
        if v is not None and v > 0:
            out.append(ConfiguredLR("main", v, _regime(run, fam) if fam in LR_REFERENCE else "unknown", cv))
    if not out:
        # no config: the peak logged LR is what the run used
        for name in ("lr", "lr/muon", "lr/adam"):
            s = run.series(name)
            if s is None:
                continue
            _, vals = s.finite()
            if vals.size and vals.max() > 0:
                group = name.split("/")[-1] if "/" in name else "main"
                rf = fam
                if fam == "mugrokfast":
                    rf = f"mugrokfast_{group}" if group in ("muon", "adam") else "mugrokfast_muon"
                # still climbing: the last point is above every earlier one (a warmup that reached a plateau, even
                # of two points, has shown its peak)
                rising = vals.size < 2 or bool(vals[-1] > vals[:-1].max())
                out.append(ConfiguredLR(group, float(vals.max()), _regime(run, rf) if rf in LR_REFERENCE else "unknown",
                                        None, logged=True, peak_seen=not rising and not _falling_from_first(vals)))
    # the batch scales the reference of a single-optimiser run; a Muon trainer's groups keep their own references
    # (its batch is counted in tokens, and the AdamW side of embeddings and norms follows Muon's batch)
    batch = effective_batch(run)
    for c in out:
        if c.group == "main":
            c.batch = batch
    return out


def fmt_lr(v: float) -> str:
    return f"{v:.3g}"


def cite_source(path: str) -> str:
    """Short citation of a file: its last two path components ("run/metrics.jsonl")."""
    if not path:
        return "run"
    parts = os.path.normpath(path).split(os.sep)
    return "/".join(parts[-2:])


def cite_series(s: Series) -> str:
    return f"[{cite_source(s.source)}]"


def cite_config(cv: ConfigValue | None) -> str:
    if cv is None:
        return "[logged LR]"
    where = cite_source(cv.file) if cv.file else "config"
    if cv.file:
        where = os.path.basename(cv.file)
    return f"[{where}:{cv.line}]" if cv.line else f"[{where}]"


def fix_site(cv: ConfigValue | None, after: str, key: str | None = None) -> dict[str, Any]:
    """A config fix site with before/after in the file's own notation."""
    if cv is None:
        return {"key": key, "after": after}
    return {"key": cv.key, "file": cv.file or None, "line": cv.line, "before": cv.text or str(cv.value),
            "after": after}


def format_like(before: str | None, value: float) -> str:
    """Write `value` in the style of `before` ("1e-2" -> "5e-3", "0.01" -> "0.005")."""
    if before and ("e" in before.lower()) and not before.lower().startswith(("true", "false")):
        m, e = f"{value:.1e}".split("e")
        m = m.rstrip("0").rstrip(".")
        return f"{m}e{int(e)}"
    return f"{value:.6g}"


# ----------------------------------------------------------------------------------------------------- symptoms


@dataclass
class Spike:
    step: int
    value: float
    median: float  # median of the reference block before it
    z: float
    index: int


def spikes(run: Run, name: str, z_min: float = 8.0, ratio_min: float = 3.0) -> list[Spike]:
    """Points whose log value is > z_min robust sigmas above the previous block AND >= ratio_min x its median.

    z 8 on log scale: the monitor script of docs/references.md (Spike statistics) saw at most 4.5 on six healthy
    runs and alerts at 8.
    The ratio floor keeps very smooth series (tiny MAD) from turning 20 % wiggles into spikes.
    """
    return stats.cached(run, f"spikes:{name}:{z_min}:{ratio_min}", lambda: _spikes(run, name, z_min, ratio_min))


def _spikes(run: Run, name: str, z_min: float, ratio_min: float) -> list[Spike]:
    s = run.series(name)
    if s is None or len(s) < 16:
        return []
    v = s.values
    w = stats.choose_window(len(s))
    z = stats.robust_z_trailing(v, w, log=True)
    # In a noisy series (wide MAD) a real blow-up can stay under z_min: a point an order of magnitude above the
    # previous block's median still counts as a spike when it clears half the z bar (zoo seed_divergence: 28x the
    # median at z ~4.5; healthy zoo/HF/Lightning runs peak below 5x).
    strong = (z > z_min) & np.isfinite(v)
    weak = (z > z_min / 2) & ~strong & np.isfinite(v)
    cand = np.nonzero(strong | weak)[0]
    out: list[Spike] = []
    if cand.size == 0:
        return out
    nblocks = len(v) // w
    blocks = v[: nblocks * w].reshape(nblocks, w)
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            med = stats.block_median(np.where(np.isfinite(blocks), blocks, np.nan))
    for i in cand[:2000]:
        b = min(int(i) // w - 1, nblocks - 1)
        m = float(med[b]) if b >= 0 else float("nan")
        if not math.isfinite(m) or m <= 0 or v[i] / m < (ratio_min if strong[i] else max(ratio_min, 10.0)):
            continue
        out.append(Spike(int(s.steps[i]), float(v[i]), m, float(z[i]), int(i)))
    return out


@dataclass
class Divergence:
    min_step: int
    min_value: float
    end_value: float
    rise: float  # end/min - 1 of the smoothed curve
    onset_step: int  # first step after the minimum where the smoothed loss is 10% above it
    nonfinite_step: int | None


# A training loss term: a name that ends in "loss" ("seg_loss", "train/box_loss", "kl loss"), a short word glued to
# it as scripts print it ("genloss", "latloss", "kldloss": at most 6 letters, so a single lower-case word and not a
# sentence fragment), or a detectron2/mmdet "loss_<part>" ("loss_cls", "loss_rpn_bbox"). Not a term: the split
# forms (eval_/val_/test_, glued or not: their own curves), and loss-scaler bookkeeping ("loss_scale", the fp16
# scaler's value, no loss at all).
_TERM_RE = re.compile(r"(?:^|[_/ .-])(?:[a-z]{1,6})?loss$|^loss[_/ .-]\w", re.I)
_NOT_TERM_RE = re.compile(r"^(?:eval|val|valid|validation|test)(?:[_/ .-]|loss$)|[_/ .-](?:val|valid|eval|test)[_/ .-]"
                          r"|loss[_/ .-]?scal|weight|coef", re.I)
# The two players of an adversarial game ("d_loss"/"g_loss", "loss_D"/"loss_G", "disc_loss"/"gen_loss", glued as
# "dloss"/"gloss") minimise opposing objectives (Goodfellow et al. 2014): their sum is no objective that training
# should lower.
_PLAYER_RE = re.compile(r"(?:^|[_/ .-])(?:d|g|disc|gen|discriminator|generator|critic)(?:[_/ .-]|$|loss$)", re.I)


def named_loss_terms(run: Run) -> list[Series]:
    """The training loss's named parts the run logs ("seg_loss", "loss_cls", "x_loss"), whether or not it logs a
    total too; the total itself ("loss") is none of them."""
    return [s for name, s in sorted(run.metrics.items())
            if len(s) and name != "loss" and _TERM_RE.search(name) and not _NOT_TERM_RE.search(name)]


def loss_terms(run: Run) -> list[Series]:
    """The training loss's named parts, for a run that logs no total loss (a multi-task or detection head that
    prints "seg_loss: x grade_loss: y" or "loss_cls: x loss_bbox: y"). Empty when a total loss is logged."""
    if run.series("loss") is not None:
        return []
    return named_loss_terms(run)


def _summed_terms(run: Run) -> Series | None:
    """The total a run without a `loss` series minimises: the sum of its loss terms at the steps they share. A NaN
    in any term is a NaN total (the backward pass runs through the sum). The weights of the terms are unknown, so
    the sum stands in for the total's shape (falls, rises, goes non-finite), not for its value. An adversarial pair
    gives no total (see _PLAYER_RE)."""
    terms = loss_terms(run)
    if not terms or sum(1 for t in terms if _PLAYER_RE.search(t.name)) >= 2:
        return None
    steps = terms[0].steps
    for t in terms[1:]:
        steps = np.intersect1d(steps, t.steps)
    if steps.size == 0:
        return None
    total = np.zeros(steps.size)
    for t in terms:
        total = total + t.values[np.searchsorted(t.steps, steps)]
    return Series("loss", steps, total, terms[0].source, " + ".join(t.raw_name for t in terms))


def logged_lr(run: Run) -> Series | None:
    """The logged LR: the main series, else a parameter group's (lr/muon, lr/adam, then lr/group_0, ... in name
    order)."""
    groups = sorted(n for n in run.metrics if n.startswith("lr/"))
    for name in ("lr", "lr/muon", "lr/adam", *groups):
        s = run.series(name)
        if s is not None:
            return s
    return None


def loss_series(run: Run) -> Series | None:
    """The training loss, with HF Trainer's NaN filter undone: a loss logged as exactly 0.0 on a step whose grad
    norm is NaN was a NaN (the Trainer replaces non-finite losses before logging), not a perfect model. A run that
    logs only named loss terms gets their sum (_summed_terms). None in a reinforcement-learning run (evidence/rl.py):
    its logged losses are policy-gradient / actor-critic surrogates, ~0 or negative by construction and rising with
    the advantages, that the supervised-loss rules (collapse, divergence, plateau) would misread; its objective is
    the reward. Their non-finite values stay evidence (nan_watch_series reads them)."""
    if rl_run(run) is not None:
        return None
    return logged_loss(run)


def logged_loss(run: Run) -> Series | None:
    """loss_series whatever the kind of run: the logged (or summed) training loss, RL surrogates included."""
    def compute() -> Series | None:
        s, g = run.series("loss"), run.series("grad_norm")
        if s is None:
            return _summed_terms(run)
        if s is None or g is None:
            return s
        bad = g.steps[~np.isfinite(g.values)]
        if bad.size == 0:
            return s
        mask = (s.values == 0) & np.isin(s.steps, bad)
        if not mask.any():
            return s
        return Series(s.name, s.steps, np.where(mask, np.nan, s.values), s.source, s.raw_name)
    return stats.cached(run, "logged_loss", compute)


def nan_watch_series(run: Run) -> Series | None:
    """The loss whose first non-finite value the NaN rules read (NanContext, detect_nan_inf): the training loss
    (loss_series), or, in a run that logs only the players' losses of an adversarial game (no total, _PLAYER_RE),
    the player loss that went non-finite first. Each player backpropagates its own loss into its own weights, so a
    NaN in either is a NaN update and the game stops; which player it struck first says nothing of the cause, so
    the earliest is taken. None when no loss, and no player loss that went non-finite, is logged."""
    # a NaN in an RL surrogate is a NaN update all the same: the NaN rules read it (logged_loss, not loss_series)
    s = logged_loss(run)
    if s is not None:
        return s
    firsts = [(f, t.name) for t in loss_terms(run) if (f := first_nonfinite(t)) is not None]
    return run.series(min(firsts)[1]) if firsts else None


def metric(run: Run, name: str) -> Series | None:
    return loss_series(run) if name == "loss" else run.series(name)


def first_nonfinite(s: Series | None) -> int | None:
    """The step of the series' first non-finite value, or None. A lone leading one (the first record non-finite,
    every later one of >= 2 finite) is a placeholder written before the first measurement, not a value that went
    non-finite: a pandas score history's row 0 of NaN, an evaluation row logged before any metric exists. No
    training failure draws it: a loss computed before any update has no update to blame, and a dynamic loss scaler
    that overflows keeps overflowing each time it grows its scale again (every ~2000 steps, Micikevicius et al.
    2018). No development corpus series has one."""
    if s is None:
        return None
    bad = ~np.isfinite(s.values)
    if not bad.any() or (bad.size >= 3 and bool(bad[0]) and not bad[1:].any()):
        return None
    return int(s.steps[int(np.argmax(bad))])


def divergence(run: Run, name: str = "loss") -> Divergence | None:
    """Loss that fell and then rose for good: smoothed end >= 1.1x its smoothed minimum, minimum not at the end.

    10 % matches smdebug's Overfit ratio 0.1 and the seed's "loss increased 15% at epoch 7" case. A curve with
    a late NaN after finite values also counts (it diverged past representable numbers).
    """
    return stats.cached(run, f"divergence:{name}", lambda: _divergence(run, name))


# Uniform guessing over a million labels or tokens: ln 1e6 = 13.8 nats. A fresh classifier's cross-entropy starts near
# ln(k), and real label sets and vocabularies are 256k or fewer, so a per-example cross-entropy above it is worse than
# guessing (a diverged model) and a loss that starts above it is no per-example cross-entropy (a sum, a squared error).
ANY_VOCAB_NATS = math.log(1e6)
BLOW_UP = 10.0  # a short excerpt's loss this many times its minimum after falling to it: a blow-up, not noise
# three orders of magnitude above the minimum: a blow-up even where the excerpt never shows the fall before it (it
# starts at its minimum, or creeps up first); no stuck or slowly rising loss climbs 1000x without diverging (the same
# bound NanContext uses for two finite losses before a NaN)
BLOW_UP_ANYWAY = 1000.0


def _blow_up(steps: np.ndarray, vals: np.ndarray) -> Divergence | None:
    """3-7 points (a pasted excerpt): too few to smooth, but a loss that fell and then jumped an order of magnitude
    above its minimum has blown up (issue 8: short series still feed the blow-up check). Minibatch noise and a new
    epoch's first batches move a loss by tens of percent, not 10x; losses near zero need the absolute floor below."""
    if vals.size < 3:
        return None
    imin = int(np.argmin(vals))
    mn = float(vals[imin])
    if imin == vals.size - 1:
        return None
    fell = imin > 0 and float(vals[0]) > mn
    floor = max(abs(mn), 1e-2 * abs(float(np.median(vals))), 1e-8)
    high = mn + ((BLOW_UP if fell else BLOW_UP_ANYWAY) - 1.0) * floor
    end = float(vals[-1])
    if end < high:  # it must stay up: one outlier batch that came back down is not a blow-up
        return None
    jump = np.nonzero(vals[imin + 1:] >= high)[0]
    return Divergence(int(steps[imin]), mn, end, float((end - mn) / floor), int(steps[imin + 1 + int(jump[0])]), None)


def _divergence(run: Run, name: str) -> Divergence | None:
    s = metric(run, name)
    if s is None or len(s) < 3:
        return None
    steps, vals = s.finite()
    nf = first_nonfinite(s)
    if vals.size < 8:
        if nf is not None and vals.size >= 2:
            return Divergence(int(steps[0]), float(vals.min()), float("nan"), float("inf"), nf, nf)
        return _blow_up(steps, vals)
    steps, vals = stats.downsample(steps, vals, 4000, "mean")
    k = max(3, vals.size // 20)
    sm = stats.smooth(vals, k)
    imin = int(np.argmin(sm))
    mn = float(sm[imin])
    tail = sm[-max(2, vals.size // 10):]
    end = float(np.median(tail))
    # relative rise; on losses near zero use an absolute floor so 0.001 -> 0.002 is not a "100 % rise"
    denom = max(abs(mn), 1e-2 * (abs(float(np.median(vals))) + 1e-12), 1e-8)
    rise = (end - mn) / denom
    # the curve must have *fallen* first (otherwise it is a stuck/rising-from-start run)
    first = float(np.median(sm[: max(2, vals.size // 10)]))
    fell = first > mn * 1.02
    nf_after_finite = nf is not None and nf > int(steps[0])
    if nf_after_finite:
        return Divergence(int(steps[imin]), mn, float("nan"), float("inf"), nf, nf)
    if imin >= vals.size - max(2, vals.size // 20) or rise < 0.10 or not (fell or rise >= BLOW_UP_ANYWAY - 1):
        return None
    above = np.nonzero(sm[imin:] > mn + 0.10 * denom)[0]
    onset = int(steps[imin + int(above[0])]) if above.size else int(steps[imin])
    return Divergence(int(steps[imin]), mn, end, float(rise), onset, None)


# A series whose first point comes this many logging intervals (the median gap between its logged steps) or more
# after step 0 does not show the start of training: the log was cut (an excerpt pasted from the middle of a run, the
# last screenful before a crash) or resumed. Trainers write their first line at step 0, 1 or one interval in; 10
# intervals leaves room for a first line held back by a few logging periods (a warmup or a first evaluation) while an
# excerpt of the last ~25 % of a run starts 30+ intervals in (tools/excerpt_eval.py). Steps must be the trainer's
# own: a counter a reader makes up from 0 cannot tell, so this can only clear, never flag, a log that restarts at 0.
MID_RUN_INTERVALS = 10


def starts_mid_run(s: Series | None) -> bool:
    """The series' first logged point is not the start of training (MID_RUN_INTERVALS): a first value there is no
    initial loss, a flat stretch no evidence that the run never learned, an LR no evidence of a missing warmup."""
    if s is None:
        return False
    st, _ = s.finite()
    if st.size < 2 or st[0] <= 0:
        return False
    gaps = np.diff(st.astype(float))
    pos = gaps[gaps > 0]
    if pos.size < 1:
        return False
    # (two lines give one interval: "[22300] loss=... [22400] loss=..." pasted from a 22500-step run is plain; two
    # lines at steps 1 and 2, or 1000 and 2000, are not 10 intervals in)
    interval = float(np.median(pos))
    first = float(st[0])
    if st.size >= 4 and gaps[0] >= MID_RUN_INTERVALS * interval:
        # a lone first point far before the rest: a line pasted above the excerpt's first step marker, which the
        # reader numbers by line order (1, 2, ...), while every later line carries the trainer's step
        first = float(st[1])
    return bool(first >= MID_RUN_INTERVALS * interval)


def mid_run(run: Run, s: Series | None) -> bool:
    """The log of `s` does not show the start of training: its steps say so (`starts_mid_run`), or its epoch markers
    or HF epoch fractions do (`late_window`, for a reader whose step counter restarts with the excerpt)."""
    return starts_mid_run(s) or late_window(run) is not None


# A value of a KEYS["start_weights"] option that names trained weights to start from: a checkpoint file, an HF
# `checkpoint-<N>` folder, nanoGPT's init_from = 'resume', Lightning's ckpt_path 'last' / 'best', or a bare True
# (HF's resume_from_checkpoint=True: the output folder's last checkpoint). A hub model id ('gpt2', 'bert-base-
# uncased') is not one: fine-tuning a pretrained model on a new task starts high on its new data and its loss does
# measure the run; nor is 'scratch', a save folder ('checkpoints/') or an option switched off.
_CHECKPOINT_VALUE = re.compile(r"(?:\.(?:pt|pth|ckpt|bin|safetensors|tar)$|(?:^|[/\\])checkpoint-\d+[/\\]?$)", re.I)


def continued_from(run: Run) -> ConfigValue | None:
    """The config value saying the run starts from an earlier run's trained weights, or None."""
    for key in KEYS["start_weights"]:
        cv = run.config_value(key)
        if cv is None:
            continue
        v = cv.value
        if v is True and key not in ("model_name_or_path", "init_from"):
            return cv
        if isinstance(v, str) and (_CHECKPOINT_VALUE.search(v.strip()) or (key == "init_from" and v == "resume")
                                   or (key == "ckpt_path" and v in ("last", "best"))):
            return cv
    return None


def progress(run: Run, name: str = "loss") -> float | None:
    """Relative loss decrease over the run, from the first 10 % of points to the last 10 % (1 = fell to 0, 0 = flat);
    None for a log that starts mid-run (`mid_run`: its first points are no start, so how far the run came, and
    whether a flat stretch is a run that never learned or one that had converged, is unknown), and for a run that
    starts from an earlier run's weights (`continued_from`): its first loss is already the trained model's, so how
    little it fell says nothing of this run's LR or gradients."""
    s = metric(run, name)
    if s is None or mid_run(run, s) or continued_from(run) is not None:
        return None
    return window_progress(run, name)


def window_progress(run: Run, name: str = "loss") -> float | None:
    """`progress` over the logged points whatever the log's start: a loss that falls by a third inside an excerpt
    learns at its LR as plainly as one that does from step 0 (only a flat window is no evidence)."""
    s = metric(run, name)
    if s is None:
        return None
    _, v = s.finite()
    if v.size < 8:
        return None
    k = max(2, v.size // 10)
    a, b = float(np.median(v[:k])), float(np.median(v[-k:]))
    if a == 0:
        return 0.0
    return (a - b) / abs(a)


def stage_boundaries(run: Run) -> list[tuple[int, str]]:
    """Stage switches after the start (the first stage beginning at the first step is not a switch)."""
    if not run.stages:
        return []
    first_step = min((int(s.steps[0]) for s in run.metrics.values() if len(s)), default=0)
    return [(st, nm) for st, nm in run.stages if st > first_step]


def near_boundary(run: Run, step: int, tolerance_frac: float = 0.05) -> tuple[int, str] | None:
    """The stage boundary at or shortly before `step` (within 5 % of the run's length), if any."""
    last = max((int(s.steps[-1]) for s in run.metrics.values() if len(s)), default=0)
    tol = max(5, int(last * tolerance_frac))
    best = None
    for st, nm in stage_boundaries(run):
        if st - 2 <= step <= st + tol:
            best = (st, nm)
    return best


def config_number(run: Run, *names: str) -> tuple[float | None, ConfigValue | None]:
    cv = run.config_value(*names)
    if cv is None:
        return None, None
    if isinstance(cv.value, bool):
        return float(cv.value), cv
    return _as_float(cv.value), cv


def config_bool(run: Run, *names: str) -> tuple[bool | None, ConfigValue | None]:
    cv = run.config_value(*names)
    if cv is None:
        return None, None
    v = cv.value
    if isinstance(v, bool):
        return v, cv
    if isinstance(v, (int, float)):
        return bool(v), cv
    if isinstance(v, str):
        if v.strip().lower() in ("true", "yes", "1", "on"):
            return True, cv
        if v.strip().lower() in ("false", "no", "0", "off", "none", "null"):
            return False, cv
    return None, cv


def run_length(run: Run) -> int:
    return max((int(s.steps[-1]) for s in run.metrics.values() if len(s)), default=0)


def rows_are_epochs(run: Run, steps: np.ndarray) -> bool:
    """Each training-loss row is an epoch's: it starts an epoch of its own in the log's epoch clock, or a held-out
    evaluation is printed at every row (the per-epoch history of Keras, a CSV logger, a fit table)."""
    starts = {s for s, _ in run.epoch_starts}
    if len({e for _, e in run.epoch_starts}) >= steps.size and all(int(s) in starts for s in steps):
        return True
    ev = run.series("eval_loss")
    return ev is not None and bool(np.isin(steps, ev.steps).all())


# ------------------------------------------------------------------------------------------------------ samples


def text_degenerate(text: str) -> bool:
    """A generated sample that is one repeated token or a short loop ("::::", "the the the ...").

    Rules: empty output; the most common character covers >= 80 % of the text; character entropy < 1.0 bit
    (English text has ~4 bits/char, digit strings ~3); or fewer than 20 % of its character 4-grams are distinct
    (a short loop). Strict on purpose: an undertrained model's '1+111+1111' babble is poor, not collapsed.
    Texts shorter than 8 characters are only judged by the first two rules.
    """
    t = "".join(text.split())
    if not t:
        return True
    from collections import Counter

    c = Counter(t)
    n = len(t)
    if c.most_common(1)[0][1] / n >= 0.8 and n >= 4:
        return True
    if n < 8:
        return False
    p = np.array(list(c.values()), dtype=np.float64) / n
    if float(-(p * np.log2(p)).sum()) < 1.0:
        return True
    grams = [t[i:i + 4] for i in range(n - 3)]
    return len(set(grams)) / len(grams) < 0.2


@dataclass
class SampleReport:
    late_share: float  # degenerate share among the latest samples
    early_share: float
    late_count: int
    example: str
    example_step: int | None
    source: str
    first_step: int | None = None  # the first degenerate sample's step: a checkpoint before it predates the collapse


def sample_report(run: Run) -> SampleReport | None:
    """Degenerate share of the latest samples (the last quarter by order, at least 3) vs the earliest."""
    def compute() -> SampleReport | None:
        samples = [s for s in run.samples if s.text is not None]
        if not samples:
            return None
        samples = sorted(samples, key=lambda s: (s.step if s.step is not None else -1))
        k = max(3, len(samples) // 4)
        late, early = samples[-k:], samples[:k]
        deg_late = [s for s in late if text_degenerate(s.text)]
        ls = len(deg_late) / len(late)
        es = sum(text_degenerate(s.text) for s in early) / len(early)
        ex = deg_late[-1] if deg_late else late[-1]
        first = next((s.step for s in samples if text_degenerate(s.text)), None)
        return SampleReport(ls, es, len(late), ex.text[:60], ex.step, ex.source, first)
    return stats.cached(run, "sample_report", compute)


# ------------------------------------------------------------------------------------------ what preceded a NaN
FIRST_LOG_STEP = 500
# An excerpt whose first epoch marker names epoch 2 or later began after at least one whole epoch had run, whether the
# count starts at 0 or at 1 (evidence/nan_prior.py reads the same marker for a steady stretch).
LATE_EPOCH = 2
# A first HF row more than this many logging intervals past epoch 0 is not the run's first row (late_window): one
# interval is where a logger prints its first row, and the HF Trainer rounds the logged epoch to 2 decimals, which
# can make the first spacing read up to twice the true one.
LATE_INTERVALS = 3


@dataclass(frozen=True)
class NanContext:
    """What the logs show around the first non-finite loss or grad norm: NaN is a symptom (docs/causes.md), and
    these are the leads to its cause. Thresholds:
    - blow-up: in the 20 points before, grad norm or loss > 10x its earlier median (an order of magnitude);
    - loss rising: >= 5 finite losses before it, the last >= 1.25x their minimum (a 25 % climb is beyond the
      step-to-step noise of a logged training loss, which smdebug's Overfit already flags at 10 %); 3-4 losses
      when the last is >= 10x their minimum, 2 when it is >= 1000x (a blow-up, which no noise draws);
    - LR rising: the logged LR grew over the last 3 points up to the NaN (warmup still raising it);
    - LR raised: the logged LR jumped >= 2x between two consecutive points after the first 3 (a schedule never
      doubles from one log line to the next past warmup's start; a resume with a new LR does);
    - from the start: no finite loss before it, and the first logged loss is at step <= 500 (HF Trainer's default
      logging interval, the largest common one) and within one logging interval of step 0 (a logger printing every
      k steps prints its first line by step k, +1 for a 1-based counter; the interval is the median spacing of the
      first logged points), and no epoch marker before it names epoch LATE_EPOCH or later: an excerpt that starts
      late in a run ("Epoch 8/250" first, "STARTING Epoch 0009" above a lone line) is not its start;
    - recovers: >= half the losses after it are finite again (the NaN never reached the weights: the update was
      skipped, which is what a dynamic loss scaler does; a NaN applied to the weights keeps every later loss NaN).
    """

    step: int
    loss_nan: bool  # the loss itself (not only the grad norm) went non-finite
    finite_before: int
    from_start: bool
    blowup: str | None
    loss_rising: str | None
    lr_rising: str | None
    lr_raised: str | None
    recovers: bool

    @property
    def lr_lead(self) -> list[str]:
        return [x for x in (self.blowup, self.loss_rising, self.lr_rising, self.lr_raised) if x]


def nan_context(run: Run) -> NanContext | None:
    return stats.cached(run, "nan_context", lambda: _nan_context(run))


CLIMB_POINTS = 5  # the blow-up test's history (5 points to set a median) serves the climbing-loss test too


def first_epoch(run: Run) -> int:
    """The epoch the log's earliest epoch marker names (-1 when the log names none)."""
    return min(run.epoch_starts)[1] if run.epoch_starts else -1


def late_window(run: Run) -> str | None:
    """The log is a window that starts well after training began, so the early descent of the loss is not in it:
    - its earliest epoch marker names epoch LATE_EPOCH or later (a whole epoch ran before it, counted from 0 or 1);
    - or the fractional epoch the HF Trainer logs with each row (progress from 0) is, at the first row, more than
      LATE_INTERVALS logging intervals past 0 (the median epoch spacing of the first rows): a logger prints its
      first row by one interval, so a first row at 0.38 with rows 0.006 apart is ~60 intervals into the run.
    A description of the window, or None when the log may start at the beginning."""
    if first_epoch(run) >= LATE_EPOCH:
        return f"the log's first epoch marker names epoch {first_epoch(run)}"
    counted = run.meta.get("first_counted_epoch")
    if isinstance(counted, int) and counted >= LATE_EPOCH and not run.epoch_starts:
        # a progress counter ("Epoch 39/49") the reader kept no epoch clock for: its first one names the start
        return f"the log's first epoch counter is epoch {counted} of {run.meta.get('planned_epochs')}"
    s = run.series("epoch")
    if s is None:
        return None
    _, v = s.finite()
    if v.size < 3 or float(v[0]) <= 0:
        return None
    gaps = np.diff(v[:11])
    gap = float(np.median(gaps[gaps > 0])) if bool((gaps > 0).any()) else 0.0
    if gap > 0 and float(v[0]) > LATE_INTERVALS * gap:
        return (f"the first logged row is already at epoch {stats.fmt(float(v[0]))}, {float(v[0]) / gap:.0f} logging "
                f"intervals ({stats.fmt(gap)} epoch each) into the run {cite_series(s)}")
    return None


def starts_at_first_interval(s: Series) -> bool:
    """The first logged point is the run's first log line: at most one logging interval (the median spacing of the
    first logged points) past step 0, +1 for a 1-based counter. With fewer than 3 points the spacing is unknown and
    only FIRST_LOG_STEP applies."""
    steps = s.steps[:11]
    if steps.size < 3:
        return True
    gap = float(np.median(np.diff(steps)))
    return gap > 0 and float(steps[0]) <= gap + 1


def _nan_context(run: Run) -> NanContext | None:
    loss, g = nan_watch_series(run), run.series("grad_norm")
    nf_loss, nf_grad = first_nonfinite(loss), first_nonfinite(g)
    cands = [s for s in (nf_loss, nf_grad) if s is not None]
    if not cands:
        return None
    first = min(cands)
    blowup = None
    for s in (g, loss):
        if s is None:
            continue
        i = int(np.searchsorted(s.steps, first))
        before, earlier = s.values[max(0, i - 20): i], s.values[: max(0, i - 20)]
        before, earlier = before[np.isfinite(before)], earlier[np.isfinite(earlier)]
        if before.size and earlier.size >= 5:
            med = float(np.median(np.abs(earlier)))
            if med > 0 and float(np.abs(before).max()) > 10 * med:
                blowup = (f"{s.name} reached {stats.fmt(float(np.abs(before).max()))} (10x+ its median "
                          f"{stats.fmt(med)}) just before the first NaN: a blow-up preceded it")
                break
    finite_before, loss_rising, recovers, from_start = 0, None, False, False
    if loss is not None:
        i = int(np.searchsorted(loss.steps, first))
        prior = loss.values[:i][np.isfinite(loss.values[:i])]
        finite_before = int(prior.size)
        # a climb of 25 % needs CLIMB_POINTS of history: over three or four minibatch losses such a rise is within
        # their noise (three noisy points come out rising one time in six); a shorter excerpt shows a climb only
        # when it is a blow-up (BLOW_UP x its minimum), which no sampling noise draws; two points show it only when
        # the rise spans three orders of magnitude (BLOW_UP ** 3): no minibatch noise, new epoch or curriculum step
        # moves a training loss 1000x within one logging interval (Darknet's 1.1e11 -> 6.6e21 -> nan)
        rise = float(prior[-1]) / float(prior.min()) if prior.size and float(prior.min()) > 0 else 0.0
        if ((prior.size >= CLIMB_POINTS and rise >= 1.25) or (prior.size >= 3 and rise >= BLOW_UP)
                or (prior.size == 2 and rise >= BLOW_UP ** 3)):
            loss_rising = (f"the loss climbed from {stats.fmt(float(prior.min()))} to {stats.fmt(float(prior[-1]))} "
                           f"before the NaN at step {first}")
        if nf_loss is not None:
            # after the first non-finite *loss*: a NaN grad norm on the step before does not count
            after = loss.values[int(np.searchsorted(loss.steps, nf_loss)) + 1:]
            recovers = after.size >= 2 and float(np.isfinite(after).mean()) >= 0.5
        else:
            recovers = True  # only the grad norm went non-finite: the loss stayed finite
        from_start = (finite_before == 0 and int(loss.steps[0]) <= FIRST_LOG_STEP and starts_at_first_interval(loss)
                      and first_epoch(run) < LATE_EPOCH)
    lr_rising = lr_raised = None
    lr = run.series("lr") or run.series("lr/muon") or run.series("lr/adam")
    if lr is not None:
        st, v = lr.finite()
        upto = v[st <= first]
        if upto.size >= 3 and upto[-1] > upto[-2] > upto[-3]:
            lr_rising = (f"the LR was still rising at the NaN ({float(upto[-3]):.3g} -> {float(upto[-1]):.3g} by step "
                         f"{first}): warmup had not ended")
        for j in range(3, upto.size):
            if upto[j - 1] > 0 and upto[j] >= 2 * upto[j - 1]:
                lr_raised = (f"the LR jumped from {stats.fmt(float(upto[j - 1]))} to {stats.fmt(float(upto[j]))} at "
                             f"step {int(st[j])} before the NaN (raised on resume?)")
    return NanContext(first, nf_loss is not None, finite_before, from_start, blowup, loss_rising, lr_rising,
                      lr_raised, recovers)


# ------------------------------------------------------------------------------------------ per-layer grad norms

@dataclass
class LayerGrads:
    """Per-layer gradient norms of one numbered stack of modules (`net.0` ... `net.9`, `model.layers.0` ...), in
    layer order: `values[i, j]` is block `blocks[j]`'s norm at `steps[i]` (the root sum of squares of its weights'
    norms, which is the norm of the block's weights taken together)."""

    stack: str  # the container's path ("net", "model.layers")
    blocks: list[str]  # block paths in layer order (input side first)
    steps: np.ndarray
    values: np.ndarray  # (steps, blocks)
    series: Series  # one of the family's series, to cite its file


# Embedding tables get a gradient only in the rows the batch used: its norm says nothing about depth (the probe
# skips them the same way, probe/gradient_flow.py).
_EMBEDDING = re.compile(r"emb|wte|wpe", re.IGNORECASE)
_BIAS = re.compile(r"(?:^|[._])bias$", re.IGNORECASE)


def layer_grad_norms(run: Run) -> LayerGrads | None:
    """The run's logged per-parameter gradient norms (ingest/names.py, layer_grad_param) as per-layer norms of its
    longest numbered stack, or None when it logs fewer than 4 such layers. Layer order is the stack's index, which
    is the order the modules were built in (nn.Sequential, nn.ModuleList): a log's own column order is not to be
    trusted (Lightning's CSVLogger sorts its columns by name, so `net.10` comes before `net.2`). Biases are left out
    (a bias's gradient is the layer's error signal summed, not the weights' update) and so are embedding tables."""
    return stats.cached(run, "layer_grad_norms", lambda: _layer_grad_norms(run))


def _layer_grad_norms(run: Run) -> LayerGrads | None:
    # (norm-type prefix, stack) -> block index -> the block's series
    families: dict[tuple[str, str], dict[int, list[Series]]] = {}
    for name, s in run.metrics.items():
        param = layer_grad_param(name)
        if param is None or _BIAS.search(param) or _EMBEDDING.search(param):
            continue
        parts = param.split(".")
        at = next((i for i, p in enumerate(parts[:-1]) if p.isdigit()), None)
        if at is None:
            continue
        key = (name[: len(name) - len(param)], ".".join(parts[:at]))
        families.setdefault(key, {}).setdefault(int(parts[at]), []).append(s)
    if not families:
        return None
    (_, stack), blocks = max(families.items(), key=lambda kv: (len(kv[1]), kv[0]))
    if len(blocks) < 4:
        return None
    order = sorted(blocks)
    columns: list[dict[int, float]] = []
    for idx in order:
        per_step: dict[int, list[float]] = {}
        for s in blocks[idx]:
            st, v = s.finite()
            for a, b in zip(st.tolist(), v.tolist(), strict=True):
                per_step.setdefault(int(a), []).append(float(b))
        n_params = len(blocks[idx])
        columns.append({a: math.sqrt(sum(x * x for x in vals))
                        for a, vals in per_step.items() if len(vals) == n_params})
    common = sorted(set.intersection(*(set(c) for c in columns)))
    if not common:
        return None
    values = np.array([[c[a] for c in columns] for a in common], dtype=float)
    prefix = f"{stack}." if stack else ""
    return LayerGrads(stack, [f"{prefix}{i}" for i in order], np.array(common), values, blocks[order[0]][0])
