"""Bad input never crashes a structured reader: truncated, bit-flipped, spliced, binary, empty, wrongly encoded,
NaN-laden and huge-line variants of real files give a Run with warnings or a ReadError, never another exception."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from traindoc.ingest import load_run
from traindoc.ingest.model import Run, Source
from traindoc.ingest.registry import ReadError, all_readers

DATA = Path(__file__).parent / "data" / "ingest"
READERS = {r.name: r for r in all_readers()}

PHASE1 = (
    b'{"type": "meta", "config": {"optim": {"muon_lr": 0.01}}, "params": {"total": 10, "embedding": 5}, "seed": 1}\n'
    + b"".join(
        b'{"type": "step", "step": %d, "epoch": 0, "stage": "basic", "loss": %s, "grad_norm": 1.5, '
        b'"lr": {"muon": 0.005, "adam": 0.0003}, "act": {"halt_mean": 0.5, "halt_var": 0.0}, "tokens_per_s": 9.0}\n'
        % (s, b"NaN" if s == 5 else b"Infinity" if s == 6 else b"1.25")
        for s in range(1, 12)
    )
    + b'{"type": "warning", "step": 3, "category": "UserWarning", "message": "var(): degrees of freedom is <= 0"}\n'
    + b'{"type": "eval", "step": 10, "val_loss": NaN, "train_loss": 1.0}\n'
)
JSONL = b"".join(b'{"step": %d, "loss": %d.5, "lr": "1e-4", "nested": {"a": NaN}}\n' % (s, s) for s in range(10))
CSV = b"epoch,step,train_loss_step,val_loss\n0,1,2.5,\n0,3,nan,\n0,3,,1.9\n1,5,inf,\n"
WANDB_CSV = b'"Step","r - loss","r - loss__MIN"\n"1","2.0","1.0"\n"2","nan",""\n'

SEEDS: dict[str, bytes] = {
    "phase1_jsonl": PHASE1,
    "jsonl_metrics": JSONL,
    "hf_trainer_state": (DATA / "hf_trainer_state_diverged.json").read_bytes(),
    "hf_console": (DATA / "hf_console_diverged.log").read_bytes(),
    "lightning_csv": CSV,
    "csv_metrics": CSV.replace(b"step", b"iteration"),
    "wandb_csv": WANDB_CSV,
    "lightning_hparams": b"lr: 5e-05\nmodel: !!python/object:foo.Bar {d: 3}\nnested:\n  a: [1, 2]\n",
    "wandb_binary": next((DATA / "wandb").glob("*/run-*.wandb")).read_bytes(),
    "mlflow_db": (DATA / "mlflow_db" / "mlflow.db").read_bytes(),
}


def _tensorboard_seed() -> bytes:
    # Framed by hand exactly as the TFRecord writer does (CRCs zero: the reader does not check them); the real
    # writers are exercised in test_ingest_structured_formats.py.
    import struct

    def varint(n: int) -> bytes:
        out = bytearray()
        while True:
            b = n & 0x7F
            n >>= 7
            out.append(b | (0x80 if n else 0))
            if not n:
                return bytes(out)

    def record(payload: bytes) -> bytes:
        return struct.pack("<Q", len(payload)) + b"\0" * 4 + payload + b"\0" * 4

    events = [record(b"\x09" + struct.pack("<d", 1.0) + b"\x1a\x0dbrain.Event:2")]
    for s in range(20):
        value = b"\x0a\x04loss\x15" + struct.pack("<f", float("nan") if s == 7 else s / 3)
        summary = b"\x0a" + varint(len(value)) + value
        events.append(record(b"\x09" + struct.pack("<d", 2.0 + s) + b"\x10" + varint(s) + b"\x2a"
                             + varint(len(summary)) + summary))
    return b"".join(events)


SEEDS["tensorboard"] = _tensorboard_seed()
NAMES = {
    "hf_trainer_state": "trainer_state.json", "lightning_csv": "metrics.csv", "lightning_hparams": "hparams.yaml",
    "wandb_binary": "run-x.wandb", "mlflow_db": "mlflow.db", "tensorboard": "events.out.tfevents.1.host",
    "wandb_csv": "wandb_export_x.csv", "csv_metrics": "results.csv", "phase1_jsonl": "metrics.jsonl",
    "jsonl_metrics": "log.jsonl", "hf_console": "train.log",
}


@st.composite
def mutated(draw, seed: bytes) -> bytes:
    kind = draw(st.sampled_from(["truncate", "flip", "splice", "garbage", "empty", "latin1", "hugeline", "nan"]))
    if kind == "truncate":
        return seed[: draw(st.integers(0, len(seed)))]
    if kind == "flip":
        data = bytearray(seed)
        for _ in range(draw(st.integers(1, 8))):
            i = draw(st.integers(0, len(data) - 1))
            data[i] ^= draw(st.integers(1, 255))
        return bytes(data)
    if kind == "splice":
        i = draw(st.integers(0, len(seed)))
        return seed[:i] + draw(st.binary(max_size=64)) + seed[i:]
    if kind == "garbage":
        return draw(st.binary(min_size=1, max_size=512))
    if kind == "empty":
        return b""
    if kind == "latin1":
        return seed.decode("utf-8", errors="replace").encode("utf-16")
    if kind == "hugeline":
        i = draw(st.integers(0, len(seed)))
        return seed[:i] + b"x" * (1 << 21) + seed[i:]
    return seed.replace(b"1.", b"NaN").replace(b"0.", b"-Infinity")


def _check(name: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / NAMES.get(name, "file.bin")
        path.write_bytes(data)
        try:
            source = READERS[name].read(path, Run())
            assert isinstance(source, Source)
        except ReadError as e:
            assert str(e) and "\n" not in str(e)
        run = load_run([tmp])  # and through the loader, whatever reader it picks
        assert isinstance(run, Run)


@pytest.mark.parametrize("name", sorted(SEEDS))
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_reader_survives_bad_input(name, data):
    _check(name, data.draw(mutated(SEEDS[name])))


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_seed_is_read(name):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / NAMES.get(name, "file.bin")
        path.write_bytes(SEEDS[name])
        if name == "lightning_hparams":
            (Path(tmp) / "metrics.csv").write_bytes(CSV)  # Lightning's folder: hparams.yaml next to metrics.csv
        best = max(READERS.values(), key=lambda r: r.sniff(path, SEEDS[name][:65536]) if not r.handles_dirs else 0)
        assert best.name == name  # the format is detected, not declared
        run = Run()
        READERS[name].read(path, run)
        assert run.metrics or run.config


@settings(max_examples=15, deadline=None)
@given(st.lists(st.sampled_from(["meta.yaml", "metrics/loss", "metrics/train/loss", "params/lr", "tags/x"]),
                min_size=1, max_size=5), st.binary(max_size=200))
def test_mlflow_store_folder_survives_bad_files(files, blob):
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "mlruns" / "1" / "abc"
        (run_dir / "metrics").mkdir(parents=True)
        (Path(tmp) / "mlruns" / "1" / "meta.yaml").write_bytes(b"artifact_location: x\nexperiment_id: '1'\n")
        (run_dir / "meta.yaml").write_bytes(b"status: 1\nstart_time: 5\n")
        for rel in files:
            p = run_dir / rel
            os.makedirs(p.parent, exist_ok=True)
            p.write_bytes(blob)
        assert isinstance(load_run([tmp]), Run)
