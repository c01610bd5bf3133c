"""The named rules a cause's plan policy refers to (src/traindoc/causes/<id>.py): values computed from the run
(`SetKey(computed=True)`) and fixers that need more than one key (`Strategy(name)`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from traindoc.causes.keys import KEYS
from traindoc.plan.config_sites import apply_config, code_default, current_value, first_value, set_first
from traindoc.plan.fix_accum import scale_accum_loss
from traindoc.plan.fix_data import fix_data_pipeline
from traindoc.plan.fix_deepspeed import deepspeed_schedule, deepspeed_warmup
from traindoc.plan.fix_distributed import fix_distributed
from traindoc.plan.fix_lightning import lightning_warmup
from traindoc.plan.fix_precision import half_to_bf16
from traindoc.plan.fix_resume import resume_healthy_checkpoint
from traindoc.plan.fix_schedule import add_warmup, fit_schedule_to_run, warmup_steps
from traindoc.plan.workspace import Context

BYTE_TOKENIZERS = {"byte", "bytes", "char", "character", "utf8", "utf-8"}
BYTE_VOCAB_MAX = 512  # 256 byte values plus a generous allowance for special tokens

TARGET_EMBEDDING_SHARE = 0.45  # docs/causes.md flags >= 50%; aim a margin below so the next run is balanced


SMALL_TRAIN_SET = 1024  # rows; a cap below this on a model that memorises it is the overfitting's direct cause


def raise_train_cap(ctx: Context, rc: dict[str, Any]) -> bool:
    """A config key that caps the training set at a handful of rows: let the model see more data (x256, at least
    2048 rows), which the data source must provide; the note says so."""
    for key in KEYS["train_cap"]:
        cur = current_value(ctx, key)
        if cur and isinstance(cur[0], int) and not isinstance(cur[0], bool) and 0 < cur[0] < SMALL_TRAIN_SET:
            new = max(2048, cur[0] * 256)
            return apply_config(ctx, rc, cur[1], new,
                                why=f"{cur[1]}: {cur[0]} -> {new}: the model memorises {cur[0]} rows; more data is "
                                    "the first cure for overfitting")
    return False


def tie_and_balance(ctx: Context, rc: dict[str, Any]) -> bool:
    """Tie the embeddings; if the estimated embedding share (vocab·d vs 12·d²·layers, the docs/causes.md estimate)
    is still >= 45%, add layers (at most 2x: capacity moves into the blocks without changing the tokenizer)."""
    done = set_first("tie_embeddings", lambda c, v: True,
                      "share the input and output embedding: halves the embedding parameters")(ctx, rc)
    vocab, d, layers = first_value(ctx, "vocab_size"), first_value(ctx, "d_model"), first_value(ctx, "n_layers")
    tied = first_value(ctx, "tie_embeddings")
    nums = [x[0] if x else None for x in (vocab, d, layers)]
    if not all(isinstance(n, int) and n > 0 for n in nums):
        return done
    v, dm, n_layers = nums
    tok = first_value(ctx, "tokenizer")
    if tok and str(tok[0]).lower() in BYTE_TOKENIZERS and v > BYTE_VOCAB_MAX:
        # a byte/char tokenizer only ever emits ~256 ids: every row above that is an embedding nothing uses
        small = code_default(ctx, vocab[1])
        new_v = small if isinstance(small, int) and 256 <= small <= BYTE_VOCAB_MAX else 260
        return apply_config(ctx, rc, vocab[1], new_v,
                            why=f"{vocab[1]}: {v} -> {new_v}: the {tok[0]} tokenizer uses only ~256 ids, the other "
                                f"{v - new_v} embedding rows are never read") or done
    emb = v * dm * (1 if (tied and tied[0] is True) else 2)

    def share(n: int) -> float:
        return emb / (emb + 12 * dm * dm * n)

    if share(n_layers) < TARGET_EMBEDDING_SHARE:
        return done
    need = n_layers
    while share(need) >= TARGET_EMBEDDING_SHARE and need < 2 * n_layers:
        need += 1
    why = (f"{layers[1]}: {n_layers} -> {need}: estimated embedding share {share(n_layers):.0%} -> {share(need):.0%}"
           " (more capacity in the blocks)")
    if share(need) >= TARGET_EMBEDDING_SHARE:
        ctx.ws.notes.append(f"param_imbalance: even {need} layers leave the embeddings {share(need):.0%} of the "
                            "parameters; a smaller vocabulary (tokenizer) is the remaining fix")
    return apply_config(ctx, rc, layers[1], need, why=why) or done


SWITCHES = (("norm_switch", "normalisation layers keep every layer's activations and gradients near unit scale"),
            ("residual_switch", "residual connections give the gradient an identity path back to the early layers"))


def enable_norm_residual(ctx: Context, rc: dict[str, Any]) -> bool:
    """vanishing_gradients: switch on the normalisation layers / residual connections the project's config offers
    (a boolean that is off); nothing is guessed when the project has no such switch."""
    done = False
    for group, what in SWITCHES:
        cur = first_value(ctx, group)
        if cur is not None and cur[0] is False:
            done |= apply_config(ctx, rc, cur[1], True, why=f"{cur[1]}: False -> True: {what}")
    return done


# Named rules a cause's plan policy refers to (src/traindoc/causes/<id>.py: SetKey(computed=True), Strategy)
COMPUTED: dict[str, Callable[[Context, Any], Any]] = {
    "warmup_5pct": warmup_steps,
    "patience_or_2": lambda ctx, old: 2 if not old else old,  # a patience of 0 stops nothing; keep a real one
}
RULE_WHY = {"warmup_5pct": "~5% of the steps, at least 10", "patience_or_2": "a patience of at least 2"}
STRATEGIES: dict[str, Callable[[Context, dict], bool]] = {
    "tie_and_balance": tie_and_balance,
    "raise_train_cap": raise_train_cap,
    "add_warmup": add_warmup,
    "deepspeed_warmup": deepspeed_warmup,
    "deepspeed_schedule": deepspeed_schedule,
    "lightning_warmup": lightning_warmup,
    "fit_schedule_to_run": fit_schedule_to_run,
    "half_to_bf16": half_to_bf16,
    "scale_accum_loss": scale_accum_loss,
    "enable_norm_residual": enable_norm_residual,
    "fix_data_pipeline": fix_data_pipeline,
    "fix_distributed": fix_distributed,
    "resume_healthy_checkpoint": resume_healthy_checkpoint,
}
