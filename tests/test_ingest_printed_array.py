"""The printed-array reader: a metric history saved as one printed list or numpy array, named by its file."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from traindoc.ingest import load_run
from traindoc.ingest.readers import printed_array

ROOT = Path(__file__).resolve().parents[1]
KUR = ROOT / "tests/corpus/realworld/g1-kur-22-val-loss-history-array-rises/run/val_loss_history.txt"


def _head(path: Path) -> bytes:
    return path.read_bytes()[:65536]


def test_a_numpy_array_cut_off_mid_way_reads_one_value_per_epoch() -> None:
    """deepgram/kur#22: `array([ 434.28509521, ...` pasted without its closing bracket; the file name says what."""
    run = load_run([str(KUR)])
    s = run.series("eval_loss")
    assert s is not None and run.sources[0].format == "printed_array"
    assert s.steps[:3].tolist() == [1, 2, 3] and s.values[0] == 434.28509521 and s.values[-1] == 715.65222168
    assert len(s) == 60


def test_a_closed_list_and_a_numpy_dtype_tail(tmp_path: Path) -> None:
    a = tmp_path / "train_loss.txt"
    a.write_text("[2.31, 1.92, 1.55, 1.40]\n")
    b = tmp_path / "acc_history.txt"
    b.write_text("array([0.41 0.55 0.62 0.66 nan], dtype=float32)")
    run = load_run([str(a), str(b)])
    assert run.series("loss").values.tolist() == [2.31, 1.92, 1.55, 1.40]
    acc = run.metrics[next(n for n in run.metrics if "acc" in n)]
    assert acc.steps.tolist() == [1, 2, 3, 4, 5] and np.isnan(acc.values[-1])


def test_silent_without_a_metric_name_or_with_anything_but_the_array(tmp_path: Path) -> None:
    cases = {"numbers.txt": "[1.0, 2.0, 3.0]",  # the name says no metric
             "val_loss.txt": "val_loss = [1.0, 2.0, 3.0]\nepoch 3 done",  # text around it: the text-log reader's
             "loss_list.txt": "['a', 'b', 'c']",
             "loss.txt": "[1.0, 2.0]"}  # fewer than 3 values
    for name, text in cases.items():
        p = tmp_path / name
        p.write_text(text)
        assert printed_array.sniff(p, _head(p)) == 0.0, name


def test_a_long_run_of_digits_that_is_not_an_array_fails_at_once(tmp_path: Path) -> None:
    """One separator between numbers, never empty: 20k digits and a letter are one failed match, not 2^20k splits."""
    p = tmp_path / "loss.txt"
    for text in ("[" + "1" * 20000 + "x", "[1" + " " * 20000 + "x", "[1," + " " * 20000 + "x"):
        p.write_text(text)
        assert printed_array.sniff(p, _head(p)) == 0.0
