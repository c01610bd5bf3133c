"""All training settings in one place."""

from dataclasses import dataclass


@dataclass
class TrainConfig:
    optimizer: str = "adamw"  # or "sgd" (momentum 0.9)
    lr: float = 1.0
    weight_decay: float = 0.01
    warmup_steps: int = 0
    schedule: str = "constant"  # constant or cosine (after a linear warmup, down to min_lr at the last step)
    min_lr: float = 3e-5
    grad_clip: float = 0.0
    steps: int = 300
    grad_accum_steps: int = 1  # micro-batches of 32 per optimizer step
    depth: int = 0  # hidden layers between the embedding and the output layer
    activation: str = "tanh"  # of the hidden layers: tanh, sigmoid or gelu
    use_layer_norm: bool = True  # a LayerNorm in front of each hidden layer's Linear
    width: int = 64  # of the embedding and the hidden layers
    dtype: str = "float32"  # of the weights and with them the optimizer state: float32, bfloat16 or float16
    init_from: str | None = None  # weights saved by an earlier run (save_to): continue from them
    save_to: str | None = None  # save the trained weights here
    out_dir: str = "runs/latest"
