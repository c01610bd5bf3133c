"""LeRobot's training console: `step:1K smpl:64K ep:201 epch:3.29 loss:0.294 grdn:17.126 lr:5.0e-05 ...`.

`lerobot-train` (lerobot/scripts/train.py, later lerobot_train.py) logs every `log_freq` steps (200 by default) the
line its MetricsTracker prints:

    INFO 2025-12-12 21:47:14 ot_train.py:351 step:1K smpl:64K ep:201 epch:3.29 loss:0.294 grdn:17.126 lr:5.0e-05
    updt_s:0.240 data_s:0.028

The counters (`step`, `smpl` samples, `ep` episodes) go through its `format_big_number`, no decimals: 1000 to 1499
steps all print `1K`, so after step 800 a log at every 200 steps prints `1K` three times, `2K` five times. The
generic `key:value` rules read neither the abbreviated step (its points fell on the `ep:` counter instead: steps
200, 241, 281 ... beside 400, 600, 800) nor the names. Here a step is taken as printed when it is a plain number;
an abbreviated one is the last step plus the logging interval (the difference between the last two steps known),
kept when it prints as the token does; else the epoch count scaled by the steps per epoch seen so far, when that
prints so; else the token's value (1K = 1000) if it moves forward. A line that fits none is no point. `loss`,
`grdn` (the gradient norm before clipping) and `lr` are read as `loss`, `grad_norm` and `lr`, `epch` as `epoch`;
`updt_s` / `data_s` are timings and `smpl` / `ep` counters, not metrics. The evaluation line of a run with an
environment (`∑rwrd:x success:y% eval_s:z`) gives `eval_sum_reward` and `eval_success` at the last step.
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, parse_number

_TOKEN = r"(\d+(?:\.\d+)?[KMBTQ]?)"
_HEAD = re.compile(rf"(?:^|\s)step:{_TOKEN}\s+smpl:{_TOKEN}\s+ep:{_TOKEN}\s+epch:({NUM})\s")
_PAIR = re.compile(rf"(?:^|\s)(loss|grdn|lr|∑rwrd|success):({NUM})%?(?=\s|$)")
_NAMES = {"loss": "loss", "grdn": "grad_norm", "lr": "lr", "∑rwrd": "eval_sum_reward", "success": "eval_success"}
_SUFFIXES = ("", "K", "M", "B", "T", "Q")
_LAST, _GAP, _PER_EPOCH = "lerobot_last", "lerobot_gap", "lerobot_steps_per_epoch"


def format_big_number(num: float) -> str:
    """LeRobot's counter format (lerobot/utils/utils.py), no decimals: 1200 -> "1K", 1600 -> "2K"."""
    for suffix in _SUFFIXES:
        if abs(num) < 1000:
            return f"{num:.0f}{suffix}"
        num /= 1000.0
    return f"{num:.0f}Q"


def _token_value(token: str) -> float | None:
    if token[-1:] in _SUFFIXES[1:]:
        base = parse_number(token[:-1])
        return None if base is None else base * 1000.0 ** _SUFFIXES.index(token[-1])
    return parse_number(token)


def _step(token: str, epoch: float, st: State) -> int | None:
    last, gap = st.extra.get(_LAST), st.extra.get(_GAP)
    if token.isdigit():
        return int(token)
    candidates = []
    if last is not None and gap:
        candidates.append(last + gap)
    per_epoch = st.extra.get(_PER_EPOCH)
    if per_epoch:
        candidates.append(int(round(epoch * per_epoch)))
    for c in candidates:
        if format_big_number(c) == token and (last is None or c > last):
            return c
    value = _token_value(token)
    if value is not None and (last is None or value > last):
        return int(value)
    return None


def parse_lerobot(line: str, st: State) -> Record | None:
    """A LeRobot training or evaluation log line (module docstring), or None for any other line."""
    m = _HEAD.search(line)
    if m is None:
        return None
    metrics = {_NAMES[k]: v for k, raw in _PAIR.findall(line[m.end() - 1:]) if (v := parse_number(raw)) is not None}
    if not metrics:
        return None
    epoch = parse_number(m.group(4))
    if any(k.startswith("eval_") for k in metrics):
        return Record(None, metrics, eval=True)  # printed at the step of the training line before it
    step = _step(m.group(1), epoch or 0.0, st)
    if step is None:
        return Record(None, claimed=True)
    last = st.extra.get(_LAST)
    if last is not None and step > last:
        st.extra[_GAP] = step - last
    elif last is None and m.group(1).isdigit():
        st.extra[_GAP] = step  # the first log is one interval after step 0
    st.extra[_LAST] = step
    if epoch:
        st.extra[_PER_EPOCH] = step / epoch
        metrics["epoch"] = epoch
    return Record(step, metrics)
