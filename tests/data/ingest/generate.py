"""Regenerate the real-library fixtures in this folder (run from the repository root):

    OMP_NUM_THREADS=1 .venv/bin/python tests/data/ingest/generate.py [phase1|hf|lightning|lightning_tb|mlflow|...]

Each writes into a temporary folder and copies back only the small files the tests read. The outputs are committed
so the ingest tests run without these libraries; tests that need a library to make a fresh file skip without it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
os.environ.setdefault("OMP_NUM_THREADS", "1")


def phase1(out: Path) -> None:
    """The bundled trainer itself, shrunk to ~20 s on CPU: 8 epochs x 6 steps through all three curriculum stages."""
    sets = ["model.d_model=32", "model.n_layers=2", "model.n_heads=2", "train.epochs=8", "train.steps_per_epoch=6",
            "data.train_size=64", "data.val_size=8", "train.eval_batches=1", "data.seq_len=32", "train.batch_size=4",
            "data.reasoning_epoch=3", "data.advanced_epoch=6"]
    root = HERE.parents[2]
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, str(root / "src" / "phase1" / "train_phase1.py"), "--model", "reasoning", "--test",
               "--out", tmp]
        for s in sets:
            cmd += ["--set", s]
        subprocess.run(cmd, check=True, capture_output=True)
        dest = out / "phase1_run"
        dest.mkdir(exist_ok=True)
        for name in ("metrics.jsonl", "config.yaml"):
            shutil.copy(Path(tmp) / name, dest / name)


def hf(out: Path) -> None:
    """A tiny GPT-2 (random init, no download) trained by the real transformers Trainer at lr=1e6: it diverges, so
    trainer_state.json holds NaN grad norms and the NaN-filtered `loss 0.0` rows; the console is captured too."""
    code = r'''
import sys, torch
from transformers import GPT2Config, GPT2LMHeadModel, Trainer, TrainingArguments
torch.manual_seed(0)
model = GPT2LMHeadModel(GPT2Config(vocab_size=32, n_positions=16, n_embd=16, n_layer=1, n_head=2))
class DS(torch.utils.data.Dataset):
    def __len__(self): return 32
    def __getitem__(self, i):
        x = torch.arange(16) % 32
        return {"input_ids": x, "labels": x}
args = TrainingArguments(sys.argv[1], per_device_train_batch_size=4, num_train_epochs=2, logging_steps=2,
    eval_strategy="epoch", learning_rate=float(sys.argv[2]), report_to=[], save_strategy="no", use_cpu=True)
t = Trainer(model=model, args=args, train_dataset=DS(), eval_dataset=DS())
t.train(); t.save_state()
'''
    with tempfile.TemporaryDirectory() as tmp:
        for lr, name in (("1e6", "diverged"), ("1e-3", "healthy")):
            run = Path(tmp) / name
            with open(out / f"hf_console_{name}.log", "wb") as log:
                subprocess.run([sys.executable, "-c", code, str(run), lr], stdout=log, stderr=subprocess.STDOUT,
                               check=True)
            shutil.copy(run / "trainer_state.json", out / f"hf_trainer_state_{name}.json")


def _lightning_fit(tmp: str, *, hidden: int, samples: int, epochs: int, tensorboard: bool) -> Path:
    """A real Lightning fit of a small regression (a linear layer, or an MLP with `hidden` units) with CSVLogger
    (and TensorBoardLogger) + LearningRateMonitor into `tmp`; returns its `lightning_logs` folder."""
    import pytorch_lightning as pl
    import torch
    from pytorch_lightning.callbacks import LearningRateMonitor
    from pytorch_lightning.loggers import CSVLogger, TensorBoardLogger

    class Model(pl.LightningModule):
        def __init__(self, lr: float = 0.05) -> None:
            super().__init__()
            self.save_hyperparameters()
            self.net = torch.nn.Sequential(torch.nn.Linear(4, hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, 1)) \
                if hidden else torch.nn.Linear(4, 1)

        def training_step(self, batch, _):
            x, y = batch
            loss = torch.nn.functional.mse_loss(self.net(x), y)
            self.log("train_loss", loss, on_step=True, on_epoch=True)
            return loss

        def validation_step(self, batch, _):
            x, y = batch
            self.log("val_loss", torch.nn.functional.mse_loss(self.net(x), y))

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)

    torch.manual_seed(0)
    x = torch.randn(samples, 4)
    dl = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, x.sum(1, keepdim=True)), batch_size=8)
    loggers = [CSVLogger(tmp), TensorBoardLogger(tmp)] if tensorboard else CSVLogger(tmp)
    trainer = pl.Trainer(max_epochs=epochs, logger=loggers, log_every_n_steps=2, accelerator="cpu",
                         callbacks=[LearningRateMonitor()], enable_progress_bar=False,
                         enable_model_summary=False, enable_checkpointing=False)
    trainer.fit(Model(), dl, dl)
    return Path(tmp) / "lightning_logs"


def lightning(out: Path) -> None:
    """A real Lightning fit (linear regression, 3 epochs) with CSVLogger + LearningRateMonitor."""
    with tempfile.TemporaryDirectory() as tmp:
        version = _lightning_fit(tmp, hidden=0, samples=64, epochs=3, tensorboard=False) / "version_0"
        dest = out / "lightning" / "version_0"
        dest.mkdir(parents=True, exist_ok=True)
        for name in ("metrics.csv", "hparams.yaml"):
            shutil.copy(version / name, dest / name)


def lightning_tb(out: Path) -> None:
    """One real Lightning fit seen through three files: CSVLogger and TensorBoardLogger into one version folder
    (metrics.csv, events.out.tfevents.*, hparams.yaml). For the order tests: the same metrics from two files."""
    with tempfile.TemporaryDirectory() as tmp:
        logs = _lightning_fit(tmp, hidden=16, samples=128, epochs=4, tensorboard=True)
        dest = out / "lightning_tb" / "version_0"
        dest.mkdir(parents=True, exist_ok=True)
        # Both loggers pick the next free version: CSV takes version_0, TensorBoard version_1; one folder here.
        for f in sorted(logs.glob("version_*/*")):
            if f.name in ("metrics.csv", "hparams.yaml") or f.name.startswith("events.out.tfevents."):
                shutil.copy(f, dest / ("events.out.tfevents.0.host" if f.name.startswith("events.") else f.name))


def mlflow(out: Path) -> None:
    """A real MLflow file store (mlflow-skinny; the file store needs MLFLOW_ALLOW_FILE_STORE since 3.13)."""
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    import mlflow as mlf

    dest = out / "mlruns"
    shutil.rmtree(dest, ignore_errors=True)
    mlf.set_tracking_uri(dest.as_uri())
    mlf.set_experiment("exp")
    with mlf.start_run(run_name="r1"):
        mlf.log_params({"learning_rate": 0.001, "optimizer": "adamw"})
        for s in range(20):
            mlf.log_metric("train/loss", float("nan") if s == 10 else 1.0 / (s + 1), step=s)
            mlf.log_metric("grad_norm", float("inf") if s == 11 else 1.0, step=s)
        mlf.log_metric("val_loss", 0.5, step=19)
    # artifact_location/artifact_uri are absolute paths of this machine; the readers never use them.


def mlflow_db(out: Path) -> None:
    """A real mlflow.db (mlflow-skinny + SQLAlchemy + alembic), then slimmed for the repository: MLflow's own schema
    is ~1 MB of tables we never read, so the runs / metrics / params tables are copied with MLflow's exact CREATE
    statements and the rows exactly as MLflow wrote them (NaN as value 0 + is_nan 1, Inf as DBL_MAX)."""
    import sqlite3

    import mlflow as mlf

    with tempfile.TemporaryDirectory() as tmp:
        full = Path(tmp) / "mlflow.db"
        mlf.set_tracking_uri(f"sqlite:///{full}")
        mlf.set_experiment("exp")
        for name, nan_at in (("older", None), ("latest", 3)):
            with mlf.start_run(run_name=name):
                mlf.log_params({"learning_rate": 0.01, "optimizer": "adamw"})
                for s in range(6):
                    mlf.log_metric("train/loss", float("nan") if s == nan_at else 1.0 - s / 10, step=s)
                mlf.log_metric("grad_norm", float("inf"), step=5)
                mlf.log_metric("grad_norm", float("-inf"), step=6)
        dest = out / "mlflow_db" / "mlflow.db"
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.unlink(missing_ok=True)
        src = sqlite3.connect(full)
        slim = sqlite3.connect(dest)
        for table in ("runs", "metrics", "params"):
            (ddl,) = src.execute("SELECT sql FROM sqlite_master WHERE type='table' AND name=?", (table,)).fetchone()
            slim.execute(ddl)
            rows = src.execute(f"SELECT * FROM {table}").fetchall()
            if rows:
                marks = ", ".join("?" * len(rows[0]))
                slim.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
        slim.commit()
        slim.execute("VACUUM")
        slim.close()
        src.close()


def wandb(out: Path) -> None:
    """A real wandb offline run: history (with a NaN at step 150), config, a console warning, exit record."""
    code = r'''
import os
os.environ["WANDB_MODE"] = "offline"; os.environ["WANDB_SILENT"] = "true"
import wandb
run = wandb.init(project="p", config={"learning_rate": 5e-05, "optim": {"name": "adamw"}}, dir=os.getcwd())
for s in range(0, 200, 10):
    run.log({"train/loss": float("nan") if s == 150 else 5.0 - s / 100, "train/grad_norm": 1.0,
             "train/learning_rate": 3e-4, "train/global_step": s})
print("UserWarning: Detected call of `lr_scheduler.step()` before `optimizer.step()`.")
run.finish()
'''
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-c", code], cwd=tmp, check=True, capture_output=True)
        run_dir = next((Path(tmp) / "wandb").glob("offline-run-*"))
        dest = out / "wandb" / run_dir.name
        shutil.rmtree(out / "wandb", ignore_errors=True)
        (dest / "files").mkdir(parents=True)
        shutil.copy(next(run_dir.glob("run-*.wandb")), dest)
        shutil.copy(run_dir / "files" / "output.log", dest / "files" / "output.log")


def keras(out: Path) -> None:
    """A real Keras 3 `model.fit` (torch backend) and the ways its per-epoch history is commonly kept: CSVLogger with
    the file name of Keras's own docstring example (`training.log`, CSV content), `json.dump(history.history)`,
    `print(history.history)` captured, and pandas `DataFrame(history.history).to_csv()` / `.to_json()`.
    Needs `pip install keras pandas` (the `corpus` extra)."""
    code = r"""
