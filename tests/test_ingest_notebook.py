"""Jupyter notebooks (readers/notebook.py): the training output kept in cell outputs. The fixtures in
tests/data/ingest/notebooks were executed in a real Jupyter kernel (tests/data/ingest/generate.py notebooks)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from traindoc.ingest.loader import load_run
from traindoc.ingest.readers import notebook

NOTEBOOKS = Path(__file__).parent / "data" / "ingest" / "notebooks"


def _printed_history(nb_path: Path) -> dict[str, list[float]]:
    """The `print(history.history)` the Keras notebook's last cell shows, as the kernel printed it."""
    import ast

    cell = json.loads(nb_path.read_text())["cells"][-1]
    return ast.literal_eval("".join(cell["outputs"][0]["text"]))


def test_keras_fit_in_a_notebook_reads_its_epoch_lines() -> None:
    path = NOTEBOOKS / "keras_fit.ipynb"
    run = load_run([path])
    hist = _printed_history(path)
    assert run.sources[0].format.startswith("notebook:")
    for key, canon in (("loss", "loss"), ("val_loss", "eval_loss"), ("accuracy", "accuracy"),
                       ("val_accuracy", "eval_accuracy")):
        s = run.series(canon)
        assert s is not None and list(s.steps) == list(range(1, 13)), canon
        # the epoch line prints 4 decimals of the value the History keeps
        np.testing.assert_allclose(s.values, hist[key], atol=5e-5)


def test_the_hf_trainer_progress_table_of_a_notebook_is_read() -> None:
    run = load_run([NOTEBOOKS / "hf_trainer.ipynb"])
    nb = json.loads((NOTEBOOKS / "hf_trainer.ipynb").read_text())
    html = "".join(next(o for c in nb["cells"] for o in c["outputs"] if o["output_type"] == "display_data")
                   ["data"]["text/html"])
    loss, ev = run.series("loss"), run.series("eval_loss")
    assert loss is not None and ev is not None
    assert list(loss.steps) == list(ev.steps) == [10, 20, 30, 40]
    for step, value in zip(ev.steps, ev.values, strict=True):  # each row of the table the Trainer drew
        assert f"<td>{step}</td>" in html and f"{value:.6f}" in html


def test_the_trainers_end_of_run_summary_after_its_table_is_kept_without_a_false_warning() -> None:
    # the last cell's `TrainOutput(global_step=40, training_loss=..., metrics={'train_runtime': ...})` is a HF log
    # dict in a file read as a table: kept as the HF reader keeps it (run.meta["hf_*"]), and no warning that some
    # other reader would read it (none runs on a notebook's text besides the one that claimed it)
    run = load_run([NOTEBOOKS / "hf_trainer.ipynb"])
    nb = json.loads((NOTEBOOKS / "hf_trainer.ipynb").read_text())
    shown = "".join("".join(o["data"]["text/plain"]) for c in nb["cells"] for o in c["outputs"]
                    if o["output_type"] == "execute_result")
    assert shown.startswith("TrainOutput(")
    assert not run.warnings, run.warnings
    assert run.meta["hf_finished"] is True
    assert f"'train_loss': {run.meta['hf_train_loss']!r}" in shown
    assert f"'train_runtime': {run.meta['hf_train_runtime']!r}" in shown


def test_a_per_step_hf_dict_in_another_familys_log_is_reported_as_not_read(tmp_path: Path) -> None:
    f = tmp_path / "train.log"
    lines = [f"Epoch {e}/5\n10/10 - 0s - 2ms/step - loss: {1 / e:.4f} - val_loss: {1.2 / e:.4f}\n" for e in range(1, 6)]
    f.write_text("".join(lines) + "{'loss': 0.1, 'learning_rate': 1e-05, 'epoch': 5.0}\n")
    run = load_run([f])
    assert run.sources[0].format == "text_log:keras"
    assert any("1 HF Trainer log dict(s)" in w and "not read" in w and "keras" in w for w in run.warnings), \
        run.warnings
    assert "hf_finished" not in run.meta


