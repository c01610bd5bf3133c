"""Hugging Face Trainer console: the postfix of a script's own tqdm bar (`steps:  5%|▊ | 100/2000 [00:57<18:14,
1.74it/s, avr_loss=0.0725]`, a loop's `set_postfix`) beside the Trainer's `{'loss': ...}` dicts is read as an own
print (hf_trainer._BAR_POSTFIX), at the bar's count, by the generic rules: before, the console reader passed over every
bar whole, postfix and all. The Trainer's own bars carry no postfix and stay unread. The files here are exact lines of
tests/corpus/realworld logs (line numbers given), mixed as a user's console mixes them: test fixtures, not corpus
entries."""

from __future__ import annotations

from pathlib import Path

from textlog_support import points, read_hf_console
from traindoc.ingest.model import Run

REALWORLD = Path(__file__).parent / "corpus" / "realworld"
# LLaVA#918's console: tqdm bars of 10485 steps and `{'loss': 0.6623, 'learning_rate': ..., 'epoch': 0.24}` dicts
LLAVA = REALWORLD / "g1-llava-918-lora-loss-spike-lr-too-high" / "run" / "train.log"
# kohya-ss sd-scripts' own loop bar: "steps:   5%|▊    | 100/2000 [00:57<18:14,  1.74it/s, avr_loss=0.0725]"
KOHYA = REALWORLD / "g36-kohya-ss-sd15-lora-background-2000steps" / "run" / "train.log"


def lines_of(path: Path, *numbers: int) -> str:
    """The given 1-based lines of a corpus log, exactly as stored."""
    text = path.read_text().splitlines(keepends=True)
    return "".join(text[n - 1] for n in numbers)


def console(tmp_path: Path, text: str) -> Run:
    return read_hf_console(tmp_path, text)


LLAVA_LOSS = [(2466, 0.6623), (2467, 0.8022), (2468, 4.2653), (2469, 0.77), (2470, 0.556), (2569, 0.8223)]


def test_own_loop_bar_postfix_after_the_trainer_is_read_at_its_counts(tmp_path: Path) -> None:
    run = console(tmp_path, lines_of(LLAVA, *range(1, 28)) + lines_of(KOHYA, 1, 3, 5, 7, 9))
    assert points(run, "loss") == LLAVA_LOSS  # the Trainer's series as before
    assert points(run, "avr_loss") == [(100, 0.0725), (200, 0.0715), (300, 0.0766), (400, 0.0747), (500, 0.0722)]


def test_trainer_bars_without_postfix_give_nothing(tmp_path: Path) -> None:
    run = console(tmp_path, lines_of(LLAVA, *range(1, 28)))
    assert sorted(run.metrics) == ["epoch", "loss", "lr"]


def test_two_postfix_bars_are_no_loop(tmp_path: Path) -> None:
    # as for any own print, a shape seen fewer than 3 times is no loop of the script's
    run = console(tmp_path, lines_of(LLAVA, *range(1, 28)) + lines_of(KOHYA, 1, 3))
    assert sorted(run.metrics) == ["epoch", "loss", "lr"]
