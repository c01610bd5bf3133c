"""Letter model with PyTorch Lightning; hyperparameters are the LightningModule's arguments."""

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
        x = batch
        loss = F.cross_entropy(self.net(x[:, :-1]).reshape(-1, VOCAB_SIZE), x[:, 1:].reshape(-1))
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.AdamW(self.parameters(), lr=self.hparams.lr)


def loader():
    ids, _ = batch_ids(make_lines(2000, seed=1))
    return DataLoader(torch.tensor(ids), batch_size=32, shuffle=True)


if __name__ == "__main__":
    model = LetterModel(lr=1.0, width=64)
    trainer = pl.Trainer(max_steps=200, gradient_clip_val=0.0, accelerator="cpu", log_every_n_steps=1,
                         logger=pl.loggers.CSVLogger("logs"), enable_checkpointing=False)
    trainer.fit(model, loader())
