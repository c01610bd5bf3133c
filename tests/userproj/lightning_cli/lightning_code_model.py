"""The LightningModule and DataModule the CLI builds from configs/fit.yaml."""

import math

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from chardata import VOCAB_SIZE, batch_ids, make_lines
from pytorch_lightning.utilities import grad_norm
from torch.utils.data import DataLoader

ACTIVATIONS = {"tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid, "gelu": torch.nn.GELU}


def hidden_layer(width: int, activation: str, use_layer_norm: bool) -> torch.nn.Sequential:
    """One hidden layer: (LayerNorm) -> Linear -> activation (the norm first, as in a pre-LN block)."""
    norm = torch.nn.LayerNorm(width) if use_layer_norm else torch.nn.Identity()
    return torch.nn.Sequential(norm, torch.nn.Linear(width, width), ACTIVATIONS[activation]())


class LetterModel(pl.LightningModule):
    def __init__(self, lr: float = 3e-3, width: int = 64, depth: int = 2, activation: str = "tanh",
                 use_layer_norm: bool = True, optimizer: str = "adamw", grad_accum_steps: int = 1,
                 warmup_steps: int = 0, schedule: str = "constant", min_lr: float = 3e-5,
                 init_from: str | None = None):
        super().__init__()
        self.save_hyperparameters()
        # several micro-batches per optimizer step, accumulated by hand (Lightning's manual optimisation); at 1 the
        # module trains under Lightning's automatic optimisation, one step per batch
        self.automatic_optimization = grad_accum_steps == 1
        hidden = [hidden_layer(width, activation, use_layer_norm) for _ in range(depth)]
        self.net = torch.nn.Sequential(torch.nn.Embedding(VOCAB_SIZE, width), *hidden,
                                       torch.nn.Linear(width, VOCAB_SIZE))
        if init_from:  # the weights of an earlier run's checkpoint (a Lightning .ckpt): continue from them,
            # with a fresh optimizer (Trainer.fit(ckpt_path=...) would restore the old run's optimizer and step)
            self.load_state_dict(torch.load(init_from, map_location="cpu", weights_only=True)["state_dict"])

    def training_step(self, batch, batch_idx):
        loss = F.cross_entropy(self.net(batch[:, :-1]).reshape(-1, VOCAB_SIZE), batch[:, 1:].reshape(-1))
        self.log("train_loss", loss)
        self.log("lr", self.trainer.optimizers[0].param_groups[0]["lr"])  # the LR this step trains at
        if self.automatic_optimization:
            return loss
        opt = self.optimizers()
        self.manual_backward(loss / self.hparams.grad_accum_steps)  # each micro-batch adds its share of the mean
        if (batch_idx + 1) % self.hparams.grad_accum_steps == 0:
            opt.step()
            opt.zero_grad()
            self.lr_schedulers().step()  # manual optimisation steps its scheduler itself
        return None

    def on_before_optimizer_step(self, optimizer):
        # per-layer gradient norms and their total ("grad_2.0_norm_total"), to see whether the first layers learn
        self.log_dict(grad_norm(self, norm_type=2))

    def lr_factor(self, step: int) -> float:
        """A linear warmup over warmup_steps, then the LR held (schedule "constant") or decayed along a cosine to
        min_lr at the Trainer's max_steps (schedule "cosine"). Warmup 0 and constant: the LR itself at every step."""
        warmup = self.hparams.warmup_steps
        if step < warmup:
            return (step + 1) / (warmup + 1)
        if self.hparams.schedule == "constant":
            return 1.0
        progress = min(1.0, (step - warmup) / max(1, self.trainer.max_steps - warmup))
        floor = self.hparams.min_lr / self.hparams.lr
        return floor + 0.5 * (1 + math.cos(math.pi * progress)) * (1 - floor)

    def configure_optimizers(self):
        if self.hparams.optimizer == "sgd":
            opt = torch.optim.SGD(self.parameters(), lr=self.hparams.lr, momentum=0.9)
        else:
            opt = torch.optim.AdamW(self.parameters(), lr=self.hparams.lr)
        schedule = torch.optim.lr_scheduler.LambdaLR(opt, self.lr_factor)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}


class LetterData(pl.LightningDataModule):
    def __init__(self, batch_size: int = 32):
        super().__init__()
        self.batch_size = batch_size

    def train_dataloader(self):
        ids, _ = batch_ids(make_lines(2000, seed=1))
        return DataLoader(torch.tensor(ids), batch_size=self.batch_size, shuffle=True)
