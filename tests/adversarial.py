"""Hostile run folders, generated: the attacks of issue 12 and a seeded corpus of their variations.

Each builder writes into an empty folder and returns nothing; `corpus(seed, n)` yields (name, builder) pairs whose
mix and sizes depend on the seed. Used by tests/test_ingest_budget.py (one test per attack) and
tests/test_ingest_budget_fuzz.py (the corpus, run in a pool of limited subprocesses by tests/budget_worker.py).
"""

from __future__ import annotations

import io
import json
import os
import pickle
import random
import struct
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

Builder = Callable[[Path], None]


# ------------------------------------------------------------------------------------------------ good data


def phase1_lines(n: int = 200, lr: float = 0.5) -> list[str]:
    """A bundled-trainer metrics.jsonl whose loss blows up: enough for lr_too_high when all lines are kept."""
    lines = [json.dumps({"type": "meta", "config": {"optim": {"lr": lr}}, "optimizer": "adamw", "seed": 0})]
    for s in range(1, n + 1):
        loss = 3.0 - 0.001 * s if s < n - 60 else 2.0 * 1.15 ** (s - n + 60)
        lines.append(json.dumps({"type": "step", "step": s, "loss": round(loss, 6), "grad_norm": 1.0 + s * 0.5,
                                 "lr": {"adam": lr}}))
    return lines


def generic_lines(n: int = 200) -> list[str]:
    return [json.dumps({"step": s, "loss": 3.0 - 0.01 * s, "lr": 1e-3}) for s in range(1, n + 1)]


BAD_LINES = {
    "huge_int": '{"type": "step", "step": 201, "loss": 1' + "0" * 400 + "}",
    "huge_step": '{"type": "step", "step": 1' + "0" * 30 + ', "loss": 1.0}',
    "deep": '{"type": "step", "step": 201, "loss": ' + "[" * 100_000 + "]" * 100_000 + "}",
    "bad_json": '{"type": "step", "step": 201, "loss": 1.0',
}


# ------------------------------------------------------------------------------------------------ the attacks


def self_referencing_pickle() -> bytes:
    """A dict holding a list that holds itself 200 times: a naive walk to depth 6 visits 200**6 nodes."""
    loop: list = []
    loop.extend([loop] * 200)
    return pickle.dumps({"learning_rate": 1e-3, "x": loop}, protocol=2)


def laughs_pickle(levels: int = 12, width: int = 10) -> bytes:
    """Lists of lists sharing one child: width**levels nodes when expanded, a few hundred bytes pickled."""
    node: list = ["lol"]
    for _ in range(levels):
        node = [node] * width
    return pickle.dumps({"state_dict": {"w": node}, "config": {"deep": node}}, protocol=2)


def expanding_pickle(n: int) -> bytes:
    """A list of `n` empty lists: one byte each in the pickle, 56+8 bytes each in memory."""
    return b"\x80\x02]q\x00(" + b"]" * n + b"e."


