"""Letter model tracked with MLflow, launched as an MLflow Project: `mlflow run . -P lr=...` (see MLproject)."""

import argparse
import math
import os

import mlflow
import torch
import torch.nn.functional as F
from chardata import VOCAB_SIZE, batch_ids, make_lines

ACTIVATIONS = {"tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid, "gelu": torch.nn.GELU}


def truthy(text: str) -> bool:
    """An MLproject parameter is a string or a number, never a boolean: `-P use_layer_norm=false` arrives as text."""
    if text.lower() not in ("true", "false", "1", "0"):
        raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")
    return text.lower() in ("true", "1")


def lr_at(step: int, args: argparse.Namespace) -> float:
    """A linear warmup over args.warmup_steps, then the LR held (schedule "constant") or decayed along a cosine to
    args.min_lr at the last step (schedule "cosine"). Warmup 0 and constant: args.lr itself at every step."""
    if step < args.warmup_steps:
        return args.lr * (step + 1) / (args.warmup_steps + 1)
    if args.schedule == "constant":
        return args.lr
    progress = min(1.0, (step - args.warmup_steps) / max(1, args.steps - args.warmup_steps))
    return args.min_lr + 0.5 * (1 + math.cos(math.pi * progress)) * (args.lr - args.min_lr)


def build_model(depth: int, activation: str, use_layer_norm: bool, width: int = 64) -> torch.nn.Sequential:
    """Embedding, `depth` hidden layers ((LayerNorm) -> Linear -> activation, the norm first as in a pre-LN block),
    then the output layer (depth 0: the embedding and the output layer alone)."""
    layers: list[torch.nn.Module] = [torch.nn.Embedding(VOCAB_SIZE, width)]
    for _ in range(depth):
        norm = torch.nn.LayerNorm(width) if use_layer_norm else torch.nn.Identity()
        layers.append(torch.nn.Sequential(norm, torch.nn.Linear(width, width), ACTIVATIONS[activation]()))
    layers.append(torch.nn.Linear(width, VOCAB_SIZE))
    return torch.nn.Sequential(*layers)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--optimizer", default="adamw", choices=["adamw", "sgd"])
    p.add_argument("--grad_accum_steps", type=int, default=1, help="micro-batches of 32 per optimizer step")
    p.add_argument("--depth", type=int, default=0, help="hidden layers between the embedding and the output layer")
    p.add_argument("--activation", default="tanh", choices=sorted(ACTIVATIONS))
    p.add_argument("--use_layer_norm", type=truthy, default=True, help="a LayerNorm in front of each hidden Linear")
    p.add_argument("--warmup_steps", type=int, default=0)
    p.add_argument("--schedule", default="constant", choices=["constant", "cosine"])
    p.add_argument("--min_lr", type=float, default=3e-5, help="where the cosine ends")
    p.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"],
                   help="of the weights and with them the optimizer state")
    p.add_argument("--width", type=int, default=64, help="of the embedding and the hidden layers")
    # paths, "none" for none (an MLproject parameter needs a default, and an empty one is no value)
    p.add_argument("--init_from", default="none", help="weights saved by an earlier run: continue from them")
    p.add_argument("--save_to", default="none", help="save the trained weights here")
    args = p.parse_args()
    torch.manual_seed(0)
    model = build_model(args.depth, args.activation, args.use_layer_norm, args.width).to(getattr(torch, args.dtype))
    if args.init_from != "none":
        model.load_state_dict(torch.load(args.init_from, weights_only=True))
    if args.optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    else:
        opt = torch.optim.AdamW(model.parameters(), lr=args.lr)
    lines = make_lines(2000, seed=1)
    with mlflow.start_run():  # under `mlflow run`, the run the project launch created
        mlflow.log_param("optimizer", args.optimizer)
        step_loss = 0.0
        for i in range(args.steps * args.grad_accum_steps):
            ids, _ = batch_ids(lines[i % 1900:i % 1900 + 32])
            x = torch.tensor(ids)
            logits = model(x[:, :-1]).float()  # the loss in float32, whatever the weights' dtype
            loss = F.cross_entropy(logits.reshape(-1, VOCAB_SIZE), x[:, 1:].reshape(-1))
            step_loss += loss.item() / args.grad_accum_steps
            loss = loss / args.grad_accum_steps  # the accumulated gradient is the mean over the micro-batches
            loss.backward()
            if (i + 1) % args.grad_accum_steps == 0:
                step = i // args.grad_accum_steps
                for group in opt.param_groups:
                    group["lr"] = lr_at(step, args)
                opt.step()
                opt.zero_grad()
                mlflow.log_metrics({"loss": step_loss, "lr": opt.param_groups[0]["lr"]}, step=step)
                step_loss = 0.0
    if args.save_to != "none":
        os.makedirs(os.path.dirname(args.save_to) or ".", exist_ok=True)
        torch.save(model.state_dict(), args.save_to)


if __name__ == "__main__":
    main()
