"""The data every real-library run trains on: text from a sparse first-order Markov chain over letters.

Why a Markov chain: it is a real, learnable signal with a known floor. A model that learns the transition table
reaches the chain's entropy rate (about 1 nat per character here), far below the uniform ln(V) it starts from, so
"learned", "did not learn", "memorised" and "impossibly low" are all measurable on the raw numbers. Held-out lines
come from the same chain with another seed, so validation loss measures generalisation, not memory.

The corpus keeps one imperfection that real text files have: a few blank lines. Standard token-averaged losses
ignore them (they contribute no targets); the NaN fault's per-line average divides by their zero token count.
"""

from __future__ import annotations

import math
import random

ALPHABET = "abcdefghijklmnopqrst"  # 20 letters
PAD = 0  # token ids: 0 = pad, 1.. = letters
VOCAB_SIZE = len(ALPHABET) + 1
MAX_LEN = 40  # tokens per line, the model's context
SUCCESSORS = 3  # each letter is followed by one of 3 letters, so the entropy rate is at most ln 3 = 1.10 nats


def transition_table(seed: int = 1234) -> dict[str, tuple[list[str], list[float]]]:
    """Each letter gets SUCCESSORS likely successors with unequal weights (fixed seed: one language for all runs)."""
    rng = random.Random(seed)
    table = {}
    for ch in ALPHABET:
        nxt = rng.sample(ALPHABET, SUCCESSORS)
        weights = [rng.uniform(0.5, 1.5) for _ in nxt]
        total = sum(weights)
        table[ch] = (nxt, [w / total for w in weights])
    return table


def entropy_rate(table: dict[str, tuple[list[str], list[float]]] | None = None) -> float:
    """Average next-character entropy (nats) under a uniform start: the loss floor of a perfect model."""
    table = table or transition_table()
    return sum(-sum(p * math.log(p) for p in probs) for _, probs in table.values()) / len(table)


def make_lines(n: int, seed: int, blank_rate: float = 0.0, min_len: int = 16, max_len: int = MAX_LEN) -> list[str]:
    """n lines of chain text; each line is blank with probability blank_rate (a real corpus's empty lines)."""
    table = transition_table()
    rng = random.Random(seed)
    lines = []
    for _ in range(n):
        if rng.random() < blank_rate:
            lines.append("")
            continue
        length = rng.randint(min_len, max_len)
        ch = rng.choice(ALPHABET)
        out = [ch]
        for _ in range(length - 1):
            nxt, probs = table[ch]
            ch = rng.choices(nxt, probs)[0]
            out.append(ch)
        lines.append("".join(out))
    return lines


def encode(line: str) -> list[int]:
    """Character-level tokenizer: letter -> 1..20. No BOS/EOS, like a plain GPT-2 text pipeline."""
    return [ALPHABET.index(c) + 1 for c in line]


def pad_batch(lines: list[str], length: int = MAX_LEN) -> tuple[list[list[int]], list[list[int]]]:
    """Right-padded ids and the attention mask (1 = real token)."""
    ids, mask = [], []
    for line in lines:
        toks = encode(line)[:length]
        ids.append(toks + [PAD] * (length - len(toks)))
        mask.append([1] * len(toks) + [0] * (length - len(toks)))
    return ids, mask
