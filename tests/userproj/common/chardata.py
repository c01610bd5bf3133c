"""Training text for the fixture projects: a sparse Markov chain over 20 letters (a learnable signal with a loss
floor near 1 nat per character), tokenised one letter per id. Copied into every fixture project so each one is
self-contained, as a user's project would be."""

import random

ALPHABET = "abcdefghijklmnopqrst"
PAD = 0
VOCAB_SIZE = len(ALPHABET) + 1
MAX_LEN = 32


def _table(seed: int = 1234) -> dict:
    rng = random.Random(seed)
    table = {}
    for ch in ALPHABET:
        nxt = rng.sample(ALPHABET, 3)
        w = [rng.uniform(0.5, 1.5) for _ in nxt]
        table[ch] = (nxt, [x / sum(w) for x in w])
    return table


def make_lines(n: int, seed: int) -> list[str]:
    table, rng, lines = _table(), random.Random(seed), []
    for _ in range(n):
        ch = rng.choice(ALPHABET)
        out = [ch]
        for _ in range(rng.randint(16, MAX_LEN) - 1):
            nxt, probs = table[ch]
            ch = rng.choices(nxt, probs)[0]
            out.append(ch)
        lines.append("".join(out))
    return lines


def batch_ids(lines: list[str]) -> tuple[list[list[int]], list[list[int]]]:
    ids, mask = [], []
    for line in lines:
        toks = [ALPHABET.index(c) + 1 for c in line][:MAX_LEN]
        ids.append(toks + [PAD] * (MAX_LEN - len(toks)))
        mask.append([1] * len(toks) + [0] * (MAX_LEN - len(toks)))
    return ids, mask