import json, os, sys
os.environ["KERAS_BACKEND"] = "torch"
import keras, numpy as np, pandas as pd
keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)
x = rng.normal(size=(600, 20)).astype("float32")
y = (x[:, :3].sum(axis=1) + 0.8 * rng.normal(size=600) > 0).astype("int32")  # label noise: val loss turns up
model = keras.Sequential([keras.Input((20,)), keras.layers.Dense(256, activation="relu"),
                          keras.layers.Dense(256, activation="relu"), keras.layers.Dense(1, activation="sigmoid")])
model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="binary_crossentropy", metrics=["accuracy"])
sched = keras.callbacks.LearningRateScheduler(lambda e, lr: 3e-3 * 0.95 ** e)
hist = model.fit(x, y, epochs=25, batch_size=32, validation_split=0.25, verbose=0,
                 callbacks=[keras.callbacks.CSVLogger("training.log"), sched])
json.dump(hist.history, open("history.json", "w"))
print(hist.history)
frame = pd.DataFrame(hist.history)
frame.to_csv("history_frame.csv")
frame.to_json("history_frame.json")
"""
    with tempfile.TemporaryDirectory() as tmp:
        printed = subprocess.run([sys.executable, "-c", code], cwd=tmp, check=True, capture_output=True,
                                 text=True).stdout
        dest = out / "keras_history"
        dest.mkdir(exist_ok=True)
        for name in ("training.log", "history.json", "history_frame.csv", "history_frame.json"):
            shutil.copy(Path(tmp) / name, dest / name)
        (dest / "printed_history.txt").write_text(printed)


def keras_console_csv(out: Path) -> None:
    """One real Keras 3 `model.fit` (torch backend) seen through two files: CSVLogger's `log.csv` (epoch 0-based)
    and the console it printed with verbose=2 (`Epoch 1/N`, 1-based), captured to `train.log`. The train loss
    falls while the held-out loss turns up (label noise). Needs `pip install keras`."""
    code = r"""
