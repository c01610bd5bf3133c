"""rl_games' console: one throughput line per epoch, the mean episode reward only where the trainer saves a checkpoint.

rl_games (Denys88/rl_games, the PPO trainer of IsaacGym / Isaac Lab / MJLab tasks) prints no loss to the console. Per
epoch it prints its throughput with the epoch counter

    fps step: 312829 fps step and policy inference: 292625 fps total: 187501 epoch: 4/1000 frames: 786432

(older releases: `fps step: x fps total: y`, no epoch), and the mean episode reward appears only in two save
messages of the same epoch: when it is a new best

    saving next best rewards:  [53.92224]

(one value per value head; the first is the task reward), and in the periodic checkpoint's file name, which the
trainer builds from the epoch and the reward (`<name>_ep_<epoch>_rew_<reward>`, the final save of a run that reaches
its last epoch prints the reward list's repr, `_rew__95.61564_`)

    => saving checkpoint 'runs/.../nn/last_MJLab_Go1_notebook_ep_100_rew_53.92224.pth'

Read blind (issue 8, session 33: tests/corpus/realworld/rl-games-mjlab-go1-ppo-notebook-1000ep), the generic rules
read only the best-reward lines, as a metric `next best rewards` stepped by line order (61 points over 1000 epochs).
Here every reward is the `mean_reward` of its epoch (a name the RL evidence recognises, evidence/rl.py): the
throughput line's epoch for a best-reward line, the file name's epoch for a checkpoint. The best-reward lines alone
only ever rise (they are printed because the reward rose); the checkpoints every save_frequency epochs are printed
whatever the reward did, so a reward that falls shows there.

Guards: a best-reward line counts only after a throughput line has given the epoch; one value per epoch (the
checkpoint and the best-reward line of one epoch carry the same reward); an epoch that goes back (a second run in
the same file) ends the reading. The throughput lines are claimed (Record.claimed) so that no other family reads
frame rates as metrics.
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, counter_restarted, parse_number

_FPS = re.compile(rf"^fps step:\s*{NUM}(?:\s+fps step and policy inference:\s*{NUM})?\s+fps total:\s*{NUM}"
                  r"(?:\s+epoch:\s*(\d+)\s*/\s*(\d+)(?:\s+frames:\s*\d+)?)?$")
_BEST = re.compile(rf"^saving next best rewards:\s*\[\s*({NUM})(?:[\s,]+{NUM})*\s*\]$")
_CHECKPOINT = re.compile(rf"^=> saving checkpoint '[^']*_ep_(\d+)_rew__?({NUM})_?(?:\.pth)?'$")


def _point(epoch: int, raw: str, st: State) -> Record | None:
    """The epoch's mean reward, unless this epoch already has one or the epoch went back."""
    value = parse_number(raw)
    last = st.extra.get("rl_games_read")
    if value is None or counter_restarted(st.extra, "rl_games_read", epoch) or epoch == last:
        return None
    st.epoch = epoch
    return Record(epoch, {"mean_reward": value}, epoch=epoch, from_epoch=True)


def parse_rl_games(line: str, st: State) -> Record | None:
    """A throughput line (its epoch remembered, claimed), a best-reward or checkpoint line (that epoch's mean
    reward), or None for any other line."""
    text = line.strip()
    if not text or text[0] not in "fs=":
        return None  # every line above opens with "fps", "saving" or "=>"
    fps = _FPS.match(text)
    if fps is not None:
        if fps.group(1) is not None:
            st.extra["rl_games_epoch"] = int(fps.group(1))
        return Record(None, {}, claimed=True)
    best = _BEST.match(text)
    if best is not None:
        epoch = st.extra.get("rl_games_epoch")
        return _point(epoch, best.group(1), st) if isinstance(epoch, int) else None
    ckpt = _CHECKPOINT.match(text)
    if ckpt is not None:
        return _point(int(ckpt.group(1)), ckpt.group(2), st)
    return None
