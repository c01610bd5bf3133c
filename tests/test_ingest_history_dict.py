"""Keras per-epoch histories as people keep them (readers/history_dict.py, and CSVLogger's `.log` in
readers/csv_metrics.py). The fixtures in tests/data/ingest/keras_history are one real Keras 3 `model.fit` saved five
ways (tests/data/ingest/generate.py keras): every form must give the same series."""

from __future__ import annotations

import json
import math
import pickle
from pathlib import Path

import numpy as np
import pytest

from traindoc.diagnosis.build import diagnose
from traindoc.ingest.loader import load_run
from traindoc.ingest.model import Run
from traindoc.ingest.readers import csv_metrics, history_dict

KERAS = Path(__file__).parent / "data" / "ingest" / "keras_history"
FORMS = ["history.json", "printed_history.txt", "history_frame.json", "history_frame.csv", "training.log"]


def reference() -> dict[str, list[float]]:
    return json.loads((KERAS / "history.json").read_text())


@pytest.mark.parametrize("name", FORMS)
def test_every_saved_form_of_one_keras_history_reads_the_same_values(name: str) -> None:
    run = load_run([KERAS / name])
    ref = reference()
    assert not run.warnings, run.warnings
    for key, canon in (("loss", "loss"), ("val_loss", "eval_loss"), ("accuracy", "accuracy"),
                       ("val_accuracy", "eval_accuracy")):
        s = run.series(canon)
        assert s is not None and len(s) == len(ref[key]) == 25, (name, canon)
        # the pandas JSON writer rounds to 10 decimal places; the others keep the float's repr
        np.testing.assert_allclose(s.values, ref[key], rtol=1e-9, atol=1e-9)
        assert s.steps[-1] - s.steps[0] == 24  # one value per epoch


def test_the_history_has_no_step_column_so_a_list_position_is_its_epoch() -> None:
    run = load_run([KERAS / "history.json"])
    assert list(run.series("loss").steps) == list(range(1, 26))
    run = load_run([KERAS / "history_frame.json"])  # pandas keeps its row index
    assert list(run.series("loss").steps) == list(range(0, 25))


def test_a_real_keras_history_is_diagnosed_the_same_from_every_form() -> None:
    # the fit overfits by construction (noisy labels, 2 x 256 units, 25 epochs): the validation loss turns up
    tops = set()
    for name in FORMS:
        doc = diagnose(load_run([KERAS / name]), [str(KERAS / name)])
        assert doc["root_causes"], name
        tops.add(doc["root_causes"][0]["cause"])
    assert tops == {"overfitting"}


def test_nan_and_numpy_scalar_reprs_in_a_printed_history(tmp_path: Path) -> None:
    f = tmp_path / "out.txt"
    f.write_text("{'loss': [np.float32(2.31), np.float32(1.7), nan, nan], 'val_loss': [2.4, 1.9, inf, nan]}\n")
    run = load_run([f])
    loss = run.series("loss")
    assert loss is not None and loss.values[:2].tolist() == pytest.approx([2.31, 1.7])
    assert math.isnan(loss.values[2]) and math.isinf(run.series("eval_loss").values[2])


def test_keras_json_dump_of_a_nan_loss_is_read(tmp_path: Path) -> None:
    f = tmp_path / "history.json"
    json.dump({"loss": [0.7, 0.6, float("nan")], "accuracy": [0.5, 0.6, 0.5]}, f.open("w"))
    assert "NaN" in f.read_text()
    run = load_run([f])
    assert math.isnan(run.series("loss").values[-1])


def test_a_pickled_history_is_read_and_a_pickle_that_would_run_code_is_not(tmp_path: Path) -> None:
    good = tmp_path / "trainHistoryDict.pkl"
    good.write_bytes(pickle.dumps({"loss": [0.9, 0.7, 0.5], "val_loss": [1.0, 0.8, 0.7]}, protocol=4))
    assert list(load_run([good]).series("eval_loss").values) == [1.0, 0.8, 0.7]
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):  # what a hostile pickle does: call a function on load
            return (Path.touch, (marker,))

    bad = tmp_path / "history.pkl"
    bad.write_bytes(pickle.dumps({"loss": Evil()}, protocol=2))
    run = load_run([bad])
    assert not marker.exists()
    assert run.series("loss") is None


@pytest.mark.parametrize("text", [
    '{"learning_rate": 3e-4, "per_device_train_batch_size": 8}',  # a config
    '{"best_metric": null, "log_history": [{"loss": 2.0, "step": 10}]}',  # trainer_state: not a dict of lists
    "{'tokens': [1, 2, 3], 'ids': [4, 5, 6]}",  # lists, but no metric named
])
def test_the_history_reader_stays_silent_on_other_mappings(tmp_path: Path, text: str) -> None:
    f = tmp_path / "file.json"
    f.write_text(text)
    assert history_dict.sniff(f, f.read_bytes()) == 0.0