import os
os.environ["KERAS_BACKEND"] = "torch"
import keras, numpy as np
keras.utils.set_random_seed(1)
rng = np.random.default_rng(1)
x = rng.normal(size=(400, 20)).astype("float32")
y = (x[:, :3].sum(axis=1) + 0.8 * rng.normal(size=400) > 0).astype("int32")
model = keras.Sequential([keras.Input((20,)), keras.layers.Dense(128, activation="relu"),
                          keras.layers.Dense(1, activation="sigmoid")])
model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="binary_crossentropy", metrics=["accuracy"])
model.fit(x, y, epochs=12, batch_size=32, validation_split=0.25, verbose=2,
          callbacks=[keras.callbacks.CSVLogger("log.csv")])
"""
    with tempfile.TemporaryDirectory() as tmp:
        dest = out / "keras_console_csv"
        dest.mkdir(exist_ok=True)
        with open(dest / "train.log", "wb") as log:
            subprocess.run([sys.executable, "-c", code], cwd=tmp, stdout=log, stderr=subprocess.STDOUT, check=True)
        shutil.copy(Path(tmp) / "log.csv", dest / "log.csv")


def _copy_events(logdir: Path, dest: Path) -> None:
    """Every event file under `logdir` into the same subfolder of `dest`, under a fixed name (the writer's name holds
    a time stamp, host and pid)."""
    shutil.rmtree(dest, ignore_errors=True)
    for f in sorted(logdir.rglob("events.out.tfevents.*")):
        target = dest / f.parent.relative_to(logdir) / "events.out.tfevents.0.host"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(f, target)


def tb_writers(out: Path) -> None:
    """The same overfitting curves (the validation loss turns up after step 100) written by PyTorch's
    `SummaryWriter.add_scalars("loss", {"train": .., "val": ..})` (one subfolder per key, the tag "loss" in each)
    and by tensorboardX's `add_scalar("train/loss")` / `add_scalar("val/loss")`. Needs torch, tensorboard and
    tensorboardX."""
    import math

    from tensorboardX import SummaryWriter as XWriter
    from torch.utils.tensorboard import SummaryWriter

    def curves(s: int) -> tuple[float, float]:
        return 2.0 * math.exp(-s / 60) + 0.1, 2.0 * math.exp(-s / 60) + 0.3 + 2e-5 * max(0, s - 100) ** 2

    with tempfile.TemporaryDirectory() as tmp:
        w = SummaryWriter(os.path.join(tmp, "add_scalars"))
        x = XWriter(os.path.join(tmp, "tensorboardx"))
        for s in range(0, 300, 10):
            train, val = curves(s)
            w.add_scalars("loss", {"train": train, "val": val}, s)
            w.add_scalar("learning_rate", 1e-3, s)
            x.add_scalar("train/loss", train, s)
            x.add_scalar("val/loss", val, s)
        w.close()
        x.close()
        for name in ("add_scalars", "tensorboardx"):
            _copy_events(Path(tmp) / name, out / "tb_writers" / name)


def tf_keras_tensorboard(out: Path) -> None:
    """TensorFlow 2's own `tf.summary.scalar` (tensor-valued summaries, no simple_value), and one Keras 3 fit
    (TensorFlow backend) seen through three files at once: the TensorBoard callback (train/ and validation/
    subfolders: `epoch_*` at the epoch index from 0, `evaluation_*_vs_iterations` at the iteration), CSVLogger
    (epoch from 0) and the verbose=2 console (`Epoch 1/N`); and the same fit with `update_freq=2` (`batch_*` tags
    at the global batch beside the `epoch_*` ones). Needs `pip install tensorflow-cpu keras`."""
    code = r"""
