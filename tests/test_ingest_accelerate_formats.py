"""What Hugging Face Accelerate and Lightning Fabric custom loops print, read as the metrics they are: Accelerate's
`epoch N: {...}` evaluation dict beside the script's own step prints (not a HF Trainer console), the transformers
banner's step counts as configuration, and the PyTorch examples' `Test set:` line without an accuracy, as a Fabric
loop for a task without classes prints it (textlog_formats.py, text_log.py, hf_trainer.sniff_console). The lines are
in the layout tools/corpusgen/accelerate_stack.py and fabric_stack.py write; the values are made up."""

from __future__ import annotations

from pathlib import Path

from textlog_support import read_text
from traindoc.ingest.readers import hf_trainer


def _accelerate_print_log() -> str:
    lines = []
    for step in range(5, 45, 5):
        epoch = step // 20
        lines.append(f"epoch {epoch} step {step}: loss {2.0 - step / 50:.4f} lr {0.001:.4g}")
        if step % 20 == 0:
            lines.append(f"epoch {epoch}: {{'eval_loss': {1.9 - step / 50:.4f}, 'accuracy': {step / 100:.4f}}}")
    return "\n".join(lines) + "\n"


def test_accelerate_epoch_dict_is_no_hf_trainer_console(tmp_path):
    text = _accelerate_print_log()
    assert hf_trainer.sniff_console(Path("train.log"), text.encode()) == 0.0
    run = read_text(tmp_path, text)
    assert [int(s) for s in run.series("loss").steps] == list(range(5, 45, 5))
    ev = run.series("eval_loss")
    assert ev is not None and [int(s) for s in ev.steps] == [20, 40]
    assert list(ev.values) == [1.5, 1.1]
    assert list(run.series("eval_accuracy").values) == [0.2, 0.4]


def test_hf_trainer_dicts_stay_with_the_hf_reader():
    text = ("{'loss': 2.1, 'grad_norm': 1.3, 'learning_rate': 5e-05, 'epoch': 0.1}\n"
            "{'eval_loss': 1.9, 'eval_runtime': 1.2, 'epoch': 0.5}\n")
    assert hf_trainer.sniff_console(Path("train.log"), text.encode()) == 0.85


def test_banner_step_counts_are_no_metrics(tmp_path):
    text = ("***** Running training *****\n  Num examples = 1024\n  Gradient Accumulation steps = 2\n"
            "  Total optimization steps = 300\n"
            + "".join(f"step {s}: loss = {1.0 / s:.4f}\n" for s in range(10, 60, 10)))
    run = read_text(tmp_path, text)
    assert run.series("loss") is not None and len(run.series("loss").values) == 5
    assert not any("accumulation" in n.lower() or "optimization" in n.lower() for n in run.metrics)


def test_test_set_line_without_accuracy(tmp_path):
    text = "".join(f"Train Epoch: {e} [320/1024 (31%)]\tLoss: {1.0 / e:.6f}\n\n"
                   f"Test set: Average loss: {0.9 / e:.4f}\n\n" for e in range(1, 4))
    run = read_text(tmp_path, text)
    ev = run.series("eval_loss")
    assert ev is not None and list(ev.values) == [0.9, 0.45, 0.3]
    assert run.series("eval_accuracy") is None
