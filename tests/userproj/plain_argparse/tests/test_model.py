import torch
from train import NextLetter


def test_shapes():
    model = NextLetter(21)
    assert model(torch.zeros(2, 5, dtype=torch.long)).shape == (2, 5, 21)
