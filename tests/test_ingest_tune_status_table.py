"""Ray Tune's `== Status ==` trial table (ingest/readers/_tune_status_table.py): each trial row with an `iter` read
at that iteration, from the real `rllib train` console and from one of its blocks; rows reprinted, other trials'
rows and other tools' pipe tables not read as Tune results."""

from __future__ import annotations

from pathlib import Path

from textlog_support import points, write_run_dir
from traindoc.ingest.loader import load_run
from traindoc.ingest.readers._tune_status_table import parse_tune_status
from traindoc.ingest.readers.textlog_formats import State

REALWORLD = Path(__file__).parent / "corpus" / "realworld"
HEADER = ("| Trial name                  | status   | loc             |   iter |   total time (s) |   ts |   reward |"
          "   episode_reward_max |   episode_reward_min |   episode_len_mean |")
RULE = ("+-----------------------------+----------+-----------------+--------+------------------+------+----------+"
        "----------------------+----------------------+--------------------+")
# lines 47-60 of tests/corpus/realworld/rllib-cli-ppo-cartpole-tune-status-20-iters/run/train.log
BLOCK = f"""\
== Status ==
Current time: 2022-03-17 16:18:26 (running for 00:00:17.42)
Memory usage on this node: 16.8/32.0 GiB
Using FIFO scheduling algorithm.
Resources requested: 3.0/12 CPUs, 0/0 GPUs, 0.0/12.72 GiB heap, 0.0/2.0 GiB objects
Result logdir: /Users/jules/ray_results/default
Number of trials: 1/1 (1 RUNNING)
{RULE}
{HEADER}
|-----------------------------+----------+-----------------+--------+------------------+------+----------+----------------------+----------------------+--------------------|
| PPO_CartPole-v1_8204e_00000 | RUNNING  | 127.0.0.1:12961 |      2 |          5.84489 | 8000 |    43.17 |                  170 |                    8 |              43.17 |
{RULE}


"""  # noqa: E501


def test_rllib_cli_console_reads_every_iteration_once():
    run = load_run([REALWORLD / "rllib-cli-ppo-cartpole-tune-status-20-iters" / "run"])
    reward = points(run, "reward", 2)
    assert [s for s, _ in reward] == list(range(2, 21, 2))
    assert reward[0] == (2, 43.17) and reward[-1] == (20, 471.92)
    assert points(run, "episode_reward_max")[3] == (8, 500.0)
    assert not {"ts", "iter", "total time (s)", "loc"} & set(run.metrics)  # counters and clocks are no metrics


def test_one_status_block(tmp_path):
    run = load_run([write_run_dir(tmp_path, BLOCK + BLOCK)])  # the same block reprinted: one point
    assert points(run, "reward", 2) == [(2, 43.17)]
    assert points(run, "episode_len_mean", 2) == [(2, 43.17)]


def test_guards():
    st = State()
    row = BLOCK.splitlines()[10]
    assert parse_tune_status(row, st) is None  # no header seen yet
    assert parse_tune_status(HEADER, st).claimed
    assert parse_tune_status(row, st).metrics["reward"] == 43.17
    other = row.replace("8204e_00000", "8204e_00001").replace("|      2 |", "|      4 |")
    assert not parse_tune_status(other, st).metrics  # a grid search's second trial: another run
    pending = "| Trial name | status   | loc |"
    assert parse_tune_status(pending, st) is None  # a header with no iter column: no results under it
    assert parse_tune_status(row.replace("|      2 |", "|      6 |"), st) is None  # its rows are not read


def test_markdown_and_sb3_tables_are_not_tune_rows(tmp_path):
    md = "| epoch | train_loss | valid_loss | accuracy |\n|---|---|---|---|\n" + "".join(
        f"| {e} | {1.0 / (e + 1):.4f} | {1.1 / (e + 1):.4f} | {0.5 + e / 20:.4f} |\n" for e in range(6))
    run = load_run([write_run_dir(tmp_path, md)])
    assert len(points(run, "loss")) == 6
    st = State()
    for line in md.splitlines() + ["|    ep_rew_mean     | 1.43     |", "| rollout/           |          |"]:
        assert parse_tune_status(line, st) is None, line
