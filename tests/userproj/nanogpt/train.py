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
lines = make_lines(2000, seed=1)


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
        ids, _ = batch_ids(lines[(it * batch_size) % 1900:(it * batch_size) % 1900 + batch_size])
        x = torch.tensor(ids)
        loss = F.cross_entropy(model(x[:, :-1]).reshape(-1, VOCAB_SIZE), x[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if grad_clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        opt.step()
        log.write(f"iter {it}: loss {loss.item():.4f}, lr {lr:.2e}\n")
torch.save({"model": model.state_dict(), "config": config}, os.path.join(out_dir, "ckpt.pt"))
json.dump(config, open(os.path.join(out_dir, "config.json"), "w"))
