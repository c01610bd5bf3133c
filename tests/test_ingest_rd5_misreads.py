"""Series that are not metrics and metrics that were missed in real console logs (issue 8, session 25 rd5): minGPT's
CfgNode config dump, its `iter_dt` and build-nanogpt's `dt:` durations, the bare `norm` of llm.c / build-nanogpt
(the gradient norm), and a score printed as `count/total = p%`. One fires and one silent test per rule, each on a
few synthetic lines (readers/_config_block.py, readers/textlog_formats.py, names.py)."""

from __future__ import annotations

from textlog_support import read_text
from traindoc.ingest.names import canonical_metric

_MINGPT_CONFIG = (
    "system:\n"
    "    seed: 3407\n"
    "    work_dir: ./out/adder\n"
    "model:\n"
    "    model_type: gpt-nano\n"
    "    n_layer: None\n"
    "trainer:\n"
    "    batch_size: 64\n"
    "    learning_rate: 0.0005\n"
    "    betas: (0.9, 0.95)\n"
    "    grad_norm_clip: 1.0\n"
    "\n"
    "number of parameters: 0.09M\n"
)


def _mingpt_iters(n: int = 4) -> str:
    return "".join(f"iter_dt {78.1 + i:.2f}ms; iter {10 * i}: train loss {2.3 - 0.1 * i:.5f}\n" for i in range(n))


def test_mingpt_section_dump_is_configuration(tmp_path):
    run = read_text(tmp_path, _MINGPT_CONFIG + _mingpt_iters())
    assert run.series("lr") is None and run.series("grad_norm_clip") is None and run.series("seed") is None
    assert run.config["trainer.learning_rate"].value == 0.0005 and run.config["trainer.learning_rate"].line == 9
    assert run.config["trainer.grad_norm_clip"].value == 1.0 and run.config["system.seed"].value == 3407
    assert len(run.series("loss")) == 4


def test_metric_heading_with_indented_pairs_opens_no_section(tmp_path):
    # silent: a heading that names a split or a measurement keeps its indented pairs as metrics; an unindented pair
    # under a bare heading ends the section (a section holds nothing at column 0)
    run = read_text(tmp_path, "val:\n    loss: 0.9\n" "step 1 loss 1.0\n" "step 2 loss 0.8\n"
                              "model:\nloss: 0.7\nloss: 0.6\n")
    assert not run.config
    assert list(run.series("eval_loss").values) == [0.9]  # the metric block under "val:"
    assert run.series("loss").values[-1] == 0.6  # "loss: 0.7", "loss: 0.6" under "model:" are still read


def test_dt_is_a_duration_not_a_metric(tmp_path):
    text = _mingpt_iters() + "".join(
        f"step {10 * i} | loss: {6.0 - 0.3 * i:.4f} | lr 6.0000e-04 | norm: {1.2 - 0.1 * i:.4f} | dt: 412.{i}ms"
        f" | tok/sec: 39{i}00.0\n" for i in range(4))
    run = read_text(tmp_path, text)
    assert run.series("iter_dt") is None and run.series("dt") is None
    assert run.series("loss") is not None and run.series("tokens_per_s") is not None


def test_a_time_key_is_a_duration_beside_the_metrics_it_leaves(tmp_path):
    # "time" per iteration is a duration too (docs/ingest-structured.md, generic fallback: a key with the word `time`),
    # no metric of the model; the line's loss is still read at every step
    run = read_text(tmp_path, "".join(f"step {i} | loss {1.0 - 0.1 * i:.2f} | time 0.5{i}\n" for i in range(4)))
    assert run.series("time") is None
    assert list(run.series("loss").steps) == [0, 1, 2, 3]


def test_bare_norm_is_the_grad_norm(tmp_path):
    run = read_text(tmp_path, "".join(
        f"step {10 * i} | loss: {6.0 - 0.3 * i:.4f} | lr 6.0000e-04 | norm: {1.2 - 0.1 * i:.4f} | dt: 412.0ms\n"
        for i in range(4)))
    g = run.series("grad_norm")
    assert g is not None and g.raw_name == "norm" and list(g.values) == [1.2, 1.1, 1.0, 0.9]
    assert canonical_metric("norm") == "grad_norm"


def test_named_norms_keep_their_own_names():
    # silent: a parameter or weight norm, and an already clipped norm, are not the total gradient norm
    assert canonical_metric("param_norm") == "param_norm" and canonical_metric("weight norm") == "param_norm"
    assert canonical_metric("grad_norm_clipped") == "grad_norm_clipped"
    assert canonical_metric("norm_eps") == "norm_eps"


