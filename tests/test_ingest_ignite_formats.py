"""What PyTorch-Ignite's README, examples and handlers write, read as the metrics they are: results headings, the
cifar10 example's evaluation block, bracketed counters, and validation logged to TensorBoard at the trainer's epoch
(ingest/readers/_metric_block.py, textlog_formats.py, text_log.py, tensorboard.epoch_counted_heldout, names.py).
The "fires" cases of the TensorBoard rule read a real Ignite run of the held-out corpus (its reading, not its
diagnosis)."""

from __future__ import annotations

import json
from pathlib import Path

from textlog_support import read_text
from traindoc.ingest.loader import load_run
from traindoc.ingest.names import canonical_metric, layer_grad_param

REALLIB = Path(__file__).parent / "corpus" / "reallib"


def steps(run, name: str) -> list[int]:
    return [int(s) for s in run.series(name).steps]


def test_ignite_handler_names():
    assert canonical_metric("training/batchloss") == "loss"  # OutputHandler(tag="training", {"batchloss": loss})
    assert canonical_metric("lr/group_0") == "lr"  # OptimizerParamsHandler: the first group is the main one
    assert canonical_metric("lr/group_1") == "lr/group_1"
    assert layer_grad_param("grads_norm/rnn/weight_ih_l0") == "rnn.weight_ih_l0"  # GradsScalarHandler
    assert layer_grad_param("generator/grads_norm/fc/0/bias") == "fc.0.bias"
    assert layer_grad_param("grads_mean/fc/weight") is None  # another reduction is no norm


def test_results_headings_split_the_quickstart_lines(tmp_path):
    text = "".join(f"Epoch[{e}] Loss: {2.0 - 0.1 * e:.2f}\n"
                   f"Training Results - Epoch[{e}] Avg accuracy: 0.{e}0 Avg loss: {1.9 - 0.1 * e:.2f}\n"
                   f"Validation Results - Epoch[{e}] Avg accuracy: 0.{e}5 Avg loss: {1.95 - 0.1 * e:.2f}\n"
                   for e in range(1, 5))
    run = read_text(tmp_path, text)
    ev = run.series("eval_loss")
    assert ev is not None and list(ev.values) == [1.85, 1.75, 1.65, 1.55]
    assert list(run.series("eval_accuracy").values) == [0.15, 0.25, 0.35, 0.45]
    assert len(run.series("loss")) == 4  # the training prints stay the training loss


def test_a_sentence_about_results_marks_nothing(tmp_path):
    # silent: "validation results" inside a sentence, with no heading punctuation after it
    run = read_text(tmp_path, "".join(f"step {s}: loss {1 / s:.3f}, see validation results later\n"
                                      for s in range(1, 6)))
    assert run.series("eval_loss") is None and len(run.series("loss")) == 5


def test_evaluation_block_is_one_heldout_line_at_the_last_step(tmp_path):
    lines = []
    for e in (1, 2):
        lines += [f"2026-12-06 04:17:05,230 trainer INFO: Epoch[{e}] Iter[{i}] loss={1.5 / i:.4f} lr=0.001"
                  for i in range(20 * e - 15, 20 * e + 1, 5)]
        lines += ["2026-12-06 04:17:05,230 trainer INFO: ",
                  f"Epoch {e} - Evaluation time (seconds): 0.10 - val metrics:",
                  f" \tloss: 1.{e}", f"\taccuracy: 0.{e + 5}"]
    lines.append("2026-12-06 04:17:06,000 trainer INFO: Engine run finished.")
    run = read_text(tmp_path, "\n".join(lines) + "\n")
    assert steps(run, "loss") == [5, 10, 15, 20, 25, 30, 35, 40]  # Iter[i] is the step
    assert steps(run, "eval_loss") == [20, 40]  # after the last training step of each epoch, not at 1 and 2
    assert list(run.series("eval_loss").values) == [1.1, 1.2]
    assert list(run.series("eval_accuracy").values) == [0.6, 0.7]
    assert len(run.series("loss")) == 8  # the block's "loss" never joins the training loss


def test_indented_pairs_without_a_split_heading_stay_as_they_were(tmp_path):
    # silent: a heading that names no split opens no block
    text = "".join(f"step={s} loss={1 / s:.3f}\nsummary:\n\tloss: {1 / s:.3f}\n" for s in range(1, 6))
    run = read_text(tmp_path, text)
    assert run.series("eval_loss") is None


def test_epoch_row_with_training_metrics_keeps_its_epoch(tmp_path):
    # silent: an epoch row that carries training and held-out metrics is a row of its own, not an evaluation
    # printed after the last step (kglids' "Epoch: 3 done: Avg Train Loss: .. Avg Valid Loss: ..")
    text = "step: 1 loss: 2.0\n" + "".join(
        f"Epoch: {e} done: Avg Train Loss: {0.4 - 0.01 * e:.4f} Avg Valid Loss: {0.39 - 0.01 * e:.4f} --- "
        f"Valid Accuracy: 0.{80 + e}\n" for e in range(1, 6))
    run = read_text(tmp_path, text)
    assert len(run.series("eval_loss")) == 5


def test_bracketed_epoch_alone_keeps_line_order(tmp_path):
    # silent: "Epoch[3] Loss: x" printed every few iterations names no step: the line order keeps the points apart
    text = "".join(f"Epoch[{1 + i // 4}] Loss: {2.0 - 0.05 * i:.2f}\n" for i in range(12))
    assert len(read_text(tmp_path, text).series("loss")) == 12


def _ignite_tb_run() -> Path:
    for d in sorted(REALLIB.glob("ignite-healthy-s*")):
        if "TensorboardLogger" in json.loads((d / "label.json").read_text())["format"]:
            return d / "run"
    raise AssertionError("no Ignite TensorBoard run in the corpus")


def test_validation_at_the_trainer_epoch_is_placed_at_epoch_ends():
    run = load_run([str(_ignite_tb_run())])
    loss, ev = run.series("loss"), run.series("eval_loss")
    assert loss is not None and ev is not None and ev.raw_name == "validation/loss"
    last = int(loss.steps[-1])
    assert int(ev.steps[-1]) == last and int(ev.steps[0]) > 1  # epoch n at the last step, epoch 1 after step 1
    assert any("count epochs" in w for w in run.warnings)
    assert run.series("lr") is not None


def test_validation_on_the_iteration_clock_stays(tmp_path):
    from torch.utils.tensorboard import SummaryWriter

    w = SummaryWriter(str(tmp_path / "tb"))
    for s in range(1, 101):
        w.add_scalar("train/loss", 1.0 / s, s)
        if s % 20 == 0:
            w.add_scalar("val/loss", 1.2 / s, s)
    w.close()
    run = load_run([str(tmp_path / "tb")])
    assert steps(run, "eval_loss") == [20, 40, 60, 80, 100]
    assert not any("count epochs" in w for w in run.warnings)
