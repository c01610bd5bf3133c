"""Fine-tune a small GPT-2 on our letter corpus with the Hugging Face Trainer."""

import argparse
from pathlib import Path

import torch
import torch.nn.functional as F
from chardata import PAD, VOCAB_SIZE, batch_ids, make_lines
from transformers import GPT2Config, GPT2LMHeadModel, Trainer, TrainingArguments, set_seed


def collate(lines):
    ids, mask = batch_ids(lines)
    ids, mask = torch.tensor(ids), torch.tensor(mask)
    return {"input_ids": ids, "attention_mask": mask, "labels": ids.masked_fill(mask == 0, -100)}


class LetterTrainer(Trainer):
    """The Trainer with our own loss: next-letter cross-entropy, the mean over this micro-batch's letters."""

    loss_is_scaled_for_ga = False  # a mean over one micro-batch: the Trainer divides it by the accumulation steps

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        outputs = model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"])
        logits, labels = outputs.logits[:, :-1], inputs["labels"][:, 1:]
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), labels.reshape(-1), ignore_index=-100)
        return (loss, outputs) if return_outputs else loss


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--output_dir", default="output")
    parser.add_argument("--init_from", help="a checkpoint folder of an earlier run: continue from its model")
    cli = parser.parse_args()
    torch.set_num_threads(1)
    set_seed(0)
    config = GPT2Config(vocab_size=VOCAB_SIZE, n_positions=MAX_POSITIONS, n_embd=64, n_layer=2, n_head=2,
                        bos_token_id=PAD, eos_token_id=PAD, pad_token_id=PAD)
    model = GPT2LMHeadModel.from_pretrained(cli.init_from) if cli.init_from else GPT2LMHeadModel(config)
    args = TrainingArguments(
        output_dir=cli.output_dir,
        max_steps=160,
        per_device_train_batch_size=16,
        per_device_eval_batch_size=64,
        learning_rate=0.1,  # bigger steps, faster training?
        weight_decay=0.01,
        warmup_steps=16,
        lr_scheduler_type="linear",
        max_grad_norm=1.0,
        logging_steps=5,
        eval_strategy="steps",
        eval_steps=20,
        save_strategy="no",
        report_to="none",
        use_cpu=True,
        remove_unused_columns=False,
        dataloader_num_workers=0,
    )
    trainer = LetterTrainer(model=model, args=args, train_dataset=make_lines(3000, seed=1),
                           eval_dataset=make_lines(128, seed=2), data_collator=collate)
    trainer.train()
    trainer.save_state()
    # keep the exact settings next to the results
    Path(cli.output_dir, "training_args.json").write_text(args.to_json_string())


MAX_POSITIONS = 32

if __name__ == "__main__":
    main()