import math, os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
os.environ["KERAS_BACKEND"] = "tensorflow"
import tensorflow as tf
w = tf.summary.create_file_writer("tf2_scalar")
with w.as_default():
    for s in range(0, 300, 10):
        tf.summary.scalar("train/loss", 2.0 * math.exp(-s / 60) + 0.1, step=s)
        tf.summary.scalar("val/loss", 2.0 * math.exp(-s / 60) + 0.3 + 2e-5 * max(0, s - 100) ** 2, step=s)
w.close()
import keras, numpy as np
keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)
x = rng.normal(size=(400, 20)).astype("float32")
y = (x[:, :3].sum(axis=1) + 0.8 * rng.normal(size=400) > 0).astype("int32")
model = keras.Sequential([keras.Input((20,)), keras.layers.Dense(64, activation="relu"),
                          keras.layers.Dense(1, activation="sigmoid")])
model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="binary_crossentropy", metrics=["accuracy"])
model.fit(x, y, epochs=8, batch_size=32, validation_split=0.25, verbose=2,
          callbacks=[keras.callbacks.TensorBoard("keras_run/logs"), keras.callbacks.CSVLogger("keras_run/log.csv")])
keras.utils.set_random_seed(0)
model = keras.Sequential([keras.Input((20,)), keras.layers.Dense(64, activation="relu"),
                          keras.layers.Dense(1, activation="sigmoid")])
