"""The pytorch/examples ImageNet console as the Transfer-Learning-Library prints it: tab-separated meters whose names
have several words, and the " * Acc@1 ... Acc@5 ..." line that closes each validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from test_ingest_text_families import read
from test_ingest_text_logs import values
from traindoc.ingest.loader import load_run

ROOT = Path(__file__).resolve().parent / "corpus" / "realworld"

DANN_RUN = ROOT / "g17s35-tllib-dann-officehome-ar2cl-resnet50-30ep" / "run"
# the first two training lines, the two "Test:" lines and the summary of epoch 0 of that log (lines 5, 6, 15-17)
_LINES = (DANN_RUN / "train-2021-05-25-01_28_09.txt").read_text(encoding="utf-8").splitlines(keepends=True)
DANN = "".join(_LINES[i] for i in (4, 5, 14, 15, 16))


def test_tab_separated_meters_keep_their_several_word_names(tmp_path):
    run, src = read(tmp_path, DANN)
    assert src.format == "text_log:imagenet_example"
    # the task's accuracy and the domain discriminator's are two meters, not one "Acc" the second overwrote
    assert values(run, "Cls Acc") == {0: pytest.approx(3.1), 100: pytest.approx(62.5)}
    assert values(run, "Domain Acc") == {0: pytest.approx(54.7), 100: pytest.approx(89.1)}
    assert values(run, "loss") == {0: pytest.approx(4.92), 100: pytest.approx(1.92)}
    assert values(run, "loss_avg")[100] == pytest.approx(2.62)


def test_the_validation_summary_line_is_the_held_out_result(tmp_path):
    run, _ = read(tmp_path, DANN)
    # " * Acc@1 43.070 Acc@5 67.079": the averages over the whole held-out set, after the last "Test:" line
    assert values(run, "val_Acc@1") == {100: pytest.approx(43.07)}
    assert values(run, "val_Acc@5") == {100: pytest.approx(67.079)}
    # the loss's running mean over the held-out batches so far is the held-out loss
    assert values(run, "eval_loss") == {100: pytest.approx(2.5782)}


def test_the_real_dann_log_reads_both_accuracies_and_thirty_held_out_results():
    run = load_run([DANN_RUN])
    held = run.series("val_Acc@1")
    assert held is not None and len(held) == 30
    assert held.values[0] == pytest.approx(43.07) and held.values[-1] == pytest.approx(51.661)
    assert run.series("eval_loss") is not None and len(run.series("eval_loss")) == 30
    assert len(run.series("Cls Acc")) == len(run.series("Domain Acc")) == 300


def test_space_separated_meters_read_as_before(tmp_path):
    # nasbench-19-imagenet-before-outage / g21-reactnet-9 style: no tabs, single-word meters
    run, _ = read(tmp_path, (
        "Epoch: [132][4002/4004] Time  0.462 ( 0.522)    Data  0.000 ( 0.062)    Loss 1.9292e+00 (1.8380e+00)    "
        "Acc@1  59.38 ( 59.75)   Acc@5  80.94 ( 80.55)\n"
    ))
    assert values(run, "Acc@1") == {132 * 4004 + 4002: pytest.approx(59.38)}
    assert values(run, "loss_avg") == {132 * 4004 + 4002: pytest.approx(1.838)}


@pytest.mark.parametrize("line", [
    # a Markdown bullet with numbers, a MetricLogger header: not the example's summary line
    " * Acc@1 is the top-1 accuracy, Acc@5 the top-5\n",
    "* Acc@1 76.1 on ImageNet (Acc@5 92.9)\n",
])
def test_summary_look_alikes_are_not_held_out_results(tmp_path, line):
    run, _ = read(tmp_path, "Epoch: [0][ 100/1000]\tTime  0.38 ( 0.54)\tLoss   1.92 (  2.62)\n" + line)
    assert run.series("val_Acc@1") is None
