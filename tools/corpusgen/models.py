"""Tiny torch models of the four families, with the knobs the fault mechanisms turn (depth and activation for
vanishing gradients, hidden-bias init for dead units, recurrent gain for exploding gradients, an unguarded
input normalisation for nan_inf)."""

from __future__ import annotations

import math

import torch
from torch import nn

from corpusgen import data
from corpusgen.spec import Spec


def _act(name: str) -> nn.Module:
    return {"relu": nn.ReLU(), "sigmoid": nn.Sigmoid(), "tanh": nn.Tanh()}[name]


class InputNorm(nn.Module):
    """Per-sample input normalisation as users write it. eps=0 is the unguarded version (0/0 on a blank sample)."""

    def __init__(self, how: str, eps: float):
        super().__init__()
        self.how, self.eps = how, eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.how == "norm":  # rows: scale to unit length
            return x / (x.norm(dim=-1, keepdim=True) + self.eps) * math.sqrt(x.shape[-1])
        if self.how == "std":  # images: standardise each image
            m = x.mean(dim=(1, 2, 3), keepdim=True)
            return (x - m) / (x.std(dim=(1, 2, 3), keepdim=True) + self.eps)
        return x / (x.abs().amax(dim=(1, 2), keepdim=True) + self.eps)  # sequences: scale by the peak


class MLP(nn.Module):
    def __init__(self, s: Spec, n_in: int, n_out: int):
        super().__init__()
        width = 256 if s.extra.get("wide") else 64
        layers: list[nn.Module] = [InputNorm("norm", s.norm_eps)]
        d = n_in
        for _ in range(s.depth):
            layers += [nn.Linear(d, width), _act(s.act)]
            d = width
        layers.append(nn.Linear(d, n_out))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class CNN(nn.Module):
    def __init__(self, s: Spec, n_out: int):
        super().__init__()
        c = 16 if s.extra.get("wide") else 8
        convs: list[nn.Module] = [InputNorm("std", s.norm_eps)]
        ch = 1
        for i in range(max(2, s.depth)):
            convs += [nn.Conv2d(ch, c, 3, padding=1), _act(s.act)]
            ch = c
            if i < 2:
                convs.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*convs)
        self.classifier = nn.Linear(c * 9, n_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).flatten(1))


class RNN(nn.Module):
    def __init__(self, s: Spec):
        super().__init__()
        hidden = 64 if s.extra.get("wide") else 32
        self.norm = InputNorm("peak", s.norm_eps)
        if s.cause == "grad_explosion":
            self.rnn: nn.Module = nn.RNN(1, hidden, batch_first=True, nonlinearity="tanh")
            nn.init.orthogonal_(self.rnn.weight_hh_l0, gain=s.init_gain)
        else:
            self.rnn = (nn.LSTM if s.seed % 2 == 0 else nn.GRU)(1, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(self.norm(x))
        return self.head(out[:, -1]).squeeze(-1)


class TinyTransformer(nn.Module):
    def __init__(self, s: Spec):
        super().__init__()
        d = 64 if s.extra.get("wide") else 32
        self.embed = nn.Embedding(data.VOCAB, d)
        self.pos = nn.Parameter(torch.randn(data.LM_LEN, d) * 0.02)
        layer = nn.TransformerEncoderLayer(d, 2, 2 * d, dropout=0.0, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.head = nn.Linear(d, data.VOCAB)
        self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(data.LM_LEN), persistent=False)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        n = ids.shape[1]
        h = self.embed(ids) + self.pos[:n]
        return self.head(self.encoder(h, mask=self.mask[:n, :n], is_causal=True))


def build(s: Spec) -> nn.Module:
    if s.family == "mlp":
        model: nn.Module = MLP(s, 16, data.N_CLASSES["blobs"])
    elif s.family == "cnn":
        model = CNN(s, data.N_CLASSES["images"])
    elif s.family == "rnn":
        model = RNN(s)
    else:
        model = TinyTransformer(s)
    if s.bias_init is not None:  # dead_units: every hidden layer's bias (not the output layer's)
        hidden = [m for m in model.modules() if isinstance(m, nn.Linear | nn.Conv2d)][:-1]
        for m in hidden:
            nn.init.constant_(m.bias, s.bias_init)
    if s.act == "sigmoid":  # vanishing_gradients: the small Gaussian init of old tutorials
        for m in model.modules():
            if isinstance(m, nn.Linear | nn.Conv2d):
                nn.init.normal_(m.weight, std=0.1)
                nn.init.zeros_(m.bias)
    if s.cause == "frozen_params":
        for p in list(model.parameters())[:-1]:
            p.requires_grad = False
    return model


def optimizer(s: Spec, params) -> torch.optim.Optimizer:
    params = list(params)
    if s.optimizer == "sgd":
        return torch.optim.SGD(params, lr=s.lr, momentum=0.9, weight_decay=s.weight_decay)
    if s.optimizer == "adam":
        return torch.optim.Adam(params, lr=s.lr, weight_decay=s.weight_decay)
    if s.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=s.lr, weight_decay=s.weight_decay or 0.01)
    return torch.optim.RMSprop(params, lr=s.lr, weight_decay=s.weight_decay)


