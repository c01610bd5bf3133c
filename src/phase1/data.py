"""Offline data for Phase 1: an in-process curriculum (Foundation -> Reasoning -> Advanced) or local text files.

Nothing here touches the network. The curriculum tasks are generated from a seeded RNG, so every run (and every
resume) sees the same examples in the same order. Each task has a real, learnable answer:

  Foundation  copy / reverse / count a random string, 1-digit sums  "Q: reverse kq7t A: t7qk"
  Reasoning   two-operand arithmetic and comparisons                "Q: 23+45 A: 68"
  Advanced    multi-step arithmetic with worked steps, sorting      "Q: 12+7-5 A: 12+7=19, 19-5=14, so 14"

A stage's data is (1 - data.stage_mix) its own tasks and data.stage_mix tasks of the other stages. Examples are
packed back to back into rows of seq_len + 1 tokens (inputs = row[:-1], targets = row[1:]): no padding, every
position is a prediction.
"""

from __future__ import annotations

import json
import random
import string
from collections.abc import Callable
from pathlib import Path

import torch

from .config import Config, DataConfig

STAGES = ("Foundation", "Reasoning", "Advanced")


class DataError(ValueError):
    """Unusable data source or tokenizer files; the message is one line meant for the user."""


# ---- tokenizers ----------------------------------------------------------------------------------------------
class ByteTokenizer:
    """UTF-8 bytes as ids 0..255, plus PAD/BOS/EOS. Zero dependencies, no vocabulary files."""

    PAD, BOS, EOS = 256, 257, 258
    vocab_size = 260  # one spare id keeps the table a multiple of 4
    name = "byte"

    def encode(self, text: str) -> list[int]:
        return list(text.encode("utf-8"))

    def decode(self, ids: list[int]) -> str:
        return bytes(i for i in ids if i < 256).decode("utf-8", errors="replace")


