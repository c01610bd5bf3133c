"""A reinforcement-learning loop's own per-episode (or per-epoch) return print.

Hand-written RL loops (the Keras code examples, the PyTorch examples, their many copies) print the episode return
the loop tracks, one line every few episodes, with the episode or epoch counter in the sentence:

    running reward: 8.82 at episode 10                               (keras.io actor_critic_cartpole)
    Episode * 0 * Avg Reward is ==> -1020.8244931732263              (keras.io ddpg_pendulum)
     Epoch: 1. Mean Return: 18.01801801801802. Mean Length: 18.0    (keras.io ppo_cartpole)
    Episode 10	Last reward: 9.00	Average reward: 10.61            (pytorch/examples reinforce.py, actor_critic.py)

Read blind (issue 8, session 29: tests/corpus/realworld/g36-keras-io-*), the DDPG and PPO prints were unreadable
("Avg Reward is ==> x" and "Mean Return: x." are no `key: value` pair the generic rules accept: an arrow, a sentence
full stop after the number), and the actor-critic print was read with its episode number as a metric "at episode" and
its rewards stepped by line order. Here each line is one record at the loop's own counter (the episode, or the PPO
epoch), with the reward under a name the RL evidence recognises (evidence/rl.py: `..._reward`, `..._return`):
`running_reward`, `avg_reward`, `last_reward`, `mean_return`, and the episode length `mean_length`.

Guards: the whole line must be the print (anchored patterns, nothing before or after but the counter and the values),
and the counter must not go back (a second run appended to the same file restarts it: that line is not read, like
other loops' readers); "Solved at episode N!" carries no value and is left alone.
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, parse_number

# keras.io actor-critic: "running reward: 8.82 at episode 10"
_RUNNING = re.compile(rf"^running reward:\s*({NUM})\s+at episode\s+(\d+)$", re.I)
# keras.io DDPG: "Episode * 0 * Avg Reward is ==> -1020.82"
_AVG_ARROW = re.compile(rf"^Episode\s*\*\s*(\d+)\s*\*\s*Avg\.? Reward is\s*=+>\s*({NUM})$", re.I)
# keras.io PPO: " Epoch: 1. Mean Return: 18.01. Mean Length: 18.01"
_MEAN_RETURN = re.compile(rf"^Epoch:\s*(\d+)\.\s+Mean Return:\s*({NUM})\.?(?:\s+Mean Length:\s*({NUM})\.?)?$", re.I)
# pytorch/examples reinforce.py / actor_critic.py: "Episode 10\tLast reward: 9.00\tAverage reward: 10.61"
_LAST_AVERAGE = re.compile(rf"^Episode\s+(\d+)\s+Last reward:\s*({NUM})\s+Average reward:\s*({NUM})$", re.I)


def _match(text: str) -> tuple[int, dict[str, float | None], bool] | None:
    """(counter, values, counter is an epoch) of a print above, or None."""
    m = _RUNNING.match(text)
    if m:
        return int(m.group(2)), {"running_reward": parse_number(m.group(1))}, False
    m = _AVG_ARROW.match(text)
    if m:
        return int(m.group(1)), {"avg_reward": parse_number(m.group(2))}, False
    m = _MEAN_RETURN.match(text)
    if m:
        values = {"mean_return": parse_number(m.group(2))}
        if m.group(3) is not None:
            values["mean_length"] = parse_number(m.group(3))
        return int(m.group(1)), values, True
    m = _LAST_AVERAGE.match(text)
    if m:
        return int(m.group(1)), {"last_reward": parse_number(m.group(2)),
                                 "average_reward": parse_number(m.group(3))}, False
    return None


def parse_rl_episode_print(line: str, st: State) -> Record | None:
    """One return print (module docstring) at its own episode/epoch counter, or None for any other line."""
    text = line.strip()
    if not text or text[0] not in "rREe":
        return None  # every print above opens with "running", "Episode" or "Epoch"
    got = _match(text)
    if got is None:
        return None
    counter, values, is_epoch = got
    last = st.extra.get("rl_print_last")
    if isinstance(last, int) and counter < last:
        return None  # the counter went back: another run in the same file
    metrics = {k: v for k, v in values.items() if v is not None}
    if not metrics:
        return None
    st.extra["rl_print_last"] = counter
    if is_epoch:
        st.epoch = counter
        return Record(counter, metrics, epoch=counter, from_epoch=True)
    return Record(counter, metrics)
