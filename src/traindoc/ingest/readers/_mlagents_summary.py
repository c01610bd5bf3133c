"""Unity ML-Agents' trainer summary line (`mlagents-learn`), printed every `summary_freq` steps per behavior.

    INFO:mlagents.trainers: first3DBallRun: 3DBallLearning: Step: 1000. Mean Reward: 1.242. Std of Reward: 0.746.
        Training.
    INFO:mlagents.trainers: firstRun: 3DBall: Step: 12000. Time Elapsed: 13.570 s Mean Reward: 2.254. Std of
        Reward: 0.691. Training.
    [INFO] 3DBall. Step: 12000. Time Elapsed: 40.689 s. Mean Reward: 1.188. Std of Reward: 0.670. Training.
    [INFO] Economic. Step: 10000. Time Elapsed: 68.998 s. Mean Reward: 1.000. Std of Reward: 0.000. Training.
        ELO: 1200.006.
    [INFO] Economic. Step: 5000. Time Elapsed: 43.754 s. No episode was completed since last summary. Training.

(each is one line in the log, wrapped here)
(0.x releases name the run and the brain before the step, releases 1+ the behavior; the ML-Agents documentation's
Getting Started guide shows the first layout.) `Step` is the behavior's environment step count, the step here;
`Mean Reward` is the mean cumulative reward of the episodes that ended since the last summary, the run's objective,
read as `mean_reward` (the name the RL evidence recognises, evidence/rl.py); `ELO` (self-play) as `elo`. The standard
deviation of those episodes' rewards is their spread, not a curve of its own, and is not read. A summary with no
finished episode carries no value: it is this family's line and holds no point. The generic rules read nothing here
(issue 8, session 31: tests/corpus/realworld/mlagents-getting-started-3dball-ppo read only the hyperparameter block's
learning rate, insufficient data): "Mean Reward: 1.242." ends with a sentence full stop.

Guards: the whole line from `Step:` to the end must be the summary, with at most three name tokens before it, and
the step must not go back (a second run printed into the same file: its lines are left alone).
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, counter_restarted, parse_number

_LINE = re.compile(
    rf"^(?:\S+[:.]\s+){{0,3}}Step:\s*(\d+)\.\s+(?:Time Elapsed:\s*{NUM}\s*s\.?\s+)?"
    rf"(?:Mean Reward:\s*({NUM})\.\s+Std of Reward:\s*{NUM}\.|No episode was completed since last summary\.)"
    rf"\s+(?:Not )?Training\.(?:\s+ELO:\s*({NUM})\.)?$")


def parse_mlagents(line: str, st: State) -> Record | None:
    """One summary line (module docstring), or None for any other line."""
    m = _LINE.match(line.strip())
    if m is None:
        return None
    step = int(m.group(1))
    if counter_restarted(st.extra, "mlagents_step", step):
        return None
    metrics: dict[str, float] = {}
    for name, raw in (("mean_reward", m.group(2)), ("elo", m.group(3))):
        value = parse_number(raw) if raw is not None else None
        if value is not None:
            metrics[name] = value
    return Record(step, metrics, claimed=not metrics)