def test_a_log_file_is_a_csv_table_only_beyond_doubt(tmp_path: Path) -> None:
    table = b"epoch,accuracy,loss\n0,0.5,0.9\n1,0.6,0.8\n2,0.7,0.7\n"
    prose = b"Epoch 1, loss 0.9, acc 0.5\nEpoch 2, loss 0.8, acc 0.6\nEpoch 3, loss 0.7, acc 0.7\n"
    no_clock = b"accuracy,loss\n0.5,0.9\n0.6,0.8\n0.7,0.7\n"
    ragged = b"epoch,accuracy,loss\n0,0.5,0.9\n1,0.6\n2,0.7,0.7\n"
    assert csv_metrics.sniff_csv(tmp_path / "training.log", table) > 0.8  # above the text-log reader
    for head in (prose, no_clock, ragged):
        assert csv_metrics.sniff_csv(tmp_path / "training.log", head) == 0.0


INGEST = Path(__file__).parent / "data" / "ingest"


def test_a_real_sacred_run_reads_its_logged_scalars_with_their_steps() -> None:
    metrics = json.loads((INGEST / "sacred_run" / "metrics.json").read_text())
    run = load_run([INGEST / "sacred_run"])
    for key, canon in (("training.loss", "loss"), ("validation.loss", "eval_loss")):
        s = run.series(canon)
        assert s is not None and list(s.steps) == metrics[key]["steps"]
        assert list(s.values) == metrics[key]["values"]


def test_a_real_dvclive_folder_reads_each_split_from_its_folder() -> None:
    run = load_run([INGEST / "dvclive"])
    eval_rows = (INGEST / "dvclive" / "plots" / "metrics" / "eval" / "loss.tsv").read_text().split("\n")[1:]
    expected = [float(r.split("\t")[1]) for r in eval_rows if r]
    assert list(run.series("eval_loss").values) == expected
    assert len(run.series("loss")) == len(expected) == 30


def test_per_split_histories_and_record_arrays(tmp_path: Path) -> None:
    curve = [1.0, 0.8, 0.6, 0.5]
    (tmp_path / "splits.json").write_text(json.dumps({"train": {"loss": curve, "acc": [0.5, 0.6, 0.7, 0.8]},
                                                      "val": {"loss": curve[::-1]}}))
    run = load_run([tmp_path / "splits.json"])
    assert list(run.series("eval_loss").values) == curve[::-1] and list(run.series("loss").values) == curve
    # Ludwig-style nesting: split -> output feature -> metric; the first history of a name wins
    (tmp_path / "stats.json").write_text(json.dumps({"training": {"combined": {"loss": curve}},
                                                     "validation": {"combined": {"loss": curve[::-1]}}}))
    run = load_run([tmp_path / "stats.json"])
    assert list(run.series("loss").values) == curve and list(run.series("eval_loss").values) == curve[::-1]
    (tmp_path / "results.json").write_text(json.dumps(
        [{"epoch": e, "train_loss": v, "val_loss": v + 0.1} for e, v in enumerate(curve, start=1)]))
    run = load_run([tmp_path / "results.json"])
    assert list(run.series("loss").steps) == [1, 2, 3, 4]
    assert run.series("eval_loss").values[0] == pytest.approx(1.1)


@pytest.mark.parametrize("text", [
    '{"loss": {"type": "CrossEntropyLoss", "weight": [1, 2, 3]}, "lr": 0.1}',  # a config naming its loss
    '[{"image_id": 1, "score": 0.9, "bbox": [1, 2, 3, 4]}]',  # detection results: no step, no metric history
])
def test_configs_and_results_that_name_a_metric_are_not_histories(tmp_path: Path, text: str) -> None:
    f = tmp_path / "file.json"
    f.write_text(text)
    assert history_dict.sniff(f, f.read_bytes()) == 0.0


SKORCH_RUN = Path(__file__).parent / "corpus" / "reallib" / "skorch-scheduler_misuse-s1" / "run" / "history.json"


def test_skorch_history_epochs_and_batch_stepped_lr(tmp_path):
    # a real skorch 1.4 net.history (save_params(f_history=...)) of an epoch StepLR stepped per batch: each epoch
    # record opens with its batches; the epoch fields are read, the LR is the last training batch's event_lr
    run = Run()
    src = history_dict.read(SKORCH_RUN, run)
    run.finalize()
    assert src.format == "history_dict"
    loss, lr = run.series("loss"), run.series("lr")
    assert loss is not None and run.series("eval_loss") is not None
    assert loss.steps.tolist()[:3] == [1, 2, 3]
    assert lr is not None and lr.values[1] < 1e-2 * lr.values[0]  # /1000 within the second epoch's batches
    assert history_dict.sniff(SKORCH_RUN, SKORCH_RUN.read_bytes()[:4096]) == history_dict.CONFIDENT


def test_batches_list_without_epochs_is_not_a_skorch_history(tmp_path):
    path = tmp_path / "batches.json"
    path.write_text('[{"batches": [{"train_loss": 0.5}], "name": "a"}, {"batches": [], "name": "b"}]')
    assert history_dict.sniff(path, path.read_bytes()) == 0.0
