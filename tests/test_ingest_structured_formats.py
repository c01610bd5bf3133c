"""Readers of files written by real libraries: HF Trainer, TensorBoard (torch's and tensorboard's writers),
Lightning, MLflow (file store and SQLite), W&B offline runs.

Committed fixtures under tests/data/ingest were produced by the real libraries (see generate.py there); tests that
need a library to produce a fresh file write it in tmp_path and skip when the library is missing.
"""

from __future__ import annotations

import math
import shutil
import sqlite3
import struct
from pathlib import Path

import numpy as np
import pytest

from traindoc.ingest import load_run
from traindoc.ingest.readers.hf_trainer import parse_log_dict

DATA = Path(__file__).parent / "data" / "ingest"


# ---------------------------------------------------------------------------------------------------------------
# Hugging Face


def test_hf_trainer_state_diverged_nan_filter():
    run = load_run([DATA / "hf_trainer_state_diverged.json"])
    assert run.sources[0].format == "hf_trainer_state"
    loss, gn = run.series("loss"), run.series("grad_norm")
    assert loss.steps.tolist() == [2, 4, 6, 8, 10, 12, 14, 16]
    assert math.isfinite(loss.values[0]) and np.isnan(loss.values[1:]).all()  # logged 0.0, really NaN
    assert np.isnan(gn.values).all()
    assert np.isnan(run.series("eval_loss").values).all()
    assert run.series("lr").values[0] == pytest.approx(937500.0)
    assert run.meta["hf_finished"] is True and run.meta["hf_logging_steps"] == 2
    assert "train_loss" not in run.metrics and run.series("loss").values.size == 8  # run mean kept out
    assert any(e.tag == "nan_loss" and e.step == 4 for e in run.events)
    assert run.epoch_starts[:2] == [(2, 0), (9, 1)]


def test_hf_trainer_state_healthy_has_no_nan():
    run = load_run([DATA / "hf_trainer_state_healthy.json"])
    assert np.isfinite(run.series("loss").values).all()
    assert not run.warnings


def test_hf_console_5x_quoted_floats_and_steps():
    run = load_run([DATA / "hf_console_diverged.log"])
    assert run.sources[0].format == "hf_console"
    loss = run.series("loss")
    assert loss.steps.tolist() == [2, 4, 6, 8, 10, 12, 14, 16]  # from the tqdm bar and the printed epoch
    assert loss.values[0] == pytest.approx(2.436) and np.isnan(loss.values[1:]).all()
    assert run.series("eval_loss").steps.tolist() == [8, 16]
    assert run.meta["hf_train_loss"] == pytest.approx(0.3045)


def test_hf_console_names_the_fine_tuning_stack_from_its_logger(tmp_path):
    # LLaMA-Factory's `%(name)s` logger (llamafactory.*, llmtuner.* before v0.6) marks a fine-tuning stack on the HF
    # Trainer; a URL or prose naming a package is no logger
    log = tmp_path / "train.log"
    row = "{'loss': 1.9, 'grad_norm': 0.91, 'learning_rate': 0.0001, 'epoch': 0.1}\n"
    log.write_text("[INFO|2024-05-01 10:00:00] llamafactory.train.tuner:50 >> Training started\n" + row)
    assert load_run([log]).meta["finetune_stack"] == "LLaMA-Factory"
    log.write_text("pip install git+https://github.com/huggingface/trl.git, see trl.trainer for details\n" + row)
    assert "finetune_stack" not in load_run([log]).meta


def test_hf_console_4x_floats_bare_nan(tmp_path):
    log = tmp_path / "train.out"
    log.write_text(
        "  5%|▌         | 10/200 [00:01<00:19,  9.5it/s]{'loss': 2.0491, 'learning_rate': 0.0001961913563176343, "
        "'epoch': 0.05}\n"
        "{'loss': 1.9, 'grad_norm': 0.91, 'learning_rate': 0.00019, 'epoch': 0.1}\n"
        "/usr/lib/python3/torch/optim/lr_scheduler.py:139: UserWarning: Detected call of `lr_scheduler.step()` "
        "before `optimizer.step()`.  Failure to do this will result in PyTorch skipping the first value\n"
        "{'loss': 0.0, 'grad_norm': nan, 'learning_rate': 0.00018, 'epoch': 0.15}\n"
        " 15%|█▌        | 30/200 [00:03<00:17,  9.5it/s]\n"
        "{'eval_loss': nan, 'eval_runtime': 1.2, 'epoch': 0.15}\n"
    )
    run = load_run([log])
    loss = run.series("loss")
    assert loss.steps.tolist() == [10, 20, 30]  # 30 bar steps at epoch 0.15 -> 200 steps per epoch
    assert loss.values[0] == pytest.approx(2.0491) and math.isnan(loss.values[2])
    warning = next(e for e in run.events if "lr_scheduler" in e.message)
    assert warning.step == 20
    assert parse_log_dict("{'global_step/max_steps': '5/3766', 'loss': '4.547', 'x': '-inf'}") == {
        "global_step/max_steps": "5/3766", "loss": 4.547, "x": -math.inf}