model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="binary_crossentropy", metrics=["accuracy"])
model.fit(x, y, epochs=8, batch_size=32, validation_split=0.25, verbose=0,
          callbacks=[keras.callbacks.TensorBoard("keras_batch", update_freq=2)])
"""
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "keras_run").mkdir()
        dest = out / "tf_keras"
        shutil.rmtree(dest, ignore_errors=True)
        (dest / "keras_run").mkdir(parents=True)
        with open(dest / "keras_run" / "train.log", "wb") as log:
            subprocess.run([sys.executable, "-c", code], cwd=tmp, stdout=log, stderr=subprocess.DEVNULL, check=True)
        _copy_events(Path(tmp) / "tf2_scalar", dest / "tf2_scalar")
        _copy_events(Path(tmp) / "keras_run" / "logs", dest / "keras_run" / "logs")
        _copy_events(Path(tmp) / "keras_batch", dest / "keras_batch")
        shutil.copy(Path(tmp) / "keras_run" / "log.csv", dest / "keras_run" / "log.csv")


def mmengine_run(out: Path) -> None:
    """A real MMEngine Runner (by_epoch, 4 epochs of 16 iterations, LoggerHook every 4, a validation accuracy per
    epoch): its text log and `vis_data/scalars.json`, where a validation record's "step" is the epoch count.
    Needs `pip install mmengine` (and torch)."""
    code = r"""
import sys, torch
from torch.utils.data import Dataset
from mmengine.evaluator import BaseMetric
from mmengine.model import BaseModel
from mmengine.runner import Runner

class DS(Dataset):
    def __init__(self, n, seed):
        g = torch.Generator().manual_seed(seed)
        self.x = torch.randn(n, 8, generator=g)
        self.y = (self.x[:, :2].sum(1) > 0).long()
    def __len__(self): return len(self.x)
    def __getitem__(self, i): return dict(inputs=self.x[i], labels=self.y[i])

class Net(BaseModel):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Sequential(torch.nn.Linear(8, 32), torch.nn.ReLU(), torch.nn.Linear(32, 2))
    def forward(self, inputs, labels, mode="tensor"):
        out = self.fc(inputs)
        return dict(loss=torch.nn.functional.cross_entropy(out, labels)) if mode == "loss" else (out, labels)

