"""Hugging Face Trainer runs: a tiny GPT-2 built from a GPT2Config for the transformer family (nothing downloaded),
and the MLP / CNN / RNN models wrapped in a module that returns {"loss", "logits"}, as custom models for the
Trainer are written. The optimiser and LR schedule are passed through `optimizers=(opt, sched)`, as many users do.

Artifacts: the output dir's `trainer_state.json` (via save_state; no checkpoints, no weights) and `train.log`, the
captured console at log_level info (banner, tqdm bar, the printed log dicts). Mechanisms in the Trainer's API:

- zero_grad_missing: the model overrides `zero_grad()` with a no-op, so the Trainer's model.zero_grad() does nothing
- scheduler_misuse: a StepLR whose step_size was meant in epochs, passed in `optimizers=`; the Trainer steps it
  after every optimiser step
- nan_inf: a custom compute_loss averaging per sample (GPT-2: per line) with an unguarded 0/0
- label_leakage: a collator that pre-shifts GPT-2's inputs (the model shifts labels itself; the Trainer evaluates
  with the same collator); an RNN whose training windows have the off-by-one
- data_pipeline_bug: a collator that sorts the batch's inputs but not the labels
- grad_explosion: max_grad_norm=0 (clipping turned off) on the exploding RNN
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from corpusgen import data, models
from corpusgen import spec as spec_mod
from corpusgen.console import captured
from corpusgen.spec import Spec

CAUSES = ("healthy", "lr_too_high", "lr_too_low", "scheduler_misuse", "grad_explosion", "vanishing_gradients",
          "zero_grad_missing", "frozen_params", "dead_units", "nan_inf", "label_leakage", "data_pipeline_bug",
          "overfitting")
FORMAT = {"*": "HF Trainer trainer_state.json + console log"}


def draw(cause: str, seed: int) -> Spec:
    s = spec_mod.draw("hf_trainer", cause, seed)
    if cause == "data_pipeline_bug":
        s.variant = "sorted_inputs"
        s.mechanism = ("data collator sorts each batch's inputs (meant for bucketing) but not the labels: labels no "
                       "longer match inputs")
    if s.family == "transformer" and cause == "label_leakage":
        s.mechanism = ("the data collator pre-shifts GPT-2's inputs by hand (input_ids = ids[1:]) although GPT-2 "
                       "shifts the labels itself: each target token is the current input; the Trainer uses the same "
                       "collator for evaluation, so the held-out loss is near 0 too")
    if s.family == "transformer" and cause == "frozen_params":
        s.mechanism = ("'freeze the backbone': every GPT-2 transformer parameter frozen, forgetting that lm_head is "
                       "tied to the frozen token embedding; only ln_f trains")
    return s


class Wrapped(nn.Module):
    """A custom model for the Trainer: forward(x, labels) -> {"loss", "logits"}."""

    def __init__(self, s: Spec):
        super().__init__()
        self.s, self.net = s, models.build(s)

    def forward(self, x, labels=None):
        loss, _, _ = models.loss_fn(self.s, self.net, x, labels)
        return {"loss": loss, "logits": self.net(x)}


def build_model(s: Spec) -> nn.Module:
    if s.family != "transformer":
        cls = Wrapped
    else:
        from transformers import GPT2Config, GPT2LMHeadModel
        cls = GPT2LMHeadModel
    if s.cause == "zero_grad_missing":
        class NoZeroGrad(cls):
            def zero_grad(self, set_to_none: bool = True) -> None:
                pass  # "we keep gradients between steps for our own accumulation"
        cls = NoZeroGrad
    if s.family != "transformer":
        return cls(s)
    d = 64 if s.extra.get("wide") else 32
    config = GPT2Config(vocab_size=data.VOCAB, n_positions=data.LM_LEN, n_embd=d, n_layer=2, n_head=2,
                        bos_token_id=data.PAD, eos_token_id=data.PAD, pad_token_id=data.PAD)
    model = cls(config)
    if s.cause == "frozen_params":
        for p in model.transformer.h.parameters():
            p.requires_grad = False
        model.transformer.wte.weight.requires_grad = False
        model.transformer.wpe.weight.requires_grad = False
    return model


def collator(s: Spec, train: bool):
    gpt2 = s.family == "transformer"

    def collate(items):
        x = torch.stack([it[0] for it in items])
        y = torch.stack([it[1] for it in items])
        if train and s.cause == "data_pipeline_bug":
            x = x[x.flatten(1).float().sum(1).argsort()]
        if not gpt2:
            return {"x": x, "labels": y}
        labels = y.masked_fill(y == data.PAD, -100)
        if train and s.cause == "label_leakage":
            x = torch.cat([x[:, 1:], torch.full_like(x[:, :1], data.PAD)], dim=1)  # pre-shifted by hand
        return {"input_ids": x, "attention_mask": (x != data.PAD).long(), "labels": labels}

    return collate


def trainer_class(s: Spec):
    from transformers import Trainer

    if not (s.cause == "nan_inf" and s.family == "transformer"):
        return Trainer

    class PerLineMeanTrainer(Trainer):
        """Per-line mean loss so short lines weigh as much as long ones -- no guard for a blank line (0/0)."""

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            labels = inputs.pop("labels")
            outputs = model(**inputs)
            logits, targets = outputs.logits[:, :-1], labels[:, 1:]
            valid = (targets != -100).float()
            tok = nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)),
                                              targets.clamp_min(0).reshape(-1), reduction="none").view_as(valid)
            loss = ((tok * valid).sum(1) / valid.sum(1)).mean()
            return (loss, outputs) if return_outputs else loss

    return PerLineMeanTrainer


def run(s: Spec, out: Path) -> None:
    from transformers import TrainingArguments, set_seed

    out.mkdir(parents=True, exist_ok=True)
    with captured(out / "train.log"):
        set_seed(s.seed)
        model = build_model(s)
        tr, va = models.datasets(s)
        opt = models.optimizer(s, [p for p in model.parameters() if p.requires_grad]
                               if s.family == "transformer" else model.parameters())
        if s.cause == "scheduler_misuse":
            sched = torch.optim.lr_scheduler.StepLR(opt, step_size=s.extra["step_size"], gamma=0.1)
        else:
            sched = torch.optim.lr_scheduler.LambdaLR(opt, models.lr_lambda(s, s.steps))
        args = TrainingArguments(
            output_dir=str(out),
            max_steps=s.steps,
            per_device_train_batch_size=s.batch,
            per_device_eval_batch_size=256,
            learning_rate=s.lr,
            weight_decay=s.weight_decay,
            max_grad_norm=s.clip or 0.0,
            logging_steps=s.log_every,
            logging_first_step=True,
            eval_strategy="steps",
            eval_steps=s.eval_every,
            save_strategy="no",
            report_to="none",
            log_level="info",
            seed=s.seed,
            use_cpu=True,
            dataloader_num_workers=0,
            remove_unused_columns=False,
        )
        trainer = trainer_class(s)(
            model=model, args=args,
            train_dataset=torch.utils.data.TensorDataset(*tr), eval_dataset=torch.utils.data.TensorDataset(*va),
            data_collator=collator(s, train=True), optimizers=(opt, sched),
        )
        trainer.train()
        trainer.save_state()
