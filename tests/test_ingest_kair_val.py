"""KAIR's validation line `<epoch:  7, iter:  20,000, Average PSNR : 28.51dB` (_kair_val.py), first met in a real-world
healthy log (issue 8, session 34: tests/corpus/realworld/usrnet-pytorch-div2k-558ep-slurm-timeout), where the PSNR
points were unread blind."""

from __future__ import annotations

from pathlib import Path

import pytest

from textlog_support import write_run_dir
from traindoc.ingest.loader import load_run
from traindoc.ingest.readers._kair_val import parse_kair_val
from traindoc.ingest.readers.textlog_formats import State

REALWORLD = Path(__file__).parent / "corpus" / "realworld"


def test_corpus_entry_reads_loss_and_psnr_on_the_epoch_clock():
    run = load_run([REALWORLD / "usrnet-pytorch-div2k-558ep-slurm-timeout" / "run"])
    loss, psnr = run.series("loss"), run.series("val_psnr")
    assert loss is not None and len(loss.values) == 558
    assert psnr is not None and [int(s) for s in psnr.steps] == list(range(10, 551, 10))
    assert psnr.values[0] == 18.33 and psnr.values[-1] == 30.82


def test_kair_training_lines_and_validation_share_the_iteration(tmp_path):
    lines = []
    for i in range(1, 13):
        it = 200 * i
        lines.append(f"22-01-01 10:00:{i:02d}.000 : <epoch:{i // 4:3d}, iter:{it:8,d}, lr:1.000e-04> "
                     f"G_loss: {0.1 / i:.3e} ")
        if i % 4 == 0:
            lines.append(f"22-01-01 10:00:{i:02d}.500 : <epoch:{i // 4:3d}, iter:{it:8,d}, Average PSNR : "
                         f"{25 + i / 4:.2f}dB")
    run = load_run([write_run_dir(tmp_path, "\n".join(lines) + "\n")])
    psnr = run.series("val_psnr")
    assert psnr is not None and [int(s) for s in psnr.steps] == [800, 1600, 2400]
    assert [int(s) for s in run.series("G_loss").steps] == [200 * i for i in range(1, 13)]  # the BasicSR rules'


@pytest.mark.parametrize("line", [
    "<epoch:  3, iter:   1,000, lr:1.000e-04> G_loss: 1.234e-01 ",  # a training line (the BasicSR rules')
    "Average PSNR : 28.51dB",  # no epoch counter
    "<epoch: 10, Average PSNR : n/a",  # not a number
    "  1--> baby.png   | 31.22dB",  # KAIR's per-image line
])
def test_other_lines_are_not_read(line):
    assert parse_kair_val(line, State()) is None


def test_iteration_is_the_step_where_printed():
    rec = parse_kair_val("<epoch:  7, iter:  20,000, Average PSNR : 28.51dB", State())
    assert rec is not None and rec.step == 20000 and rec.eval and rec.metrics == {"val_psnr": 28.51}
