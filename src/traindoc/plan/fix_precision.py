"""fp16_overflow as a config edit: leave float16 for bfloat16, which has float32's exponent range (so activations
and gradients above 65504 no longer overflow) and needs no loss scaling.

Where the project says how it trains: Lightning's / Fabric's `precision` ("16-mixed" -> "bf16-mixed", "16-true"
-> "bf16-true"), accelerate's `mixed_precision` ("fp16" -> "bf16"), a string autocast dtype (nanoGPT's
`dtype = 'float16'` -> 'bfloat16'), the dtype a script loads its model in (HF examples'
`torch_dtype` "float16" -> "bfloat16"), a HF `fp16: true` (-> `fp16: false` and `bf16: true`, the `bf16` key set
where it exists, else added beside the training arguments; a bare `--fp16` launch flag becomes `--bf16`), and in
code, `torch.autocast(..., dtype=torch.float16)` -> `torch.bfloat16` (a GradScaler beside it stays harmless); a
DeepSpeed JSON's `"fp16": {"enabled": true}` in plan/fix_deepspeed.py.

bf16 needs a GPU that supports it (Ampere or newer: `torch.cuda.is_bf16_supported()`) or the CPU; the plan cannot
see the machine the next run uses, so its note says to turn bf16 off too (fp32) on an older GPU.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from traindoc.evidence.code_sites import parse_python
from traindoc.plan import regression_probe
from traindoc.plan.add_setting import add_setting
from traindoc.plan.code_fix import add_test_file, render_template
from traindoc.plan.config_sites import apply_config, first_value
from traindoc.plan.fix_deepspeed import deepspeed_half_to_bf16
from traindoc.plan.launch import command_at
from traindoc.plan.workspace import Context, Edit, code_texts, level, rel

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
    d = first_value(ctx, "amp_dtype")
    if d is not None and isinstance(d[0], str) and d[0].lower() in ("float16", "fp16", "half"):
        done |= apply_config(ctx, rc, d[1], "bfloat16", why=f"{d[1]}: {d[0]!r} -> 'bfloat16': fp32's range")
    m = first_value(ctx, "model_dtype")
    if m is not None and isinstance(m[0], str) and m[0].lower().removeprefix("torch.") in ("float16", "fp16", "half"):
        # the weights (and AdamW's state) loaded in float16: bfloat16 keeps fp32's range, and its eps of 1e-8 is not
        # the 0 it becomes in float16
        done |= apply_config(ctx, rc, m[1], "bfloat16",
                             why=f"{m[1]}: {m[0]!r} -> 'bfloat16': the weights keep fp32's range")
    done |= _bare_flag(ctx, rc) or _fp16_key(ctx, rc)
    done |= _autocast_dtype(ctx, rc)
    done |= deepspeed_half_to_bf16(ctx, rc)  # DeepSpeed's own fp16 block, where its JSON turns it on
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
    word = next((w for w in command_at(text, lc.line or 1) if w[2] == "--fp16"), None)
    if word is None:
        return False
    new = text[:word[0]] + "--bf16" + text[word[1]:]
    line = text.count("\n", 0, word[0])
    old_line, new_line = text.splitlines()[line], new.splitlines()[line]
    ctx.ws.set_text(lc.file, new, Edit(lc.file, rc["cause"], "config", f"--fp16 -> --bf16: bfloat16 has fp32's range "
                                       f"(in the launch command, {lc.source})", level(rc, "impact", "high"),
                                       level(rc, "effort", "low"), level(rc, "risk", "low"), [new_line], [old_line],
                                       setting={"key": "bf16", "value": True}))
    return True


HALF_DTYPES = ("float16", "half")


def _autocast_dtype(ctx: Context, rc: dict[str, Any]) -> bool:
    """`torch.autocast(..., dtype=torch.float16)` / `torch.cuda.amp.autocast(dtype=torch.half)` -> torch.bfloat16."""
    done = False
    for path, text in code_texts(ctx).items():
        tree = parse_python(text)
        if tree is None:
            continue
        spans = []
        for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)
                     and (getattr(n.func, "attr", None) or getattr(n.func, "id", None)) == "autocast"):
            for k in call.keywords:
                v = k.value
                if k.arg == "dtype" and isinstance(v, ast.Attribute) and v.attr in HALF_DTYPES and \
                        isinstance(v.value, ast.Name) and v.value.id == "torch":
                    spans.append(v)
        if not spans:
            continue
        lines = text.splitlines(keepends=True)
        new_lines = list(lines)
        for v in sorted(spans, key=lambda s: (s.lineno, s.col_offset), reverse=True):  # right to left
            i = v.lineno - 1
            raw = new_lines[i].encode("utf-8")
            new_lines[i] = (raw[:v.col_offset] + b"torch.bfloat16" + raw[v.end_col_offset:]).decode("utf-8")
        new = "".join(new_lines)
        if parse_python(new) is None:
            continue
        for v in spans:
            i = v.lineno - 1
            ctx.ws.set_text(path, new, Edit(path, rc["cause"], "code",
                                            f"autocast dtype torch.{v.attr} -> torch.bfloat16 in {rel(ctx, path)}: "
                                            "fp32's exponent range, no overflow above 65504",
                                            level(rc, "impact", "high"), level(rc, "effort", "low"),
                                            level(rc, "risk", "low"), [new_lines[i].rstrip("\n")],
                                            [lines[i].rstrip("\n")], "autocast_bf16"))
        _add_test(ctx, rc, path, new, spans[0].lineno)
        done = True
    return done


def _add_test(ctx: Context, rc: dict[str, Any], path: str, text: str, line: int) -> None:
    """The regression test runs the function holding the autocast on values whose products overflow float16
    (regression_probe.autocast_probe), else it reads the autocast dtypes in the source."""
    probe = regression_probe.autocast_probe(text, line)
    if probe is not None:
        probe["import_root"], probe["module"] = regression_probe.import_name(Path(path), ctx.ws.root)
    content = render_template("regression_test", cause=rc["cause"], template="autocast_bf16", depth=1,
                              description="autocast computes in bfloat16, not float16", rel_file=rel(ctx, path),
                              probe=probe, function=probe["function"] if probe else "")
    add_test_file(ctx, rc["cause"], "test_traindoc_autocast_bf16", content,
                  f"regression test for the autocast dtype in {rel(ctx, path)}", "autocast_bf16")
