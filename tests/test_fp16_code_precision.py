"""Float16 read from the run's own training code (evidence/precision_code.py) as context for a NaN: a script that
casts its model with `.half()` (or loads it with `torch_dtype=torch.float16`, runs a `GradScaler()`, sets
`precision="16-mixed"`) on every run makes a NaN that stays a float16 run's NaN (detectors/numerics.py: 0.65, as a
stated fp16 flag does). Silent where the cast is a switch (`if args.fp16:`, `enabled=args.amp`), where the code
also sets bf16, where the config states the precision, and on a healthy float16 run (no NaN, no finding)."""

from __future__ import annotations

from pathlib import Path

from traindoc.evidence.detectors import numerics
from traindoc.evidence.precision import training_precision
from traindoc.evidence.precision_code import code_half_precision
from traindoc.ingest.loader import load_run

_SCRIPT = """import torch
model = torch.nn.Linear(8, 2)
{setup}
opt = torch.optim.Adam(model.parameters(), lr=1e-4)
for step in range(300):
    x = torch.randn(4, 8){cast}
    loss = model(x).float().pow(2).mean()
    loss.backward()
    opt.step()
    opt.zero_grad()
"""


def run_dir(tmp_path: Path, setup: str = "model = model.half()", cast: str = ".half()", nan_at: int | None = 150,
            config: str | None = None) -> Path:
    """A run folder: a training log whose loss is steady and (optionally) NaN from `nan_at` with nothing leading
    into it, and the training script beside it."""
    d = tmp_path / "run"
    d.mkdir(parents=True)
    lines = [f"step {s} loss {'nan' if nan_at is not None and s >= nan_at else f'{2.0 - s / 1000:.4f}'}"
             for s in range(10, 310, 10)]
    (d / "train.log").write_text("\n".join(lines) + "\n")
    (d / "train.py").write_text(_SCRIPT.format(setup=setup, cast=cast))
    if config is not None:
        (d / "config.yaml").write_text(config)
    return d


def fp16_strength(d: Path) -> float:
    found = numerics.detect_fp16_overflow(load_run([d]))
    return found[0].strength if found else 0.0


def test_a_half_cast_in_the_code_makes_a_nan_a_float16_runs(tmp_path: Path) -> None:
    d = run_dir(tmp_path)
    p = training_precision(load_run([d]))
    assert p.half is True and "model = model.half()" in p.evidence and "train.py:3" in p.evidence
    found = numerics.detect_fp16_overflow(load_run([d]))
    assert found and found[0].strength == 0.65 and found[0].step == 150
    # the same log with no script: the precision is not stated, fp16 stays a candidate below the report line
    (d / "train.py").unlink()
    assert fp16_strength(d) < 0.5


def test_other_float16_spellings_in_the_code(tmp_path: Path) -> None:
    for i, setup in enumerate([
            "model = AutoModel.from_pretrained('m', torch_dtype=torch.float16)",
            "scaler = torch.cuda.amp.GradScaler()",
            "ctx = torch.autocast(device_type='cuda', dtype=torch.float16)",
            "ctx = torch.autocast('cuda')",
            "trainer = pl.Trainer(precision='16-mixed', max_steps=300)",
            "args = TrainingArguments('out', fp16=True)",
            "acc = Accelerator(mixed_precision='fp16')",
            "model = model.to(torch.float16)",
            "from torch.cuda.amp import autocast\nwith autocast():\n    y = model(x)"]):
        d = run_dir(tmp_path / str(i), setup=setup, cast="")
        assert training_precision(load_run([d])).half is True, setup


def test_silent_where_the_code_does_not_settle_float16(tmp_path: Path) -> None:
    for i, setup in enumerate([
            "if args.fp16:\n    model = model.half()",  # a switch the run's arguments decide
            "model = model.half() if args.fp16 else model",
            "scaler = torch.cuda.amp.GradScaler(enabled=args.amp)",
            "ctx = torch.autocast('cuda', dtype=torch.float16, enabled=use_amp)",
            "ctx = torch.autocast('cpu')",  # bfloat16 by default on the CPU
            "from torch import autocast\nwith autocast(device):\n    y = model(x)",  # the device decides
            "ctx = torch.autocast('cuda', dtype=amp_dtype)",  # a variable, not a literal
            "model = model.half()\nctx = torch.autocast('cuda', dtype=torch.bfloat16)",  # two precisions
            "x = np.zeros(3, dtype=np.float16)",  # numpy's float16 stores data
            "torch.save({k: v.half() for k, v in model.state_dict().items()}, 'small.pt')",  # a half checkpoint
            "def export(m):\n    return m.half()",  # an fp16 export path
            "with torch.no_grad():\n    y = model.half()(x.half())"]):  # fp16 evaluation
        d = run_dir(tmp_path / str(i), setup=setup, cast="")
        run = load_run([d])
        assert code_half_precision(run) == "" and training_precision(run).half is None, setup
        assert fp16_strength(d) < 0.5, setup


def test_an_upcast_for_the_loss_does_not_cancel_the_cast(tmp_path: Path) -> None:
    d = run_dir(tmp_path, setup="model = model.half()\nlogits = model(x).to(torch.float32)")
    assert training_precision(load_run([d])).half is True


def test_the_config_decides_before_the_code_and_a_healthy_float16_run_gets_nothing(tmp_path: Path) -> None:
    d = run_dir(tmp_path / "a", config="precision: bf16-mixed\n")
    assert training_precision(load_run([d])).half is False
    assert fp16_strength(d) < 0.5
    # float16 on every run, no NaN, no scaler message: no finding at all (healthy fp16 runs are common)
    d = run_dir(tmp_path / "b", nan_at=None)
    assert training_precision(load_run([d])).half is True
    assert numerics.detect_fp16_overflow(load_run([d])) == []