# ---------------------------------------------------------------------------------------------------------------
# TensorBoard


def _torch_writer(logdir: Path, steps: int = 50) -> None:
    from torch.utils.tensorboard import SummaryWriter

    w = SummaryWriter(str(logdir))
    for s in range(steps):
        w.add_scalar("train/loss", math.nan if s == 25 else 1.0 / (s + 1), s)
        w.add_scalar("train/learning_rate", 1e-3, s)
        w.add_scalar("grad_norm", 2.0 * s, s, new_style=True)  # tensor float_val encoding
        w.add_scalar("update_ratio", 3.0 * s, s, new_style=True, double_precision=True)  # double_val
    w.add_text("notes", "not a scalar", 0)
    w.add_histogram("weights", np.arange(5.0), 0)
    w.add_scalar("neg_step_metric", 7.0, -5)
    w.close()


def _tf2_style_writer(logdir: Path) -> None:
    """tensorboard's own writer with TF2/Keras-style scalars: raw tensor_content bytes + scalars plugin metadata."""
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.compat.proto.summary_pb2 import Summary, SummaryMetadata
    from tensorboard.compat.proto.tensor_pb2 import TensorProto
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    w = EventFileWriter(str(logdir))
    md = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="scalars"), data_class=1)
    for s in range(10):
        values = [
            Summary.Value(tag="epoch_loss", metadata=md,
                          tensor=TensorProto(dtype=1, tensor_content=struct.pack("<f", s))),
            Summary.Value(tag="epoch_accuracy", metadata=md,
                          tensor=TensorProto(dtype=2, tensor_content=struct.pack("<d", s / 10))),
            Summary.Value(tag="epoch_learning_rate", metadata=md,
                          tensor=TensorProto(dtype=19, tensor_content=struct.pack("<e", 0.5))),
        ]
        w.add_event(Event(wall_time=1.0 + s, step=s, summary=Summary(value=values)))
    w.close()


