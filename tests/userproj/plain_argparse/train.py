"""Train a small next-letter model on our letter corpus (plain PyTorch, argparse options)."""

import argparse
import json
import math
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F
from chardata import VOCAB_SIZE, batch_ids, make_lines


def get_args():
    p = argparse.ArgumentParser()
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--optimizer", default="adamw")
    p.add_argument("--steps", type=int, default=150)
    p.add_argument("--batch_size", type=int, default=32)
    p.add_argument("--grad_accum_steps", type=int, default=1, help="micro-batches of --batch_size per optimizer step")
    p.add_argument("--grad_clip", type=float, default=1.0)
    p.add_argument("--warmup_steps", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--depth", type=int, default=0, help="extra hidden layers of the MLP")
    p.add_argument("--activation", default="sigmoid", choices=sorted(ACTIVATIONS), help="of the extra layers")
    p.add_argument("--use_layer_norm", action=argparse.BooleanOptionalAction, default=False,
                   help="a LayerNorm in front of each extra layer")
    p.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"],
                   help="of the weights and with them the optimizer state")
    p.add_argument("--out", default="runs/exp")
    p.add_argument("--init_from", help="weights saved by an earlier run (--save_to): continue from them")
    p.add_argument("--save_to", help="save the trained weights here")
    return p.parse_args()


ACTIVATIONS = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "gelu": nn.GELU}


class NextLetter(nn.Module):
    def __init__(self, vocab, width=64, depth=0, activation="sigmoid", use_layer_norm=False):
        super().__init__()
        self.emb = nn.Embedding(vocab, width)
        hidden = [nn.Sequential(nn.LayerNorm(4 * width) if use_layer_norm else nn.Identity(),
                                nn.Linear(4 * width, 4 * width), ACTIVATIONS[activation]()) for _ in range(depth)]
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), *hidden, nn.Linear(4 * width, vocab))

    def forward(self, ids):
        return self.mlp(self.emb(ids))


def loss_on(model, lines):
    ids, mask = batch_ids(lines)
    ids, mask = torch.tensor(ids), torch.tensor(mask)
    logits = model(ids[:, :-1]).float()  # the loss in float32, whatever the weights' dtype
    targets = ids[:, 1:].masked_fill(mask[:, 1:] == 0, -100)
    return F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1), ignore_index=-100)


def main():
    args = get_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "args.json").write_text(json.dumps(vars(args), indent=2))
    train, held_out = make_lines(4000, seed=1), make_lines(256, seed=2)
    model = NextLetter(VOCAB_SIZE, depth=args.depth, activation=args.activation,
                       use_layer_norm=args.use_layer_norm).to(getattr(torch, args.dtype))
    if args.init_from:
        model.load_state_dict(torch.load(args.init_from, weights_only=True))
    if args.optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    else:
        opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    warmup = max(args.warmup_steps, 1)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (
        1 + math.cos(math.pi * min(s, args.steps) / args.steps)))
    g = torch.Generator().manual_seed(args.seed)
    with open(out / "metrics.jsonl", "w") as log:
        step, step_loss = 0, 0.0
        for micro in range(args.steps * args.grad_accum_steps):
            idx = torch.randint(len(train), (args.batch_size,), generator=g).tolist()
            loss = loss_on(model, [train[i] for i in idx])
            step_loss += loss.item() / args.grad_accum_steps  # the mean over the accumulated batch, for the log
            loss = loss / args.grad_accum_steps  # each micro-batch adds its share of the accumulated batch's gradient
            loss.backward()
            if (micro + 1) % args.grad_accum_steps == 0:
                # --grad_clip 0 turns clipping off; the norm is still measured for the log
                grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), args.grad_clip or float("inf"))
                opt.step()
                sched.step()
                opt.zero_grad(set_to_none=True)
                step += 1
                rec = {"step": step, "loss": step_loss, "lr": opt.param_groups[0]["lr"], "grad_norm": grad_norm.item()}
                if step % 25 == 0:
                    with torch.no_grad():
                        rec["eval_loss"] = loss_on(model, held_out).item()
                log.write(json.dumps(rec) + "\n")
                step_loss = 0.0
    if args.save_to:
        Path(args.save_to).parent.mkdir(parents=True, exist_ok=True)
        torch.save(model.state_dict(), args.save_to)
    print(f"done: {args.steps} steps, final loss {rec['loss']:.3f}")


if __name__ == "__main__":
    main()
