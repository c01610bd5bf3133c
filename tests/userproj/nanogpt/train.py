"""Letter-level GPT, nanoGPT style: defaults below, then a config file and --key=value overrides
(`python train.py config/train_letters.py --max_iters=200`)."""

import json
import math
import os

import torch
import torch.nn.functional as F
from chardata import VOCAB_SIZE, batch_ids, make_lines

# default config values
out_dir = "out"
max_iters = 2000
learning_rate = 6e-4
warmup_iters = 100
grad_clip = 1.0
# the LR schedule, as nanoGPT names it: after the warmup, a cosine from learning_rate down to min_lr at
# lr_decay_iters (about max_iters), or with decay_lr = False the LR stays at learning_rate
decay_lr = True
lr_decay_iters = 2000
min_lr = 6e-5
batch_size = 32
# micro-batches of batch_size per optimizer step (nanoGPT's default is 5 * 8); the loss of each is divided by it
gradient_accumulation_steps = 1
# every eval_interval iterations, the mean loss over eval_iters batches of the training lines and of the held-out
# ones (nanoGPT's estimate_loss); 0: none
eval_interval = 0
eval_iters = 3
n_embd = 64
# "scratch", or an earlier run's ckpt.pt to start from its weights (its optimizer state is not saved: a fresh AdamW)
init_from = "scratch"
config_keys = [k for k, v in globals().items() if not k.startswith("_") and isinstance(v, (int, float, bool, str))]
exec(open("configurator.py").read())  # overrides from the command line or a config file
config = {k: globals()[k] for k in config_keys}

os.makedirs(out_dir, exist_ok=True)
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Embedding(VOCAB_SIZE, n_embd), torch.nn.Linear(n_embd, VOCAB_SIZE))
if init_from != "scratch":
    model.load_state_dict(torch.load(init_from)["model"])
opt = torch.optim.AdamW(model.parameters(), lr=learning_rate)
lines = make_lines(2000, seed=1)  # the first 1900 train, the last 100 are held out


def get_batch(lines_from: int, lines_to: int, b: int) -> torch.Tensor:
    start = lines_from + (b * batch_size) % (lines_to - lines_from - batch_size + 1)
    ids, _ = batch_ids(lines[start:start + batch_size])
    return torch.tensor(ids)


def step_loss(x: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(model(x[:, :-1]).reshape(-1, VOCAB_SIZE), x[:, 1:].reshape(-1))


@torch.no_grad()
def estimate_loss() -> dict[str, float]:
    out = {}
    for split, (a, b) in (("train", (0, 1900)), ("val", (1900, 2000))):
        out[split] = sum(step_loss(get_batch(a, b, k)).item() for k in range(eval_iters)) / eval_iters
    return out


def get_lr(it: int) -> float:
    if it < warmup_iters or not decay_lr:
        return learning_rate * min(1.0, (it + 1) / max(warmup_iters, 1))
    if it >= lr_decay_iters:
        return min_lr
    done = (it - warmup_iters) / max(lr_decay_iters - warmup_iters, 1)
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * done)) * (learning_rate - min_lr)


with open(os.path.join(out_dir, "log.txt"), "w") as log:
    for it in range(max_iters):
        lr = get_lr(it)
        for g in opt.param_groups:
            g["lr"] = lr
        if eval_interval and it % eval_interval == 0:
            losses = estimate_loss()
            log.write(f"step {it}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f}\n")
        for micro_step in range(gradient_accumulation_steps):
            start = (it * gradient_accumulation_steps + micro_step) * batch_size % 1900
            loss = step_loss(torch.tensor(batch_ids(lines[start:start + batch_size])[0]))
            loss = loss / gradient_accumulation_steps  # scale the loss to account for gradient accumulation
            loss.backward()
        if grad_clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        opt.step()
        opt.zero_grad(set_to_none=True)
        lossf = loss.item() * gradient_accumulation_steps  # the last micro-batch's loss, as nanoGPT logs it
        log.write(f"iter {it}: loss {lossf:.4f}, lr {lr:.2e}\n")
torch.save({"model": model.state_dict(), "config": config}, os.path.join(out_dir, "ckpt.pt"))
json.dump(config, open(os.path.join(out_dir, "config.json"), "w"))
