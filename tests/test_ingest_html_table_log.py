"""HTML progress tables in a text log (_html_table_log.py): the Hugging Face Trainer's notebook table as a notebook's
Markdown export keeps it, one tag per line, first met in a blind healthy Unsloth log (issue 8, session 28, g31:
tests/corpus/realworld/g31-unsloth-gemma3-1b-lora-notebook-md), unreadable blind. The "reads" cases load files; the
silent cases call the parser on other lines or load other logs."""

from __future__ import annotations

from pathlib import Path

from textlog_support import write_run_dir
from traindoc.ingest.loader import load_run
from traindoc.ingest.readers._html_table_log import parse_html_table
from traindoc.ingest.readers.textlog_formats import State

REALWORLD = Path(__file__).parent / "corpus" / "realworld"


def _html_table(header: list[str], rows: list[list[str]]) -> str:
    out = ['    <table border="1" class="dataframe">', "  <thead>", ' <tr style="text-align: left;">']
    out += [f"      <th>{h}</th>" for h in header]
    out += ["    </tr>", "  </thead>", "  <tbody>"]
    for r in rows:
        out += ["    <tr>", *[f"      <td>{c}</td>" for c in r], "    </tr>"]
    out += ["  </tbody>", "</table><p>"]
    return "\n".join(out) + "\n"


def test_corpus_entry_reads_the_training_loss_per_step():
    run = load_run([REALWORLD / "g31-unsloth-gemma3-1b-lora-notebook-md" / "run"])
    loss = run.series("loss")
    assert [int(s) for s in loss.steps[:3]] == [1, 2, 3] and int(loss.steps[-1]) == 22 and len(loss) == 22
    assert loss.values[0] == 0.774 and loss.values[-1] == 0.01


def test_trainer_table_with_validation_column(tmp_path):
    rows = [[str(s), f"{2.0 - 0.1 * i:.6f}", f"{2.1 - 0.08 * i:.6f}"] for i, s in enumerate(range(50, 350, 50))]
    run = load_run([write_run_dir(tmp_path, "[300/300 01:00, Epoch 3/3]\n" + _html_table(
        ["Step", "Training Loss", "Validation Loss"], rows))])
    assert [int(s) for s in run.series("loss").steps] == [50, 100, 150, 200, 250, 300]
    assert len(run.series("eval_loss")) == 6 and run.series("eval_loss").values[-1] == 1.7


def test_silent_on_other_markup_and_rows_outside_a_table():
    st = State()
    assert parse_html_table("<div><progress value='22' max='22'></progress></div>", st) is None
    assert parse_html_table("    <tr>", st) is None
    assert parse_html_table("      <td>1</td>", st) is None
    assert parse_html_table("    </tr>", st) is None  # a row with no header above it names nothing
    assert parse_html_table("epoch 1 loss 0.5", st) is None


def test_plain_console_keeps_its_reader(tmp_path):
    lines = [f"Epoch {e}/10 - loss: {1.0 - 0.05 * e:.4f} - val_loss: {1.1 - 0.04 * e:.4f}" for e in range(1, 11)]
    run = load_run([write_run_dir(tmp_path, "\n".join(lines) + "\n")])
    assert all(s.format != "text_log:html_table" for s in run.sources) and len(run.series("loss")) == 10
