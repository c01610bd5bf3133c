"""DeepSpeed-Chat's own evaluation prints, read with the DeepSpeed engine lines they sit among.

DeepSpeed-Chat's training scripts (applications/DeepSpeed-Chat in DeepSpeedExamples, `print_rank_0`) evaluate before
training and after every epoch and print a heading, then the figures on the next line:

    ***** Evaluating perplexity, Epoch 1/16 *****          (step 1, supervised fine-tuning)
    ppl: 2.0179834365844727                                 (later versions: "ppl: x, loss: y")
    ***** Evaluating reward, Epoch 1/1 *****                (step 2, reward model)
    chosen_last_scores (higher is better) : 2.24, acc (higher is better) : 0.699
    ***** Evaluating rewards, Epoch 1/1 *****               (step 2, DPO)
    chosen: -31.9375, rejected: -33.96875, loss: 0.6650807857513428

and "Epoch 1/1 with loss 0.575" at the end of a reward-model epoch (the epoch's mean training loss). A DeepSpeed
log is read by the deepspeed family alone (its engine lines win the detection), which knows none of these lines, so
the held-out perplexity -- the only quality figure step 1 prints -- was not read at all.

The figures are measured on the held-out split the scripts carve from the data (`--data_split`): `eval_ppl`,
`eval_loss`, `eval_accuracy` (the share of pairs whose chosen answer scores above the rejected one), `eval_chosen_score`
/ `eval_rejected_score` (mean reward-model or DPO scores). Each is placed on the last engine step seen (step 0 for
the evaluation before training). The value line is read only right after its heading, except the reward line, whose
wording is this script's own.

This module only recognises the lines; textlog_formats.parse_deepspeed turns them into records.
"""

from __future__ import annotations

import re

_N = r"[-+]?(?:\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|nan|inf)"
_HEADING = re.compile(r"^\*{3,}\s*Evaluating (perplexity|reward|rewards), Epoch \d+/\d+\s*\*{3,}\s*$")
_PPL = re.compile(rf"^ppl: ({_N})(?:, loss: ({_N}))?\s*$")
_REWARD = re.compile(
    rf"^chosen_last_scores \(higher is better\) : ({_N})"
    rf"(?:, rejected_last_scores \(lower is better\) : ({_N}))?, acc \(higher is better\) : ({_N})\s*$")
_DPO = re.compile(rf"^chosen: ({_N}), rejected: ({_N}), loss: ({_N})\s*$")
_EPOCH_LOSS = re.compile(rf"^Epoch \d+/\d+ with loss ({_N})\s*$")


def heading(text: str) -> str | None:
    """'perplexity', 'reward' or 'rewards' for an evaluation heading, else None."""
    if not text.startswith("***"):
        return None
    m = _HEADING.match(text)
    return None if m is None else m.group(1)


def _put(out: dict[str, float], name: str, raw: str | None) -> None:
    if raw is not None:
        out[name] = float(raw)


def eval_values(text: str, pending: str | None) -> dict[str, float] | None:
    """Held-out figures of a value line (`pending`: the heading just read, if any), or None."""
    out: dict[str, float] = {}
    if pending == "perplexity" and (m := _PPL.match(text)):
        _put(out, "eval_ppl", m.group(1))
        _put(out, "eval_loss", m.group(2))
    elif pending == "rewards" and (m := _DPO.match(text)):
        _put(out, "eval_chosen_score", m.group(1))
        _put(out, "eval_rejected_score", m.group(2))
        _put(out, "eval_loss", m.group(3))
    elif text.startswith("chosen_last_scores") and (m := _REWARD.match(text)):
        _put(out, "eval_chosen_score", m.group(1))
        _put(out, "eval_rejected_score", m.group(2))
        _put(out, "eval_accuracy", m.group(3))
    return out or None


def epoch_loss(text: str) -> float | None:
    """The mean training loss of an "Epoch e/N with loss x" line, or None."""
    if not text.startswith("Epoch "):
        return None
    m = _EPOCH_LOSS.match(text)
    return None if m is None else float(m.group(1))
