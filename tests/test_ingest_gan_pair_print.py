"""The 1-D GAN tutorial's bare "step: d_loss<TAB>g_loss" print (_gan_pair_print.py), first met in a real-world faulty
log (issue 8, session 28: tests/corpus/realworld/g30-gan-intro-1-minibatch-discrimination-inf-nan), unreadable blind:
normalise() strips the bare "N: " counter as an srun rank tag, which left two unnamed numbers on the line. The "reads"
cases load files; the silent cases call the parser on other lines or load other logs."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from textlog_support import write_run_dir
from traindoc.evidence.detectors import data
from traindoc.ingest.loader import load_run
from traindoc.ingest.model import Run, Series
from traindoc.ingest.readers._gan_pair_print import parse_gan_pair
from traindoc.ingest.readers.textlog_formats import State

REALWORLD = Path(__file__).parent / "corpus" / "realworld"


def test_corpus_entry_reads_both_players_non_finite_from_step_0():
    run = load_run([REALWORLD / "g30-gan-intro-1-minibatch-discrimination-inf-nan" / "run"])
    d, g = run.series("loss_d"), run.series("loss_g")
    assert [int(s) for s in d.steps[:3]] == [0, 10, 20] and int(d.steps[-1]) == 200 and len(d) == 21
    assert math.isinf(d.values[0]) and math.isnan(d.values[1]) and all(math.isnan(v) for v in g.values)


def test_finite_print_with_tabs_reads_d_then_g(tmp_path):
    lines = [f"{i * 10}: {1.3862 - 0.01 * i:.4f}\t{0.6931 + 0.02 * i:.4f}" for i in range(6)]
    run = load_run([write_run_dir(tmp_path, "\n".join(lines) + "\n")])
    assert run.series("loss_d").values[0] == 1.3862 and run.series("loss_g").values[-1] == 0.7931
    assert [int(s) for s in run.series("loss_g").steps] == [0, 10, 20, 30, 40, 50]


def test_parser_is_silent_on_counts_falling_counters_and_named_lines():
    st = State()
    assert parse_gan_pair("3: 12 40", st) is None  # integer pairs are counts
    assert parse_gan_pair("10: loss 0.5 0.4", st) is None  # a word on the line: another format
    assert parse_gan_pair("10: 0.5", st) is None  # one value: the bare "step value" print's
    assert parse_gan_pair("20 | 0.51 0.42", st).metrics == {"loss_d": 0.51, "loss_g": 0.42}
    assert parse_gan_pair("10: 0.50 0.40", st) is None  # the counter went down: no line of this loop


def test_srun_rank_tags_are_not_a_counter(tmp_path):
    # ranks interleave (0, 1, 0, 1): not a rising counter, so the numbers stay unread rather than mis-stepped
    lines = ["0: 0.50 0.40", "1: 0.51 0.41", "0: 0.49 0.39", "1: 0.50 0.40", "0: 0.48 0.38", "1: 0.47 0.37"]
    run = load_run([write_run_dir(tmp_path, "\n".join(lines) + "\n")])
    assert run.series("loss_d") is None or len(run.series("loss_d")) <= 2


def test_a_gan_pair_nan_from_the_start_is_read_without_a_loss_series() -> None:
    # a run that logs only a D/G loss pair has no `loss` series; the never-finite reading cites the pair it watched
    # (it once failed on `loss_series(run)` being None, losing the finding to a warning)
    run = Run()
    steps = np.arange(1, 11)
    run.add_series(Series("loss_d", steps, np.full(10, np.nan), "run/train.log", "d_loss"))
    run.add_series(Series("loss_g", steps, np.full(10, np.nan), "run/train.log", "g_loss"))
    f = data.detect_nan_from_start(run.finalize())[0]
    assert f.step == 1 and "[run/train.log]" in f.evidence[0]
