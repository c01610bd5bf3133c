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
    args = p.parse_args()
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Embedding(VOCAB_SIZE, 64), torch.nn.Linear(64, VOCAB_SIZE))
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr)
    lines = make_lines(2000, seed=1)
    with mlflow.start_run():  # under `mlflow run`, the run the project launch created
        mlflow.log_param("optimizer", "adamw")
        for step in range(args.steps):
            ids, _ = batch_ids(lines[step % 1900:step % 1900 + 32])
            x = torch.tensor(ids)
            loss = F.cross_entropy(model(x[:, :-1]).reshape(-1, VOCAB_SIZE), x[:, 1:].reshape(-1))
            opt.zero_grad()
            loss.backward()
            opt.step()
            mlflow.log_metric("loss", loss.item(), step=step)


if __name__ == "__main__":
    main()
