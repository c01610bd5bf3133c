#!/usr/bin/env python

# # Letter model experiments

# In[1]:


import torch
import torch.nn.functional as F
import wandb
from chardata import VOCAB_SIZE, batch_ids, make_lines

# In[2]:


lr = 1.0
steps = 300
warmup_steps = 0


# In[3]:


run = wandb.init(project="letters", mode="offline", config={"lr": lr, "steps": steps})
model = torch.nn.Sequential(torch.nn.Embedding(VOCAB_SIZE, 64), torch.nn.Linear(64, VOCAB_SIZE))
opt = torch.optim.AdamW(model.parameters(), lr=lr)
lines = make_lines(2000, seed=1)
for step in range(steps):
    ids, _ = batch_ids(lines[step % 1900:step % 1900 + 32])
    x = torch.tensor(ids)
    loss = F.cross_entropy(model(x[:, :-1]).reshape(-1, VOCAB_SIZE), x[:, 1:].reshape(-1))
    opt.zero_grad()
    loss.backward()
    opt.step()
    run.log({"loss": loss.item()}, step=step)
run.finish()
