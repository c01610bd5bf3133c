"""Train the letter model with the settings of config.TrainConfig."""

import json
from dataclasses import asdict
from pathlib import Path

import torch
import torch.nn.functional as F
from chardata import VOCAB_SIZE, batch_ids, make_lines
from config import TrainConfig

ACTIVATIONS = {"tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid, "gelu": torch.nn.GELU}


def build_model(cfg: TrainConfig, width: int = 64) -> torch.nn.Sequential:
    """Embedding, `depth` hidden layers ((LayerNorm) -> Linear -> activation, the norm first as in a pre-LN block),
    then the output layer (depth 0: the embedding and the output layer alone)."""
    layers: list[torch.nn.Module] = [torch.nn.Embedding(VOCAB_SIZE, width)]
    for _ in range(cfg.depth):
        norm = torch.nn.LayerNorm(width) if cfg.use_layer_norm else torch.nn.Identity()
        layers.append(torch.nn.Sequential(norm, torch.nn.Linear(width, width), ACTIVATIONS[cfg.activation]()))
    layers.append(torch.nn.Linear(width, VOCAB_SIZE))
    return torch.nn.Sequential(*layers)


def main(cfg: TrainConfig) -> None:
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(asdict(cfg)))
    torch.manual_seed(0)
    model = build_model(cfg)
    if cfg.optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=0.9, weight_decay=cfg.weight_decay)
    else:
        opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    lines = make_lines(2000, seed=1)
    with open(out / "metrics.jsonl", "w") as log:
        step_loss = 0.0
        for i in range(cfg.steps * cfg.grad_accum_steps):
            ids, _ = batch_ids(lines[i % 1900:i % 1900 + 32])
            x = torch.tensor(ids)
            loss = F.cross_entropy(model(x[:, :-1]).reshape(-1, VOCAB_SIZE), x[:, 1:].reshape(-1))
            step_loss += loss.item() / cfg.grad_accum_steps
            loss = loss / cfg.grad_accum_steps  # the accumulated gradient is the mean over the micro-batches
            loss.backward()
            if (i + 1) % cfg.grad_accum_steps == 0:
                opt.step()
                opt.zero_grad()
                log.write(json.dumps({"step": i // cfg.grad_accum_steps, "loss": step_loss}) + "\n")
                step_loss = 0.0


if __name__ == "__main__":
    main(TrainConfig())
