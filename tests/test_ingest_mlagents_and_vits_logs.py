"""Two consoles no reader knew (issue 8, session 31, read blind): Unity ML-Agents' trainer summary line
(_mlagents_summary.py; the Getting Started guide's run was read as one learning-rate point) and the VITS-family loss
list (_vits_loss_list.py; a so-vits-svc train.log was unreadable). Each reads its real excerpt and claims no line of
the other, nor an unanchored look-alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from textlog_support import points, read_text
from traindoc.ingest.loader import load_run
from traindoc.ingest.readers._mlagents_summary import parse_mlagents
from traindoc.ingest.readers._vits_loss_list import parse_vits_loss_list
from traindoc.ingest.readers.textlog_formats import State

REALWORLD = Path(__file__).parent / "corpus" / "realworld"

MLAGENTS = """\
INFO:mlagents_envs:Hyperparameters for the PPO Trainer of brain 3DBallLearning:
        learning_rate:       0.0003
INFO:mlagents.trainers: first3DBallRun: 3DBallLearning: Step: 1000. Mean Reward: 1.242. Std of Reward: 0.746. Training.
INFO:mlagents.trainers: first3DBallRun: 3DBallLearning: Step: 2000. Mean Reward: 1.319. Std of Reward: 0.693. Training.
INFO:mlagents.trainers: first3DBallRun: 3DBallLearning: Step: 3000. Mean Reward: 1.804. Std of Reward: 1.056. Training.
"""

MLAGENTS_RELEASE = """\
[INFO] Economic. Step: 5000. Time Elapsed: 43.754 s. No episode was completed since last summary. Training.
[INFO] Economic. Step: 10000. Time Elapsed: 68.998 s. Mean Reward: 1.000. Std of Reward: 0.000. Training. ELO: 1200.006.
[INFO] Economic. Step: 15000. Time Elapsed: 124.619 s. Mean Reward: 1.000. Std of Reward: 0.000. Training. \
ELO: 1200.018.
"""

VITS = """\
2023-02-18 17:38:38,439	32k	INFO	Train Epoch: 1 [0%]
2023-02-18 17:38:38,439	32k	INFO	[2.6858417987823486, 2.8425562381744385, 5.799555778503418, 63.61255645751953, \
19.00187110900879, 0, 0.0001]
2023-02-18 17:38:42,053	32k	INFO	Saving model and optimizer state at iteration 1 to ./logs\\32k\\G_0.pth
2023-02-18 17:39:24,741	32k	INFO	====> Epoch: 1
2023-02-18 17:41:42,594	32k	INFO	Train Epoch: 5 [0%]
2023-02-18 17:41:42,595	32k	INFO	[2.060119390487671, 2.7058351039886475, 6.066415309906006, 18.21684455871582, \
1.086459755897522, 200, 9.995000937421877e-05]
2023-02-18 17:42:09,012	32k	INFO	====> Epoch: 5
"""


def test_mlagents_mean_reward_at_the_step(tmp_path):
    run = read_text(tmp_path, MLAGENTS)
    assert points(run, "mean_reward") == [(1000, 1.242), (2000, 1.319), (3000, 1.804)]
    assert "lr" not in run.metrics and "learning_rate" not in run.metrics


def test_mlagents_release_layout_with_elo_and_an_empty_summary(tmp_path):
    run = read_text(tmp_path, MLAGENTS_RELEASE)
    assert points(run, "mean_reward") == [(10000, 1.0), (15000, 1.0)]
    assert points(run, "elo", 3) == [(10000, 1200.006), (15000, 1200.018)]


def test_vits_losses_at_the_printed_global_step(tmp_path):
    run = read_text(tmp_path, VITS)
    assert points(run, "mel_loss") == [(0, 63.6126), (200, 18.2168)]
    assert points(run, "kl_loss") == [(0, 19.0019), (200, 1.0865)]
    assert points(run, "lr", 8) == [(0, 0.0001), (200, 9.995e-05)]
    assert "loss" not in run.metrics  # an adversarial pair: no total is logged


def test_vits_six_losses_and_the_translated_fork():
    st = State()
    assert parse_vits_loss_list("INFO	Train Epoch: 3 [40%]", st) is None
    rec = parse_vits_loss_list("INFO	[2.18, 2.46, 3.91, 40.8, 2.04, 1.85, 100, 0.00019987]", st)
    assert rec is not None and rec.step == 100 and rec.metrics["dur_loss"] == 2.04 and rec.metrics["kl_loss"] == 1.85
    assert parse_vits_loss_list("44k	INFO	训练回合：1 [0%]", st) is None
    assert parse_vits_loss_list("44k	INFO	Train Epoch: 1 [0%]", st) is None
    rec = parse_vits_loss_list("44k	INFO	损失：[2.72, 2.73, 7.27, 30.23, 3.61]，步数：0，学习率：0.0001", st)
    assert rec is not None and rec.step == 0 and rec.metrics["mel_loss"] == 30.23


def test_vits_list_needs_the_header_and_a_step_and_rate():
    st = State()
    assert parse_vits_loss_list("[2.68, 2.84, 5.79, 63.61, 19.0, 0, 0.0001]", st) is None  # no header before it
    parse_vits_loss_list("Train Epoch: 1 [0%]", st)
    assert parse_vits_loss_list("[2.68, 2.84, 5.79, 63.61, 19.0, 0.5, 0.0001]", st) is None  # step not an integer
    parse_vits_loss_list("Train Epoch: 1 [0%]", st)
    assert parse_vits_loss_list("[0.1, 0.2, 0.3]", st) is None  # not five or six losses


@pytest.mark.parametrize(("entry", "name"), [("mlagents-getting-started-3dball-ppo", "mean_reward"),
                                             ("so-vits-svc-dodo-32k-401-epochs", "mel_loss")])
def test_corpus_entries_read(entry, name):
    run = load_run([REALWORLD / entry / "run"])
    s = run.series(name)
    assert s is not None and len(s) >= 10


OTHER_LINES = [
    "Epoch 10 [24.9s]: train==[0.08993=0.08860 + 0.00133]",
    "Step 0, training loss 1227726.0",
    "[INFO] 3DBall. Step: 12000. Time Elapsed: 40.689 s.",  # cut: no summary after the step
    "global_step=12000, episodic_return=23.0",
    "loss_disc=4.107, loss_gen=4.434, loss_fm=10.796,loss_mel=26.703, loss_kl=9.000",  # RVC's named print
    "[0, 0.0001]",
    "Episode 10\tLast reward: 9.00\tAverage reward: 10.61",
]


@pytest.mark.parametrize("parse", [parse_mlagents, parse_vits_loss_list])
def test_no_reader_claims_other_lines(parse):
    st = State()
    for line in OTHER_LINES:
        assert parse(line, st) is None, line
