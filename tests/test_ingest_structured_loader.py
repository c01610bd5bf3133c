"""load_run, canonical names and the JSON-lines / CSV readers (the bundled trainer's metrics.jsonl and plain dumps)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from traindoc.ingest import load_run
from traindoc.ingest.names import canonical_metric, split_rank

DATA = Path(__file__).parent / "data" / "ingest"


@pytest.mark.parametrize(
    "raw, canonical",
    [
        ("train/loss", "loss"), ("train_loss", "loss"), ("loss", "loss"), ("Train loss", "loss"), ("lm loss", "loss"),
        ("train_loss_step", "loss"), ("train_loss_epoch", "train_loss_epoch"), ("eval/loss", "eval_loss"),
        ("val_loss", "eval_loss"), ("validation_loss", "eval_loss"), ("validation loss", "eval_loss"),
        ("lm loss validation", "eval_loss"), ("learning_rate", "lr"), ("train/learning_rate", "lr"),
        ("learning-rate", "lr"), ("lr-AdamW", "lr"), ("lr-AdamW/pg2", "lr/pg2"), ("lr/muon", "lr/muon"),
        ("lr/pg0", "lr"), ("grad_norm", "grad_norm"), ("train/gradient_norm", "grad_norm"),
        ("total_norm", "grad_norm"), ("grad-norm", "grad_norm"), ("gnorm", "grad_norm"), ("epoch", "epoch"),
        ("train/epoch", "epoch"), ("eval/accuracy", "eval_accuracy"), ("val_acc", "eval_accuracy"),
        ("loss-scale", "loss_scale"), ("train/train_loss", "train_loss_run_mean"), ("eval_runtime", "eval_runtime"),
        ("loss_rank1", "loss@rank1"), ("rank0/loss", "loss@rank0"), ("grad_norm@rank3", "grad_norm@rank3"),
        ("my_custom_metric", "my_custom_metric"), ("Vali Loss", "eval_loss"), ("dev_loss", "eval_loss"),
        ("dev_acc", "eval_accuracy"), ("device_loss", "device_loss"),
        ("learning rate to", "lr"), ("lr is", "lr"),  # a scheduler's sentence, not a parameter group
        ("train/CrossEntropyLoss", "loss"), ("Train loss/train/total", "loss"),  # OLMo, Composer
        ("val/CrossEntropyLoss", "eval_loss"), ("train/ZLoss", "train/ZLoss"),  # a z-loss is no training loss
        # issue 8: split words in other places (TransTab's "test val_loss" is its validation loss)
        ("test val_loss", "eval_loss"), ("testing val_acc", "eval_accuracy"), ("valid val_loss", "eval_loss"),
        ("val/loss", "eval_loss"), ("dev loss", "eval_loss"), ("Dev Loss", "eval_loss"), ("valid/loss", "eval_loss"),
        ("val_mean_loss", "eval_loss"), ("val_avg_loss", "eval_loss"),
        ("test_loss", "test_loss"), ("test loss", "test_loss"), ("test/loss", "test_loss"),  # a test split: its own
        ("test_val_foo", "test_val_foo"), ("val_lr", "val_lr"), ("val_loss_epoch", "val_loss_epoch"),
        # issue 8, session 30 (g9): a known metric after the test split's word, however spelled (tch-rs "test acc")
        ("test acc", "test_accuracy"), ("test_acc", "test_accuracy"), ("Test Accuracy", "test_accuracy"),
        ("testing_acc", "test_accuracy"), ("test_lr", "test_lr"), ("test_epoch", "test_epoch"),
        ("test_foo", "test_foo"),
    ],
)
def test_canonical_names(raw, canonical):
    assert canonical_metric(raw) == canonical


def test_eval_split_context():
    # Keras writes "epoch_loss" in both train/ and validation/ TensorBoard folders
    assert canonical_metric("epoch_loss", "eval") == "eval_loss"
    assert canonical_metric("epoch_accuracy", "eval") == "eval_accuracy"
    assert canonical_metric("lr", "eval") == "lr"
    assert split_rank("loss") == ("loss", None)


# ---------------------------------------------------------------------------------------------------------------
# The bundled trainer's metrics.jsonl (format pinned in the brief; written here because the trainer may not exist)


def write_phase1_log(path: Path, steps: int = 120, nan_at: int | None = 90, truncated: bool = True) -> None:
    lines = [json.dumps({
        "type": "meta", "config": {"optim": {"muon_lr": 0.01, "adam_lr": 3e-4}, "model": {"d_model": 64}},
        "params": {"total": 1000, "embedding": 300, "unembedding": 0, "blocks": 600, "act_head": 50, "other": 50,
                   "trainable": 1000, "tied": True},
        "versions": {"python": "3.11", "torch": "2.13.0", "phase1": "0.1"}, "seed": 1, "device": "cpu",
        "precision": "fp32", "world_size": 1, "optimizer": "mugrokfast", "model": "reasoning"})]
    for s in range(1, steps + 1):
        stage = "basic" if s < 50 else "advanced"
        if s == 50:
            lines.append(json.dumps({"type": "stage", "step": 50, "epoch": 1, "stage": "advanced"}))
        loss = math.nan if s == nan_at else 5.0 / s
        lines.append(json.dumps({
            "type": "step", "step": s, "epoch": s // 40, "stage": stage, "loss": loss, "grad_norm": 1.0 + s / 100,
            "lr": {"muon": 5e-3, "adam": 3e-4}, "act": {"halt_mean": 0.5, "halt_var": 0.01, "steps_mean": 2.0},
            "tokens_per_s": 1000.0, "time": s * 0.1}))
        if s % 25 == 0:
            lines.append(json.dumps({"type": "eval", "step": s, "epoch": s // 40, "stage": stage, "val_loss": 4.0,
                                     "train_loss": 3.9}))
        if s == 60:
            lines.append(json.dumps({"type": "warning", "step": 60, "category": "UserWarning",
                                     "message": "var(): degrees of freedom is <= 0. Correction should be strictly less "
                                                "than the reduction factor (input numel divided by output numel).",
                                     "filename": "model.py", "lineno": 10}))
    lines.append(json.dumps({"type": "sample", "step": steps, "epoch": 2, "prompt": "2+2=", "text": "::::::"}))
    text = "\n".join(lines) + "\n"
    if truncated:
        text += '{"type": "step", "step": 121, "lo'
    else:
        text += json.dumps({"type": "end", "step": steps, "status": "diverged", "message": "loss is NaN"}) + "\n"
    path.write_text(text)


def test_phase1_jsonl(tmp_path):
    write_phase1_log(tmp_path / "metrics.jsonl")
    (tmp_path / "train.py").write_text("x = 1\n")
    run = load_run([tmp_path])
    [src] = run.sources
    assert src.format == "phase1_jsonl"
    loss = run.series("loss")
    assert len(loss) == 120 and math.isnan(loss.value_at(90)) and loss.value_at(10) == pytest.approx(0.5)
    assert run.series("lr/muon").values[0] == 5e-3 and run.series("lr/adam").values[0] == 3e-4
    assert run.series("lr").values[0] == 5e-3  # the first group doubles as the main LR
    assert run.series("act_halt_var") is not None and run.series("grad_norm").values[-1] == pytest.approx(2.2)
    assert run.series("eval_loss").steps.tolist() == [25, 50, 75, 100]
    assert run.series("eval_train_loss") is not None
    assert run.stages == [(1, "basic"), (50, "advanced")]
    assert run.epoch_starts == [(1, 0), (40, 1), (80, 2), (120, 3)]
    assert run.params.total == 1000 and run.params.embedding_share == pytest.approx(0.3)
    assert run.config["optim.muon_lr"].value == 0.01 and run.config["optim.muon_lr"].kind == "meta"
    assert run.meta["optimizer"] == "mugrokfast" and run.meta["end_status"] == "unfinished"
    warning = next(e for e in run.events if e.kind == "warning")
    assert warning.step == 60 and "degrees of freedom" in warning.message
    assert run.samples[0].text == "::::::" and run.samples[0].step == 120
    assert any("cut off" in w for w in run.warnings)  # truncated last line is a warning, not an error
    assert run.code_files == [str(tmp_path / "train.py")]


def test_phase1_end_record_and_real_config_wins(tmp_path):
    write_phase1_log(tmp_path / "metrics.jsonl", truncated=False)
    run = load_run([tmp_path / "metrics.jsonl"])
    assert run.meta["end_status"] == "diverged"
    assert any(e.kind == "error" and "diverged" in e.message for e in run.events)
    assert not run.warnings


def test_plain_jsonl_llama_factory_and_nan_filter(tmp_path):
    rows = [{"current_steps": 10 * i, "total_steps": 100, "loss": 2.0 - i / 10, "grad_norm": 1.0,
             "lr": 1e-4, "epoch": i / 10, "percentage": i * 10, "elapsed_time": "0:00:24"} for i in range(1, 6)]
    rows.append({"current_steps": 60, "total_steps": 100, "loss": 0.0, "grad_norm": float("nan"), "lr": 1e-4,
                 "epoch": 0.6})
    rows.append({"current_steps": 60, "eval_loss": float("nan"), "epoch": 0.6})
    p = tmp_path / "trainer_log.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    run = load_run([p])
    assert run.sources[0].format == "jsonl_metrics"
    loss = run.series("loss")
    assert loss.steps.tolist() == [10, 20, 30, 40, 50, 60]
    assert math.isnan(loss.values[-1])  # HF NaN filter: 0.0 with grad_norm nan is a NaN loss
    assert run.series("lr") is not None and run.series("eval_loss") is not None
    assert run.series("percentage") is None  # progress fields are not metrics
    assert any("NaN filter" in w for w in run.warnings)


def test_plain_jsonl_epoch_local_iterations(tmp_path):
    # mmcv epoch-based runners restart "iter" at each epoch; steps must become global
    rows = [{"mode": "train", "epoch": e, "iter": i, "loss": 1.0, "lr": 0.1} for e in (1, 2) for i in (10, 20)]
    rows.append({"mode": "val", "epoch": 2, "iter": 20, "loss": 0.9, "accuracy": 0.5})
    p = tmp_path / "20240101.log.json"
    p.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    run = load_run([p])
    assert run.series("loss").steps.tolist() == [10, 20, 30, 40]
    assert run.series("eval_loss") is not None and run.series("eval_accuracy") is not None


def test_generic_csv_keras_and_wandb_export(tmp_path):
    (tmp_path / "training.csv").write_text("epoch,accuracy,loss,val_accuracy,val_loss\n"
                                          "0,0.5,1.2,0.55,1.1\n1,0.6,1.0,0.6,nan\n2,0.7,0.8,0.62,1.3\n")
    run = load_run([tmp_path / "training.csv"])
    assert run.sources[0].format == "csv_metrics"
    # per-epoch log: the epoch is the clock, counted as epochs completed (Keras writes 0-based: 1..n as its console)
    assert run.series("loss").steps.tolist() == [1, 2, 3]
    assert math.isnan(run.series("eval_loss").values[1])
    (tmp_path / "wandb_export_2024-01-01T00_00_00.000-05_00.csv").write_text(
        '"Step","run-a - train/loss","run-a - train/loss__MIN","run-a - train/loss__MAX","run-b - train/loss"\n'
        '"0","5.0","4.9","5.1","6.0"\n"100","3.0","2.9","3.1",""\n')
    run = load_run([tmp_path / "wandb_export_2024-01-01T00_00_00.000-05_00.csv"])
    assert run.sources[0].format == "wandb_csv"
    assert run.series("loss").values.tolist() == [5.0, 3.0]
    assert run.meta["downsampled"] is True and any("downsampled" in w for w in run.warnings)


def test_unknown_files_are_listed_when_nothing_reads(tmp_path):
    (tmp_path / "data.xyz").write_bytes(bytes(range(256)) * 10)
    (tmp_path / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "metrics.jsonl").write_text('{"loss": 1, "step": 1}\n')  # never walked
    run = load_run([tmp_path, tmp_path / "missing.log"])
    assert not run.sources and not run.metrics
    assert any("no file in a known format" in w for w in run.warnings)
    assert any("no such file" in w for w in run.warnings)
    assert str(tmp_path / "data.xyz") in run.meta["tried"]


def test_broken_source_is_a_warning_not_a_crash(tmp_path):
    (tmp_path / "trainer_state.json").write_text('{"log_history": [{"loss": 1.0, "step": 1}, {"lo')
    write_phase1_log(tmp_path / "metrics.jsonl")
    run = load_run([tmp_path])
    bad = next(s for s in run.sources if s.format == "hf_trainer_state")
    assert bad.warnings and "truncated" in bad.warnings[0]
    assert run.series("loss") is not None  # the readable source still counts


def test_code_dirs_and_configs(tmp_path):
    code = tmp_path / "code"
    (code / "pkg").mkdir(parents=True)
    (code / "pkg" / "model.py").write_text("import torch\n")
    (code / "__pycache__").mkdir()
    (code / "__pycache__" / "x.py").write_text("")
    run = load_run([], code_dirs=[code])
    assert run.code_files == [str(code / "pkg" / "model.py")]


def test_phase1_irregular_step_records(tmp_path):
    """Fields that appear, vanish or change shape mid-run: a missing value is absent, a NaN stays a NaN."""
    recs = [
        {"type": "step", "step": 1, "loss": 2.0, "lr": {"muon": 0.01}},
        {"type": "step", "step": 2, "loss": float("nan"), "grad_norm": 3, "lr": {"muon": 0.01, "adam": 0.001}},
        {"type": "step", "step": 3, "lr": 0.5, "act": {"halt_var": "nan"}},
        {"type": "step", "step": 4, "loss": "1.5", "grad_norm": None, "lr": {"muon": 0.02, "adam": 0.002}},
        {"type": "step", "step": "x"},
    ]
    p = tmp_path / "metrics.jsonl"
    p.write_text('{"type": "meta", "params": {"total": 5}}\n' + "\n".join(json.dumps(r) for r in recs) + "\n")
    run = load_run([p])
    loss = run.series("loss")
    assert loss.steps.tolist() == [1, 2, 4] and math.isnan(loss.values[1]) and loss.values[2] == 1.5
    assert run.series("grad_norm").steps.tolist() == [2] and run.series("grad_norm").values[0] == 3.0
    assert run.series("lr/muon").steps.tolist() == [1, 2, 4]
    assert run.series("lr/adam").steps.tolist() == [2, 4]
    assert run.series("lr").steps.tolist() == [3] and run.series("lr").values[0] == 0.5  # a scalar lr wins "lr"
    assert run.series("act_halt_var").steps.tolist() == [3] and math.isnan(run.series("act_halt_var").values[0])


def test_phase1_real_trainer_run():
    """metrics.jsonl + config.yaml written by the bundled trainer itself (tests/data/ingest/generate.py phase1)."""
    run = load_run([DATA / "phase1_run"])
    assert any(s.format == "phase1_jsonl" for s in run.sources)
    assert len(run.series("loss")) == 48 and run.series("eval_loss").steps.tolist()[-1] == 48
    assert [name for _, name in run.stages] == ["Foundation", "Reasoning", "Advanced"]
    assert run.epoch_starts[0] == (1, 1) and len(run.epoch_starts) == 8  # the trainer's epochs are 1-based
    assert run.params.total == run.params.embedding + run.params.unembedding + run.params.blocks + run.params.other
    assert run.meta["end_status"] == "completed" and len(run.samples) == 16
    cv = run.config_value("optim.muon_lr")
    assert cv.value == 0.005 and (cv.kind == "meta" or cv.file.endswith("config.yaml"))


def test_phase1_text_template_matches_json_path(tmp_path, monkeypatch):
    """The fast path (step lines matched as text against the learned layout) gives exactly what JSON parsing gives:
    on the real trainer's log, and on lines with odd formatting, a layout change, int/float changes, NaN/Infinity,
    escaped strings and a missing field."""
    import numpy as np

    from traindoc.ingest.readers import jsonl_metrics

    odd = tmp_path / "odd" / "metrics.jsonl"
    odd.parent.mkdir()
    lines = [
        '{"type": "step", "step": 1, "epoch": 1, "stage": "A", "loss": 2, "grad_norm": 1.000000, "lr": {"muon": 1e-3}}',
        '{"type": "step", "step": 2, "epoch": 1, "stage": "A", "loss": 2.5, "grad_norm": NaN, "lr": {"muon": 1e-3}}',
        '{"type":"step","step":3,"epoch":1,"stage":"A","loss":-Infinity,"grad_norm":3,"lr":{"muon":0.001}}',
        '{"type": "step", "step": 4, "epoch": 2, "stage": "B\\"x", "loss": 1.0, "grad_norm": 2.0, "lr": {"muon": 5}}',
        '{"type": "step", "step": 5, "epoch": 2, "stage": "B", "loss": 1.0, "grad_norm": 2.0, "extra": 7, '
        '"lr": {"muon": 5}}',
        '{"type": "step", "step": 6, "epoch": 2, "stage": "B", "loss": 0.5, "grad_norm": 2.0, "extra": 8, '
        '"lr": {"muon": 4}}',
        '{"type": "step", "step": 7, "epoch": 2, "stage": "B", "grad_norm": 2.0, "lr": {"muon": 4}}',
        '{"type": "step", "step": 8, "epoch": 2.5, "stage": "B", "loss": 1e400, "grad_norm": 2.0, "extra": 9, '
        '"lr": {"muon": 4}}',
    ]
    odd.write_text("\n".join(lines) + "\n")

    class NoTemplate:
        def __init__(self, *args):
            raise ValueError("disabled")

    for folder in (DATA / "phase1_run", odd.parent):
        fast = load_run([folder / "metrics.jsonl"])
        with monkeypatch.context() as m:
            m.setattr(jsonl_metrics, "_Template", NoTemplate)
            slow = load_run([folder / "metrics.jsonl"])
        assert fast.metrics.keys() == slow.metrics.keys()
        for name, series in fast.metrics.items():
            other = slow.metrics[name]
            assert series.steps.tolist() == other.steps.tolist(), name
            assert np.array_equal(series.values, other.values, equal_nan=True), name
        assert fast.stages == slow.stages and fast.epoch_starts == slow.epoch_starts
    assert fast.series("extra").steps.tolist() == [5, 6, 8]
    assert fast.series("loss").steps.tolist() == [1, 2, 3, 4, 5, 6, 8]


def test_plain_jsonl_fairseq_style_quoted_numbers_and_stepless_valid_rows(tmp_path):
    rows = [{"epoch": 1, "update": 0.5, "loss": "9.874", "gnorm": "2.345", "lr": "1.25e-05", "num_updates": "100"},
            {"epoch": 1, "update": 1.0, "loss": "8.5", "gnorm": "nan", "lr": "2.5e-05", "num_updates": "200"},
            {"epoch": 1, "valid_loss": "8.9", "valid_ppl": "477.1"}]
    p = tmp_path / "train.jsonl"
    p.write_text('{"env_info": "sys.platform: linux", "seed": 1}\n' + "\n".join(json.dumps(r) for r in rows) + "\n")
    run = load_run([p])
    assert run.series("loss").steps.tolist() == [100, 200] and run.series("loss").values[0] == pytest.approx(9.874)
    assert math.isnan(run.series("grad_norm").values[1]) and run.series("lr").values[1] == pytest.approx(2.5e-05)
    assert run.series("eval_loss").steps.tolist() == [200]  # the stepless valid row belongs to the last update
    assert run.series("seed") is None


def test_a_single_path_not_in_a_list_is_one_path(tmp_path):
    # load_run("run/") from a library caller: listed, a string is its characters, and "/" the whole file system
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps({"step": i, "loss": 2.0 - 0.1 * i}) + "\n"
                                                    for i in range(5)))
    for given in (str(tmp_path), tmp_path):
        run = load_run(given)
        assert [p.name for p in map(Path, (s.path for s in run.sources))] == ["metrics.jsonl"]
        assert len(run.series("loss")) == 5
