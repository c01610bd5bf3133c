"""The text area's readers inside load_run: each artifact of a mixed run folder goes to the right reader once."""

from __future__ import annotations

import shutil
from pathlib import Path

from traindoc.ingest.loader import load_run

DATA = Path(__file__).parent / "data"


def test_mixed_run_folder(tmp_path):
    run_dir = tmp_path / "run"
    (run_dir / "config").mkdir(parents=True)
    shutil.copy(DATA / "text_logs" / "nanogpt_diverged.log", run_dir / "train.log")
    shutil.copy(DATA / "configs" / "config" / "train_shakespeare_char.py", run_dir / "config")
    shutil.copy(DATA / "configs" / "phase1_config.yaml", run_dir / "config.yaml")
    shutil.copy(DATA / "checkpoints" / "tiny_tied.pt", run_dir / "ckpt.pt")
    shutil.copy(DATA / "samples" / "samples.txt", run_dir / "samples.txt")
    run = load_run([run_dir])
    formats = {Path(s.path).name: s.format for s in run.sources}
    assert formats == {"train.log": "text_log:nanogpt", "train_shakespeare_char.py": "python_config",
                       "config.yaml": "yaml_config", "ckpt.pt": "torch_checkpoint", "samples.txt": "samples_text"}
    assert len(run.sources) == 5
    assert run.series("loss") is not None and run.params is not None and len(run.samples) == 3
    assert run.config_value("muon_lr").line == 8
    assert [e.tag for e in run.events] == ["var_dof"]


def test_hf_console_log_is_left_to_the_hf_reader(tmp_path):
    p = tmp_path / "train.log"
    p.write_text("{'loss': 2.0491, 'learning_rate': 0.0001961913563176343, 'epoch': 0.28}\n"
                 "{'loss': 1.9, 'grad_norm': 1.2, 'learning_rate': 0.00019, 'epoch': 0.56}\n")
    run = load_run([p])
    assert [s.format for s in run.sources] != ["text_log:generic"]
