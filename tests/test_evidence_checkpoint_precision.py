"""A training checkpoint whose weights are stored float16 shows a float16 run (ingest/readers/checkpoints.py records
the stored dtypes of a safetensors checkpoint saved with its optimizer state; evidence/precision.py:
_half_checkpoint). Fires/silent tests on small HF Trainer-like run folders written by hand (no torch)."""

from __future__ import annotations

import json
import math
import pickle
import struct
from pathlib import Path

from traindoc.evidence.detectors import numerics
from traindoc.evidence.precision import training_precision
from traindoc.ingest.loader import load_run

# a tiny GPT-2's tensors: (name, shape)
TENSORS = (("transformer.wte.weight", (21, 8)), ("transformer.wpe.weight", (32, 8)),
           ("transformer.h.0.attn.c_attn.weight", (8, 24)), ("transformer.ln_f.weight", (8,)))


def safetensors(path: Path, dtype: str) -> None:
    """A safetensors file (header + zero data) with TENSORS stored in `dtype` (2 bytes per element)."""
    header, offset = {}, 0
    for name, shape in TENSORS:
        size = 2 * math.prod(shape)
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + size]}
        offset += size
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + bytes(offset))


def hf_run(tmp_path: Path, dtype: str, optimizer: bool = True) -> Path:
    """An HF Trainer output folder: the loss finite at step 1, NaN from step 2 on (AdamW's first update), the
    Trainer's own precision stated as off (`fp16: false`), and its end-of-run checkpoint."""
    run = tmp_path / "output"
    ck = run / "checkpoint-40"
    ck.mkdir(parents=True)
    history = [{"step": 1, "loss": 3.05, "grad_norm": 1.2, "learning_rate": 3e-3}]
    history += [{"step": s, "loss": float("nan"), "grad_norm": float("nan"), "learning_rate": 3e-3}
                for s in range(2, 41)]
    (run / "trainer_state.json").write_text(json.dumps({"global_step": 40, "max_steps": 40, "logging_steps": 1,
                                                        "log_history": history}))
    (run / "training_args.json").write_text(json.dumps({"learning_rate": 3e-3, "fp16": False, "bf16": False}))
    safetensors(ck / "model.safetensors", dtype)
    if optimizer:
        (ck / "optimizer.pt").write_bytes(pickle.dumps({"state": {}, "param_groups": []}))
    return run


def test_float16_weights_in_a_training_checkpoint_make_the_run_float16(tmp_path: Path) -> None:
    run = load_run([hf_run(tmp_path, "F16")])
    p = training_precision(run)
    assert p.half is True and "stored float16" in p.evidence and "fp16=False" in p.evidence
    f = numerics.detect_fp16_overflow(run)
    assert f and f[0].strength >= 0.65 and any("float16 run" in e for e in f[0].evidence)


def test_silent_on_float32_or_bfloat16_weights_and_on_an_export(tmp_path: Path) -> None:
    for dtype in ("F32", "BF16"):
        run = load_run([hf_run(tmp_path / dtype, dtype)])
        assert training_precision(run).half is False  # the stated fp16=False stands
        assert numerics.detect_fp16_overflow(run) == []
    # float16 weights with no optimizer state beside them: an export cast for inference, not the weights that trained
    run = load_run([hf_run(tmp_path / "export", "F16", optimizer=False)])
    assert training_precision(run).half is False
    assert numerics.detect_fp16_overflow(run) == []
