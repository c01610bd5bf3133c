"""Synthetic data made by code (nothing downloaded), one task per model family.

- blobs (MLP): 16 features, 8 classes, overlapping Gaussian clusters; `noise` sets the overlap, so the best
  reachable loss is well above 0 (~0.2-1.2 nats)
- images (CNN): 1x12x12 images of 6 class prototypes (smoothed random patterns) plus pixel noise.
- series (RNN): one-step forecasting of a noisy sum of two sines; windows of `seq_len` values.
- lm (transformer): token sequences from a sparse first-order Markov chain over 16 symbols (entropy ~1 nat).

Class labels carry 5-15% label noise (as annotated data does), so memorising a small training set hurts held-out
loss. Every task keeps a rare real-data imperfection: a few all-zero rows / blank images / flat sequences / blank lines
(2 per 1024 samples). Guarded code ignores them; the nan_inf mechanism's unguarded division does not.
"""

from __future__ import annotations

import numpy as np
import torch

N_CLASSES = {"blobs": 8, "images": 6}
VOCAB, LM_LEN, PAD = 16, 24, 0
BLANKS_PER_1024 = 2


def _flip(y: np.ndarray, classes: int, noise: float, rng: np.random.Generator) -> np.ndarray:
    """Label noise as real annotation has: a share 0.1 * noise (5-15%) of labels replaced by a random class."""
    flip = rng.random(len(y)) < 0.1 * noise
    return np.where(flip, rng.integers(classes, size=len(y)), y)


def _blanks(n: int, rng: np.random.Generator) -> np.ndarray:
    k = max(1, round(n * BLANKS_PER_1024 / 1024)) if n >= 256 else 0
    return rng.choice(n, size=k, replace=False)


def blobs(n: int, noise: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    centers = np.random.default_rng(7).normal(size=(N_CLASSES["blobs"], 16)) * 0.6
    rng = np.random.default_rng(seed)
    y = rng.integers(N_CLASSES["blobs"], size=n)
    x = centers[y] + noise * rng.normal(size=(n, 16))
    x[_blanks(n, rng)] = 0.0
    return torch.tensor(x, dtype=torch.float32), torch.tensor(_flip(y, N_CLASSES["blobs"], noise, rng))


def images(n: int, noise: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    proto = np.random.default_rng(8).normal(size=(N_CLASSES["images"], 12, 12))
    # smooth the prototypes so they are shapes, not salt: a 3x3 box blur applied twice
    for _ in range(2):
        padded = np.pad(proto, ((0, 0), (1, 1), (1, 1)), mode="edge")
        proto = sum(padded[:, i:i + 12, j:j + 12] for i in range(3) for j in range(3)) / 9
    proto /= proto.std(axis=(1, 2), keepdims=True)
    rng = np.random.default_rng(seed)
    y = rng.integers(N_CLASSES["images"], size=n)
    x = proto[y] + 1.2 * noise * rng.normal(size=(n, 12, 12))
    x[_blanks(n, rng)] = 0.0
    return torch.tensor(x[:, None], dtype=torch.float32), torch.tensor(_flip(y, N_CLASSES["images"], noise, rng))


def series(n: int, noise: float, seed: int, seq_len: int = 20, shift: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Windows x = s[i+shift : i+shift+L] and target y = s[i+L]. shift=0 is correct; shift=1 is the off-by-one
    that puts the target inside the window."""
    rng = np.random.default_rng(seed)
    t = np.arange(seq_len + 2)[None, :]
    f1, f2 = rng.uniform(0.15, 0.35, size=(n, 1)), rng.uniform(0.5, 0.9, size=(n, 1))
    p1, p2 = rng.uniform(0, 2 * np.pi, size=(n, 1)), rng.uniform(0, 2 * np.pi, size=(n, 1))
    s = np.sin(f1 * t + p1) + 0.5 * np.sin(f2 * t + p2) + 0.3 * noise * rng.normal(size=(n, seq_len + 2))
    s[_blanks(n, rng)] = 0.0
    x = s[:, shift:shift + seq_len]
    y = s[:, seq_len]
    return torch.tensor(x[:, :, None], dtype=torch.float32), torch.tensor(y, dtype=torch.float32)


def lm(n: int, noise: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Token ids (n, LM_LEN); returned twice (inputs, targets) -- the loss shifts. Token 0 is padding; `noise` is
    the share of uniformly random next tokens mixed into the chain."""
    table_rng = np.random.default_rng(9)
    succ = np.stack([table_rng.choice(np.arange(1, VOCAB), size=3, replace=False) for _ in range(VOCAB)])
    probs = table_rng.uniform(0.5, 1.5, size=(VOCAB, 3))
    probs /= probs.sum(axis=1, keepdims=True)
    rng = np.random.default_rng(seed)
    ids = np.zeros((n, LM_LEN), dtype=np.int64)
    ids[:, 0] = rng.integers(1, VOCAB, size=n)
    mix = 0.1 * noise
    for t in range(1, LM_LEN):
        prev = ids[:, t - 1]
        pick = np.array([rng.choice(succ[p], p=probs[p]) for p in prev])
        rand = rng.integers(1, VOCAB, size=n)
        ids[:, t] = np.where(rng.random(n) < mix, rand, pick)
    ids[_blanks(n, rng)] = PAD
    t_ids = torch.tensor(ids)
    return t_ids, t_ids.clone()


def make(task: str, n: int, noise: float, seed: int, **kw) -> tuple[torch.Tensor, torch.Tensor]:
    return {"blobs": blobs, "images": images, "series": series, "lm": lm}[task](n, noise, seed, **kw)


def kind(task: str) -> str:
    return {"blobs": "cls", "images": "cls", "series": "reg", "lm": "lm"}[task]
