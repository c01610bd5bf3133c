"""The first-order-model family's epoch log `00000012) perceptual - 54.56717; warp_loss - 0.47446` (_fomm_log.py),
first met in a real-world healthy log (issue 8, session 34: tests/corpus/realworld/tpsmm-fork-checkpoints-log-20ep),
unreadable blind."""

from __future__ import annotations

from pathlib import Path

import pytest

from textlog_support import write_run_dir
from traindoc.ingest.loader import load_run
from traindoc.ingest.readers._fomm_log import parse_fomm_log
from traindoc.ingest.readers.textlog_formats import State

REALWORLD = Path(__file__).parent / "corpus" / "realworld"


def test_corpus_entry_reads_every_epoch_and_the_generator_sum():
    run = load_run([REALWORLD / "tpsmm-fork-checkpoints-log-20ep" / "run"])
    loss = run.series("loss")
    assert loss is not None and len(loss.values) == 21
    assert loss.values[0] == pytest.approx(53.96393 + 0.21436 + 0.48377)
    for name in ("loss_perceptual", "loss_equivariance_value", "warp_loss"):
        assert run.series(name) is not None and len(run.series(name).values) == 21


def test_discriminator_term_is_read_but_left_out_of_the_sum():
    rec = parse_fomm_log(
        "00000003) perceptual - 90.50000; equivariance_value - 0.30000; generator_gan - 1.20000; disc_gan - 0.80000",
        State(),
    )
    assert rec is not None and rec.step == 3 and rec.from_epoch
    assert rec.metrics["loss_disc_gan"] == 0.8
    assert rec.metrics["loss"] == pytest.approx(90.5 + 0.3 + 1.2)


def test_fomm_lines_read_from_a_run_dir(tmp_path):
    lines = [f"{e:08d}) perceptual - {100 - 3 * e:.5f}; equivariance_value - {0.3 - 0.01 * e:.5f}" for e in range(8)]
    run = load_run([write_run_dir(tmp_path, "\n".join(lines) + "\n")])
    loss = run.series("loss")
    assert [int(s) for s in loss.steps] == list(range(8))
    assert loss.values[-1] == pytest.approx(79 + 0.23)


@pytest.mark.parametrize("line", [
    "1) Install the package",  # a numbered list item
    "2) loss: 0.5",  # another format's colon pair
    "00000003) perceptual - 1.0; note: resumed",  # trailing text that is not a pair
    "perceptual - 54.1; warp_loss - 0.4",  # no counter
    "3) perceptual - 12%",  # not a bare number
])
def test_other_lines_are_not_claimed(line):
    assert parse_fomm_log(line, State()) is None
