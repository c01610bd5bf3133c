"""Text-log formats found on real logs pasted into issues (session 22, g9): an epoch table whose step column
restarts every epoch, a tab-separated table with a header of names, a GitHub table without outer bars, and Julia's
`@show` tuples. Each is read from the real corpus entry it came from (every number asserted is printed there); the
synthetic documents below must not become metric logs."""

from __future__ import annotations

from pathlib import Path

import pytest

from traindoc.ingest.model import Run
from traindoc.ingest.readers import text_log

REALWORLD = Path(__file__).parent / "corpus" / "realworld"


def read_text(tmp_path: Path, text: str, name: str = "train.log") -> tuple[Run, object]:
    p = tmp_path / name
    p.write_text(text)
    run = Run()
    src = text_log.read(p, run)
    return run.finalize(), src


def read_entry(entry: str, name: str = "train.log") -> tuple[Run, object]:
    run = Run()
    src = text_log.read(REALWORLD / entry / "run" / name, run)
    return run.finalize(), src


def points(run: Run, name: str) -> dict[int, float]:
    s = run.series(name)
    assert s is not None, f"missing series {name}: have {sorted(run.metrics)}"
    return dict(zip(s.steps.tolist(), s.values.tolist(), strict=True))


def test_epoch_table_with_a_step_column_that_restarts_each_epoch():
    run, src = read_entry("haiku-510-loss-repeats-each-epoch")
    assert src.format == "text_log:table"
    got = points(run, "loss")
    # epoch 0 logs steps 0..900, epoch 1 starts one interval (100) after its last step
    assert got[0] == 0.568 and got[900] == 0.7266 and got[1000] == 0.6719 and got[1100] == 0.6797
    assert len(got) == 20
    assert run.series("Step") is None  # the step column is the clock, not a metric


def test_an_epoch_table_without_a_step_column_keeps_one_row_per_epoch(tmp_path):
    run, _ = read_text(tmp_path, "epoch train_loss valid_loss accuracy\n1 0.91 0.80 0.61\n2 0.72 0.70 0.66\n")
    assert points(run, "loss") == {1: 0.91, 2: 0.72}


def test_tab_separated_table_with_a_header_of_names():
    run, src = read_entry("timecycle-10-maintainer-example-log", "log.txt")
    assert src.format == "text_log:tsv_table"
    got = points(run, "loss")  # "Train Loss"
    assert got[1] == -0.023201 and got[13] == -0.19644 and len(got) == 13
    assert points(run, "lr")[1] == 0.0002
    assert points(run, "Theta Loss")[2] == 0.149054


def test_tab_separated_rows_without_a_metric_header_are_not_read(tmp_path):
    run, _ = read_text(tmp_path, "name\tcity\tcount\nalpha\tParis\t3\nbeta\tLyon\t4\n1\t2\t3\n")
    assert not run.metrics


def test_github_table_without_outer_bars():
    run, src = read_entry("rnnoise-189-ms-snsd-history-table")
    assert src.format == "text_log:md_table"
    assert points(run, "loss")[0] == 4.936632633 and points(run, "loss")[7] == 1.725881815
    assert points(run, "eval_loss")[7] == 1.771299243


def test_bar_separated_console_lines_are_not_a_table(tmp_path):
    # Demucs-style lines carry bars but no header-and-separator: they stay the console's own format
    text = ("[08-13 12:13:05][demucs.solver][INFO] - Train | Epoch 100 | 1148/4592 | 4.81 it/sec | Loss 0.0926 | "
            "Reco 0.0926 | Grad 0.0890\n"
            "[08-13 12:16:55][demucs.solver][INFO] - Train | Epoch 100 | 2296/4592 | 4.90 it/sec | Loss 0.0926 | "
            "Reco 0.0926 | Grad 0.0867\n")
    _, src = read_text(tmp_path, text)
    assert src.format != "text_log:md_table"


def test_julia_show_tuples():
    run, src = read_entry("flux-798-relu-conv-loss-frozen")
    assert src.format == "text_log:julia_show"
    got = points(run, "loss")
    assert got[0] == pytest.approx(0.2001447729236289)  # `@show loss(...)` before the loop
    assert got[1] == got[10] == pytest.approx(0.29602579662457984)
    assert len(got) == 11


def test_julia_show_needs_a_counter_and_a_metric(tmp_path):
    run, _ = read_text(tmp_path, "(name, size(x)) = (3, 128)\n(a, b) = (1, 2)\n(x, y) = (4, 5)\n")
    assert not run.metrics


# A side-by-side Markdown table as pasted from apex's ImageNet example (NVIDIA/apex#43, first rows): a group row
# "train | validate" over the separator, the names in the first row under it, an empty spacer column between.
_SIDE_BY_SIDE = (
    "| train |        |        |        |      | validate |        |        |          |\n"
    "| ----- | ------ | ------ | ------ | ---- | -------- | ------ | ------ | -------- |\n"
    "| epoch | Top1   | Top5   | Loss   |      | epoch    | Top1   | Top5   | Loss     |\n"
    "| 0     | 3.166  | 9.401  | 6.0748 |      | 0        | 3.054  | 9.308  | 12.1711  |\n"
    "| 1     | 15.428 | 34.406 | 4.4438 |      | 1        | 18.206 | 39.778 | 4.1692   |\n"
    "| 2     | 26.628 | 50.356 | 3.6012 |      | 2        | 29.108 | 54.764 | 3.3741   |\n"
)


def test_side_by_side_train_and_validate_table(tmp_path):
    run, src = read_text(tmp_path, _SIDE_BY_SIDE)
    assert src.format == "text_log:md_table"
    assert points(run, "loss") == {0: 6.0748, 1: 4.4438, 2: 3.6012}  # "train Loss", by epoch
    assert points(run, "eval_loss") == {0: 12.1711, 1: 4.1692, 2: 3.3741}  # "validate Loss"
    assert not any("epoch" in name.lower() for name in run.metrics)  # the repeated epoch column is no metric


def test_group_row_without_metric_names_under_it_is_not_a_table(tmp_path):
    text = ("| team |      |      | city |\n| ---- | ---- | ---- | ---- |\n| name | home | away | town |\n"
            "| 1    | 2    | 3    | 4    |\n")
    run, _ = read_text(tmp_path, text)
    assert not run.metrics


def test_markdown_table_with_a_clock_column_reads_the_metrics_not_the_clock():
    # fastai's progress table as docs.fast.ai renders it: its `time` column holds the wall clock ("00:00")
    run, src = read_entry("g28-fastai-docs-gradientclip-fp16-lr-too-high-diverges")
    assert src.format == "text_log:md_table"
    loss, valid = points(run, "loss"), points(run, "eval_loss")
    assert sorted(loss.values()) == [38.214138, 377.145508, 839.392883]
    assert sorted(valid.values()) == [25.269005, 890.010376, 9965.74707]
    assert not any("time" in name.lower() for name in run.metrics)  # the clock is no metric


def test_markdown_table_whose_only_numbers_are_clocks_is_not_a_metric_log(tmp_path):
    run, _ = read_text(tmp_path, "| loss | time |\n|---|---|\n| 00:01 | 00:07 |\n| 00:02 | 00:09 |\n")
    assert not run.metrics
