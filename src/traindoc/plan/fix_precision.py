"""fp16_overflow as a config edit: leave float16 for bfloat16, which has float32's exponent range (so activations
and gradients above 65504 no longer overflow) and needs no loss scaling.

Where the project says how it trains: Lightning's / Fabric's `precision` ("16-mixed" -> "bf16-mixed", "16-true"
-> "bf16-true"), accelerate's `mixed_precision` ("fp16" -> "bf16"), a HF `fp16: true` (-> `fp16: false` and
`bf16: true`, the `bf16` key set where it exists, else added beside the training arguments; a bare `--fp16`
launch flag becomes `--bf16`).

bf16 needs a GPU that supports it (Ampere or newer: `torch.cuda.is_bf16_supported()`) or the CPU; the plan cannot
see the machine the next run uses, so its note says to turn bf16 off too (fp32) on an older GPU.
"""

from __future__ import annotations

from typing import Any

from traindoc.plan.add_setting import add_setting
from traindoc.plan.config_sites import apply_config, first_value
from traindoc.plan.launch import command_words
from traindoc.plan.workspace import Context, Edit, level

# half-precision spellings -> the bfloat16 spelling of the same framework
TO_BF16 = {"16": "bf16-mixed", "16-mixed": "bf16-mixed", "16-true": "bf16-true", "fp16": "bf16",
           "float16": "bfloat16", "half": "bf16"}
SUPPORT_NOTE = ("fp16_overflow: bf16 needs a GPU that supports it (Ampere or newer; torch.cuda.is_bf16_supported())"
                " or the CPU; on an older GPU turn bf16 off too and train in fp32")


def half_to_bf16(ctx: Context, rc: dict[str, Any]) -> bool:
    done = False
    p = first_value(ctx, "precision")
    if p is not None and not isinstance(p[0], bool) and str(p[0]).lower() in TO_BF16:
        new = TO_BF16[str(p[0]).lower()]
        done |= apply_config(ctx, rc, p[1], new, why=f"{p[1]}: {p[0]!r} -> {new!r}: bf16 has fp32's range")
    done |= _bare_flag(ctx, rc) or _fp16_key(ctx, rc)
    if done:
        ctx.ws.notes.append(SUPPORT_NOTE)
    return done


def _fp16_key(ctx: Context, rc: dict[str, Any]) -> bool:
    f = first_value(ctx, "fp16")
    if f is None or f[0] is not True:
        return False
    done = apply_config(ctx, rc, f[1], False, why=f"{f[1]}: True -> False: float16 overflows above 65504")
    b = first_value(ctx, "bf16")
    why = "bf16 = True: bfloat16 autocast, fp32's exponent range, no loss scaling needed"
    if b is not None:
        return apply_config(ctx, rc, b[1], True, why=why) or done
    return add_setting(ctx, rc, "bf16", True, why) or done


def _bare_flag(ctx: Context, rc: dict[str, Any]) -> bool:
    """`--fp16` with no value in the launch command (HfArgumentParser reads it as True): renamed to `--bf16`."""
    lc = ctx.launch
    if lc is None or "--fp16" not in lc.argv:
        return False
    i = lc.argv.index("--fp16")
    if i + 1 < len(lc.argv) and not lc.argv[i + 1].startswith("--"):
        return False  # `--fp16 true`: a value, edited as a key
    if lc.file is None:
        lc.argv[i] = "--bf16"
        ctx.ws.notes.append("--fp16 -> --bf16 in the retrain command (no project file holds the launch command)")
        return True
    text = ctx.ws.text(lc.file)
    start = sum(len(x) for x in text.splitlines(keepends=True)[:(lc.line or 1) - 1])
    body = text[start:]
    start += len(body) - len(body.lstrip(" \t@"))
    word = next((w for w in command_words(text, start) if w[2] == "--fp16"), None)
    if word is None:
        return False
    new = text[:word[0]] + "--bf16" + text[word[1]:]
    line = text.count("\n", 0, word[0])
    old_line, new_line = text.splitlines()[line], new.splitlines()[line]
    ctx.ws.set_text(lc.file, new, Edit(lc.file, rc["cause"], "config", f"--fp16 -> --bf16: bfloat16 has fp32's range "
                                       f"(in the launch command, {lc.source})", level(rc, "impact", "high"),
                                       level(rc, "effort", "low"), level(rc, "risk", "low"), [new_line], [old_line]))
    return True