def lr_lambda(s: Spec, total: int):
    """Multiplier of the base LR at optimiser step t: warmup, then the schedule. scheduler_misuse's StepLR is
    built by the stacks themselves (it is the thing being misused)."""
    def f(t: int) -> float:
        if t < s.warmup:
            return (t + 1) / s.warmup
        frac = (t - s.warmup) / max(1, total - s.warmup)
        if s.schedule == "cosine":
            return 0.5 * (1 + math.cos(math.pi * frac))
        if s.schedule == "linear":
            return max(0.0, 1 - frac)
        if s.schedule == "step":
            return 0.1 ** int(frac * 3)  # /10 at 1/3 and 2/3 of the run
        return 1.0
    return f


def loss_fn(s: Spec, model: nn.Module, x: torch.Tensor, y: torch.Tensor, leak_shift: bool = False) -> tuple:
    """(loss, n_correct or None, n) for one batch. Classification: cross-entropy; series: MSE; lm: next-token CE
    (token-averaged, padding ignored) -- or, for nan_inf, the unguarded per-line mean."""
    k = data.kind(s.task)
    if k == "cls":
        logits = model(x)
        return nn.functional.cross_entropy(logits.float(), y), (logits.argmax(-1) == y).sum().item(), len(y)
    if k == "reg":
        pred = model(x)
        return nn.functional.mse_loss(pred.float(), y), None, len(y)
    inp = x
    if leak_shift:  # label_leakage: the user pre-shifts the inputs although the loss below shifts as well
        inp = torch.cat([x[:, 1:], torch.zeros_like(x[:, :1])], dim=1)
    logits = model(inp)[:, :-1].float()
    tgt = y[:, 1:]
    valid = (tgt != data.PAD).float()
    tok = nn.functional.cross_entropy(logits.reshape(-1, data.VOCAB), tgt.reshape(-1), reduction="none")
    tok = tok.view_as(valid)
    if s.cause == "nan_inf":
        loss = ((tok * valid).sum(1) / valid.sum(1)).mean()
    else:
        loss = (tok * valid).sum() / valid.sum().clamp_min(1)
    correct = ((logits.argmax(-1) == tgt).float() * valid).sum().item()
    return loss, correct, int(valid.sum().item())


def datasets(s: Spec) -> tuple[tuple, tuple]:
    """(train_x, train_y), (val_x, val_y) with the data-level mechanisms (leakage, shuffled labels) applied."""
    kw = {"seq_len": s.extra.get("seq_len", 20)} if s.task == "series" else {}
    tr = data.make(s.task, s.n_train, s.noise, seed=1000 + s.seed, **kw)
    va = data.make(s.task, 256, s.noise, seed=2000 + s.seed, **kw)
    if s.cause == "label_leakage" and s.task == "series":
        tr = data.series(s.n_train, s.noise, seed=1000 + s.seed, shift=1, **kw)
    if s.cause == "data_pipeline_bug" and s.variant == "shuffled_labels":
        g = torch.Generator().manual_seed(s.seed)
        tr = (tr[0][torch.randperm(len(tr[0]), generator=g)], tr[1][torch.randperm(len(tr[1]), generator=g)])
    return tr, va
