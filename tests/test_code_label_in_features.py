"""The label column left among the features (evidence/detectors/code_lint.py, detect_code_label_in_features): listed
on the code alone, named beside the near-perfect fit it gives; silent when the column is dropped or popped."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from test_evidence_not_learning import STEPS, build
from traindoc.evidence.detectors import code_lint
from traindoc.ingest.model import Run

LEAKY = """\
import pandas as pd
from sklearn.model_selection import train_test_split

df = pd.read_csv("data.csv")
y = df["churned"].values
X = df.drop(columns=["customer_id"]).values  # meant: drop the label too
X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.2)
"""

CLEAN_DROP = LEAKY.replace('columns=["customer_id"]', 'columns=["customer_id", "churned"]')
CLEAN_POP = """\
import pandas as pd

def load(path):
    df = pd.read_csv(path)
    y = df.pop("churned")
    X = df.values
    return X, y
"""
UNKNOWABLE = LEAKY.replace('columns=["customer_id"]', "columns=DROP")  # a list held in a variable: not judged


def _with_code(tmp_path: Path, code: str, loss: np.ndarray):
    f = tmp_path / "train.py"
    f.write_text(code)
    run = build(loss)
    run.code_files = [str(f)]
    return run


def test_label_left_in_the_features_fires(tmp_path: Path) -> None:
    learns = 0.7 * np.exp(-STEPS / 300) + 0.3  # an ordinary curve: evidence against the code being what ran
    (f,) = code_lint.detect_code_label_in_features(_with_code(tmp_path, LEAKY, learns))
    assert f.cause == "label_leakage" and f.strength == code_lint.LABEL_IN_FEATURES_UNSEEN < 0.5
    assert "train.py:5" in f.evidence[0] and "train.py:6" in f.evidence[0]
    collapsed = 0.7 * np.exp(-STEPS / 5) + 1e-4  # the fit a feature equal to the target gives
    (g,) = code_lint.detect_code_label_in_features(_with_code(tmp_path, LEAKY, collapsed))
    assert g.strength == code_lint.LABEL_IN_FEATURES_SEEN >= 0.5 and len(g.evidence) == 2
    bare = Run()  # the code and no curve to weigh it: listed
    bare.code_files = [str(tmp_path / "train.py")]
    (h,) = code_lint.detect_code_label_in_features(bare.finalize())
    assert h.strength == code_lint.LABEL_IN_FEATURES < 0.5


def test_label_dropped_popped_or_unknowable_is_silent(tmp_path: Path) -> None:
    collapsed = 0.7 * np.exp(-STEPS / 5) + 1e-4
    for code in (CLEAN_DROP, CLEAN_POP, UNKNOWABLE):
        assert code_lint.detect_code_label_in_features(_with_code(tmp_path, code, collapsed)) == [], code
    assert code_lint.detect_code_label_in_features(build(collapsed)) == []  # no code at all


SCALED_THEN_SPLIT = """\
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

def prepare(X, y):
    X_scaled = StandardScaler().fit_transform(X)
    return train_test_split(X_scaled, y, test_size=0.2)
"""
SPLIT_THEN_SCALED = """\
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

def prepare(X, y):
    X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.2)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_val), y_train, y_val
"""


def test_scaler_fitted_before_the_split_is_listed(tmp_path: Path) -> None:
    (f,) = code_lint.detect_code_fit_before_split(_with_code(tmp_path, SCALED_THEN_SPLIT, np.full(STEPS.size, 0.5)))
    assert f.cause == "label_leakage" and f.strength == code_lint.FIT_BEFORE_SPLIT < 0.5
    assert "train.py:5" in f.evidence[0] and "train.py:6" in f.evidence[0]


def test_scaler_fitted_on_the_training_part_is_silent(tmp_path: Path) -> None:
    assert code_lint.detect_code_fit_before_split(_with_code(tmp_path, SPLIT_THEN_SCALED,
                                                             np.full(STEPS.size, 0.5))) == []
