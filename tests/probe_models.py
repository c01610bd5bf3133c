"""Small real torch.nn models for the probe tests, each healthy or with one bug built in (no training needed):
dead units (biases far negative before ReLU), vanishing gradients (deep sigmoid MLP, deep stack of RNN layers
with small recurrent weights), frozen parameters (an optimiser that holds the head only), leaks (a transformer
without its causal mask, a label copied into the features)."""

from __future__ import annotations

import torch
import torch.nn as nn

CLASSES = 4


def tabular(n: int = 64, d: int = 16, seed: int = 0, leak: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """A teacher-labelled classification batch; with leak=True feature 3 is the label plus a little noise."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g)
    y = (x @ torch.randn(d, CLASSES, generator=g)).argmax(-1)
    if leak:
        x[:, 3] = y.float() + 0.01 * torch.randn(n, generator=g)
    return x, y


def images(n: int = 64, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, 8, 8, generator=g)
    y = (x.flatten(1) @ torch.randn(64, CLASSES, generator=g)).argmax(-1)
    return x, y


def tokens(n: int = 16, t: int = 24, vocab: int = 32, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A next-token batch: inputs and the same rows shifted by one."""
    g = torch.Generator().manual_seed(seed)
    rows = torch.randint(0, vocab, (n, t + 1), generator=g)
    return rows[:, :-1], rows[:, 1:]


def sequences(n: int = 64, t: int = 12, d: int = 8, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, t, d, generator=g)
    y = (x.mean(1) @ torch.randn(d, CLASSES, generator=g)).argmax(-1)
    return x, y


class MLP(nn.Module):
    def __init__(self, d: int = 16, hidden: int = 32, depth: int = 3, act: type[nn.Module] = nn.ReLU,
                 dead: bool = False) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for i in range(depth):
            lin = nn.Linear(d if i == 0 else hidden, hidden)
            if dead:
                nn.init.constant_(lin.bias, -10.0)  # every pre-activation far below zero: the ReLUs never fire
            layers += [lin, act()]
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(hidden, CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


class CNN(nn.Module):
    def __init__(self, dead: bool = False) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1)
        self.act1, self.act2 = nn.ReLU(), nn.ReLU()
        self.head = nn.Linear(8 * 8 * 8, CLASSES)
        if dead:
            nn.init.constant_(self.conv1.bias, -10.0)
            nn.init.constant_(self.conv2.bias, -10.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.act2(self.conv2(self.act1(self.conv1(x)))).flatten(1))


class StackedRNN(nn.Module):
    """depth RNN layers; small=True shrinks every weight 20x, so each layer passes back a fraction of its gradient."""

    def __init__(self, d: int = 8, hidden: int = 16, depth: int = 1, cell: type[nn.Module] = nn.GRU,
                 small: bool = False) -> None:
        super().__init__()
        self.rnns = nn.ModuleList(cell(d if i == 0 else hidden, hidden, batch_first=True) for i in range(depth))
        if small:
            with torch.no_grad():
                for p in self.rnns.parameters():
                    p.mul_(0.05)
        self.head = nn.Linear(hidden, CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for rnn in self.rnns:
            x, _ = rnn(x)
        return self.head(x[:, -1])


class TinyLM(nn.Module):
    """Embedding + nn.TransformerEncoder + vocabulary head; causal=False drops the mask (reads future tokens)."""

    def __init__(self, vocab: int = 32, d: int = 32, layers: int = 2, causal: bool = True) -> None:
        super().__init__()
        self.causal = causal
        self.wte = nn.Embedding(vocab, d)
        self.wpe = nn.Embedding(64, d)
        layer = nn.TransformerEncoderLayer(d, 4, 64, dropout=0.0, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = nn.Linear(d, vocab)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        T = idx.shape[1]
        h = self.wte(idx) + self.wpe(torch.arange(T))
        if self.causal:
            mask = nn.Transformer.generate_square_subsequent_mask(T)
            h = self.encoder(h, mask=mask, is_causal=True)
        else:
            h = self.encoder(h)
        return self.head(h)
