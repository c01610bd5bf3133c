"""Canonical metric names: one vocabulary for every logging library.

Detectors ask for "loss", "eval_loss", "grad_norm", "lr" ... (see `CANONICAL_METRICS` in model.py) whatever the run
called them. `canonical_metric(raw)` maps a library's name onto that vocabulary; a name it does not know is returned
unchanged, so nothing is lost (readers keep the raw name in `Series.raw_name` either way).

The rules, in the order they are tried:
1. per-rank suffixes/prefixes (`loss_rank1`, `rank1/loss`, `[rank 1] loss`) become `<canonical>@rank<k>`;
2. learning rates: `lr`, `learning_rate`, `learning-rate`, Lightning's `lr-AdamW` (the optimiser class is not a
   group), per-group `lr/muon`, `lr-AdamW/pg2`, `lr_adam` become `lr` or `lr/<group>`;
3. an exact alias table over a normalised spelling (lower case; spaces, `-`, `/`, `.` folded to `_`), so
   `train/loss`, `Train loss`, `lm loss` and `train_loss` all land on "loss";
4. split prefixes: `eval_`, `eval/`, `val_`, `validation `, `valid_`, `test_` turn the base name into its eval form
   (`eval_loss`, `eval_accuracy`, else `eval_<base>`); `train_`/`training_`/`train/` are dropped;
5. Lightning's `_step` suffix (per-step value of an on_step+on_epoch metric) is dropped; `_epoch` aggregates are
   kept under their own name, because an epoch mean is not a step value.

The text-log reader of helper "ingest-text" calls `canonical_metric` too, so console logs and structured logs agree.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Normalised spelling -> canonical name. Only names whose meaning is unambiguous across libraries are listed;
# e.g. "train_loss" at the END of an HF run is a run-mean and is filtered by the HF reader, not here.
_ALIASES: dict[str, str] = {
    # training loss
    "loss": "loss",
    "train_loss": "loss",
    "training_loss": "loss",
    "lm_loss": "loss",  # Megatron
    "total_loss": "loss",  # detectron2, mmcv
    "loss_metrics_global_avg_loss": "loss",  # torchtitan
    "epoch_loss": "loss",  # Keras TensorBoard callback (train/ folder; the validation/ folder gives eval_loss)
    "batch_loss": "loss",
    "batchloss": "loss",  # PyTorch-Ignite's TensorboardLogger examples: tag "training", {"batchloss": loss}
    "avg_loss": "loss",
    "step_loss": "loss",
    "reduced_train_loss": "loss",  # NeMo
    "trn_loss": "loss",  # fastai 0.7 tables ("epoch  trn_loss  val_loss")
    "xent": "loss",  # OpenNMT, tensor2tensor: the token cross-entropy the trainer minimises
    "iteration_loss": "loss",  # "Iteration Loss: x", a per-iteration print
    "iter_loss": "loss",
    "loss_error": "loss",  # "Loss error: x" (aihwkit examples): the criterion's value
    "running_loss": "loss",  # the PyTorch tutorial loop's averaged print
    "minibatch_loss": "loss",
    "main_loss": "loss",  # Chainer reports under the optimizer's target name: "main/loss", "validation/main/loss"
    # OLMo's trainer: "train/CrossEntropyLoss" is the loss it minimises (its z-loss, when on, is "train/ZLoss")
    "crossentropyloss": "loss",
    "loss_train_total": "loss",  # MosaicML Composer / llm-foundry: "Train loss/train/total", the summed training loss
    "main_accuracy": "accuracy",
    # validation loss
    "eval_loss": "eval_loss",
    "val_loss": "eval_loss",
    "valid_loss": "eval_loss",
    "validation_loss": "eval_loss",
    "lm_loss_validation": "eval_loss",  # Megatron
    "validation_metrics_loss": "eval_loss",  # torchtitan
    "evaluation_loss_vs_iterations": "eval_loss",  # Keras validation/ folder
    # the split word between "total" and "loss": YunYang1994's tensorflow-yolov3 and its TF2 ports print
    # "giou_val_loss: .., conf_val_loss: .., prob_val_loss: .., total_val_loss: .."; the total is the held-out loss
    "total_val_loss": "eval_loss",
    "total_valid_loss": "eval_loss",
    "total_validation_loss": "eval_loss",
    "total_eval_loss": "eval_loss",
    "test_loss": "test_loss",
    # gradient norm (before clipping, which is what libraries log unless they say otherwise)
    "grad_norm": "grad_norm",
    "gradnorm": "grad_norm",
    "grad_norm_before_clip": "grad_norm",
    "grad_norm_pre_clip": "grad_norm",
    "gnorm": "grad_norm",  # fairseq
    "gradient_norm": "grad_norm",
    "grad_norm_total": "grad_norm",
    "grad_2_0_norm_total": "grad_norm",  # Lightning's grad_norm(module, norm_type=2) utility: "grad_2.0_norm_total"
    "total_norm": "grad_norm",  # torch.nn.utils.clip_grad_norm_ return value, as people name it
    "total_grad_norm": "grad_norm",
    "global_grad_norm": "grad_norm",
    # a bare "norm" in a training line is the clip_grad_norm_ return value: llm.c ("step 1/74: train loss 4.4 norm
    # 1.12 lr ..."), its speedrun logs ("s:0 trl:11.0 lr:0.000001 norm:15.37") and build-nanogpt ("step 10 | loss:
    # 6.1 | lr 6e-4 | norm: 1.23 | dt: ...") print the total gradient norm under it; a parameter norm is named as one
    "norm": "grad_norm",
    "grad_norm_clipped": "grad_norm_clipped",
    "clipped_grad_norm": "grad_norm_clipped",
    "grad_norm_after_clip": "grad_norm_clipped",
    "grad_norm_post_clip": "grad_norm_clipped",
    # epoch
    "epoch": "epoch",
    "epochs": "epoch",
    # accuracy
    "accuracy": "accuracy",
    # scikit-learn's estimator score (accuracy for a classifier, R^2 for a regressor): its MLP prints it on the
    # early-stopping split as "Validation score: x" and keeps it as `validation_scores_`; only the split word makes
    # it an eval metric ("val_score" -> "eval_score"), the bare name stays as it was
    "score": "score",
    "acc": "accuracy",
    "train_accuracy": "accuracy",
    "train_acc": "accuracy",
    "epoch_accuracy": "accuracy",  # Keras
    "eval_accuracy": "eval_accuracy",
    "eval_acc": "eval_accuracy",
    "val_accuracy": "eval_accuracy",
    "val_acc": "eval_accuracy",
    "valid_acc": "eval_accuracy",
    "validation_accuracy": "eval_accuracy",
    "validation_acc": "eval_accuracy",
    # ACT halting statistics (the bundled trainer)
    "act_halt_mean": "act_halt_mean",
    "halt_mean": "act_halt_mean",
    "act_halt_var": "act_halt_var",
    "halt_var": "act_halt_var",
    "act_steps_mean": "act_steps_mean",
    "steps_mean": "act_steps_mean",
    # throughput (the unit differs by library; readers keep the raw name for quoting)
    "tokens_per_s": "tokens_per_s",
    "tokens_per_sec": "tokens_per_s",
    "tokens_per_second": "tokens_per_s",
    "train_tokens_per_second": "tokens_per_s",
    "tok_s": "tokens_per_s",
    "tok_sec": "tokens_per_s",  # build-nanogpt's "tok/sec: 5198.52"
    "tps": "tokens_per_s",
    "throughput_tps": "tokens_per_s",
    "throughput(tps)": "tokens_per_s",
    # numerics and model health
    # the fp16 loss scaler's current scale, in the spellings trainers print it under: every one is the factor the
    # loss is multiplied by before backward (Micikevicius et al. 2018 §3.2), whatever the trainer calls it. DeepSpeed
    # says "dynamic loss scale" ("Reducing dynamic loss scale from 65536 to 32768.0"), insightface's arcface_torch
    # "Fp16 Grad Scale: 256" (torch.cuda.amp.GradScaler's scale), fairseq and apex "loss scale", a GradScaler
    # printed by name "scaler scale" / "amp scale"
    "loss_scale": "loss_scale",
    "lossscale": "loss_scale",
    "scaler_scale": "loss_scale",
    "grad_scale": "loss_scale",
    "dynamic_loss_scale": "loss_scale",
    "current_loss_scale": "loss_scale",
    "cur_loss_scale": "loss_scale",
    "fp16_loss_scale": "loss_scale",
    "fp16_grad_scale": "loss_scale",
    "amp_loss_scale": "loss_scale",
    "amp_grad_scale": "loss_scale",
    "amp_scale": "loss_scale",
    "grad_scaler_scale": "loss_scale",
    "gradscaler_scale": "loss_scale",
    "param_norm": "param_norm",
    "params_norm": "param_norm",
    "parameter_norm": "param_norm",
    "weight_norm": "param_norm",
    "update_ratio": "update_ratio",
    "update_to_param_ratio": "update_ratio",
    "max_attn_logit": "max_attn_logit",
    "max_attention_logit": "max_attn_logit",
    "attn_logit_max": "max_attn_logit",
    "output_logit_mean": "output_logit_mean",
    "logit_mean": "output_logit_mean",
    "z_loss": "z_loss",
    # HF's end-of-training mean over the whole run, logged at the last step: not a step value, so not "loss"
    "train_train_loss": "train_loss_run_mean",
}

# Split prefixes (on the normalised name). Eval-like ones turn the base into its eval form.
# "vali_": the Informer / Autoformer time-series family prints "Vali Loss"; "dev_": the NLP name of the held-out set;
# "validate_": the verb the ImageNet example scripts name their held-out pass with (a "validate" column group)
_EVAL_PREFIXES = ("eval_", "val_", "valid_", "validation_", "evaluation_", "vali_", "dev_", "validate_")
_TRAIN_PREFIXES = ("train_", "training_", "trainer_")
_EVAL_FORM = {"loss": "eval_loss", "accuracy": "eval_accuracy"}
_PHASE_PREFIXES = ("test_", "testing_", "evaluate_", "evaluating_")
_KNOWN = frozenset(_ALIASES.values())

# "\s*[\[(]" only where a run of spaces starts: the base is the shortest that fits and is never empty (the name is
# stripped), so an end inside the run is never the one kept, and trying each was quadratic (docs/architecture.md)
_RANK_SUFFIX = re.compile(r"^(?P<base>.+?)(?:[@_/ .:-]|(?<!\s)\s*[\[(])rank[_ -]?(?P<rank>\d+)[\])]?$", re.I)
_RANK_PREFIX = re.compile(r"^[\[(]?rank[_ -]?(?P<rank>\d+)[\])]?[/_ .:-]*(?P<base>.+)$", re.I)
# lr, learning_rate, learning-rate, "learning rate", optionally prefixed by train/ (or cur_/current_: the LR of
# this step, MindYOLO's "cur_lr"; epoch_: Keras's TensorBoard callback writes "epoch_learning_rate") and followed by
# a group.
_LR = re.compile(
    r"^(?:(?:train|training|trainer|optim|optimizer|cur|current|epoch)[/_ ])?(?:lr|learning[_ -]?rate)"
    r"(?P<rest>(?:[-/_ ].*)?)$",
    re.I,
)
_SEP = re.compile(r"[\s\-/.]+")
# what a scheduler's message puts between the name and the value ("Updating learning rate to 1e-06", Keras'
# "setting learning rate to 0.001", "lr is 0.01"): part of the sentence, not a parameter group's name
_LR_VERB_TAIL = ("to", "is", "now", "now_is", "set_to", "changed_to", "reduced_to")


def normalise(raw: str) -> str:
    """Lower case with spaces, '-', '/' and '.' folded to '_' (the form the alias table is keyed on)."""
    return _SEP.sub("_", raw.strip().lower()).strip("_")


def split_rank(raw: str) -> tuple[str, int | None]:
    """`loss_rank1` -> ("loss", 1); `rank0/loss` -> ("loss", 0); `loss` -> ("loss", None)."""
    m = _RANK_SUFFIX.match(raw.strip()) or _RANK_PREFIX.match(raw.strip())
    if m and m.group("base"):
        return m.group("base").strip(" /_.:-"), int(m.group("rank"))
    return raw, None


def _lr_name(raw: str) -> str | None:
    m = _LR.match(raw.strip())
    if not m:
        return None
    rest = m.group("rest")
    if not rest:
        return "lr"
    # Lightning's LearningRateMonitor: "lr-<OptimizerClass>", "lr-<OptimizerClass>/pg<k>", "lr-<Class>-<k>".
    # The class name says which optimiser, not which group, so it is dropped; a "/pg<k>" part is the group.
    if rest.startswith("-") and rest[1:2].isupper():
        group = rest.split("/", 1)[1] if "/" in rest else ""
        return f"lr/{normalise(group)}" if group else "lr"
    group = normalise(rest)
    if not group or group in _LR_VERB_TAIL:
        return "lr"
    # the first parameter group is the main one (Ignite's OptimizerParamsHandler writes "lr/group_0")
    if group in ("pg0", "group0", "group_0", "0", "main"):
        return "lr"
    return f"lr/{group}"


def _base_canonical(n: str) -> str | None:
    """Canonical name of a normalised name without split prefixes, or None."""
    if n in _ALIASES:
        return _ALIASES[n]
    if n.endswith("_step") and n[:-5] in _ALIASES:  # Lightning on_step copy
        return _ALIASES[n[:-5]]
    return None


@lru_cache(maxsize=4096)
def canonical_metric(raw: str, split: str | None = None) -> str:
    """Canonical name for a metric the run logged as `raw`; `raw` itself when unknown.

    `split="eval"` says the value comes from a validation context the name does not show (a Keras `validation/`
    TensorBoard folder, an mmcv record with mode "val"): "loss" then becomes "eval_loss".
    """
    if not raw or not raw.strip():
        return raw
    base, rank = split_rank(raw)
    if rank is not None:
        return f"{canonical_metric(base, split)}@rank{rank}"
    name = _canonical_no_rank(raw)
    if split == "eval" and not name.startswith(("eval_", "test_")):
        if name == raw and _base_canonical(normalise(raw)) is None and _lr_name(raw) is None:
            return f"eval_{normalise(raw)}"
        if name.startswith("lr") or name == "epoch":
            return name  # a learning rate or epoch is the same thing in either split
        return _EVAL_FORM.get(name, f"eval_{name}")
    return name


# A running-mean qualifier in front of a name ("Avg Train Loss", "Average Loss", "mean_loss") does not change what
# it measures: consoles print their per-interval means under such names.
_MEAN_PREFIXES = ("avg_", "average_", "mean_", "running_")


def _canonical_no_rank(raw: str) -> str:
    lr = _lr_name(raw)
    if lr is not None:
        return lr
    n = normalise(raw)
    found = _base_canonical(n)
    if found is not None:
        return found
    # a sentence print's copula after the name ("average loss is: 0.73", DyNet's XOR tutorial; "Train loss is 0.2"):
    # the name is what precedes it, and only a name known without it is taken (an unknown one stays as printed)
    if n.endswith("_is") and len(n) > len("_is"):
        rest = n[: -len("_is")]
        inner = _canonical_no_rank(rest)
        if inner != rest or _base_canonical(rest) is not None:
            return inner
    for prefix in _MEAN_PREFIXES:
        if n.startswith(prefix) and len(n) > len(prefix):
            rest = n[len(prefix):]
            inner = _canonical_no_rank(rest)
            if inner != rest or _base_canonical(rest) is not None:
                return inner
    for prefix in _EVAL_PREFIXES:
        if n.startswith(prefix):
            rest = n[len(prefix) :]
            inner = _canonical_no_rank(rest)
            if inner.startswith("eval_"):  # a split word twice ("valid val_loss"): one held-out metric
                return inner
            # the base, or what a mean qualifier wraps ("val_mean_loss", "val_avg_loss")
            base = _base_canonical(rest) or (inner if inner in _KNOWN else None)
            if base is not None:
                return _EVAL_FORM.get(base, f"eval_{base}")
            return raw
    # TransTab prints its validation loss as "test val_loss" (the evaluation phase, then the metric's own name): a
    # held-out name after a "test" phase word is that held-out metric, not a test-set one
    if n.startswith(_PHASE_PREFIXES):
        inner = _canonical_no_rank(n.split("_", 1)[1])
        if inner.startswith("eval_"):
            return inner
        # a known metric after the test split's word is that split's metric, whatever its spelling: tch-rs's example
        # prints "test acc: 91.44%" (issue 8, session 30: tests/corpus/realworld/g9-tch-rs-jit-train-readme-test-acc),
        # Objax's tutorial a "test accuracy" column; as printed, neither name was a test metric nor an accuracy
        if n.startswith(("test_", "testing_")):
            base = _base_canonical(n.split("_", 1)[1])
            if base is not None and not base.startswith(("eval_", "test_", "lr", "epoch")):
                return f"test_{base}"
    for prefix in _TRAIN_PREFIXES:
        if n.startswith(prefix):
            rest_raw = raw.strip()[len(prefix) :]
            lr = _lr_name(rest_raw)
            if lr is not None:
                return lr
            base = _base_canonical(n[len(prefix) :])
            if base is not None:
                return base
            return raw
    return raw


# Names people give a metric's history when they keep it themselves (`train_losses`, `val_acc_history`, `lrs`, a
# checkpoint's "loss_list", scikit-learn's `loss_curve_` / `validation_scores_`): the plural and the container words
# are not part of what is measured.
# scikit-learn keeps its per-iteration training loss as `loss_curve_`: "curve" is a container word there too.
_HISTORY_NOISE = re.compile(r"(?:^|_)(?:history|hist|list|values|log|per_epoch|all|epoch|epochs|batch|batches|"
                            r"step|steps|iter|iters|curve|curves)(?=_|$)")
_PLURALS = {"losses": "loss", "accs": "acc", "accuracies": "accuracy", "lrs": "lr", "perplexities": "perplexity",
            "ppls": "ppl", "errors": "error", "errs": "err", "scores": "score", "f1s": "f1", "bleus": "bleu",
            "aucs": "auc", "maes": "mae", "mses": "mse", "learning_rates": "learning_rate", "grad_norms": "grad_norm",
            "norms": "norm"}


def history_metric_name(raw: str) -> str:
    """Canonical name of a metric history named the way people name their own lists (`train_losses` -> `loss`,
    `val_accs` -> `eval_accuracy`, `lr_history` -> `lr`); `canonical_metric` of what is left."""
    n = normalise(raw)
    for plural, single in _PLURALS.items():
        if n == plural or n.endswith("_" + plural):
            n = n[: len(n) - len(plural)] + single
            break
    n = _HISTORY_NOISE.sub("", n).strip("_") or n
    return canonical_metric(n)


def is_eval_metric(name: str) -> bool:
    """True for canonical names of validation-side metrics."""
    return name.startswith("eval_") or name.startswith("test_")


# Which training (of a multi-seed sweep, a cross-validation) or which process a value belongs to: an identifier, not a
# measurement; the text-log and CSV readers read no metric of these names
ID_KEYS = frozenset({"rank", "local_rank", "global_rank", "world_size", "pid", "fold", "seed"})

# A count of the data the run has gone through ("Total tokens: 12236", MLX's "Trained Tokens 8192", Megatron's
# "consumed tokens: 5242880", "throughput/total_tokens=4,194,304", "num_input_tokens_seen"): a position in the data,
# printed once or rising by each step's batch, no measurement of the model. A rate of it ("tokens_per_second",
# "tok/sec") is a different name and stays a metric; so does a per-batch count that goes up and down ("ntokens").
_DATA_COUNT = re.compile(
    r"^(?:[\w ]+/)?(?:(?:total|trained|consumed|seen|processed|cumulative|cum|num|number[ _]of)[ _/]+)?"
    r"(?:(?:train(?:ing)?|input|output)[ _]+)?(?:tokens?|samples|examples|sequences)"
    r"(?:[ _]+(?:seen|processed|consumed|trained|so[ _]far))?$", re.I)


def data_count_key(raw: str) -> bool:
    """Whether `raw` names a count of tokens, samples, examples or sequences the run has gone through."""
    return bool(_DATA_COUNT.match(raw.strip()))


# Keys that hold the optimiser step in structured logs, most specific first. `_step` (W&B) counts log calls and
# `epoch` is per-epoch, so both come last.
STEP_KEYS = (
    "train/global_step",
    "trainer/global_step",
    "global_step",
    "step",
    "iteration",
    "iter",
    "current_steps",
    "num_updates",
    "Step",
    "_step",
)


# Per-parameter gradient norms: Lightning's `grad_norm(module, norm_type)` utility logs "grad_<p>_norm/<param path>"
# beside its total ("grad_2.0_norm_total", which the alias table maps to grad_norm); custom loops and TensorBoard
# scalars use "grad_norm/<param>" or "gradient_norm/<param>" (a "train/" prefix allowed). The parameter path is a
# dotted module path ending in the tensor's own name. PyTorch-Ignite's GradsScalarHandler (reduction torch.norm)
# writes "grads_norm/<param path>" with the path's dots turned into slashes ("grads_norm/rnn/weight_ih_l0"), behind
# an optional tag of the user's ("generator/grads_norm/..."). Such series keep their raw name in `run.metrics`;
# detectors read them as one family (evidence/context.py, layer_grad_norms).
_LAYER_GRAD = re.compile(
    r"^(?:(?:train|training)/)?(?:grad_(?:[0-9.]+|inf)_norm|grad_norm|gradient_norm|grad_norms|gradient_norms)"
    r"/(?P<param>[A-Za-z_][\w]*(?:\.[\w]+)*)$"
)
_IGNITE_GRAD = re.compile(r"^(?:[\w.-]+/)?grads_norm/(?P<param>[A-Za-z_][\w]*(?:/[\w]+)*)$")


def layer_grad_param(raw: str) -> str | None:
    """The parameter path of a per-parameter gradient-norm metric ("grad_2.0_norm/net.1.1.weight" ->
    "net.1.1.weight"; Ignite's "grads_norm/net/1/weight" -> "net.1.weight"), or None when `raw` is not one."""
    m = _LAYER_GRAD.match(raw.strip())
    if m:
        return m.group("param")
    m = _IGNITE_GRAD.match(raw.strip())
    return m.group("param").replace("/", ".") if m else None


def pick_step_key(keys) -> str | None:
    """The step key among a record's keys (see STEP_KEYS), or None."""
    for k in STEP_KEYS:
        if k in keys:
            return k
    return None
