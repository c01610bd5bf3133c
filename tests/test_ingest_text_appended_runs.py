"""Two runs of one script appended to one text log (text_log._Parser._rerun_opening): the script's opening lines
printed again and its step count back at the start begin a new run; the earlier run is set aside and the last one,
the run the user is asking about, is read. First met in the real-world healthy log of DanielPuentee/gpt-from-zero
(tests/corpus/realworld/g13s34-gpt-from-zero-*: "Step 100 .. 7600" twice, read as one curve whose loss jumped from
0.46 back to 6.27 where the runs met)."""

from __future__ import annotations

from pathlib import Path

import pytest

from textlog_support import points
from traindoc.ingest.model import Run, Source
from traindoc.ingest.readers import text_log

ENTRY = Path(__file__).parent / "corpus" / "realworld" / "g13s34-gpt-from-zero-loguru-pretrain-log-5-epochs"
LINES = (ENTRY / "run" / "pretrain.log").read_text().splitlines(keepends=True)


def _lines(first: int, last: int) -> str:
    """Lines first..last (1-based, inclusive) of the real log, exactly as it holds them."""
    return "".join(LINES[first - 1:last])


def read_text(tmp_path: Path, text: str) -> tuple[Run, Source]:
    path = tmp_path / "pretrain.log"
    path.write_text(text)
    run = Run()
    src = text_log.read(path, run)
    run.finalize()
    return run, src


def _rerun(src: Source) -> bool:
    return any("more than one run" in w for w in src.warnings)


@pytest.mark.parametrize("fast", [True, False])
def test_real_log_reads_its_last_run(tmp_path, monkeypatch, fast):
    monkeypatch.setattr(text_log, "FAST_PATH", fast)
    run, src = read_text(tmp_path, "".join(LINES))
    loss = points(run, "loss")
    # the second run alone (13:24 and 14:49 both start at "Step 100, Loss: 6.27"): no jump back up at step 7800
    assert loss[0] == (100, 6.2742) and loss[-1] == (7600, 0.4637) and len(loss) == 76
    assert max(s for s, _ in loss) == 7600
    assert any("more than one run" in w and "line 124" in w for w in src.warnings)


def test_resume_that_prints_its_opening_again_stays_one_run(tmp_path):
    # the same real lines as a resumed run prints them: the opening again, then steps that go on (Step 3100..7600)
    text = _lines(1, 66) + _lines(124, 125) + _lines(67, 121)
    run, src = read_text(tmp_path, text)
    loss = points(run, "loss")
    assert loss[0] == (100, 6.2713) and loss[-1] == (7600, 0.464) and len(loss) == 76
    assert not _rerun(src)


def test_one_opening_line_repeated_is_no_new_run(tmp_path):
    # only the first of the two opening lines again, then the first run's own steps from the start: the rule needs the
    # whole opening, so this reads as the same lines without that line do (the steps that go back a restart)
    run, src = read_text(tmp_path, _lines(1, 66) + _lines(124, 124) + _lines(37, 40))
    assert not _rerun(src)
    plain, _ = read_text(tmp_path, _lines(1, 66) + _lines(37, 40))
    assert points(run, "loss") == points(plain, "loss") and len(points(run, "loss")) > 20


def test_boxes_that_repeat_their_rows_are_no_opening(tmp_path):
    # Stable-Baselines3's console: every box repeats its rows, "| ep_len_mean | 235 |" value and all. Rows with a value
    # are no opening lines, so no box is read with fresh parse states and none is lost (boxes 5 and 6 were).
    log = Path(__file__).parent / "corpus" / "realworld" / "sb3-dqn-breakout-lr-5e-3-plateau" / "run" / "train.log"
    run, src = read_text(tmp_path, log.read_text())
    assert not _rerun(src)
    steps = [s for s, _ in points(run, "loss")]
    assert steps[:6] == [16675, 24744, 32794, 41087, 49174, 57412] and len(steps) == 44
