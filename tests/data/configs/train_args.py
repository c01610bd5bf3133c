"""A training script's own settings: a dataclass tree and argparse flags (both common in real trainers)."""
import argparse
from dataclasses import dataclass, field


@dataclass
class OptimConfig:
    muon_lr: float = 1e-2
    adam_lr: float = field(default=3e-4, metadata={"help": "AdamW LR for embeddings and 1-D params"})
    grokfast_lambda: float = 2.0
    betas: tuple = (0.9, 0.95)
    name: str = "mugrokfast"


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--lr", "--learning-rate", type=float, default=6e-4, help="peak LR")
    p.add_argument("--warmup-steps", type=int, default=0)
    p.add_argument("--grad_clip", type=float, default=0.0)
    p.add_argument("-b", dest="batch_size", type=int, default=32)
    p.add_argument("--out", default="runs/")
    return p.parse_args()
