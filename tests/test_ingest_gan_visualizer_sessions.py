"""Sessions of the image-to-image GAN trainers' loss_log.txt (pytorch-CycleGAN-and-pix2pix and its forks): each run
appends under its own `Training Loss (<date>)` banner, and a session resumed with `--continue_train` counts its
epochs from 1 again unless `--epoch_count` is set. Such a session continues the run after the last point read
(ingest/readers/textlog_formats.py, parse_gan_visualizer), first met in a real-world healthy log whose two sessions
were read interleaved (issue 8, session 35: tests/corpus/realworld/g15s35-pix2pix-facades-loss-log-resumed-run)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from textlog_support import read_text
from traindoc.ingest.loader import load_run

REALWORLD = Path(__file__).parent / "corpus" / "realworld"


def _banner(day: int) -> str:
    return f"================ Training Loss (Sun Dec {day} 22:37:57 2020) ================"


def _session(epochs: range, l1: float) -> list[str]:
    return [f"(epoch: {e}, iters: {i}, time: 0.112, data: 0.001) G_GAN: 2.0 G_L1: {l1 / e:.3f} D_real: 0.5 "
            f"D_fake: 0.5 " for e in epochs for i in (100, 200, 300, 400)]


def test_corpus_entry_reads_the_resumed_session_after_the_first() -> None:
    run = load_run([REALWORLD / "g15s35-pix2pix-facades-loss-log-resumed-run" / "run"])
    s = run.series("loss_G_L1")
    assert len(s) == 1025  # 648 + 377 prints, none overwritten
    assert bool(np.all(np.diff(s.steps) > 0))
    assert s.values[647] == 3.159 and s.values[648] == 3.568  # the first session's last point, the second's first


def test_a_session_whose_epochs_restart_continues_the_run(tmp_path: Path) -> None:
    text = "\n".join([_banner(13), *_session(range(1, 4), 10.0), _banner(14), *_session(range(1, 3), 4.0)]) + "\n"
    s = read_text(tmp_path, text, "loss_log.txt").series("loss_G_L1")
    assert [int(x) for x in s.steps] == [100 * k for k in range(1, 21)]  # 12 points, then 8 after them
    assert s.values[12] == 4.0  # the second session's first point, at step 1300


def test_a_session_that_sets_its_epoch_count_keeps_its_steps(tmp_path: Path) -> None:
    text = "\n".join([_banner(13), *_session(range(1, 4), 10.0), _banner(14), *_session(range(4, 6), 4.0)]) + "\n"
    s = read_text(tmp_path, text, "loss_log.txt").series("loss_G_L1")
    assert [int(x) for x in s.steps] == [100 * k for k in range(1, 21)]
    assert s.values[12] == 1.0  # epoch 4's first point at (4 - 1) * 400 + 100, as printed


def test_one_session_and_a_banner_before_it_change_nothing(tmp_path: Path) -> None:
    text = "\n".join([_banner(13), _banner(13), *_session(range(1, 4), 10.0)]) + "\n"
    s = read_text(tmp_path, text, "loss_log.txt").series("loss_G_L1")
    assert [int(x) for x in s.steps] == [100 * k for k in range(1, 13)]


def test_epochs_going_back_without_a_banner_are_not_shifted(tmp_path: Path) -> None:
    # no banner: nothing says a new session began, so the printed epochs stand (later points replace earlier ones)
    text = "\n".join([_banner(13), *_session(range(1, 4), 10.0), *_session(range(1, 2), 4.0)]) + "\n"
    s = read_text(tmp_path, text, "loss_log.txt").series("loss_G_L1")
    assert [int(x) for x in s.steps] == [100 * k for k in range(1, 13)]
