"""rl_games' console (ingest/readers/_rl_games_console.py): the mean reward of the best-reward and checkpoint lines at
the epoch of the throughput line, read from the real MJLab notebook and from an excerpt; nothing read from other
trainers' checkpoint or throughput lines."""

from __future__ import annotations

from pathlib import Path

from textlog_support import load_text, points, write_run_dir
from traindoc.ingest.loader import load_run
from traindoc.ingest.readers._rl_games_console import parse_rl_games
from traindoc.ingest.readers.textlog_formats import State

REALWORLD = Path(__file__).parent / "corpus" / "realworld"

# lines of tests/corpus/realworld/rl-games-mjlab-go1-ppo-notebook-1000ep/run/train.log (epochs 99-101, 1000)
EXCERPT = """\
fps step: 318783 fps step and policy inference: 299346 fps total: 192043 epoch: 99/1000 frames: 19464192
fps step: 319265 fps step and policy inference: 300122 fps total: 192786 epoch: 100/1000 frames: 19660800
=> saving checkpoint 'runs/MJLab_Go1_notebook_08-23-11-18/nn/last_MJLab_Go1_notebook_ep_100_rew_53.92224.pth'
saving next best rewards:  [53.92224]
=> saving checkpoint 'runs/MJLab_Go1_notebook_08-23-11-18/nn/MJLab_Go1_notebook.pth'
fps step: 319730 fps step and policy inference: 300958 fps total: 191588 epoch: 101/1000 frames: 19857408
saving next best rewards:  [54.941166]
=> saving checkpoint 'runs/MJLab_Go1_notebook_08-23-11-18/nn/MJLab_Go1_notebook.pth'
fps step: 346221 fps step and policy inference: 323417 fps total: 197756 epoch: 1000/1000 frames: 196608000
=> saving checkpoint 'runs/MJLab_Go1_notebook_08-23-11-18/nn/last_MJLab_Go1_notebook_ep_1000_rew_95.61564.pth'
saving next best rewards:  [95.61564]
=> saving checkpoint 'runs/MJLab_Go1_notebook_08-23-11-18/nn/MJLab_Go1_notebook.pth'
=> saving checkpoint 'runs/MJLab_Go1_notebook_08-23-11-18/nn/last_MJLab_Go1_notebook_ep_1000_rew__95.61564_.pth'
MAX EPOCHS NUM!
"""


def test_notebook_rewards_at_their_epochs():
    run = load_run([REALWORLD / "rl-games-mjlab-go1-ppo-notebook-1000ep" / "run"])
    got = points(run, "mean_reward", 5)
    assert got[0] == (100, 53.92224) and got[-1] == (1000, 95.61564)
    steps = [s for s, _ in got]
    assert steps == sorted(set(steps)) and len(steps) == 67  # 61 new bests and the 100-epoch checkpoints, one each
    assert (900, 92.80542) in got  # a checkpoint below the best so far: read, so a falling reward would show
    assert set(run.metrics) == {"mean_reward"}  # no frame rate, no "next best rewards" metric


def test_excerpt_one_value_per_epoch(tmp_path):
    run = load_run([write_run_dir(tmp_path, EXCERPT)])
    assert points(run, "mean_reward", 6) == [(100, 53.92224), (101, 54.941166), (1000, 95.61564)]


def test_guards_and_other_trainers_lines():
    st = State()
    assert parse_rl_games("saving next best rewards:  [1.5]", st) is None  # no epoch seen yet
    fps = parse_rl_games("fps step: 1200 fps total: 900", st)  # an older release's line: claimed, no point
    assert fps is not None and fps.claimed and not fps.metrics
    # other trainers' checkpoint and speed lines are not this family's
    for line in ("=> saving checkpoint 'checkpoint.pth.tar'",
                 "=> saving checkpoint 'runs/exp/model_best.pth'",
                 "fps: 120.5 step: 10",
                 "saving best rewards: 3.0",
                 "| time/fps | 317 |"):
        assert parse_rl_games(line, State()) is None, line
    st = State()
    assert parse_rl_games("=> saving checkpoint 'nn/last_x_ep_200_rew_10.5.pth'", st).metrics == {"mean_reward": 10.5}
    assert parse_rl_games("=> saving checkpoint 'nn/last_x_ep_100_rew_3.0.pth'", st) is None  # epoch went back
    assert parse_rl_games("=> saving checkpoint 'nn/last_x_ep_300_rew_4.0.pth'", st) is None  # another run: done


def test_sb3_table_is_not_read_as_rl_games(tmp_path):
    table = "".join(f"| rollout/           |          |\n|    ep_rew_mean     | {r}     |\n"
                    f"| time/              |          |\n|    fps             | 170      |\n"
                    f"|    total_timesteps | {2048 * (i + 1)}     |\n" for i, r in enumerate((1.4, 1.5, 1.9, 2.3)))
    run = load_text(tmp_path, table)
    assert "mean_reward" not in run.metrics
