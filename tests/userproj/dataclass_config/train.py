"""Train the letter model with the settings of config.TrainConfig."""

import json
from dataclasses import asdict
from pathlib import Path

import torch
import torch.nn.functional as F
from chardata import VOCAB_SIZE, batch_ids, make_lines
from config import TrainConfig


def main(cfg: TrainConfig) -> None:
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(asdict(cfg)))
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Embedding(VOCAB_SIZE, 64), torch.nn.Linear(64, VOCAB_SIZE))
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    lines = make_lines(2000, seed=1)
    with open(out / "metrics.jsonl", "w") as log:
        for step in range(cfg.steps):
            ids, _ = batch_ids(lines[step % 1900:step % 1900 + 32])
            x = torch.tensor(ids)
            loss = F.cross_entropy(model(x[:, :-1]).reshape(-1, VOCAB_SIZE), x[:, 1:].reshape(-1))
            opt.zero_grad()
            loss.backward()
            opt.step()
            log.write(json.dumps({"step": step, "loss": loss.item()}) + "\n")


if __name__ == "__main__":
    main(TrainConfig())
