#!/usr/bin/env python

# # Letter model experiments

# In[1]:


import math
import os

import torch
import torch.nn.functional as F
import wandb
from chardata import VOCAB_SIZE, batch_ids, make_lines

# In[2]:


lr = 1.0
steps = 300
warmup_steps = 0
schedule = "constant"  # constant or cosine (after a linear warmup, down to min_lr at the last step)
min_lr = 3e-5
optimizer = "adamw"  # or "sgd" (momentum 0.9)
grad_accum_steps = 1  # micro-batches of 32 per optimizer step
depth = 0  # hidden layers between the embedding and the output layer
activation = "tanh"  # of the hidden layers: tanh, sigmoid or gelu
use_layer_norm = True  # a LayerNorm in front of each hidden layer's Linear
dtype = "float32"  # of the weights and with them the optimizer state: float32, bfloat16 or float16
width = 64  # of the embedding and the hidden layers
init_from = None  # weights saved by an earlier run (save_to): continue from them
save_to = None  # save the trained weights here


# In[3]:


run = wandb.init(project="letters", mode="offline", config={"lr": lr, "steps": steps, "warmup_steps": warmup_steps,
                                                             "schedule": schedule, "optimizer": optimizer,
                                                             "grad_accum_steps": grad_accum_steps, "depth": depth,
                                                             "activation": activation,
                                                             "use_layer_norm": use_layer_norm, "dtype": dtype,
                                                             "width": width, "init_from": init_from,
                                                             "save_to": save_to})
ACTIVATIONS = {"tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid, "gelu": torch.nn.GELU}
hidden = [torch.nn.Sequential(torch.nn.LayerNorm(width) if use_layer_norm else torch.nn.Identity(),
                              torch.nn.Linear(width, width), ACTIVATIONS[activation]()) for _ in range(depth)]
model = torch.nn.Sequential(torch.nn.Embedding(VOCAB_SIZE, width), *hidden, torch.nn.Linear(width, VOCAB_SIZE))
model = model.to(getattr(torch, dtype))
if init_from:
    model.load_state_dict(torch.load(init_from, weights_only=True))
if optimizer == "sgd":
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
else:
    opt = torch.optim.AdamW(model.parameters(), lr=lr)


def lr_at(step):
    """The warmup, then the LR held or decayed along a cosine; warmup 0 and constant: lr itself at every step."""
    if step < warmup_steps:
        return lr * (step + 1) / (warmup_steps + 1)
    if schedule == "constant":
        return lr
    progress = min(1.0, (step - warmup_steps) / max(1, steps - warmup_steps))
    return min_lr + 0.5 * (1 + math.cos(math.pi * progress)) * (lr - min_lr)


lines = make_lines(2000, seed=1)
step_loss = 0.0
for i in range(steps * grad_accum_steps):
    ids, _ = batch_ids(lines[i % 1900:i % 1900 + 32])
    x = torch.tensor(ids)
    logits = model(x[:, :-1]).float()  # the loss in float32, whatever the weights' dtype
    loss = F.cross_entropy(logits.reshape(-1, VOCAB_SIZE), x[:, 1:].reshape(-1))
    step_loss += loss.item() / grad_accum_steps
    loss = loss / grad_accum_steps  # the accumulated gradient is the mean over the micro-batches
    loss.backward()
    if (i + 1) % grad_accum_steps == 0:
        for group in opt.param_groups:
            group["lr"] = lr_at(i // grad_accum_steps)
        opt.step()
        opt.zero_grad()
        run.log({"loss": step_loss, "lr": opt.param_groups[0]["lr"]}, step=i // grad_accum_steps)
        step_loss = 0.0
if save_to:
    os.makedirs(os.path.dirname(save_to) or ".", exist_ok=True)
    torch.save(model.state_dict(), save_to)
run.finish()