def test_tensorboard_all_encodings(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("tensorboard")
    _torch_writer(tmp_path / "runs" / "exp1")
    _tf2_style_writer(tmp_path / "keras" / "validation")
    run = load_run([tmp_path])
    assert {s.format for s in run.sources} == {"tensorboard"}
    loss = run.series("loss")
    assert len(loss) == 50 and math.isnan(loss.value_at(25)) and loss.value_at(3) == pytest.approx(0.25)
    assert run.series("grad_norm").values[10] == 20.0  # float_val
    assert run.series("update_ratio").values[10] == 30.0  # double_val
    assert run.series("lr").values[0] == pytest.approx(1e-3)
    assert run.series("neg_step_metric").steps.tolist() == [-5]  # negative int64 step (10-byte varint)
    # the validation/ folder turns Keras' epoch_* tags into eval metrics
    assert run.series("eval_loss").values.tolist() == [float(s) for s in range(10)]  # tensor_content float32
    assert run.series("eval_accuracy").values[3] == pytest.approx(0.3)  # tensor_content float64
    assert "notes" not in run.metrics and "weights" not in run.metrics


def test_tensorboard_no_downsampling_and_truncation(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.compat.proto.summary_pb2 import Summary
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    w = EventFileWriter(str(tmp_path))
    for s in range(12_000):  # EventAccumulator's default keeps only 10,000 of these
        w.add_event(Event(step=s, summary=Summary(value=[Summary.Value(tag="loss", simple_value=float(s))])))
    w.close()
    [f] = list(tmp_path.glob("events.out.tfevents.*"))
    full = load_run([f])
    assert len(full.series("loss")) == 12_000
    f.write_bytes(f.read_bytes()[:-7])  # a writer killed mid-record
    cut = load_run([f])
    assert len(cut.series("loss")) == 11_999
    assert any("cut off" in w for w in cut.warnings) and cut.meta["tensorboard_truncated"]


# ---------------------------------------------------------------------------------------------------------------
# Lightning


def test_lightning_csv_and_hparams():
    run = load_run([DATA / "lightning"])
    formats = {s.format for s in run.sources}
    assert formats == {"lightning_csv", "lightning_hparams"}
    loss = run.series("loss")  # train_loss_step
    assert loss.raw_name == "train_loss_step" and len(loss) == 12
    assert run.series("eval_loss").steps.tolist() == [7, 15, 23]
    assert run.series("lr").raw_name == "lr-SGD" and run.series("lr").values[0] == 0.05
    assert run.series("train_loss_epoch") is not None  # epoch means stay separate
    assert run.epoch_starts == [(1, 0), (9, 1), (17, 2)]
    cv = run.config["lr"]
    assert cv.value == 0.05 and cv.line == 1 and cv.kind == "hparams" and cv.file.endswith("hparams.yaml")


def test_lightning_crashed_tail(tmp_path):
    shutil.copytree(DATA / "lightning", tmp_path / "lightning")
    csv = tmp_path / "lightning" / "version_0" / "metrics.csv"
    csv.write_bytes(csv.read_bytes()[:-20])
    run = load_run([tmp_path])
    assert run.series("loss") is not None


# ---------------------------------------------------------------------------------------------------------------
# MLflow


def test_mlflow_file_store():
    run = load_run([DATA / "mlruns"])
    [src] = run.sources
    assert src.format == "mlflow_store"
    loss = run.series("loss")
    assert loss.raw_name == "train/loss" and len(loss) == 20 and math.isnan(loss.value_at(10))
    assert math.isinf(run.series("grad_norm").value_at(11))
    assert run.config["learning_rate"].value == 0.001 and run.config["learning_rate"].kind == "mlflow_param"
    assert run.meta["mlflow_status"] == "FINISHED" and run.meta["end_status"] == "completed"


def test_mlflow_store_crashed_run_and_bad_lines(tmp_path):
    store = tmp_path / "mlruns"
    shutil.copytree(DATA / "mlruns", store)
    meta = next(store.glob("*/*/meta.yaml"))
    text = meta.read_text().replace("status: 3", "status: 1")
    meta.write_text("\n".join(ln for ln in text.splitlines() if not ln.startswith("end_time")) + "\n")
    with open(meta.parent / "metrics" / "grad_norm", "a") as f:
        f.write("garbage line here too many fields\n1795907039907 oops 12\n")
    run = load_run([tmp_path])
    assert run.meta["end_status"] == "unfinished"
    assert any("malformed" in w for w in run.warnings) and any("RUNNING" in w for w in run.warnings)


def _handmade_mlflow_db(path: Path) -> None:
    """The documented tables and non-finite encodings (NaN -> value 0 + is_nan 1, Inf -> DBL_MAX)."""
    con = sqlite3.connect(path)
    con.executescript(
        "CREATE TABLE runs (run_uuid VARCHAR(32) PRIMARY KEY, name VARCHAR(250), status VARCHAR(9), "
        "start_time BIGINT, end_time BIGINT, lifecycle_stage VARCHAR(20), experiment_id INTEGER);"
        "CREATE TABLE metrics (key VARCHAR(250), value FLOAT NOT NULL, timestamp BIGINT, run_uuid VARCHAR(32), "
        "step BIGINT, is_nan BOOLEAN);"
        "CREATE TABLE params (key VARCHAR(250), value VARCHAR(8000), run_uuid VARCHAR(32));"
    )
    con.execute("INSERT INTO runs VALUES ('old', 'old', 'FINISHED', 1, 2, 'active', 0)")
    con.execute("INSERT INTO runs VALUES ('new', 'new', 'RUNNING', 5, NULL, 'active', 0)")
    rows = [("loss", 1.0 / (s + 1), 0, "new", s, 0) for s in range(10)]
    rows[4] = ("loss", 0.0, 0, "new", 4, 1)
    rows.append(("grad_norm", 1.7976931348623157e308, 0, "new", 5, 0))
    rows.append(("loss", 9.0, 0, "old", 0, 0))
    con.executemany("INSERT INTO metrics VALUES (?, ?, ?, ?, ?, ?)", rows)
    con.execute("INSERT INTO params VALUES ('lr', '5e-05', 'new')")
    con.commit()
    con.close()


def test_mlflow_db_handmade(tmp_path):
    db = tmp_path / "mlflow.db"
    _handmade_mlflow_db(db)
    before = db.read_bytes()
    run = load_run([tmp_path])
    assert run.sources[0].format == "mlflow_db"
    loss = run.series("loss")
    assert len(loss) == 10 and math.isnan(loss.value_at(4)) and loss.value_at(0) == 1.0
    assert math.isinf(run.series("grad_norm").values[0])
    assert run.config["lr"].value == 5e-05
    assert run.meta["end_status"] == "unfinished" and any("2 MLflow runs" in w for w in run.warnings)
    assert db.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["mlflow.db"]


def test_mlflow_db_written_by_mlflow(tmp_path):
    """mlflow.db written by real mlflow (slimmed to the tables we read; see generate.py mlflow_db): two runs, the
    latest with a NaN loss at step 3 and +/-Inf grad norms."""
    db = tmp_path / "mlflow.db"
    shutil.copy(DATA / "mlflow_db" / "mlflow.db", db)
    run = load_run([db])
    assert run.meta["mlflow_run_name"] == "latest" and any("2 MLflow runs" in w for w in run.warnings)
    loss = run.series("loss")
    assert loss.raw_name == "train/loss" and len(loss) == 6
    assert math.isnan(loss.value_at(3)) and loss.value_at(1) == pytest.approx(0.9)
    assert run.series("grad_norm").values.tolist() == [math.inf, -math.inf]
    assert run.config["learning_rate"].value == 0.01


# ---------------------------------------------------------------------------------------------------------------
# W&B


def test_wandb_offline_run_folder():
    run = load_run([DATA / "wandb"])
    [src] = [s for s in run.sources if s.format == "wandb_run"]
    loss = run.series("loss")
    assert loss.steps.tolist() == list(range(0, 200, 10))  # train/global_step, not _step
    assert math.isnan(loss.value_at(150)) and loss.value_at(0) == 5.0
    assert run.series("lr").values[0] == pytest.approx(3e-4)
    assert "_step" not in run.metrics
    assert run.config["learning_rate"].value == 5e-05 and run.config["optim.name"].value == "adamw"
    assert run.meta["end_status"] == "completed" and run.meta["wandb_exit_code"] == 0
    assert any(e.tag == "scheduler_before_optimizer" for e in run.events)


def test_wandb_binary_truncated_and_corrupt(tmp_path):
    src = next((DATA / "wandb").glob("*/run-*.wandb"))
    data = src.read_bytes()
    cut = tmp_path / "run-cut.wandb"
    cut.write_bytes(data[: len(data) * 2 // 3])
    run = load_run([cut])
    assert 0 < len(run.series("loss")) < 20
    assert run.meta["end_status"] == "unfinished" and any("exit record" in w for w in run.warnings)
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0xFF
    bad = tmp_path / "run-bad.wandb"
    bad.write_bytes(bytes(flipped))
    run = load_run([bad])
    assert any("checksum" in w for w in run.warnings)


def test_wandb_config_yaml_and_summary_only(tmp_path):
    files = tmp_path / "wandb" / "run-20240101_000000-abc" / "files"
    files.mkdir(parents=True)
    (files / "config.yaml").write_text(
        "wandb_version: 1\n\n_wandb:\n  desc: null\n  value:\n    cli_version: 0.15.0\nlearning_rate:\n"
        "  desc: null\n  value: 5e-05\nwarmup_steps:\n  value: 0\n")
    (files / "wandb-summary.json").write_text(
        '{"train/loss": 0.338, "train/learning_rate": 0.0, "train/global_step": 1218, "_step": 1218, '
        '"_wandb": {"runtime": 13217}}')
    run = load_run([tmp_path])
    assert run.config["learning_rate"].value == 5e-05 and run.config["learning_rate"].line == 9
    assert run.config["warmup_steps"].value == 0 and "_wandb.cli_version" not in run.config
    assert run.series("loss").steps.tolist() == [1218]
    assert any("summary" in w for w in run.warnings)


@pytest.mark.slow
def test_wandb_real_offline_run(tmp_path):
    """A fresh offline run from the installed wandb (about 2 s), read back from its binary log."""
    pytest.importorskip("wandb")
    import subprocess
    import sys

    code = (
        "import os; os.environ['WANDB_MODE']='offline'; os.environ['WANDB_SILENT']='true'\n"
        "import wandb\n"
        "run = wandb.init(project='t', config={'lr': 0.1}, dir=os.getcwd())\n"
        "for s in range(30): run.log({'loss': float('inf') if s == 7 else 1.0 / (s + 1), 'nested': {'a': s}})\n"
        "run.finish()\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True, capture_output=True, timeout=120)
    run = load_run([tmp_path / "wandb"])
    loss = run.series("loss")
    assert loss.steps.tolist() == list(range(30)) and math.isinf(loss.value_at(7))
    assert run.series("nested.a").values[-1] == 29.0 and run.config["lr"].value == 0.1


def test_hf_checkpoint_copies_are_not_read_twice(tmp_path):
    out = tmp_path / "output"
    for sub in ("checkpoint-8", "checkpoint-16", ""):
        (out / sub).mkdir(parents=True, exist_ok=True)
        shutil.copy(DATA / "hf_trainer_state_diverged.json", out / sub / "trainer_state.json")
    run = load_run([out])
    assert [s.path for s in run.sources] == [str(out / "trainer_state.json")]
    shutil.rmtree(out / "checkpoint-16")
    (out / "trainer_state.json").unlink()
    run = load_run([out])
    assert [s.path for s in run.sources] == [str(out / "checkpoint-8" / "trainer_state.json")]


def test_tensorboard_other_dtypes_and_shapes(tmp_path):
    """bf16 / half / int64 scalars, a [1]-shaped tensor; vectors and text tensors are not scalars."""
    pytest.importorskip("tensorboard")
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.compat.proto.summary_pb2 import Summary, SummaryMetadata
    from tensorboard.compat.proto.tensor_pb2 import TensorProto
    from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    md = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="scalars"), data_class=1)
    half = struct.unpack("<H", struct.pack("<e", 0.25))[0]

    def shape(n):
        return TensorShapeProto(dim=[TensorShapeProto.Dim(size=n)])

    values = [
        Summary.Value(tag="bf16", metadata=md, tensor=TensorProto(dtype=14, tensor_content=struct.pack("<f", 1.5)[2:])),
        Summary.Value(tag="half", metadata=md, tensor=TensorProto(dtype=19, half_val=[half])),
        Summary.Value(tag="int64", metadata=md, tensor=TensorProto(dtype=9, int64_val=[-7])),
        Summary.Value(tag="shaped", metadata=md, tensor=TensorProto(dtype=1, tensor_shape=shape(1), float_val=[3.0])),
        Summary.Value(tag="vector", metadata=md, tensor=TensorProto(dtype=1, tensor_shape=shape(2), float_val=[3, 4])),
        Summary.Value(tag="text", metadata=SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="text")),
                      tensor=TensorProto(dtype=7, string_val=[b"hi"])),
    ]
    w = EventFileWriter(str(tmp_path))
    w.add_event(Event(step=3, summary=Summary(value=values)))
    w.close()
    run = load_run([tmp_path])
    got = {name: s.values.tolist() for name, s in run.metrics.items()}
    assert got == {"bf16": [1.5], "half": [0.25], "int64": [-7.0], "shaped": [3.0]}


def test_tensorboard_resume_into_same_file_is_kept_and_marked(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.compat.proto.summary_pb2 import Summary
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    w = EventFileWriter(str(tmp_path))
    for s in [*range(10), *range(5, 12)]:  # crashed at 9, resumed from the step-5 checkpoint
        w.add_event(Event(step=s, summary=Summary(value=[Summary.Value(tag="loss", simple_value=float(s))])))
    w.close()
    run = load_run([tmp_path])
    assert run.series("loss").steps.tolist() == list(range(12))  # later values win at repeated steps
    [event] = [e for e in run.events if e.tag == "restart"]
    assert event.step == 5 and "from 9 to 5" in event.message


def test_hf_console_eval_bar_longer_than_training(tmp_path):
    """HF draws its evaluation bar nested (cursor-up codes); a long eval set must not be taken for the training."""
    log = tmp_path / "out.log"
    text = ""
    for step in (10, 20):
        text += f"\r {step * 5}%|#####     | {step}/20 [00:01<00:01,  9.5it/s]"
        text += f"{{'loss': '{3 - step / 10}', 'learning_rate': '1e-05', 'epoch': '{step / 20}'}}\n"
        text += "\r  0%|          | 0/500 [00:00<?, ?it/s]\x1b[A\r100%|##########| 500/500 [00:09<00:00]\x1b[A\n"
        text += f"{{'eval_loss': '2.5', 'eval_runtime': '9.1', 'epoch': '{step / 20}'}}\n"
    log.write_text(text)
    run = load_run([log])
    assert run.series("loss").steps.tolist() == [10, 20]
    assert run.series("eval_loss").steps.tolist() == [10, 20]
