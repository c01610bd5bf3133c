"""A sentence whose verb stands before the split and the name ("... with Adam is test acc: 76.82%, loss: 0.68"):
the generic rules take the verb out of the first name and the split as a phase marker for the pairs after it
(textlog_formats._COPULA_HEAD, _PHASE). Blind, a CIFAR-10 script's test loss landed in the training loss every fifth
epoch (tests/corpus/realworld/g6s33-cifar10-resnet18-adam-50-epochs-test-every-5, issue 8, session 33)."""

from __future__ import annotations

from pathlib import Path

from textlog_support import points, write_run_dir
from traindoc.ingest.loader import load_run

REALWORLD = Path(__file__).parent / "corpus" / "realworld"


def test_corpus_entry_keeps_test_loss_apart():
    run = load_run([REALWORLD / "g6s33-cifar10-resnet18-adam-50-epochs-test-every-5" / "run"])
    assert points(run, "loss", 3)[4] == (5, 0.625)  # the epoch's training loss, not the test loss 0.685
    assert points(run, "eval_loss", 3)[:2] == [(5, 0.685), (10, 0.541)]
    assert points(run, "eval_accuracy", 2)[-1] == (50, 88.01)
    assert not any(name.startswith("is") for name in run.metrics)


def test_training_sentence_stays_training(tmp_path):
    lines = [f"\tepoch {e}: train acc: {50 + e}.5%, loss: {1.5 - e / 10:.3f}" for e in range(1, 11)]
    lines.insert(5, "The result of the model is train acc: 55.0%, loss: 0.95")
    run = load_run([write_run_dir(tmp_path, "\n".join(lines) + "\n")])
    assert "eval_loss" not in run.metrics and "eval_accuracy" not in run.metrics


def test_copula_alone_or_before_one_word_is_left_as_printed(tmp_path):
    # "the loss is 0.53" is the sentence rule's; "is: 3" names nothing to cut
    lines = [f"epoch {e}: loss: {1.0 / e:.3f}, test acc: {50 + e}.0%" for e in range(1, 11)]
    run = load_run([write_run_dir(tmp_path, "\n".join(lines) + "\n")])
    assert points(run, "eval_accuracy", 1)[0] == (1, 51.0)
    assert points(run, "loss", 3)[0] == (1, 1.0)  # a training name before the split word stays training
