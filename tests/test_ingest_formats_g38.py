"""Five console formats met in blind healthy real-world logs (issue 8, session 29, g38), each read by its own module:
Torch7's nn.StochasticGradient (_torch7_stochastic_gradient.py), the MXNet R package's rounds (_mxnet_r_console.py),
mlpack's RL episode print (_mlpack_rl_print.py), GluonTS-MXNet's Trainer log (_gluonts_trainer.py) and the
Lasagne / TensorLayer epoch block (_epoch_of_took_block.py). Synthetic logs in each layout, the guards, and the
corpus entries read as their formats; and a name printed before a copula ("average loss is: x", ingest/names.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from textlog_support import write_run_dir
from traindoc.ingest.loader import load_run
from traindoc.ingest.names import canonical_metric
from traindoc.ingest.readers._epoch_of_took_block import parse_epoch_of_took
from traindoc.ingest.readers._mlpack_rl_print import parse_mlpack_rl
from traindoc.ingest.readers._mxnet_r_console import parse_mxnet_r
from traindoc.ingest.readers._torch7_stochastic_gradient import parse_torch7_stochastic_gradient
from traindoc.ingest.readers.textlog_formats import State, parse_lightning_bar

REALWORLD = Path(__file__).parent / "corpus" / "realworld"


def _steps(run, name):
    s = run.series(name)
    assert s is not None, f"{name} not read: {sorted(run.metrics)}"
    return [int(x) for x in s.steps], [float(v) for v in s.values]


def test_torch7_current_error_is_the_epoch_loss(tmp_path):
    lines = ["trainSet size: \t600", "# StochasticGradient: training"]
    lines += [f"# current error = {0.5 / e:.14f}\t" for e in range(1, 9)]
    lines += ["# StochasticGradient: you have reached the maximum number of iterations",
              f"# training error = {0.5 / 8:.14f}"]
    run = load_run([write_run_dir(tmp_path, "\n".join(lines) + "\n")])
    steps, values = _steps(run, "loss")
    assert steps == list(range(1, 9)) and values[0] == 0.5 and values[-1] == 0.0625
    assert set(run.metrics) == {"loss"}  # `training error` repeats the last epoch: not a second series


def test_torch7_second_training_banner_is_not_read():
    st = State()
    assert parse_torch7_stochastic_gradient("current error = 0.3", st).step == 1  # the `#` may be uncommented away
    assert parse_torch7_stochastic_gradient("# StochasticGradient: training", st) is None
    assert parse_torch7_stochastic_gradient("# current error = 0.2", st).step == 2
    assert parse_torch7_stochastic_gradient("# StochasticGradient: training", st) is None
    assert parse_torch7_stochastic_gradient("# current error = 0.9", st) is None
    assert parse_torch7_stochastic_gradient("# current error: 0.2", State()) is None


@pytest.mark.parametrize("prefix", ["", "    ## "])
def test_mxnet_r_rounds_with_and_without_knitr_prefix(tmp_path, prefix):
    lines = [f"{prefix}Start training with 1 devices"]
    for r in range(1, 7):
        lines += [f"{prefix}[{r}] Train-rmse={16.0 / r}", f"{prefix}[{r}] Validation-rmse={17.0 / r}"]
    run = load_run([write_run_dir(tmp_path, "\n".join(lines) + "\n")])
    steps, values = _steps(run, "rmse")
    assert steps == list(range(1, 7)) and values[0] == 16.0
    assert _steps(run, "eval_rmse")[1][0] == 17.0


def test_mxnet_r_names_and_guards():
    st = State()
    rec = parse_mxnet_r("[1] Train-accuracy=0.488888888888889", st)
    assert rec is not None and rec.step == 1 and rec.metrics == {"accuracy": 0.488888888888889}
    rec = parse_mxnet_r("## [2] Validation-cross-entropy=0.51", st)
    assert rec is not None and rec.eval and rec.metrics == {"eval_loss": 0.51}  # MXNet's CE metric is the loss
    assert parse_mxnet_r("## Batch [100] Train-accuracy=0.99", st) is None  # the batch callback's running mean
    assert parse_mxnet_r("## [1] 7.800502", st) is None  # a plain R value
    assert parse_mxnet_r("[1] Train-accuracy=0.5", st) is None  # the round went back: another run in the file
    assert parse_mxnet_r("[3] Train-accuracy=0.9", st) is None


def test_mlpack_rl_episode_lines(tmp_path):
    lines = ["Training for 2500 steps."]
    total = 0
    for ep in range(1, 9):
        total += 10 + ep
        lines.append(f"Avg return in last 50 episodes: {10 + ep / 2}\t Episode return: {10 + ep}"
                     f"\t Total steps: {total}")
    run = load_run([write_run_dir(tmp_path, "\n".join(lines) + "\n")])
    steps, values = _steps(run, "avg_return")
    assert steps[0] == 11 and steps[-1] == total and values[-1] == 14.0
    assert _steps(run, "episode_return")[1][-1] == 18.0


def test_mlpack_rl_guards():
    st = State()
    rec = parse_mlpack_rl("Avg return in last 50 episodes: 15.3333\t Episode return: 20\t Total steps: 92", st)
    assert rec is not None and rec.step == 92 and rec.metrics == {"avg_return": 15.3333, "episode_return": 20.0}
    assert parse_mlpack_rl(" Total steps: 75\t Total reward: 75", st) is None  # the test episode's print
    assert parse_mlpack_rl("Avg return in last 50 episodes: 9\t Episode return: 9\t Total steps: 9", st) is None
    assert parse_mlpack_rl("Avg return in last 50 episodes: 9\t Episode return: 9\t Total steps: 200", st) is None


def test_gluonts_epochs_read_from_their_log_lines_not_the_bar(tmp_path):
    lines = ["INFO:root:Start model training"]
    for e in range(6):
        lines += [f"INFO:root:Epoch[{e}] Learning rate is 0.001",
                  f"100%|██████████| 100/100 [00:01<00:00, 99.55it/s, avg_epoch_loss={5 - e / 2:.3g}]",
                  f"INFO:root:Epoch[{e}] Elapsed time 1.009 seconds",
                  f"INFO:root:Epoch[{e}] Evaluation metric 'epoch_loss'={5 - e / 2 + 0.0001:.6f}",
                  f"INFO:root:Epoch[{e}] Evaluation metric 'validation_epoch_loss'={5.5 - e / 2:.6f}"]
    lines += ["INFO:root:Loading parameters from best epoch (5)", "INFO:root:Final loss: 2.5001 (occurred at epoch 5)"]
    run = load_run([write_run_dir(tmp_path, "\n".join(lines) + "\n")])
    steps, values = _steps(run, "loss")
    assert steps == list(range(6)) and values[0] == 5.0001 and values[-1] == 2.5001
    assert _steps(run, "lr")[0] == list(range(6))
    assert _steps(run, "eval_loss")[1][0] == 5.5
    # the bar alone is not Lightning's: its only postfix is the running mean the epoch line gives exactly
    bar = "100%|██████████| 100/100 [00:01<00:00, 99.55it/s, avg_epoch_loss=5.41]"
    assert parse_lightning_bar(bar, State()) is None
    assert parse_lightning_bar("Epoch 0: 100%|██████████| 100/100 [00:01<00:00, 99.55it/s, loss=5.41]", State())


def test_epoch_of_took_blocks_step_at_their_epoch(tmp_path):
    lines = ["Starting training..."]
    for e in (1, 10, 20, 30):
        lines += [f"  Epoch {e} of 500 took 0.35s", f"    train loss: {1 / e:.6f}", f"    val loss: {1.1 / e:.6f}",
                  f"    val acc: {0.9 + e / 1000:.6f}"]
    run = load_run([write_run_dir(tmp_path, "\n".join(lines) + "\n")])
    assert _steps(run, "loss") == ([1, 10, 20, 30], [1.0, 0.1, 0.05, round(1 / 30, 6)])
    assert _steps(run, "eval_loss")[0] == [1, 10, 20, 30] and _steps(run, "eval_accuracy")[1][0] == 0.901


def test_epoch_of_took_guards():
    st = State()
    assert parse_epoch_of_took("training loss: 1.2", st) is None  # no banner yet
    assert parse_epoch_of_took("Epoch 3 of 500 took 58.438s", st) is None
    rec = parse_epoch_of_took("validation accuracy:  87.55 %%", st)
    assert rec is not None and rec.step == 3 and rec.eval and rec.metrics == {"validation accuracy": 87.55}
    assert parse_epoch_of_took("learning_rate: 0.0001", st) is None  # not a training/held-out value
    assert parse_epoch_of_took("Epoch 1 of 500 took 1.0s", st) is None  # the epoch went back: another run
    assert parse_epoch_of_took("training loss: 0.5", st) is None


def test_a_copula_after_a_known_name_is_dropped():
    # DyNet's XOR tutorial prints "average loss is: x" (corpus entry dynet-tutorial-xor-simplesgd-8000-instances)
    assert canonical_metric("average loss is") == "loss"
    assert canonical_metric("Train loss is") == "loss" and canonical_metric("val loss is") == "eval_loss"
    assert canonical_metric("this is") == "this is" and canonical_metric("is") == "is"  # unknown names stay
    run = load_run([REALWORLD / "dynet-tutorial-xor-simplesgd-8000-instances" / "run"])
    assert len(run.series("loss")) == 80 and run.series("loss").raw_name == "average loss is"


@pytest.mark.parametrize(("entry", "fmt", "series", "points"), [
    ("geo-learning-torch7-stochasticgradient-cnn-50-epochs", "torch7_stochastic_gradient", "loss", 50),
    ("mxnet-r-tutorial-linear-regression-boston-50-rounds", "mxnet_r", "rmse", 50),
    ("mlpack-examples-cartpole-dqn-2500-steps", "mlpack_rl", "avg_return", 97),
    ("gluonts-tutorial-simplefeedforward-m4-hourly-5-epochs", "gluonts_trainer", "loss", 5),
    ("tensorlayer-tutorial-mnist-mlp-dropout-40-epochs", "epoch_of_took", "eval_loss", 5),
    ("lasagne-docs-tutorial-mnist-mlp-first-epochs", "epoch_of_took", "loss", 4),
])
def test_corpus_entries_read_as_their_format(entry, fmt, series, points):
    run = load_run([REALWORLD / entry / "run"])
    assert [s.format for s in run.sources] == [f"text_log:{fmt}"]
    assert len(run.series(series)) == points