class Acc(BaseMetric):
    def process(self, data_batch, data_samples):
        out, labels = data_samples
        self.results.append(((out.argmax(1) == labels).sum().item(), len(labels)))
    def compute_metrics(self, results):
        return dict(accuracy=sum(r[0] for r in results) / sum(r[1] for r in results))

loader = lambda n, seed, shuffle: dict(dataset=DS(n, seed), sampler=dict(type="DefaultSampler", shuffle=shuffle),
                                       batch_size=16, collate_fn=dict(type="default_collate"))
Runner(model=Net(), work_dir=sys.argv[1], train_dataloader=loader(256, 0, True), val_dataloader=loader(64, 1, False),
       val_evaluator=dict(type=Acc), val_cfg=dict(), optim_wrapper=dict(optimizer=dict(type="SGD", lr=0.05)),
       train_cfg=dict(by_epoch=True, max_epochs=4, val_interval=1),
       default_hooks=dict(logger=dict(type="LoggerHook", interval=4), checkpoint=dict(type="CheckpointHook",
                                                                                        interval=100)),
       randomness=dict(seed=0)).train()
"""
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-c", code, tmp], check=True, capture_output=True)
        stamp = next(p for p in Path(tmp).iterdir() if p.is_dir() and (p / "vis_data").is_dir())
        dest = out / "mmengine" / "run"
        shutil.rmtree(out / "mmengine", ignore_errors=True)
        (dest / "vis_data").mkdir(parents=True)
        shutil.copy(stamp / "vis_data" / "scalars.json", dest / "vis_data" / "scalars.json")
        shutil.copy(stamp / f"{stamp.name}.log", dest / "train.log")


def fastai_run(out: Path) -> None:
    """A real fastai `fit_one_cycle` (tabular, 6 epochs) with its CSVLogger (`history.csv`: epoch from 0, the
    metrics computed on the validation set) and the console it printed (the epoch table among fastprogress bars).
    Needs `pip install fastai`."""
    code = r"""
import sys
import numpy as np, pandas as pd
from fastai.tabular.all import CSVLogger, Normalize, TabularDataLoaders, accuracy, tabular_learner
rng = np.random.default_rng(0)
df = pd.DataFrame(rng.normal(size=(400, 4)), columns=list("abcd"))
df["y"] = ((df.a + df.b + 0.5 * rng.normal(size=400)) > 0).astype(int).astype(str)
dls = TabularDataLoaders.from_df(df, path=sys.argv[1], y_names="y", cont_names=list("abcd"), procs=[Normalize],
                                 bs=32, valid_idx=list(range(300, 400)))
tabular_learner(dls, layers=[32], metrics=accuracy, cbs=[CSVLogger()]).fit_one_cycle(6, 1e-2)
"""
    dest = out / "fastai"
    dest.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        with open(dest / "train.log", "wb") as log:
            subprocess.run([sys.executable, "-W", "ignore", "-c", code, tmp], stdout=log, stderr=subprocess.STDOUT,
                           check=True)
        shutil.copy(Path(tmp) / "history.csv", dest / "history.csv")


def sklearn_mlp(out: Path) -> None:
    """scikit-learn's MLPClassifier with verbose=True (its "Iteration N, loss = x" lines), once plain and once with
    early_stopping=True ("Validation score: x" after each iteration, and the stopping message). Needs
    scikit-learn."""
    code = r"""
import sys, numpy as np
from sklearn.neural_network import MLPClassifier
rng = np.random.default_rng(0)
x = rng.normal(size=(400, 10))
y = (x[:, 0] + x[:, 1] + 0.5 * rng.normal(size=400) > 0).astype(int)
MLPClassifier(hidden_layer_sizes=(32,), max_iter=40, verbose=True, random_state=0,
              early_stopping=sys.argv[1] == "es").fit(x, y)
