"""A freeze in the run's code (evidence/detectors/code_lint.py, detect_code_freeze): a fault beside a run that does
not learn, a design beside one that learns, silent when the code unfreezes again or freezes a copy (EMA, teacher)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from test_evidence_not_learning import STEPS, build, causes, chance_loss
from traindoc.evidence.detectors import code_lint

FREEZE_ALL_BUT_LAST = """\
import torch

def train(model, loader):
    for p in list(model.parameters())[:-1]:  # meant: freeze all but the last layer
        p.requires_grad = False
    opt = torch.optim.SGD(model.parameters(), lr=0.03)
    for x, y in loader:
        opt.zero_grad()
        model(x).backward()
        opt.step()
"""


def halving_loss() -> np.ndarray:
    """A head that learns: from ln 8 to under half of it over the run."""
    return np.log(8) * (0.4 + 0.6 * np.exp(-STEPS / 80))


def _with_code(tmp_path: Path, code: str, loss, accuracy=None):
    f = tmp_path / "train.py"
    f.write_text(code)
    run = build(loss, accuracy=accuracy)
    run.code_files = [str(f)]
    return run


def test_a_freeze_loop_beside_a_run_at_chance_is_frozen_params(tmp_path):
    (f,) = code_lint.detect_code_freeze(_with_code(tmp_path, FREEZE_ALL_BUT_LAST, chance_loss(8), accuracy=0.129))
    assert f.cause == "frozen_params" and f.strength == code_lint.CODE_FREEZE_NOT_LEARNING
    assert "train.py:5" in f.evidence[0] and "at chance" in f.evidence[1]
    # the freeze explains the run at chance, as a freeze flag does: no look-alike is listed as a candidate beside it
    listed = causes(_with_code(tmp_path, FREEZE_ALL_BUT_LAST, chance_loss(8), accuracy=0.129))
    assert all(v <= 0.15 for v in listed.values())  # dead_units kept as context only (0.15)
    # Keras and optax forms, beside a loss at chance too
    keras = "for layer in model.layers:\n    if layer.name != 'head':\n        layer.trainable = False\n"
    optax_ = ("import optax\n"
              "tx = optax.multi_transform({'train': optax.adam(1e-3), 'freeze': optax.set_to_zero()}, labels)\n")
    for code in (keras, optax_):
        (f,) = code_lint.detect_code_freeze(_with_code(tmp_path, code, chance_loss(8), accuracy=0.129))
        assert f.strength == code_lint.CODE_FREEZE_NOT_LEARNING


def test_a_freeze_is_a_design_when_the_loss_learns_and_silent_when_undone_or_on_a_copy(tmp_path):
    (f,) = code_lint.detect_code_freeze(_with_code(tmp_path, FREEZE_ALL_BUT_LAST, halving_loss(), accuracy=0.5))
    assert f.strength == code_lint.CODE_FREEZE_LEARNS < 0.5
    unfrozen = (FREEZE_ALL_BUT_LAST
                + "\ndef unfreeze(model):\n    for p in model.parameters():\n        p.requires_grad = True\n")
    assert code_lint.detect_code_freeze(_with_code(tmp_path, unfrozen, chance_loss(8), accuracy=0.129)) == []
    ema = "for p in ema_model.parameters():\n    p.requires_grad_(False)\n"
    assert code_lint.detect_code_freeze(_with_code(tmp_path, ema, chance_loss(8), accuracy=0.129)) == []
    assert code_lint.detect_code_freeze(build(chance_loss(8), accuracy=0.129)) == []  # no code
    # behind a switch the config decides whether it ran (detect_frozen_params reads the flag)
    switched = ("if cfg.freeze_backbone:\n    for name, p in model.named_parameters():\n"
                "        if name.startswith('blocks.'):\n            p.requires_grad_(False)\n")
    assert code_lint.detect_code_freeze(_with_code(tmp_path, switched, chance_loss(8), accuracy=0.129)) == []


def test_a_file_python_cannot_parse_is_skipped_and_the_others_still_read(tmp_path):
    """Nesting deep enough to exhaust the parser (a hostile or generated file) skips that file only: the freeze in
    the next file is still found, and the code-site locators share the same guarded parse."""
    from traindoc.evidence import code_sites

    deep = tmp_path / "generated.py"
    deep.write_text("p.requires_grad = False\nx = " + "+".join(["a"] * 200_000) + "\n")
    run = _with_code(tmp_path, FREEZE_ALL_BUT_LAST, chance_loss())
    run.code_files = [str(deep), *run.code_files]
    found = code_lint.code_freezes(run)
    assert [Path(p).name for p, _, _ in found] == ["train.py"]
    assert code_sites.parsed_source(str(deep), deep.read_text()) is None
    assert code_lint.detect_code_freeze(run)[0].strength == code_lint.CODE_FREEZE_NOT_LEARNING
