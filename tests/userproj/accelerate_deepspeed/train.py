"""GPT-2 on the letter corpus, configured the Hugging Face examples way: accelerate + DeepSpeed (see Makefile)."""

import sys
from dataclasses import dataclass, field

import torch
from chardata import PAD, VOCAB_SIZE, batch_ids, make_lines
from transformers import GPT2Config, GPT2LMHeadModel, HfArgumentParser, Trainer, TrainingArguments


@dataclass
class ModelArguments:
    model_name_or_path: str | None = field(default=None, metadata={"help": "a checkpoint to continue from"})
    n_embd: int = field(default=64)
    n_layer: int = field(default=2)
    # as HF's run_clm.py: load the model's weights under this dtype (None: float32)
    torch_dtype: str | None = field(default=None, metadata={"choices": ["bfloat16", "float16", "float32"]})


def collate(lines):
    ids, mask = batch_ids(lines)
    ids, mask = torch.tensor(ids), torch.tensor(mask)
    return {"input_ids": ids, "attention_mask": mask, "labels": ids.masked_fill(mask == 0, -100)}


def main():
    parser = HfArgumentParser((ModelArguments, TrainingArguments))
    if len(sys.argv) == 2 and sys.argv[1].endswith(".json"):
        model_args, args = parser.parse_json_file(sys.argv[1])
    else:
        model_args, args = parser.parse_args_into_dataclasses()
    config = GPT2Config(vocab_size=VOCAB_SIZE, n_positions=32, n_embd=model_args.n_embd, n_layer=model_args.n_layer,
                        n_head=2, bos_token_id=PAD, eos_token_id=PAD, pad_token_id=PAD)
    if model_args.model_name_or_path:
        model = GPT2LMHeadModel.from_pretrained(model_args.model_name_or_path)
    else:
        model = GPT2LMHeadModel(config)
    if model_args.torch_dtype is not None:
        model = model.to(getattr(torch, model_args.torch_dtype))
    trainer = Trainer(model=model, args=args, train_dataset=make_lines(3000, seed=1),
                      eval_dataset=make_lines(128, seed=2), data_collator=collate)
    trainer.train()
    trainer.save_state()


if __name__ == "__main__":
    main()
