"""Train the letter model with the settings of config.TrainConfig."""

import json
import math
from dataclasses import asdict
from pathlib import Path

import torch
import torch.nn.functional as F
from chardata import VOCAB_SIZE, batch_ids, make_lines
from config import TrainConfig

ACTIVATIONS = {"tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid, "gelu": torch.nn.GELU}


def build_model(cfg: TrainConfig) -> torch.nn.Sequential:
    """Embedding, `depth` hidden layers ((LayerNorm) -> Linear -> activation, the norm first as in a pre-LN block),
    then the output layer (depth 0: the embedding and the output layer alone)."""
    width = cfg.width
    layers: list[torch.nn.Module] = [torch.nn.Embedding(VOCAB_SIZE, width)]
    for _ in range(cfg.depth):
        norm = torch.nn.LayerNorm(width) if cfg.use_layer_norm else torch.nn.Identity()
        layers.append(torch.nn.Sequential(norm, torch.nn.Linear(width, width), ACTIVATIONS[cfg.activation]()))
    layers.append(torch.nn.Linear(width, VOCAB_SIZE))
    return torch.nn.Sequential(*layers)


def lr_at(step: int, cfg: TrainConfig) -> float:
    """A linear warmup over cfg.warmup_steps, then the LR held (schedule "constant") or decayed along a cosine to
    cfg.min_lr at the last step (schedule "cosine"). Warmup 0 and constant: cfg.lr itself at every step."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / (cfg.warmup_steps + 1)
    if cfg.schedule == "constant":
        return cfg.lr
    progress = min(1.0, (step - cfg.warmup_steps) / max(1, cfg.steps - cfg.warmup_steps))
    return cfg.min_lr + 0.5 * (1 + math.cos(math.pi * progress)) * (cfg.lr - cfg.min_lr)


def main(cfg: TrainConfig) -> None:
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(asdict(cfg)))
    torch.manual_seed(0)
    model = build_model(cfg).to(getattr(torch, cfg.dtype))
    if cfg.init_from:
        model.load_state_dict(torch.load(cfg.init_from, weights_only=True))
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
            logits = model(x[:, :-1]).float()  # the loss in float32, whatever the weights' dtype
            loss = F.cross_entropy(logits.reshape(-1, VOCAB_SIZE), x[:, 1:].reshape(-1))
            step_loss += loss.item() / cfg.grad_accum_steps
            loss = loss / cfg.grad_accum_steps  # the accumulated gradient is the mean over the micro-batches
            loss.backward()
            if (i + 1) % cfg.grad_accum_steps == 0:
                step = i // cfg.grad_accum_steps
                for group in opt.param_groups:
                    group["lr"] = lr_at(step, cfg)
                opt.step()
                opt.zero_grad()
                log.write(json.dumps({"step": step, "loss": step_loss, "lr": opt.param_groups[0]["lr"]}) + "\n")
                step_loss = 0.0
    if cfg.save_to:
        Path(cfg.save_to).parent.mkdir(parents=True, exist_ok=True)
        torch.save(model.state_dict(), cfg.save_to)


if __name__ == "__main__":
    main(TrainConfig())
