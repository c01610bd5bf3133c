"""A `traindoc probe` factory for a Hugging Face model with the optimiser and LR scheduler its Trainer builds
(docs/probe.md). The model here is a small GPT-2 built from a config (nothing is downloaded); with your own, load
it as your training script does (`AutoModelForCausalLM.from_pretrained(...)`) and pass your TrainingArguments.

    traindoc probe --factory examples/probe_hf.py:factory
"""

from __future__ import annotations

import tempfile
from typing import Any


def factory() -> dict[str, Any]:
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, Trainer, TrainingArguments

    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=128, n_positions=64, n_embd=64, n_layer=2, n_head=4))
    args = TrainingArguments(output_dir=tempfile.mkdtemp(), learning_rate=1e-3, warmup_steps=10,
                             lr_scheduler_type="cosine", report_to=[], use_cpu=True)
    trainer = Trainer(model=model, args=args)
    trainer.create_optimizer_and_scheduler(num_training_steps=200)  # exactly what trainer.train() would use
    ids = torch.randint(0, 128, (8, 32), generator=torch.Generator().manual_seed(0))
    return {
        "model": model,
        "batch": {"input_ids": ids, "labels": ids},  # the model shifts labels itself; output.loss is the loss
        "optimizer": trainer.optimizer,
        "scheduler": trainer.lr_scheduler,
    }
