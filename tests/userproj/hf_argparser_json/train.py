"""GPT-2 on the letter corpus, configured the Hugging Face examples way: `python train.py configs/train.json`."""

import sys
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from chardata import PAD, VOCAB_SIZE, batch_ids, make_lines
from transformers import GPT2Config, GPT2LMHeadModel, HfArgumentParser, Trainer, TrainingArguments


@dataclass
class ModelArguments:
    model_name_or_path: str | None = field(default=None, metadata={"help": "a checkpoint to continue from"})
    n_embd: int = field(default=64)
    n_layer: int = field(default=2)
    # as HF's run_clm.py: load the model's weights under this dtype (None: float32; "auto": the checkpoint's own)
    torch_dtype: str | None = field(default=None, metadata={"choices": ["auto", "bfloat16", "float16", "float32"]})


def collate(lines):
    ids, mask = batch_ids(lines)
    ids, mask = torch.tensor(ids), torch.tensor(mask)
    return {"input_ids": ids, "attention_mask": mask, "labels": ids.masked_fill(mask == 0, -100)}


class LetterTrainer(Trainer):
    """The Trainer with our own loss: next-letter cross-entropy, the mean over this micro-batch's letters."""

    loss_is_scaled_for_ga = False  # a mean over one micro-batch: the Trainer divides it by the accumulation steps

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        outputs = model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"])
        # the loss on float32 logits, as HF's own causal-LM loss computes it, whatever the model's dtype
        logits, labels = outputs.logits[:, :-1].float(), inputs["labels"][:, 1:]
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), labels.reshape(-1), ignore_index=-100)
        return (loss, outputs) if return_outputs else loss


def main():
    parser = HfArgumentParser((ModelArguments, TrainingArguments))
    if len(sys.argv) == 2 and sys.argv[1].endswith(".json"):
        model_args, args = parser.parse_json_file(sys.argv[1])
    else:
        model_args, args = parser.parse_args_into_dataclasses()
    config = GPT2Config(vocab_size=VOCAB_SIZE, n_positions=32, n_embd=model_args.n_embd, n_layer=model_args.n_layer,
                        n_head=2, bos_token_id=PAD, eos_token_id=PAD, pad_token_id=PAD)
    dtype = model_args.torch_dtype
    dtype = getattr(torch, dtype) if dtype not in (None, "auto") else dtype
    if model_args.model_name_or_path:
        kwargs = {"dtype": dtype} if dtype is not None else {}
        model = GPT2LMHeadModel.from_pretrained(model_args.model_name_or_path, **kwargs)
    else:
        model = GPT2LMHeadModel(config)
        if isinstance(dtype, torch.dtype):
            model = model.to(dtype)
    trainer = LetterTrainer(model=model, args=args, train_dataset=make_lines(3000, seed=1),
                            eval_dataset=make_lines(128, seed=2), data_collator=collate)
    trainer.train()
    trainer.save_state()


if __name__ == "__main__":
    main()
