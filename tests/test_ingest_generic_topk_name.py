"""The top-k idiom written with a space ("Top 1: 0.34"): the k is part of the metric's name."""

from __future__ import annotations

import pytest

from test_ingest_text_families import read
from test_ingest_text_logs import values
from traindoc.ingest.readers.textlog_formats import State, parse_generic


def test_simclr_distillation_colab_prints_read_top1(tmp_path):
    # g17s35-simclrv2-colab-distillation-self-training-10-iters (exact lines): "Top 1" was read as Top = 1.0
    run, _ = read(tmp_path, (
        "[Iter 1] Loss: 6.909933090209961 Top 1: 0.0\n"
        "[Iter 2] Loss: 6.678337097167969 Top 1: 0.265625\n"
        "[Iter 3] Loss: 6.063300132751465 Top 1: 0.34375\n"
    ))
    assert values(run, "Top1") == {1: 0.0, 2: pytest.approx(0.265625), 3: pytest.approx(0.34375)}
    assert values(run, "loss")[3] == pytest.approx(6.0633)
    assert run.series("Top") is None


@pytest.mark.parametrize("line, metrics", [
    ("epoch 2 top 5: 0.9 loss: 1.0", {"top5": 0.9, "loss": 1.0}),
    ("Top 1 accuracy: 0.5", {"Top1 accuracy": 0.5}),
])
def test_topk_with_a_space_before_its_value(line, metrics):
    rec = parse_generic(line, State())
    assert rec is not None and rec.metrics == metrics


@pytest.mark.parametrize("line", [
    "Epoch 3: loss 0.5",  # a counter and a colon: the epoch, not part of a name
    "Stop 1: 0.3",  # "top" inside a word
    "the top 3 layers: frozen",  # no value after the name
])
def test_other_counters_and_words_are_untouched(line):
    rec = parse_generic(line, State())
    assert rec is None or not any(k.lower().startswith("top") for k in rec.metrics)
