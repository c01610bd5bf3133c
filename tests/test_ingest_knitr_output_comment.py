"""R's knitr / reprex output comment "#> " stripped like the "# " of a pasted console (textlog_formats.comment_marker).
Blind (issue 8, session 32) the CTGAN fit a README.Rmd knitted was unreadable: no marker matched "#>"."""

from __future__ import annotations

from pathlib import Path

from textlog_support import read_text
from traindoc.ingest.loader import load_run
from traindoc.ingest.readers.textlog_formats import comment_marker, uncomment

REALWORLD = Path(__file__).parent / "corpus" / "realworld"


def test_knitted_ctgan_fit_reads_both_players_losses():
    run = load_run([REALWORLD / "g3s32-ctgan-r-readme-iris-20ep" / "run"])
    g, d = run.series("Loss G"), run.series("Loss D")
    assert g is not None and d is not None and len(g) == 20 and len(d) == 20
    assert (int(g.steps[0]), round(float(g.values[0]), 4)) == (1, 1.1087)
    assert (int(g.steps[-1]), round(float(g.values[-1]), 4)) == (20, 0.8277)


def test_marker_is_knitr_output_comment_and_is_stripped():
    lines = ["#> Epoch 1, Loss G: 1.2498, Loss D: -0.0258", "#> Epoch 2, Loss G: 1.2413, Loss D: -0.0013",
             "#> Epoch 3, Loss G: 1.2533, Loss D: -0.0163"]
    assert comment_marker(lines) == "#>"
    assert uncomment(lines[0], "#>") == "Epoch 1, Loss G: 1.2498, Loss D: -0.0258"


def test_plain_comments_and_mixed_files_are_unchanged():
    assert comment_marker(["# step 1 loss 0.5", "# step 2 loss 0.4", "# step 3 loss 0.3"]) == "#"
    # a script with a few knitr comments among its code: no marker, nothing stripped
    assert comment_marker(["x <- fit(iris)", "#> Epoch 1, Loss G: 1.0", "y <- 2", "z <- 3", "print(y)"]) is None


def test_knitted_console_reads_like_the_plain_one(tmp_path: Path):
    plain = read_text(tmp_path, "step 1 loss 0.50\nstep 2 loss 0.40\nstep 3 loss 0.30\n", "plain.log")
    knitted = read_text(tmp_path, "#> step 1 loss 0.50\n#> step 2 loss 0.40\n#> step 3 loss 0.30\n", "knit.log")
    a, b = plain.series("loss"), knitted.series("loss")
    assert a is not None and b is not None
    assert list(a.steps) == list(b.steps) and list(a.values) == list(b.values)
