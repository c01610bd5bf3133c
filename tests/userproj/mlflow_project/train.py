"""Letter model tracked with MLflow, launched as an MLflow Project: `mlflow run . -P lr=...` (see MLproject)."""

import argparse

import mlflow
import torch
import torch.nn.functional as F
from chardata import VOCAB_SIZE, batch_ids, make_lines


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--optimizer", default="adamw", choices=["adamw", "sgd"])
    p.add_argument("--grad_accum_steps", type=int, default=1, help="micro-batches of 32 per optimizer step")
    args = p.parse_args()
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Embedding(VOCAB_SIZE, 64), torch.nn.Linear(64, VOCAB_SIZE))
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
            loss = F.cross_entropy(model(x[:, :-1]).reshape(-1, VOCAB_SIZE), x[:, 1:].reshape(-1))
            step_loss += loss.item() / args.grad_accum_steps
            loss = loss / args.grad_accum_steps  # the accumulated gradient is the mean over the micro-batches
            loss.backward()
            if (i + 1) % args.grad_accum_steps == 0:
                opt.step()
                opt.zero_grad()
                mlflow.log_metric("loss", step_loss, step=i // args.grad_accum_steps)
                step_loss = 0.0


if __name__ == "__main__":
    main()
