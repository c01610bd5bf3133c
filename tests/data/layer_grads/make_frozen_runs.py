"""Regenerates frozen_at_chance/, frozen_learns_little/ and dead_layer/ (README.md): a plain PyTorch loop on Gaussian
clusters (8 classes, 10 % label noise), 5 Linear layers, SGD with momentum, 200 steps of 32, logging every
parameter's grad norm (0.0 where `.grad` is None, as a frozen parameter's is) to metrics.jsonl every 5 steps.

    OMP_NUM_THREADS=1 python make_frozen_runs.py OUT.jsonl FROZEN LR [dead]

FROZEN: how many Linear layers, from the input side, get `requires_grad = False` (weight and bias); `dead` sets the
second hidden layer's bias to -100, so every one of its ReLUs is off for every input.
"""

import json
import sys

import torch
from torch import nn

torch.manual_seed(0)
torch.set_num_threads(1)
k, d, n = 8, 16, 2048
centres = torch.randn(k, d) * 1.5
y = torch.randint(0, k, (n,))
x = centres[y] + torch.randn(n, d)
noisy = torch.rand(n) < 0.1
y = torch.where(noisy, torch.randint(0, k, (n,)), y)
net = nn.Sequential(nn.Linear(d, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                    nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, k))
model = nn.Module()
model.net = net
frozen = int(sys.argv[2])
if len(sys.argv) > 4 and sys.argv[4] == "dead":
    with torch.no_grad():
        net[2].bias.fill_(-100.0)
for p in list(net.parameters())[: 2 * frozen]:
    p.requires_grad = False
opt = torch.optim.SGD(net.parameters(), lr=float(sys.argv[3]), momentum=0.9)
with open(sys.argv[1], "w") as f:
    for step in range(1, 201):
        i = torch.randint(0, n, (32,))
        loss = nn.functional.cross_entropy(net(x[i]), y[i])
        opt.zero_grad()
        loss.backward()
        rec = {"step": step, "loss": loss.item()}
        for name, p in model.named_parameters():
            rec[f"grad_norm/{name}"] = p.grad.norm().item() if p.grad is not None else 0.0
        opt.step()
        if step % 5 == 0 or step == 1:
            f.write(json.dumps(rec) + "\n")
