"""A launch command kept beside the log, one flag per continuation line (readers/command_file.py).

The LLaMA-Factory / HF example style (`    --learning_rate 3e-5 \\`) reads, line by line, like a column of
`name value` metric lines; the file is the run's configuration, not a metric log.
"""

from __future__ import annotations

from pathlib import Path

from traindoc.ingest.loader import load_run
from traindoc.ingest.readers import command_file

_COMMAND = (
    "CUDA_VISIBLE_DEVICES=1 python src/train_bash.py \\\n"
    "    --stage sft \\\n"
    "    --model_name_or_path ~/models/base \\\n"
    "    --per_device_train_batch_size 4 \\\n"
    "    --gradient_accumulation_steps 8 \\\n"
    "    --max_source_length 1024 \\\n"
    "    --max_target_length 512 \\\n"
    "    --logging_steps 10 \\\n"
    "    --warmup_steps 100 \\\n"
    "    --learning_rate 3e-5 \\\n"
    "    --max_grad_norm 0.5 \\\n"
    "    --num_train_epochs 2.0 \\\n"
    "    --fp16\n"
)
_LOG = "".join(f"{{'loss': {2.0 - i * 0.01:.4f}, 'learning_rate': 3e-05, 'epoch': {i / 100:.2f}}}\n"
               for i in range(1, 6))


def test_one_flag_per_line_command_file_is_configuration(tmp_path):
    (tmp_path / "command.txt").write_text(_COMMAND)
    (tmp_path / "train.log").write_text(_LOG)
    run = load_run([tmp_path])
    formats = {s.path.rsplit("/", 1)[-1]: s.format for s in run.sources}
    assert formats["command.txt"] == "command_line"
    cfg = {k: cv.value for k, cv in run.config.items()}
    assert cfg["learning_rate"] == 3e-5 and cfg["warmup_steps"] == 100 and cfg["fp16"] is True
    # the flags are not one-point metric series
    assert not run.series("max_grad_norm") and not run.series("gradient_accumulation_steps")


def test_command_file_with_only_a_stray_flag_line_is_left_to_the_log_readers(tmp_path):
    # a file named like a command that is mostly something else keeps the old, lower bid
    text = "python train.py --lr 0.1\n" + "".join(f"epoch {i} loss {1.0 / i:.3f}\n" for i in range(1, 9))
    (tmp_path / "run.txt").write_text(text)
    p = Path(tmp_path / "run.txt")
    assert command_file.sniff(p, p.read_bytes()) == 0.5