def _write(tmp_path: Path, outputs: list[dict], name: str = "nb.ipynb") -> Path:
    nb = {"cells": [{"cell_type": "code", "source": "fit()", "metadata": {}, "execution_count": 1,
                     "outputs": outputs}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / name
    path.write_text(json.dumps(nb))
    return path


def test_an_error_output_is_kept_as_an_event(tmp_path: Path) -> None:
    lines = [f"step {s} loss {2.0 - 0.1 * s:.3f}\n" for s in range(1, 6)]
    path = _write(tmp_path, [
        {"output_type": "stream", "name": "stdout", "text": lines},
        {"output_type": "error", "ename": "RuntimeError", "evalue": "CUDA out of memory. Tried to allocate 2.00 GiB",
         "traceback": ["\x1b[0;31mRuntimeError\x1b[0m: CUDA out of memory. Tried to allocate 2.00 GiB"]},
    ])
    run = load_run([path])
    assert len(run.series("loss")) == 5
    assert any("out of memory" in e.message and e.kind == "error" for e in run.events)


@pytest.mark.parametrize("content, says", [
    (None, "keeps no cell output"),
    ("{not json", "not a readable notebook"),
])
def test_a_notebook_without_output_or_broken_says_so_in_one_line(tmp_path: Path, content: str | None,
                                                                  says: str) -> None:
    path = _write(tmp_path, []) if content is None else tmp_path / "broken.ipynb"
    if content is not None:
        path.write_text('{"cells": ' + content)
    run = load_run([path])
    assert run.series("loss") is None
    assert any(says in w for w in run.warnings), run.warnings


def test_only_ipynb_files_are_claimed(tmp_path: Path) -> None:
    head = b'{"cells": [], "metadata": {}}'
    assert notebook.sniff(tmp_path / "a.ipynb", head) == 0.9
    assert notebook.sniff(tmp_path / "a.json", head) == 0.0


REALWORLD = Path(__file__).parent / "corpus" / "realworld"


def test_a_colab_notebook_whose_widget_state_pushes_cells_past_the_head_is_claimed() -> None:
    # Colab writes `nbformat` and `metadata` (with every widget's state) before `cells`: in this ORPO run the cells
    # start 111,928 bytes in, past the 64 KiB head the loader sniffs; it was unreadable before. Its two snapshots of
    # one progress table (at step 94 and at step 382 of 400) read as one series, the later rows kept.
    path = REALWORLD / "hoa10-trl-orpo-llama32-1b-vi-alpaca-preference-384-of-400" / "run" / "Orpo.ipynb.ipynb"
    head = path.read_bytes()[:64 * 1024]
    assert b'"cells"' not in head
    assert notebook.sniff(path, head) == 0.9
    run = load_run([path])
    loss = run.series("loss")
    assert run.sources[0].format.startswith("notebook:")
    assert loss is not None and list(loss.steps) == list(range(1, 383))
    assert loss.values[0] == pytest.approx(10.6108) and loss.values[-1] == pytest.approx(7.8381)


def test_colab_key_order_is_claimed_and_other_json_is_not(tmp_path: Path) -> None:
    # a Colab-ordered notebook, its cells beyond any head: claimed by `nbformat`
    colab = b'{\n  "nbformat": 4,\n  "nbformat_minor": 0,\n  "metadata": {"widgets": {"state": {}}}'
    assert notebook.sniff(tmp_path / "a.ipynb", colab) == 0.9
    # JSON with neither notebook key, even named .ipynb, and a notebook's keys in a .json file: not claimed
    assert notebook.sniff(tmp_path / "a.ipynb", b'{"log_history": [{"loss": 0.5, "step": 1}]}') == 0.0
    assert notebook.sniff(tmp_path / "trainer_state.json", colab) == 0.0