"""
    dest = out / "sklearn"
    dest.mkdir(exist_ok=True)
    for mode, name in (("plain", "mlp_verbose.log"), ("es", "mlp_early_stopping.log")):
        with open(dest / name, "wb") as log:
            subprocess.run([sys.executable, "-W", "ignore", "-c", code, mode], stdout=log, stderr=subprocess.STDOUT,
                           check=True)


_NB_KERAS = [
    """import os
os.environ["KERAS_BACKEND"] = "torch"
import keras, numpy as np
keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)
x = rng.normal(size=(512, 16)).astype("float32")
y = (x[:, :4].sum(axis=1) > 0).astype("int32")""",
    """model = keras.Sequential([keras.Input((16,)), keras.layers.Dense(64, activation="relu"),
                          keras.layers.Dense(2, activation="softmax")])
model.compile(optimizer=keras.optimizers.SGD(0.05), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
history = model.fit(x, y, epochs=12, batch_size=32, validation_split=0.25, verbose=1)""",
    "print(history.history)",
]

_NB_HF = [
    """import torch
from transformers import GPT2Config, GPT2LMHeadModel, Trainer, TrainingArguments
torch.manual_seed(0)
ids = torch.randint(0, 64, (256, 32))
train = [{"input_ids": r, "labels": r} for r in ids[:224]]
evals = [{"input_ids": r, "labels": r} for r in ids[224:]]
model = GPT2LMHeadModel(GPT2Config(vocab_size=64, n_positions=32, n_embd=32, n_layer=1, n_head=2))""",
    """args = TrainingArguments("out", max_steps=40, per_device_train_batch_size=16, learning_rate=3e-3,
                         logging_steps=5, eval_strategy="steps", eval_steps=10, report_to=[], save_strategy="no",
                         seed=0, use_cpu=True, disable_tqdm=False)
Trainer(model=model, args=args, train_dataset=train, eval_dataset=evals).train()""",
]


def notebooks(out: Path) -> None:
    """Two notebooks executed in a real Jupyter kernel (nbclient + ipykernel): Keras 3 `model.fit` (its epoch lines
    as stream outputs) and the Hugging Face Trainer (its live progress table as HTML display data). Needs
    `pip install nbclient nbformat ipykernel keras` (the `corpus` extra plus the notebook packages)."""
    import nbformat
    from nbclient import NotebookClient

    dest = out / "notebooks"
    dest.mkdir(exist_ok=True)
    for name, cells in (("keras_fit.ipynb", _NB_KERAS), ("hf_trainer.ipynb", _NB_HF)):
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
        with tempfile.TemporaryDirectory() as tmp:
            NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": tmp}}).execute()
        nbformat.write(nb, dest / name)


def tensorboard_csv(out: Path) -> None:
    """TensorBoard's "download CSV" of two scalar tags, produced by TensorBoard's own scalars plugin from a real
    event file (torch's SummaryWriter), saved under the names the dashboard gives a download
    (`run-<run>-tag-<tag>.csv`, `/` in the tag as `_`). The curves overfit: the validation loss turns up."""
    import math

    from tensorboard import context
    from tensorboard.backend.event_processing import data_provider
    from tensorboard.backend.event_processing import plugin_event_multiplexer as pem
    from tensorboard.plugins import base_plugin
    from tensorboard.plugins.scalar import scalars_plugin
    from torch.utils.tensorboard import SummaryWriter

    dest = out / "tensorboard_csv"
    dest.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        writer = SummaryWriter(os.path.join(tmp, "version_0"))
        for epoch in range(30):
            writer.add_scalar("train/loss", 2.3 * math.exp(-epoch / 6) + 0.05, epoch * 100)
            writer.add_scalar("val/loss", 2.3 * math.exp(-epoch / 6) + 0.3 + 0.004 * max(0, epoch - 10) ** 2,
                              epoch * 100)
        writer.close()
        mux = pem.EventMultiplexer()
        mux.AddRunsFromDirectory(tmp)
        mux.Reload()
        provider = data_provider.MultiplexerDataProvider(mux, tmp)
        plugin = scalars_plugin.ScalarsPlugin(base_plugin.TBContext(logdir=tmp, data_provider=provider,
                                                                    multiplexer=mux))
        for tag in ("train/loss", "val/loss"):
            body, _ = plugin.scalars_impl(context.RequestContext(), tag, "version_0", "",
                                          scalars_plugin.OutputFormat.CSV)
            (dest / f"run-version_0-tag-{tag.replace('/', '_')}.csv").write_text(body)


def sacred_dvclive(out: Path) -> None:
    """Two experiment trackers' own files for one overfitting curve (the validation loss turns up after epoch 10):
    Sacred's FileStorageObserver run folder (`metrics.json` of steps/values/timestamps, `config.json`) and DVCLive's
    output folder (`plots/metrics/<split>/<name>.tsv`, its summary `metrics.json`, `params.yaml`). Needs
    `pip install sacred dvclive` (Sacred also needs setuptools' pkg_resources)."""
    code = r"""
import math, sys
from sacred import Experiment
from sacred.observers import FileStorageObserver
from dvclive import Live

ex = Experiment("fit")
ex.observers.append(FileStorageObserver("sacred_runs"))

@ex.config
def config():
    lr = 0.01
    epochs = 30

@ex.main
def main(_run, lr, epochs):
    with Live("dvclive", save_dvc_exp=False) as live:
        live.log_param("lr", lr)
        for epoch in range(epochs):
            train = 2.3 * math.exp(-epoch / 6) + 0.05
            val = 2.3 * math.exp(-epoch / 6) + 0.3 + 0.004 * max(0, epoch - 10) ** 2
            _run.log_scalar("training.loss", train, epoch)
            _run.log_scalar("validation.loss", val, epoch)
            live.log_metric("train/loss", train)
            live.log_metric("eval/loss", val)
            live.next_step()

ex.run()
"""
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "fit.py").write_text(code)  # Sacred records its main file: it must be one
        subprocess.run([sys.executable, "fit.py"], cwd=tmp, check=True, capture_output=True)
        sacred = out / "sacred_run"
        shutil.rmtree(sacred, ignore_errors=True)
        sacred.mkdir()
        for name in ("metrics.json", "config.json"):
            shutil.copy(Path(tmp) / "sacred_runs" / "1" / name, sacred / name)
        shutil.rmtree(out / "dvclive", ignore_errors=True)
        shutil.copytree(Path(tmp) / "dvclive", out / "dvclive", ignore=shutil.ignore_patterns("*.html", "report*"))


def rich_table(out: Path) -> None:
    """A per-epoch metrics table printed with Rich (default box, and with show_lines), as trainers that report
    through Rich leave it in a captured console; the validation loss turns up after epoch 10."""
    import math

    from rich.console import Console
    from rich.table import Table

    dest = out / "rich_tables"
    dest.mkdir(exist_ok=True)
    for name, lines in (("epochs.log", False), ("epochs_lines.log", True)):
        table = Table(title="Training", show_lines=lines)
        for col in ("Epoch", "Train Loss", "Val Loss", "Val Acc"):
            table.add_column(col)
        for epoch in range(1, 21):
            train = 2.3 * math.exp(-epoch / 5) + 0.05
            val = 2.3 * math.exp(-epoch / 5) + 0.3 + 0.01 * max(0, epoch - 10) ** 2
            table.add_row(str(epoch), f"{train:.4f}", f"{val:.4f}", f"{0.5 + 0.02 * min(epoch, 10):.3f}")
        with (dest / name).open("w", encoding="utf-8") as f:
            Console(file=f, width=80, color_system=None).print(table)


if __name__ == "__main__":
    every = ["phase1", "hf", "lightning", "lightning_tb", "mlflow", "mlflow_db", "wandb", "keras", "notebooks",
             "tensorboard_csv", "sacred_dvclive", "rich_table", "keras_console_csv", "tb_writers", "sklearn_mlp",
             "tf_keras_tensorboard", "mmengine_run", "fastai_run"]
    for what in sys.argv[1:] or every:
        globals()[what](HERE)
        print("wrote", what)
