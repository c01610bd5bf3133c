"""detect_code_separate_permutations (evidence/detectors/code_lint.py): inputs and labels reindexed by two different
permutation draws, read from the run's code (parsed, never run). Small files in tmp_path, constructed series."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from traindoc.evidence.detectors import code_lint
from traindoc.ingest.model import ConfigValue, Run, Series

STEPS = np.arange(1, 301, 5)

SEPARATE = """import torch

def load(x, y):
    x = x[torch.randperm(len(x))]
    y = y[torch.randperm(len(y))]
    return x, y
"""
SEPARATE_TUPLE = """import numpy as np
rng = np.random.default_rng(0)

def load(tx, ty):
    tx, ty = tx[rng.permutation(len(tx))], ty[rng.permutation(len(ty))]
    return tx, ty
"""
PAIRED = """import torch

def load(x, y):
    perm = torch.randperm(len(x))
    x, y = x[perm], y[perm]
    idx = torch.randperm(len(x))
    x = x[idx]
    y = y[idx]
    return x, y
"""


def run_with(tmp_path: Path, code: str, at_chance: bool) -> Run:
    path = tmp_path / "data.py"
    path.write_text(code)
    run = Run()
    if at_chance:  # a loss at ln 8 with 1 % batch noise, accuracy ~1/8: a run that never learned
        loss = math.log(8) * (1 + 0.01 * np.random.default_rng(0).standard_normal(STEPS.size))
        run.add_series(Series("loss", STEPS, loss, "run/train.log"))
        ev = STEPS[5::6]
        run.add_series(Series("eval_accuracy", ev, 0.125 + 0.002 * (-1) ** np.arange(ev.size), "run/train.log"))
        run.put_config(ConfigValue("lr", 3e-4, "run/train.log", 1, "log_line", "3e-4"))
    run.code_files = [str(path)]
    return run.finalize()


def test_fires_on_separate_draws_strongly_beside_a_run_at_chance(tmp_path):
    (f,) = code_lint.detect_code_separate_permutations(run_with(tmp_path, SEPARATE, at_chance=True))
    assert f.cause == "data_pipeline_bug" and f.strength == code_lint.CODE_SHUFFLE_NOT_LEARNING >= 0.5
    assert "[data.py:4]" in f.evidence[0]


def test_code_alone_is_a_candidate_below_half(tmp_path):
    (f,) = code_lint.detect_code_separate_permutations(run_with(tmp_path, SEPARATE_TUPLE, at_chance=False))
    assert f.strength == code_lint.CODE_SHUFFLE_ALONE < 0.5 and "[data.py:5]" in f.evidence[0]


def test_silent_when_one_draw_indexes_both_or_the_file_does_not_parse(tmp_path):
    assert code_lint.detect_code_separate_permutations(run_with(tmp_path, PAIRED, at_chance=True)) == []
    assert code_lint.detect_code_separate_permutations(run_with(tmp_path, "def f(:\n  x = perm\n", True)) == []
