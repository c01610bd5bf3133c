"""Letter model trained from a Hydra config (conf/config.yaml), overridable on the command line."""

import logging
import math
import os

import hydra
import torch
import torch.nn.functional as F
from chardata import VOCAB_SIZE, batch_ids, make_lines
from omegaconf import DictConfig

log = logging.getLogger(__name__)  # Hydra writes it to the run's folder (train.log) and the console

ACTIVATIONS = {"tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid, "gelu": torch.nn.GELU}


def build_model(cfg: DictConfig) -> torch.nn.Sequential:
    """Embedding, `depth` hidden layers ((LayerNorm) -> Linear -> activation, the norm first as in a pre-LN block),
    then the output layer."""
    layers: list[torch.nn.Module] = [torch.nn.Embedding(VOCAB_SIZE, cfg.width)]
    for _ in range(cfg.depth):
        norm = torch.nn.LayerNorm(cfg.width) if cfg.use_layer_norm else torch.nn.Identity()
        layers.append(torch.nn.Sequential(norm, torch.nn.Linear(cfg.width, cfg.width), ACTIVATIONS[cfg.activation]()))
    layers.append(torch.nn.Linear(cfg.width, VOCAB_SIZE))
    return torch.nn.Sequential(*layers)


def lr_at(step: int, cfg: DictConfig) -> float:
    """A linear warmup over optim.warmup_steps, then the LR held (schedule: constant) or decayed along a cosine to
    optim.min_lr at trainer.max_steps (schedule: cosine). Warmup 0 and constant: optim.lr itself at every step."""
    lr, warmup = cfg.optim.lr, cfg.optim.warmup_steps
    if step < warmup:
        return lr * (step + 1) / (warmup + 1)
    if cfg.optim.schedule == "constant":
        return lr
    progress = min(1.0, (step - warmup) / max(1, cfg.trainer.max_steps - warmup))
    return cfg.optim.min_lr + 0.5 * (1 + math.cos(math.pi * progress)) * (lr - cfg.optim.min_lr)


@hydra.main(version_base=None, config_path="conf", config_name="config")
def main(cfg: DictConfig) -> None:
    torch.manual_seed(cfg.seed)
    model = build_model(cfg.model).to(getattr(torch, cfg.trainer.dtype))
    if cfg.trainer.init_from:
        model.load_state_dict(torch.load(cfg.trainer.init_from, weights_only=True))
    if cfg.optim.name == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=cfg.optim.lr, momentum=0.9, weight_decay=cfg.optim.weight_decay)
    else:
        opt = torch.optim.AdamW(model.parameters(), lr=cfg.optim.lr, weight_decay=cfg.optim.weight_decay)
    lines = make_lines(2000, seed=1)
    step_loss = 0.0
    for i in range(cfg.trainer.max_steps * cfg.trainer.grad_accum_steps):
        ids, _ = batch_ids(lines[i % 1900:i % 1900 + 32])
        x = torch.tensor(ids)
        logits = model(x[:, :-1]).float()  # the loss in float32, whatever the weights' dtype
        loss = F.cross_entropy(logits.reshape(-1, VOCAB_SIZE), x[:, 1:].reshape(-1))
        step_loss += loss.item() / cfg.trainer.grad_accum_steps
        loss = loss / cfg.trainer.grad_accum_steps  # the accumulated gradient is the mean over the micro-batches
        loss.backward()
        if (i + 1) % cfg.trainer.grad_accum_steps == 0:
            # the total gradient norm, clipped when grad_clip is set (inf: measured only)
            norm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.optim.grad_clip or float("inf"))
            step = i // cfg.trainer.grad_accum_steps
            for group in opt.param_groups:
                group["lr"] = lr_at(step, cfg)
            opt.step()
            opt.zero_grad()
            lr = opt.param_groups[0]["lr"]
            log.info(f"step {step} loss {step_loss:.4f} grad_norm {norm.item():.4g} lr {lr:.4g}")
            step_loss = 0.0
    if cfg.trainer.save_to:
        os.makedirs(os.path.dirname(cfg.trainer.save_to) or ".", exist_ok=True)
        torch.save(model.state_dict(), cfg.trainer.save_to)


if __name__ == "__main__":
    main()
