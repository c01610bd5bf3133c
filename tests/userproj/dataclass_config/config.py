"""All training settings in one place."""

from dataclasses import dataclass


@dataclass
class TrainConfig:
    lr: float = 1.0
    weight_decay: float = 0.01
    warmup_steps: int = 0
    grad_clip: float = 0.0
    steps: int = 300
    out_dir: str = "runs/latest"
