"""The training banner's accumulation factor ("Gradient Accumulation steps = 8", printed by the Hugging Face Trainer
and by the transformers / accelerate `no_trainer` loops) is read as the configuration it is, under the Trainer's key
`gradient_accumulation_steps`, by the text reader and by the HF console reader (_config_line.banner_pairs). The
lines are in the banner's layout; the values are made up."""

from __future__ import annotations

from textlog_support import read_text
from traindoc.evidence.context import accumulation_steps
from traindoc.ingest.model import Run
from traindoc.ingest.readers import hf_trainer
from traindoc.ingest.readers._config_line import banner_pairs

_BANNER = ("***** Running training *****\n  Num examples = 1024\n  Num Epochs = 3\n"
           "  Gradient Accumulation steps = 8\n  Total optimization steps = 300\n")


def test_banner_pairs_read_the_factor_behind_a_logger_prefix():
    assert banner_pairs("  Gradient Accumulation steps = 8") == [("gradient_accumulation_steps", "8")]
    assert banner_pairs("[INFO|trainer.py:1819] 2024-03-12 11:24:23,876 >>   Gradient Accumulation steps = 16") == [
        ("gradient_accumulation_steps", "16")]
    assert banner_pairs("  Total optimization steps = 300") is None
    assert banner_pairs("gradient accumulation steps = 8 and loss = 2.1") is None  # not the banner's line


def test_text_log_banner_sets_the_accumulation_factor(tmp_path):
    run = read_text(tmp_path, _BANNER + "".join(f"step {s}: loss = {1.0 / s:.4f}\n" for s in range(10, 60, 10)))
    k, cv = accumulation_steps(run)
    assert k == 8 and cv is not None and cv.line == 4
    assert not any("accumulation" in n.lower() for n in run.metrics)  # configuration, still no metric


def test_hf_console_banner_sets_the_accumulation_factor(tmp_path):
    path = tmp_path / "train.log"
    path.write_text(_BANNER + "".join(f"{{'loss': {2.0 - s / 100:.4f}, 'learning_rate': 1e-05, 'epoch': {s / 50}}}\n"
                                      for s in range(10, 60, 10)))
    run = Run()
    hf_trainer.read_console(path, run)
    run.finalize()
    assert accumulation_steps(run)[0] == 8


def test_no_banner_no_factor(tmp_path):
    run = read_text(tmp_path, "".join(f"step {s}: loss = {1.0 / s:.4f}\n" for s in range(10, 60, 10)))
    assert accumulation_steps(run) == (None, None)