class GPT2Tokenizer:
    """GPT-2 BPE from local vocab/merges files (tiktoken if installed, else tokenizers). Never downloads.

    The real GPT-2 files give 50257 ids with <|endoftext|> = 50256; any byte-level BPE pair in the same format
    works, its size read from the vocabulary file."""

    name = "gpt2"

    def __init__(self, vocab_path: str, merges_path: str) -> None:
        for path in (vocab_path, merges_path):
            if not path or not Path(path).is_file():
                raise DataError(
                    "data.tokenizer=gpt2 needs local files: set data.bpe_vocab (encoder.json) and data.bpe_merges "
                    f"(vocab.bpe); {path or 'an empty path'} is not a file (nothing is ever downloaded)"
                )
        try:
            vocab = json.loads(Path(vocab_path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DataError(f"data.bpe_vocab {vocab_path} is not a JSON vocabulary: {exc}") from exc
        if not isinstance(vocab, dict) or not vocab:
            raise DataError(f"data.bpe_vocab {vocab_path} must map tokens to ids")
        self.vocab_size = max(vocab.values()) + 1
        self.EOS = self.BOS = self.PAD = vocab.get("<|endoftext|>", self.vocab_size - 1)
        try:
            import tiktoken
            from tiktoken.load import data_gym_to_mergeable_bpe_ranks

            ranks = data_gym_to_mergeable_bpe_ranks(vocab_bpe_file=merges_path, encoder_json_file=vocab_path)
            enc = tiktoken.Encoding(
                name="gpt2-local",
                pat_str=r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""",
                mergeable_ranks=ranks,
                special_tokens={"<|endoftext|>": self.EOS},
            )
            self._encode, self._decode = enc.encode_ordinary, enc.decode
        except ImportError:
            try:  # Hugging Face `tokenizers` (installed with transformers): the same byte-level BPE
                from tokenizers import Tokenizer, decoders, models, pre_tokenizers
            except ImportError as exc:
                raise DataError("data.tokenizer=gpt2 needs tiktoken or tokenizers installed") from exc
            try:
                tok = Tokenizer(models.BPE.from_file(vocab_path, merges_path))
            except Exception as exc:  # noqa: BLE001 - the library raises plain Exceptions on malformed files
                raise DataError(f"cannot load BPE files {vocab_path}, {merges_path}: {exc}") from exc
            tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
            tok.decoder = decoders.ByteLevel()
            self._encode = lambda text: tok.encode(text).ids
            self._decode = lambda ids: tok.decode(ids)

    def encode(self, text: str) -> list[int]:
        return list(self._encode(text))

    def decode(self, ids: list[int]) -> str:
        return self._decode([i for i in ids if i != self.EOS])


def build_tokenizer(cfg: DataConfig) -> ByteTokenizer | GPT2Tokenizer:
    if cfg.tokenizer == "gpt2":
        return GPT2Tokenizer(cfg.bpe_vocab, cfg.bpe_merges)
    return ByteTokenizer()


# ---- curriculum tasks ----------------------------------------------------------------------------------------
# Foundation strings mix letters, digits and the operators of later stages, so a stage switch changes the task,
# not the alphabet: otherwise the first Reasoning batch meets never-seen byte embeddings and the loss jumps back
# to its initial value in every run, healthy or not.
ALPHABET = string.ascii_lowercase + string.digits + "+-=*,"


def _word(rng: random.Random, lo: int = 3, hi: int = 6) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(lo, hi)))


def task_copy(rng: random.Random, n: int) -> str:
    w = _word(rng)
    return f"Q: copy {w} A: {w}"


def task_reverse(rng: random.Random, n: int) -> str:
    w = _word(rng)
    return f"Q: reverse {w} A: {w[::-1]}"


def task_count(rng: random.Random, n: int) -> str:
    c = rng.choice(string.ascii_lowercase)
    k = rng.randint(1, 9)
    return f"Q: count {c * k} A: {k}"


def task_add_digit(rng: random.Random, n: int) -> str:
    a, b = rng.randint(0, 9), rng.randint(0, 9)
    return f"Q: {a}+{b} A: {a + b}"


def task_add(rng: random.Random, n: int) -> str:
    a, b = rng.randint(0, n), rng.randint(0, n)
    return f"Q: {a}+{b} A: {a + b}"


def task_sub(rng: random.Random, n: int) -> str:
    a, b = sorted((rng.randint(0, n), rng.randint(0, n)), reverse=True)
    return f"Q: {a}-{b} A: {a - b}"


def task_max(rng: random.Random, n: int) -> str:
    a, b = rng.randint(0, n), rng.randint(0, n)
    return f"Q: max {a} {b} A: {max(a, b)}"


def task_chain(rng: random.Random, n: int) -> str:
    a, b, c = rng.randint(0, n), rng.randint(0, n), rng.randint(0, n)
    ab = a + b
    if rng.random() < 0.5 and c <= ab:
        return f"Q: {a}+{b}-{c} A: {a}+{b}={ab}, {ab}-{c}={ab - c}, so {ab - c}"
    return f"Q: {a}+{b}+{c} A: {a}+{b}={ab}, {ab}+{c}={ab + c}, so {ab + c}"


def task_double_add(rng: random.Random, n: int) -> str:
    a, b = rng.randint(0, n), rng.randint(0, 9)
    return f"Q: double {a} then add {b} A: {a}*2={2 * a}, {2 * a}+{b}={2 * a + b}, so {2 * a + b}"


def task_sort(rng: random.Random, n: int) -> str:
    xs = [rng.randint(0, 9) for _ in range(rng.randint(3, 5))]
    return f"Q: sort {' '.join(map(str, xs))} A: {' '.join(map(str, sorted(xs)))}"


TASKS: dict[str, list[Callable[[random.Random, int], str]]] = {
    "Foundation": [task_copy, task_reverse, task_count, task_add_digit],
    "Reasoning": [task_add, task_sub, task_max],
    "Advanced": [task_chain, task_double_add, task_sort],
}

# Fixed prompts for the generated samples (one per stage, plus an earlier stage's to show forgetting/collapse).
SAMPLE_PROMPTS: dict[str, list[str]] = {
    "Foundation": ["Q: reverse abcde A:", "Q: copy hello A:"],
    "Reasoning": ["Q: 23+45 A:", "Q: reverse abcde A:"],
    "Advanced": ["Q: 12+7-5 A:", "Q: 23+45 A:"],
    "File": ["The ", "\n"],
}


def stage_example(stage: str, rng: random.Random, max_number: int, mix: float) -> str:
    """A stage's own tasks with probability 1 - mix, otherwise a task of another stage (earlier or later).

    Mixing keeps every task format in view from the start, so a stage switch shifts the task distribution
    (Foundation-heavy -> Advanced-heavy) instead of confronting the model with text it has never seen; mix=0 gives
    pure stages and the sharpest possible switch."""
    if mix > 0 and rng.random() < mix:
        stage = rng.choice([s for s in STAGES if s != stage])
    return rng.choice(TASKS[stage])(rng, max_number)


def pack(texts_iter: Callable[[], str], tok, n_rows: int, row_len: int) -> torch.Tensor:
    """Concatenate examples (each followed by a newline) and cut into n_rows rows of row_len tokens."""
    need = n_rows * row_len
    ids: list[int] = []
    while len(ids) < need:
        ids.extend(tok.encode(texts_iter() + "\n"))
    return torch.tensor(ids[:need], dtype=torch.long).view(n_rows, row_len)


class Phase1Data:
    """Train/val rows per stage plus deterministic batching (the same batches after a resume, on every rank)."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        d = cfg.data
        self.tok = build_tokenizer(d)
        if self.tok.vocab_size > cfg.model.vocab_size:
            raise DataError(
                f"model.vocab_size ({cfg.model.vocab_size}) is smaller than the {self.tok.name} tokenizer's "
                f"{self.tok.vocab_size} ids"
            )
        row = d.seq_len + 1
        self.train: dict[str, torch.Tensor] = {}
        self.val: dict[str, torch.Tensor] = {}
        if d.source == "curriculum":
            self.stages = STAGES
            for i, stage in enumerate(STAGES):
                # separate seeds per stage and split: validation examples are drawn independently of training ones
                rng_t = random.Random(cfg.train.seed * 7919 + i)
                rng_v = random.Random(cfg.train.seed * 7919 + 1000 + i)
                self.train[stage] = pack(lambda r=rng_t, s=stage: stage_example(s, r, d.max_number, d.stage_mix),
                                         self.tok, d.train_size, row)
                self.val[stage] = pack(lambda r=rng_v, s=stage: stage_example(s, r, d.max_number, d.stage_mix),
                                       self.tok, d.val_size, row)
        else:
            self.stages = ("File",)
            ids = torch.tensor(self._read_file(Path(d.source)), dtype=torch.long)
            n_rows = len(ids) // row
            if n_rows < 2:
                raise DataError(f"{d.source}: too little text for even two rows of data.seq_len+1={row} tokens")
            rows = ids[: n_rows * row].view(n_rows, row)
            n_val = max(1, min(d.val_size, n_rows // 10))  # the last ~10% of the file is held out
            self.train["File"], self.val["File"] = rows[:-n_val], rows[-n_val:]

    def _read_file(self, path: Path) -> list[int]:
        try:
            raw = path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise DataError(f"cannot read data.source {path}: {exc.strerror}") from exc
        if path.suffix == ".jsonl":
            texts = []
            for n, line in enumerate(raw.splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise DataError(f"{path}:{n}: not JSON ({exc.msg})") from exc
                field = self.cfg.data.text_field
                if not isinstance(rec, dict) or not isinstance(rec.get(field), str):
                    raise DataError(f"{path}:{n}: no string field {field!r} (set data.text_field)")
                texts.append(rec[field])
            raw = "\n".join(texts)
        return self.tok.encode(raw)

    # ---- schedule ----------------------------------------------------------------------------------------------
    def stage_for_epoch(self, epoch: int) -> str:
        """Curriculum stage of a 1-based epoch."""
        if len(self.stages) == 1:
            return self.stages[0]
        d = self.cfg.data
        if epoch >= d.advanced_epoch:
            return "Advanced"
        if epoch >= d.reasoning_epoch:
            return "Reasoning"
        return "Foundation"

    def steps_per_epoch(self, world_size: int = 1) -> int:
        t = self.cfg.train
        if t.steps_per_epoch > 0:
            return t.steps_per_epoch
        n = min(len(rows) for rows in self.train.values())
        return max(1, n // (t.batch_size * world_size))

    def batch(
        self, stage: str, epoch: int, step_in_epoch: int, rank: int = 0, world_size: int = 1
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Rows for one step: a seeded per-epoch permutation, each rank taking its own disjoint slice."""
        rows = self.train[stage]
        n, bs = len(rows), self.cfg.train.batch_size
        start = (step_in_epoch * world_size + rank) * bs
        idx = []
        # wrap into further permutations when steps_per_epoch asks for more rows than one pass holds
        while len(idx) < bs:
            lap, offset = divmod(start + len(idx), n)
            g = torch.Generator().manual_seed(self.cfg.train.seed * 100_003 + epoch * 101 + lap)
            perm = torch.randperm(n, generator=g)
            take = min(bs - len(idx), n - offset)
            idx.extend(perm[offset : offset + take].tolist())
        chunk = rows[idx]
        return chunk[:, :-1], chunk[:, 1:]

    def val_batches(self, stage: str, max_batches: int = 0):
        rows = self.val[stage]
        bs = self.cfg.train.batch_size
        for i, start in enumerate(range(0, len(rows), bs)):
            if max_batches and i >= max_batches:
                break
            chunk = rows[start : start + bs]
            yield chunk[:, :-1], chunk[:, 1:]
