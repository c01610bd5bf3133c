"""Hugging Face Trainer console: the script's own prints beside the Trainer's `{'loss': ...}` dicts (a callback's
epoch line, the user's own loop before or after the Trainer) are read as the text-log reader reads a script's prints
beside a family's lines (docs/ingest-structured.md, "Console text logs that mix formats"): a counted line shape the
head repeats at least text_log.OWN_PRINT_MIN_LINES times, by the generic rules, on a clock of its own, a name the dicts
also give kept apart as `<name>@print`. Every file here is made of exact lines of tests/corpus/realworld logs (their
line numbers given), mixed as a user's console mixes them: the combinations are test fixtures, not corpus entries."""

from __future__ import annotations

from pathlib import Path

from textlog_support import points, read_hf_console
from traindoc.ingest.loader import load_run
from traindoc.ingest.model import Run
from traindoc.ingest.readers import hf_trainer, text_log

REALWORLD = Path(__file__).parent / "corpus" / "realworld"
# LLaVA#918's console: tqdm bars of 10485 steps and `{'loss': 0.6623, 'learning_rate': ..., 'epoch': 0.24}` dicts
LLAVA = REALWORLD / "g1-llava-918-lora-loss-spike-lr-too-high" / "run" / "train.log"
# a script's own epoch print: "Epoch 01/20 \t lr=1.0e-03\t t=25s \tloss=0.870\tval_loss=0.675 \t auc=0.726\t ..."
EPOCH_PRINT = REALWORLD / "theoviel-nfl-resnet18-cls-5fold-auc" / "run" / "logs.txt"
# tensorflow/models#1264, a loop's own step print: "2017-03-28 14:49:08.503782: step 0, loss = 4.67 (...)"
TF_CIFAR = REALWORLD / "tf-models-1264-cifar10-multigpu-steps" / "run" / "train.log"
# the Trainer's banner in a transformers 5 console: "[transformers] ***** Running training *****", "[transformers]   Num
# Epochs = 5", ... (its lines 2-10)
HF_BANNER = Path(__file__).parent / "corpus" / "reallib" / "hf_trainer-healthy-s0" / "run" / "train.log"
# sentence-transformers#2449: a plain Trainer console (dicts only)
ST_CONSOLE = REALWORLD / "g3-sentence-transformers-2449-v3-trainer-maintainer-run" / "run" / "train.log"


def lines_of(path: Path, *numbers: int) -> str:
    """The given 1-based lines of a corpus log, exactly as stored."""
    text = path.read_text().splitlines(keepends=True)
    return "".join(text[n - 1] for n in numbers)


def llava(first: int, last: int) -> str:
    return lines_of(LLAVA, *range(first, last + 1))


def console(tmp_path: Path, text: str) -> Run:
    return read_hf_console(tmp_path, text)


def llava_loss() -> list[tuple[int, float]]:
    return [(2466, 0.6623), (2467, 0.8022), (2468, 4.2653), (2469, 0.77), (2470, 0.556), (2569, 0.8223)]


# --- fires ----------------------------------------------------------------------------------------------------------


def test_a_callbacks_epoch_prints_are_read_at_the_last_logged_step(tmp_path: Path) -> None:
    # the epoch lines printed after the dicts of steps 2467, 2468 and 2469: an epoch is no position in the Trainer's
    # step count, so each belongs to the step of the last dict printed before it (as text_log places one)
    text = (llava(1, 6) + lines_of(EPOCH_PRINT, 11) + llava(7, 11) + lines_of(EPOCH_PRINT, 12) + llava(12, 16)
            + lines_of(EPOCH_PRINT, 13) + llava(17, 27))
    run = console(tmp_path, text)
    assert points(run, "loss") == llava_loss()  # the Trainer's series as before
    assert points(run, "loss@print") == [(2467, 0.87), (2468, 0.672), (2469, 0.665)]  # the dicts give loss too
    assert run.series("loss@print").raw_name == "loss"
    assert points(run, "lr@print", 6) == [(2467, 0.001), (2468, 0.00095), (2469, 0.00089)]
    assert points(run, "eval_loss") == [(2467, 0.675), (2468, 0.662), (2469, 0.595)]  # only the print gives it
    assert points(run, "auc") == [(2467, 0.726), (2468, 0.78), (2469, 0.819)]