def test_count_share_reads_the_share(tmp_path):
    text = ("iter 0: train loss 2.3\ntrain final score: 12/9500 = 0.13% correct\n"
            "iter 500: train loss 1.1\ntrain final score: 4839/9500 = 50.94% correct\n")
    run = read_text(tmp_path, text)
    s = run.series("train final score")
    assert s is not None and [round(v, 6) for v in s.values] == [round(12 / 9500, 6), round(4839 / 9500, 6)]


def test_a_fraction_whose_percent_disagrees_is_left_alone(tmp_path):
    # silent: "epoch: 3/10 = 45%" (a progress, not count/total) and a share that does not match stay as printed
    run = read_text(tmp_path, "score: 3/10 = 45% done\nscore: 4/10 = 70% done\n")
    s = run.series("score")
    assert s is None or all(v >= 3 for v in s.values)


def test_new_top_score_is_a_running_best(tmp_path):
    run = read_text(tmp_path, _mingpt_iters(2) + "saving model with new top score of 12.0\n" + _mingpt_iters(2))
    assert not any("top score" in k for k in run.metrics)
    assert len(run.series("loss")) >= 2


def test_namespace_behind_a_logger_prefix_is_configuration(tmp_path):
    run = read_text(tmp_path, (
        "INFO:root:04:17:33 Namespace(accumulate=None, batch_size=32, epochs=5, lr=2e-05, seed=27, warmup_ratio=0.1)\n"
        "INFO:root:04:17:43 [Epoch 1 Batch 10/119] loss=0.6015, lr=0.0000032\n"
        "INFO:root:04:17:44 [Epoch 1 Batch 20/119] loss=0.6194, lr=0.0000067\n"))
    assert run.config["lr"].value == 2e-05 and run.config["warmup_ratio"].value == 0.1
    assert run.series("seed") is None and run.series("batch_size") is None
    assert list(run.series("lr").values) == [3.2e-06, 6.7e-06]  # the setting is not the schedule's first point


def test_a_metric_line_naming_namespace_words_is_not_configuration(tmp_path):
    # silent: "Namespace" only counts as argparse's repr, "Namespace(" then a key=value pair
    run = read_text(tmp_path, "step 1 loss=0.9 lr=0.1 ns=Namespace\nstep 2 loss=0.8 lr=0.1 ns=Namespace\n")
    assert not run.config and len(run.series("loss")) == 2


def test_split_metrics_heading_marks_the_line_held_out(tmp_path):
    run = read_text(tmp_path, (
        "[Epoch 1 Batch 10/119] loss=0.6015, lr=0.0000032, metrics:accuracy:0.7125,f1:0.8321\n"
        "[Epoch 1 Batch 119/119] loss=0.6194, lr=0.0000067, metrics:accuracy:0.6937,f1:0.8192\n"
        "validation metrics:accuracy:0.8260,f1:0.8849\n"
        "[Epoch 2 Batch 10/119] loss=0.2860, lr=0.0000172, metrics:accuracy:0.8906,f1:0.9136\n"))
    assert list(run.series("eval_accuracy").values) == [0.826]
    assert 0.826 not in list(run.series("accuracy").values)


def test_training_metrics_heading_stays_training(tmp_path):
    # silent: "train metrics:" is the training split; nothing becomes held-out
    run = read_text(tmp_path, "step 1 train metrics: accuracy: 0.5\nstep 2 train metrics: accuracy: 0.6\n")
    assert run.series("eval_accuracy") is None and list(run.series("accuracy").values) == [0.5, 0.6]


def test_best_model_at_an_earlier_epoch_is_not_a_new_point(tmp_path):
    run = read_text(tmp_path, "step 10 loss=0.5\nstep 20 loss=0.4\n"
                              "Best model at epoch 3. Validation metrics:accuracy:0.8873,f1:0.9196\n")
    assert run.series("eval_accuracy") is None and run.series("val_f1") is None


def test_a_line_naming_best_without_a_position_is_read(tmp_path):
    # silent: "best" elsewhere in a metric line ("saving best model") does not drop the line's own values
    run = read_text(tmp_path, "step 10 loss=0.5 saving best model\nstep 20 loss=0.4\n")
    assert list(run.series("loss").values) == [0.5, 0.4]
