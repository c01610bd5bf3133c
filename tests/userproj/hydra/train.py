"""Letter model trained from a Hydra config (conf/config.yaml), overridable on the command line."""

import logging

import hydra
import torch
import torch.nn.functional as F
from chardata import VOCAB_SIZE, batch_ids, make_lines
from omegaconf import DictConfig

log = logging.getLogger(__name__)  # Hydra writes it to the run's folder (train.log) and the console


@hydra.main(version_base=None, config_path="conf", config_name="config")
def main(cfg: DictConfig) -> None:
    torch.manual_seed(cfg.seed)
    model = torch.nn.Sequential(torch.nn.Embedding(VOCAB_SIZE, cfg.model.width),
                                torch.nn.Linear(cfg.model.width, VOCAB_SIZE))
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.optim.lr, weight_decay=cfg.optim.weight_decay)
    lines = make_lines(2000, seed=1)
    for step in range(cfg.trainer.max_steps):
        ids, _ = batch_ids(lines[step % 1900:step % 1900 + 32])
        x = torch.tensor(ids)
        loss = F.cross_entropy(model(x[:, :-1]).reshape(-1, VOCAB_SIZE), x[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        if cfg.optim.grad_clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.optim.grad_clip)
        opt.step()
        log.info(f"step {step} loss {loss.item():.4f}")


if __name__ == "__main__":
    main()