def test_the_users_own_loop_after_the_trainer_keeps_its_own_clock(tmp_path: Path) -> None:
    run = console(tmp_path, llava(1, 27) + lines_of(TF_CIFAR, 1, 2, 3, 4, 5))
    assert points(run, "loss") == llava_loss()
    assert points(run, "loss@print") == [(0, 4.67), (10, 4.59), (20, 4.43), (30, 4.43), (40, 4.35)]


def test_prints_before_the_trainer_are_read_too(tmp_path: Path) -> None:
    # a loop's step prints before the first dict name their own steps; an epoch print before any dict has no step
    run = console(tmp_path, lines_of(TF_CIFAR, 1, 2, 3) + lines_of(EPOCH_PRINT, 11, 12, 13) + llava(1, 27))
    assert points(run, "loss@print") == [(0, 4.67), (10, 4.59), (20, 4.43)]
    assert "auc" not in run.metrics


def test_the_loader_reads_the_mixed_console_as_the_trainers(tmp_path: Path) -> None:
    (tmp_path / "train.log").write_text(llava(1, 27) + lines_of(TF_CIFAR, 1, 2, 3, 4, 5))
    run = load_run([str(tmp_path)])
    assert points(run, "loss") == llava_loss()
    assert points(run, "loss@print") == [(0, 4.67), (10, 4.59), (20, 4.43), (30, 4.43), (40, 4.35)]


# --- silent ---------------------------------------------------------------------------------------------------------


def test_two_prints_are_no_loop_and_stay_unread(tmp_path: Path) -> None:
    assert text_log.OWN_PRINT_MIN_LINES == 3
    run = console(tmp_path, llava(1, 27) + lines_of(TF_CIFAR, 1, 2))
    assert sorted(run.metrics) == ["epoch", "loss", "lr"]


def test_a_plain_console_reads_as_before(tmp_path: Path) -> None:
    # no print: the series, records and warnings of the dicts alone (every HF console of the corpus reads the same
    # as before, tools/text_log_digest.py)
    plain = console(tmp_path, llava(1, 27))
    assert sorted(plain.metrics) == ["epoch", "loss", "lr"]
    assert points(plain, "loss") == llava_loss()
    run = Run()
    src = hf_trainer.read_console(ST_CONSOLE, run)
    assert not [m for m in src.metrics if m.endswith("@print")]
    assert src.records == 11  # its 11 dict lines


def test_the_trainers_banner_and_bars_are_never_own_prints(tmp_path: Path) -> None:
    # the banner's "Num Epochs = 5" lines and the tqdm frames, however often repeated, give no print series
    banner = lines_of(HF_BANNER, *range(2, 11))
    run = console(tmp_path, (banner + llava(1, 9)) * 3)
    assert not [m for m in run.metrics if m.endswith("@print") or m not in ("epoch", "loss", "lr")]


# --- a print shape first seen after the head's frames (text_log.LateShapes) -----------------------------------------

# a sweep script's console: the Trainer run nine times in a row (nine reallib HF consoles, 2,266 frames), then the
# script's own loop: its prints start after the head's text_log.HEAD_FRAMES frames
SWEEP = [Path(__file__).parent / "corpus" / "reallib" / f"hf_trainer-{cause}-s{seed}" / "run" / "train.log"
         for cause in ("data_pipeline_bug", "dead_units", "frozen_params") for seed in (0, 1, 2)]


def test_a_loop_printing_after_the_head_is_read(tmp_path: Path) -> None:
    sweep = "".join(p.read_text() for p in SWEEP)
    assert len([f for f in sweep.replace("\r", "\n").split("\n") if f.strip()]) > text_log.HEAD_FRAMES
    run = console(tmp_path, sweep + lines_of(TF_CIFAR, 1, 2, 3, 4, 5))
    assert points(run, "loss@print") == [(0, 4.67), (10, 4.59), (20, 4.43), (30, 4.43), (40, 4.35)]
    plain = console(tmp_path, sweep)
    assert plain.metrics.keys() == run.metrics.keys() - {"loss@print"}
    assert points(plain, "loss") == points(run, "loss")
