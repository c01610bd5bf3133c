"""Segmentation consoles the text reader misread (realworld U-Net threads): a tqdm bar whose `unit` is not "it" with
a `loss (batch)=` postfix, Pytorch-UNet's first console of `<fraction> --- loss: x` batch lines, and a per-step
sentence `loss for step: N = [x]` whose step number was read as the loss."""

from __future__ import annotations

from pathlib import Path

from textlog_support import points, read_text

_BAR = """Epoch 1/2: 100%|██████████| 79/79 [00:12<00:00,  6.33img/s, loss (batch)=0.93]
Validation round: 100%|██████████| 13/13 [00:01<00:00, 12.87img/s]
INFO: Validation Dice Coeff: 0.41
Epoch 2/2: 100%|██████████| 79/79 [00:11<00:00,  7.11img/s, loss (batch)=0.61]
Validation round: 100%|██████████| 13/13 [00:00<00:00, 18.31img/s]
INFO: Validation Dice Coeff: 0.55
"""


def test_bar_with_a_named_unit_and_a_qualified_postfix_key(tmp_path: Path) -> None:
    run = read_text(tmp_path, _BAR)
    # the batch's loss at epoch * total + n, as for any bar with an epoch in its description
    assert points(run, "loss") == [(158, 0.93), (237, 0.61)]


def test_bar_postfix_qualifier_other_than_the_batch_is_not_dropped(tmp_path: Path) -> None:
    # "(val)" names another split: that key is not read as the training loss
    run = read_text(tmp_path, _BAR.replace("loss (batch)", "loss (val)"))
    assert run.series("loss") is None


_UNET = """Starting epoch 1/2.
0.0000 --- loss: 0.693147
0.5000 --- loss: 0.512345
Epoch finished ! Loss: 0.6027
Validation Dice Coeff: 0.3100
Starting epoch 2/2.
0.0000 --- loss: 0.401234
0.5000 --- loss: 0.350000
Epoch finished ! Loss: 0.3756
Validation Dice Coeff: 0.4500
"""


def test_unet_fraction_lines_are_one_point_each(tmp_path: Path) -> None:
    run = read_text(tmp_path, _UNET)
    assert points(run, "loss") == [(1, 0.6931), (2, 0.5123), (3, 0.4012), (4, 0.35)]
    dice = run.series("val_dice")
    assert dice is not None and [round(float(v), 2) for v in dice.values] == [0.31, 0.45]


def test_name_for_step_sentence_puts_the_number_on_the_step(tmp_path: Path) -> None:
    run = read_text(tmp_path, "loss for step: 622 = [0.9068]\nloss for step: 623 = [0.9329]\n"
                              "loss for step: 624 = [0.8376]\n")
    assert points(run, "loss") == [(622, 0.9068), (623, 0.9329), (624, 0.8376)]
    # a "for" that names no step counter is left as printed
    run = read_text(tmp_path, "accuracy for class cat: 0.8\naccuracy for class dog: 0.7\n")
    assert run.series("loss") is None
