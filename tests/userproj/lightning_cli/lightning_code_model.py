"""The LightningModule and DataModule the CLI builds from configs/fit.yaml."""

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from chardata import VOCAB_SIZE, batch_ids, make_lines
from torch.utils.data import DataLoader


class LetterModel(pl.LightningModule):
    def __init__(self, lr: float = 3e-3, width: int = 64):
        super().__init__()
        self.save_hyperparameters()
        self.net = torch.nn.Sequential(torch.nn.Embedding(VOCAB_SIZE, width), torch.nn.Linear(width, VOCAB_SIZE))

    def training_step(self, batch, _):
        loss = F.cross_entropy(self.net(batch[:, :-1]).reshape(-1, VOCAB_SIZE), batch[:, 1:].reshape(-1))
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.AdamW(self.parameters(), lr=self.hparams.lr)


class LetterData(pl.LightningDataModule):
    def __init__(self, batch_size: int = 32):
        super().__init__()
        self.batch_size = batch_size

    def train_dataloader(self):
        ids, _ = batch_ids(make_lines(2000, seed=1))
        return DataLoader(torch.tensor(ids), batch_size=self.batch_size, shuffle=True)