def torch_zip(pkl: bytes) -> bytes:
    """A torch.save-style zip archive whose data.pkl is `pkl`, deflated (bombs compress 1000:1)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("archive/data.pkl", pkl)
        zf.writestr("archive/version", "3\n")
    return buf.getvalue()


def billion_laughs(levels: int = 9, width: int = 9) -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    names = "abcdefghijklmnopqrstuvwxyz"
    for i in range(1, levels):
        lines.append(f"{names[i]}: &{names[i]} [" + ",".join([f"*{names[i - 1]}"] * width) + "]")
    lines.append("learning_rate: 0.001")
    return "\n".join(lines) + "\n"


def mlflow_store(root: Path, loop: bool = True, outside: Path | None = None) -> None:
    """An MLflow file store with one run; `loop`: its artifacts folder is a symlink to the run itself."""
    exp = root / "mlruns" / "0"
    run = exp / "abc123"
    (run / "metrics").mkdir(parents=True)
    (run / "params").mkdir()
    (exp / "meta.yaml").write_text("artifact_location: file:./mlruns/0\nexperiment_id: '0'\nname: Default\n")
    (run / "meta.yaml").write_text("run_id: abc123\nstatus: 3\nstart_time: 1\nend_time: 2\nartifact_uri: x\n")
    (run / "metrics" / "loss").write_text("".join(f"{1000 + s} {3.0 - s * 0.01} {s}\n" for s in range(50)))
    (run / "params" / "learning_rate").write_text("0.001")
    if loop:
        os.symlink(".", run / "artifacts")
    if outside is not None:
        os.symlink(outside, run / "params" / "secret")


def safetensors_bomb(header_bytes: int) -> bytes:
    """A safetensors file whose JSON header is `header_bytes` of empty objects (millions of dicts when parsed)."""
    body = b'{"a": [' + b"{}," * ((header_bytes - 12) // 3) + b"{}]}"
    return struct.pack("<Q", len(body)) + body


def big_python(nbytes: int) -> str:
    """A valid Python file of `nbytes` whose AST is ~500x its size."""
    line = "x = (a, b, c, d, e, f, g, h)\n"
    return "lr = 0.001\n" + line * (nbytes // len(line))


# ------------------------------------------------------------------------------------------------ the corpus


def _write(name: str, data: bytes | str) -> Builder:
    def build(root: Path) -> None:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
    return build


def _deep_json(rng: random.Random) -> bytes:
    d = rng.randint(50, 200_000)
    return ("[" * d + "]" * d).encode()


def _bad_lines_file(rng: random.Random) -> Builder:
    good = phase1_lines(rng.randint(20, 300)) if rng.random() < 0.5 else generic_lines(rng.randint(20, 300))
    name = "metrics.jsonl"
    for _ in range(rng.randint(1, 5)):
        kind = rng.choice(sorted(BAD_LINES))
        good.insert(rng.randint(1, len(good)), BAD_LINES[kind])
    return _write(name, "\n".join(good) + "\n")


def _bad_csv(rng: random.Random) -> Builder:
    rows = ["step,loss,lr"] + [f"{s},{3 - s * 0.01},0.001" for s in range(1, rng.randint(20, 300))]
    for _ in range(rng.randint(1, 4)):
        bad = rng.choice(["1" + "0" * 400 + ",1,1", "1" + "0" * 30 + ",1.0,0.1", '"unterminated,1,2',
                          "\x00\x00\x00", "5," + "9" * 5000 + ",1", ",".join(["1"] * 5000)])
        rows.insert(rng.randint(1, len(rows)), bad)
    return _write("metrics.csv", "\n".join(rows) + "\n")


def _truncated(rng: random.Random) -> Builder:
    name = rng.choice(["metrics.jsonl", "trainer_state.json", "config.yaml", "model.safetensors", "ckpt.pt",
                       "training_args.bin", "events.out.tfevents.1.host", "train.log", "hparams.yaml",
                       "config.json", "metrics.csv"])
    sources = {
        "metrics.jsonl": "\n".join(phase1_lines(50)).encode(),
        "trainer_state.json": json.dumps({"log_history": [{"step": s, "loss": 1.0} for s in range(50)]}).encode(),
        "config.yaml": b"optim:\n  lr: 0.001\n  betas: [0.9, 0.95]\n",
        "hparams.yaml": b"lr: 0.001\n",
        "config.json": b'{"lr": 0.001, "n_layer": 12}',
        "model.safetensors": safetensors_ok(),
        "ckpt.pt": torch_zip(pickle.dumps({"model": {"w": [1, 2]}}, protocol=2)),
        "training_args.bin": pickle.dumps({"learning_rate": 1e-3}, protocol=2),
        "events.out.tfevents.1.host": b"\x18\x00\x00\x00\x00\x00\x00\x00\xa3\x7f\x4b\x22" + os.urandom(40),
        "train.log": b"".join(b"step %d: loss %.3f\n" % (s, 3 - s * 0.01) for s in range(50)),
        "metrics.csv": b"step,loss\n" + b"".join(b"%d,%f\n" % (s, 1.0) for s in range(50)),
    }
    data = sources[name]
    cut = rng.randint(0, len(data))
    if rng.random() < 0.5:
        data = data[:cut]
    else:  # flip some bytes, or splice binary
        arr = bytearray(data)
        for _ in range(rng.randint(1, 20)):
            if arr:
                arr[rng.randrange(len(arr))] = rng.randrange(256)
        data = bytes(arr[:cut]) + os.urandom(rng.randint(0, 200)) + bytes(arr[cut:])
    return _write(name, data)


def safetensors_ok() -> bytes:
    header = json.dumps({"wte.weight": {"dtype": "F32", "shape": [4, 2], "data_offsets": [0, 32]}}).encode()
    return struct.pack("<Q", len(header)) + header + b"\x00" * 32


def _symlinks(rng: random.Random, outside: Path) -> Builder:
    def build(root: Path) -> None:
        kind = rng.randrange(5)
        if kind == 0:
            mlflow_store(root, loop=True)
        elif kind == 1:
            mlflow_store(root, loop=False, outside=outside)
        elif kind == 2:  # files of every sniffed name pointing out of the root
            for name in ("metrics.jsonl", "config.yaml", "train.log", "training_args.bin", "model.safetensors"):
                os.symlink(outside, root / name)
        elif kind == 3:  # folder loops and a link to the outside folder
            (root / "a").mkdir()
            os.symlink("..", root / "a" / "up")
            os.symlink(root, root / "a" / "self")
            os.symlink(outside.parent, root / "escape")
            (root / "a" / "metrics.jsonl").write_text("\n".join(generic_lines(20)) + "\n")
        else:  # a checkpoint beside an optimizer.pt that points outside
            (root / "ckpt").mkdir()
            (root / "ckpt" / "model.safetensors").write_bytes(safetensors_ok())
            os.symlink(outside, root / "ckpt" / "optimizer.pt")
            os.symlink(outside, root / "ckpt" / "trainer_state.json")
    return build


def _fifo(rng: random.Random) -> Builder:
    def build(root: Path) -> None:
        name = rng.choice(["metrics.jsonl", "train.log", "config.yaml"])
        (root / "metrics.jsonl.real").write_text("\n".join(generic_lines(10)) + "\n")
        os.mkfifo(root / name)
        mlflow_store(root, loop=False)
        os.mkfifo(root / "mlruns" / "0" / "abc123" / "params" / "fifo")
    return build


def _random_bytes(rng: random.Random) -> Builder:
    name = rng.choice(["metrics.jsonl", "train.log", "config.yaml", "hparams.yaml", "trainer_state.json", "x.pt",
                       "model.safetensors", "training_args.bin", "events.out.tfevents.9", "metrics.csv",
                       "config.json", "train.py", "samples.txt", "run-1.wandb"])
    return _write(name, os.urandom(rng.randint(0, 5000)))


def corpus(seed: int, n: int, outside: Path) -> Iterator[tuple[str, Builder]]:
    """`n` hostile inputs; the mix, sizes and details vary with `seed`. `outside` is a file no reader may open."""
    # (name, weight, maker). Inputs that hit a budget cost seconds each by design (the budget is what bounds them),
    # so they are drawn less often than the cheap kinds; every kind still appears dozens of times in 1,000.
    makers: list[tuple[str, int, Callable[[random.Random], Builder]]] = [
        ("self_ref_pickle", 3, lambda r: _write("training_args.bin", self_referencing_pickle())),
        ("laughs_pickle", 2, lambda r: _write(r.choice(["training_args.bin", "ckpt.pt"]),
                                              laughs_pickle(r.randint(3, 14), r.randint(3, 12)))),
        ("zip_pickle", 2, lambda r: _write(r.choice(["model.pt", "optimizer.pt", "last.ckpt"]),
                                           torch_zip(r.choice([expanding_pickle(r.randint(10, 300_000)),
                                                               laughs_pickle(r.randint(3, 12)),
                                                               self_referencing_pickle()])))),
        ("yaml_laughs", 3, lambda r: _write(r.choice(["config.yaml", "hparams.yaml", "files/config.yaml"]),
                                            billion_laughs(r.randint(4, 12), r.randint(5, 12)))),
        ("yaml_deep", 3, lambda r: _write(r.choice(["config.yaml", "hparams.yaml"]),
                                          "a: " + "[" * r.randint(50, 800) + "]" * 10)),
        ("symlinks", 5, lambda r: _symlinks(r, outside)),
        ("fifo", 3, lambda r: _fifo(r)),
        ("bad_lines", 5, lambda r: _bad_lines_file(r)),
        ("bad_csv", 5, lambda r: _bad_csv(r)),
        ("truncated", 6, lambda r: _truncated(r)),
        ("binary", 5, lambda r: _random_bytes(r)),
        ("safetensors_header", 3, lambda r: _write("model.safetensors", safetensors_bomb(r.randint(100, 200_000)))),
        ("deep_json", 3, lambda r: _write(r.choice(["config.json", "trainer_state.json", "metrics.jsonl",
                                                    "wandb-summary.json"]), _deep_json(r))),
        ("big_python", 2, lambda r: _write(r.choice(["train.py", "config/train_gpt.py"]),
                                           big_python(r.randint(2_000, 40_000)))),
        ("huge_line", 1, lambda r: _write(r.choice(["metrics.jsonl", "train.log", "metrics.csv"]),
                                          b"{" + b"1" * r.randint(1 << 20, (1 << 20) + 200_000) + b"\n" +
                                          "\n".join(generic_lines(30)).encode() + b"\n")),
    ]
    weights = [w for _, w, _ in makers]
    rng = random.Random(seed)
    for i in range(n):
        name, _, make = rng.choices(makers, weights)[0]
        yield f"{i:04d}_{name}", make(random.Random(rng.getrandbits(64)))
