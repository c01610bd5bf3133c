"""A count of the data a run has gone through (names.data_count_key): "Total tokens: 12236" printed once at start-up,
MLX's cumulative "Trained Tokens 862 .. 5848" beside each loss. Neither measures the model; read as metric series
they were a one-point "Total tokens" on a line-order step and a rising curve beside the loss. Rates of the same
("Tokens/sec", "tokens_per_second") and a per-batch count that goes up and down ("ntokens: 485.20/513") stay.
First met in the real-world logs of gpt-from-zero and mlx-examples (tests/corpus/realworld/g13s34-gpt-from-zero-*,
mlx-examples-557-*)."""

from __future__ import annotations

from pathlib import Path

import pytest

from textlog_support import read_text
from traindoc.ingest.names import data_count_key

REALWORLD = Path(__file__).parent / "corpus" / "realworld"


def _lines(entry: str, name: str, first: int, last: int) -> str:
    """Lines first..last (1-based, inclusive) of a real log of the corpus, exactly as it holds them."""
    lines = (REALWORLD / entry / "run" / name).read_text().splitlines(keepends=True)
    return "".join(lines[first - 1:last])


def test_total_tokens_printed_once_is_no_series(tmp_path):
    # gpt-from-zero's start-up ("Total tokens: 12236", "Number of sequences: 12172") and its first steps
    text = _lines("g13s34-gpt-from-zero-loguru-pretrain-log-5-epochs", "pretrain.log", 1, 45)
    run = read_text(tmp_path, text)
    assert sorted(run.metrics) == ["loss"]
    assert int(run.metrics["loss"].steps[0]) == 100  # no line-order step 1 before the counted ones


def test_cumulative_trained_tokens_is_no_series(tmp_path):
    # MLX LoRA's "Iter 10: Train loss 2.363, ..., Trained Tokens 862" (the MLX family reads no rate of its line)
    text = _lines("mlx-examples-557-mixtral-lora-maintainer-run", "train.log", 1, 8)
    run = read_text(tmp_path, text)
    assert sorted(run.metrics) == ["eval_loss", "loss", "lr"]  # "Trained Tokens" 862 .. 5848 was a fourth
    assert len(run.metrics["loss"].steps) == 6


def test_per_batch_token_count_that_goes_down_stays(tmp_path):
    text = _lines("g13s34-barber0-llm-pretrain-gpt-pile-train-log-260-batches", "train.log", 1, 200)
    run = read_text(tmp_path, text)
    assert "ntokens" in run.metrics and "loss" in run.metrics


@pytest.mark.parametrize(("name", "count"), [
    ("Total tokens", True), ("Trained Tokens", True), ("consumed samples", True), ("num_input_tokens_seen", True),
    ("throughput/total_tokens", True), ("tokens_per_second", False), ("Tokens/sec", False), ("tok/sec", False),
    ("ntokens", False), ("Generated tokens", False), ("loss", False),
])
def test_data_count_names(name, count):
    assert data_count_key(name) is count
