"""mlpack's reinforcement-learning examples: one line per episode with the running and the episode return.

The mlpack examples' DQN / SAC loops (mlpack/examples, `reinforcement_learning_gym/*`, C++ through xeus-cling) print
after each episode

    Avg return in last 50 episodes: 15.3333	 Episode return: 20	 Total steps: 92

(tab-separated): the mean return of the last (up to) 50 episodes, the episode's own return and the agent's total
environment steps so far. The record's step is the total steps (it rises with every episode) and the returns are
named as the RL evidence knows them (evidence/rl.py: `..._return`): `avg_return`, `episode_return`. The generic rules
read nothing here (issue 8, session 29: tests/corpus/realworld/mlpack-examples-cartpole-dqn-2500-steps, unreadable
blind): each value follows a sentence, not a `key:` of its own.

Guards: the whole line must be the print; the total steps must not go back (a new agent trained in the same file
starts again: its lines are not read; a second `Train(n)` call on the same agent continues the count and is read).
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, parse_number

_LINE = re.compile(rf"^Avg\.? return in last \d+ episodes:\s*({NUM})\s+Episode return:\s*({NUM})\s+"
                   r"Total steps:\s*(\d+)$", re.I)


def parse_mlpack_rl(line: str, st: State) -> Record | None:
    """One episode line (module docstring) at the agent's total steps, or None for any other line."""
    m = _LINE.match(line.strip())
    if m is None:
        return None
    steps = int(m.group(3))
    last = st.extra.get("mlpack_rl_steps")
    if isinstance(last, int) and steps < last:
        st.extra["mlpack_rl_done"] = True
    if st.extra.get("mlpack_rl_done"):
        return None  # another agent's run in the same file
    metrics = {k: v for k, v in (("avg_return", parse_number(m.group(1))),
                                 ("episode_return", parse_number(m.group(2)))) if v is not None}
    if not metrics:
        return None
    st.extra["mlpack_rl_steps"] = steps
    return Record(steps, metrics)
