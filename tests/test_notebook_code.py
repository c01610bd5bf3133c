"""A notebook's code cells read as the run's code (evidence/code_files.py): the loop that printed the log is in
the notebook, and the code lints read it the way they read a .py file, citing the cell; no fix is placed in it."""

from __future__ import annotations

import json
from pathlib import Path

from traindoc.evidence import code_files, ruled_out
from traindoc.evidence.detectors import code_lint
from traindoc.ingest.loader import load_run

_SETUP = "import torch\n!pip install tqdm\n%matplotlib inline\n"
_BROKEN = "def oops(:\n    pass\n"  # a cell Python cannot parse: left out, the rest still read
_BASH = "%%bash\nls -l data/\n"
# A course notebook's mistake: zero_grad once per epoch, before the batch loop, so every step re-applies the
# gradients of every earlier batch of the epoch.
_ONCE_PER_EPOCH = (
    "def train(model, optimizer, loader):\n"
    "    optimizer.zero_grad()\n"
    "    for x, y in loader:\n"
    "        loss = criterion(model(x), y)\n"
    "        loss.backward()\n"
    "        optimizer.step()\n")
_EVERY_STEP = _ONCE_PER_EPOCH.replace("    optimizer.zero_grad()\n", "").replace(
    "        loss = criterion", "        optimizer.zero_grad()\n        loss = criterion")
_LOG = "".join(f"Epoch: {e}, Train Loss: {2.0 - 0.1 * e:.4f}, Val Loss: {2.1 - 0.1 * e:.4f}\n" for e in range(1, 9))


def _notebook(path: Path, train_cell: str) -> Path:
    cells = [{"cell_type": "markdown", "metadata": {}, "source": ["# a lab\n"]}]
    for src, out in ((_SETUP, ""), (_BASH, ""), (_BROKEN, ""), (train_cell, ""), ("train(model, opt, loader)\n", _LOG)):
        outputs = [{"output_type": "stream", "name": "stdout", "text": out.splitlines(keepends=True)}] if out else []
        cells.append({"cell_type": "code", "metadata": {}, "execution_count": 1, "outputs": outputs,
                      "source": src.splitlines(keepends=True)})
    path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 2, "metadata": {}, "cells": cells}))
    return path


def test_a_notebook_loop_that_clears_once_per_epoch_is_read_as_code(tmp_path: Path) -> None:
    nb = _notebook(tmp_path / "lab.ipynb", _ONCE_PER_EPOCH)
    code = code_files.notebook_code(str(nb))
    assert code is not None
    text, starts = code
    assert "!pip" not in text and "%matplotlib" not in text and "ls -l" not in text and "oops" not in text
    assert [i for _s, i in starts] == [1, 4, 5]  # code cells 1, 4, 5 kept: 2 is a %%bash cell, 3 does not parse
    run = load_run([tmp_path])
    found = code_lint.detect_code_zero_grad_missing(run)
    assert found and found[0].cause == "zero_grad_missing", found
    assert "lab.ipynb, code cell 4, line 5" in found[0].evidence[0], found[0].evidence
    assert "only once before it" in found[0].evidence[0]  # the clear outside the loop is named, not missed
    assert found[0].fix_sites == []  # a plan edits text files, never a notebook's JSON
    assert "zero_grad_missing" not in ruled_out.ruled_out(run)  # a clear outside the loop rules nothing out


def test_a_notebook_loop_that_clears_every_step_is_silent(tmp_path: Path) -> None:
    run = load_run([_notebook(tmp_path / "lab.ipynb", _EVERY_STEP)])
    assert code_files.file_texts(run)  # the code was read ...
    assert code_lint.detect_code_zero_grad_missing(run) == []  # ... and it clears every step
    why = ruled_out.ruled_out(run).get("zero_grad_missing")
    assert why and "lab.ipynb, code cell 4, line 3" in why[0], why  # so the code rules the cause out, citing the cell


def test_an_unreadable_notebook_gives_no_code(tmp_path: Path) -> None:
    bad = tmp_path / "x.ipynb"
    bad.write_text("{not json")
    assert code_files.notebook_code(str(bad)) is None
    assert code_files.notebook_code(str(tmp_path / "missing.ipynb")) is None


def test_only_a_cell_that_does_not_parse_is_rewritten(tmp_path: Path) -> None:
    """`!=` opening a continuation line is Python: a cell that parses as it is keeps every line; a %%time cell keeps
    its body at its own line numbers."""
    cells = [{"cell_type": "code", "metadata": {}, "outputs": [], "source": "%%time\nok = (a\n      != b)\n"},
             {"cell_type": "code", "metadata": {}, "outputs": [], "source": "%time x = 1\ny = 2"}]
    nb = tmp_path / "n.ipynb"
    nb.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 2, "metadata": {}, "cells": cells}))
    code = code_files.notebook_code(str(nb))
    assert code is not None
    text, starts = code
    assert text.splitlines()[1:3] == ["ok = (a", "      != b)"] and "pass\ny = 2" in text, text
    assert starts == [(1, 1), (6, 2)]
    assert code_files.where(str(nb), 7) == "n.ipynb, code cell 2, line 2"
