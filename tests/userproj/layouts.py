"""The user-project layouts of tests/userproj, as their users launch them: shared by the whole-loop test
(tests/test_userproj_loop.py) and its benchmark (bench/bench_userproj.py), so both run the same loops.

Per layout: how the user trained (run by sh in the project folder, `python` meaning this interpreter), the run
folder that wrote, what the whole loop must leave behind (the edited place the next run reads, the end of the retrain
command), and what the user adds where the evidence cannot: `plan --fix N`, `--retrain-cmd`, moving a run aside.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent
NUMBER = r"([0-9][0-9.eE+-]*)"
BASE_CKPT = "base/checkpoint-160"  # no_warmup's base run leaves its model there (the HF Trainer's last checkpoint)


@dataclass(frozen=True)
class Layout:
    launch: str  # how the user trained (run by sh in the project folder)
    run: str  # the run folder it wrote (a glob where the framework names it at run time)
    # (file, what it holds after the fix): the place the next run reads, LR written as {lr} (the diagnosis's
    # recommended value, in whatever notation the site uses); None: no project file holds the value, the recovered
    # command carries the fix
    edited: tuple[str, str] | None
    retrain: str  # the end of the retrain command the loop ran (also with {lr})
    fix: str | None = None  # `plan --fix` (a cause listed below 0.5 that the user picks, by its id)
    retrain_cmd: str | None = None  # given with --retrain-cmd: nothing in the project or the run records it
    archive: str | None = None  # "from:to": the user moved the run aside first (the next run writes the same folder)
    # (file, its text holding the faulty LR as the layout ships it; "launch": the launch command itself): where
    # `prepare` writes another cause's faulty LR (FAULT_LR) before the first run, so the same place is at fault
    lr_at: tuple[str, str] = ("", "")
    # (file or "launch", its text as shipped, the same text with a warmup of {n} steps): where `prepare` makes the
    # warmup longer than the run for scheduler_misuse; None where the layout's code runs no LR schedule (the warmup
    # key of its config, if any, is read by nothing, and a constant LR cannot show the decay the fix promises)
    warmup_at: tuple[str, str, str] | None = None
    # (file, its text as shipped, the same text with the precision written {p}): where `prepare` makes the run pure
    # float16 for fp16_overflow; None where the layout's library cannot train in float16 on a CPU (below)
    precision_at: tuple[str, str, str] | None = None
    fix_fp16: str | None = None  # `plan --fix` for fp16_overflow, as `fix` for lr_too_high
    fp16_lr: str | None = None  # fp16_overflow's LR where FAULT_LR's is above the layout's reference range
    # the precision as the layout's library spells it: (float16, its bfloat16 fix) for precision_at's {p}
    precision_names: tuple[str, str] = ("16-true", "bf16-true")
    # no_warmup: the user continues training from a checkpoint of an earlier run (the base run) with the warmup
    # removed. Each edit: (file or "launch", its text as shipped, its text in the base run, its text in the run that
    # continues from the base run's checkpoint); None where the layout's code cannot start from a checkpoint or its
    # run does not log the first steps' grad norm (below)
    resume: tuple[tuple[str, str, str, str], ...] | None = None
    base_ckpt: str = BASE_CKPT  # where no_warmup's base run leaves its model
    # vanishing_gradients: (file, its model options as shipped, the same options made a deep saturating stack without
    # normalisation) where `prepare` writes the fault; None where the layout's model has no such options
    vanish_at: tuple[str, str, str] | None = None
    vanish_fixed: str = ""  # the norm switch as the plan leaves it in that file (turned back on)
    vanish_fixed_in: str = ""  # the file holding that switch, where it is not the vanish_at file (a code default)
    # grad_accum_bug: the edits (file or "launch", its text as shipped, its text in the faulty run) that make the user
    # accumulate gradients over several micro-batches with the loss no longer divided by their number (the division
    # the shipped code makes, removed); None where the layout's code has no division to remove (accelerate's plain
    # Trainer divides the model's own loss itself: docs/plan-apply-verify.md, "grad_accum_bug")
    accum: tuple[tuple[str, str, str], ...] | None = None
    fix_accum: str | None = None  # `plan --fix` for grad_accum_bug, as `fix` for lr_too_high
    # what the user passes as `plan --fix` for vanishing_gradients: None where the run's own log makes it the top
    # cause (the Lightning layouts log per-layer grad norms), its id where only the config hints at it (Hydra)
    vanish_fix: str | None = None


# no_warmup: the base run trains AdamW at 3e-3 with a warmup (16 steps) and leaves its model where the HF Trainer
# checkpoints its last step (160; plain argparse: 150 steps, warmup 10, its --save_to); the user then continues from
# that checkpoint at 1e-2 with the warmup removed.
# 1e-2 is a sound LR for these tiny GPT-2s when warmed up (from scratch they end at loss 1.09-1.10 over seeds 0-4,
# against 1.11-1.13 at 3e-3; the continuation warmed up over 8 steps ends where the unwarmed one ends, 1.03); without
# the warmup the fresh AdamW state makes the first updates sign-like, the full LR on every weight (Liu et al. 2020,
# RAdam), and the trained model's loss jumps ~2.2x and its grad norm ~5x in the first 2 steps before it settles
# back at the same LR (docs/plan-apply-verify.md, "no_warmup", for the measured seeds)
BASE_LR, RESUME_LR = "3e-3", "1e-2"
# The HF layouts (HF script, HfArgumentParser JSON and flags, accelerate) run both no_warmup runs at a batch of 32, not
# the 16 they ship: the jump is the first updates' damage, the level it is read against the later steps' gradient
# noise, which falls with the batch. At 16 the grad-norm jump was 2.91-6.06x its later median over 24 seeds of the
# JSON layout (under the detector's 3x on one: a CI machine drew such a trajectory); at 32, 4.31-6.23x (JSON, 8
# seeds), 5.61-7.28x (HF script, 6), 4.47-8.18x (accelerate, 6) (docs/plan-apply-verify.md, "no_warmup")
NW_BATCH_SIZE = 32
NW_BATCH = {file: (file, text.format(16), text.format(NW_BATCH_SIZE), text.format(NW_BATCH_SIZE)) for file, text in (
    ("train.py", "per_device_train_batch_size={},"), ("configs/train.json", '"per_device_train_batch_size": {},'),
    ("launch.sh", "--per_device_train_batch_size {} "))}
HYDRA_CKPT = "base/model.pt"  # where Hydra's base run saves its weights (trainer.save_to)
NANO_CKPT = "base/ckpt.pt"  # where nanoGPT's base run (out_dir base) saves its weights
DC_CKPT = "runs/base/model.pt"  # where the dataclass module's base run saves its weights (save_to)
MLFLOW_CKPT = "base/model.pt"  # where the MLflow base run saves its weights (-P save_to)
NB_CKPT = "base/model.pt"  # where the notebook's base run saves its weights (its settings cell's save_to)
LIGHTNING_CKPT = "base/model.ckpt"  # where Lightning in code's base run saves its checkpoint
# where LightningCLI's base run (trainer.default_root_dir base) has its ModelCheckpoint write the last step's
CLI_CKPT = "base/lightning_logs/version_0/checkpoints/epoch=2-step=160.ckpt"
ACCUM = 8  # grad_accum_bug's accumulation steps (docs/plan-apply-verify.md, "grad_accum_bug")
# the line of the HF layouts' Trainer subclass that makes the Trainer divide its mean loss by the accumulation steps
HF_SCALED = ("    loss_is_scaled_for_ga = False  # a mean over one micro-batch: the Trainer divides it by the "
             "accumulation steps\n\n")

# the dataclass module's model fields, as config.py writes them
DC_MODEL = ("    depth: int = {depth}  # hidden layers between the embedding and the output layer\n"
            '    activation: str = "{act}"  # of the hidden layers: tanh, sigmoid or gelu\n'
            "    use_layer_norm: bool = {norm}  # a LayerNorm in front of each hidden layer's Linear\n")
# the dataclass module's warmup and schedule, as config.py writes them
DC_WARMUP = ("    warmup_steps: int = {n}\n"
             '    schedule: str = "{schedule}"  # constant or cosine')

# the notebook's model settings, as its second cell writes them
NB_MODEL = ("depth = {depth}  # hidden layers between the embedding and the output layer\n"
            'activation = "{act}"  # of the hidden layers: tanh, sigmoid or gelu\n'
            "use_layer_norm = {norm}  # a LayerNorm in front of each hidden layer's Linear\n")

LAYOUTS = {
    # The tiny GPT-2 under the HF Trainer at learning_rate 0.1 trains without a reliable blow-up (loss 2.7 -> 2.0;
    # an occasional grad-norm spike is not something to count on): the LR alone, 333x AdamW's reference, makes
    # lr_too_high the top cause, listed below 0.5 by the corpus-fitted calibration; the user picks it (plan --fix 1),
    # and verify then requires it no longer listed at all. The other layouts' AdamW at lr 1.0 overshoots 12x within
    # 3 steps: lr_too_high at 1.0, planned by default.
    "plain_argparse": Layout("bash train.sh", "runs/exp1", ("train.sh", "python train.py --lr {lr} --steps 150"),
                             "python train.py --lr {lr} --steps 150 --out runs/exp1-fixed",
                             lr_at=("train.sh", "--lr 0.5"),
                             warmup_at=("train.sh", "--steps 150", "--steps 150 --warmup_steps {n}"),
                             resume=(("train.sh", "--lr 0.5 --steps 150 --out runs/exp1",
                                      f"--lr {BASE_LR} --steps 150 --out runs/base --save_to base/model.pt",
                                      f"--lr {RESUME_LR} --steps 150 --warmup_steps 0 --out runs/exp1 "
                                      "--init_from base/model.pt"),),
                             base_ckpt="base/model.pt",
                             # as the dataclass module: --dtype casts the model (and AdamW's state) to it, given on
                             # the launch line; float16 at AdamW 3e-3 is NaN from the first steps, bfloat16 trains
                             # (docs/plan-apply-verify.md, "fp16_overflow")
                             precision_at=("train.sh", "--steps 150", "--steps 150 --dtype {p}"),
                             precision_names=("float16", "bfloat16"),
                             # SGD with momentum 0.9 at 0.5 (the top of SGD's range) over 8 micro-batches of 32,
                             # unclipped: divided, it trains as well as AdamW; undivided, every update is 8x (an LR of
                             # 4) and the loss goes non-finite within ~25 steps. The log shows a blow-up
                             # (grad_explosion first); grad_accum_bug is listed below 0.5 beside it, the user picks it
                             accum=(("train.sh", "--lr 0.5 --steps 150",
                                     f"--optimizer sgd --lr 0.5 --grad_accum_steps {ACCUM} --grad_clip 0 --steps 80"),
                                    ("train.py", "            loss = loss / args.grad_accum_steps  # each micro-batch "
                                     "adds its share of the accumulated batch's gradient\n", "")),
                             fix_accum="grad_accum_bug",
                             # the MLP given 8 extra sigmoid layers on the launch line, its LayerNorm switch left at
                             # the code's default (off): the loss ends at 2.43-2.58 against 1.06-1.10 with the norm
                             # (seeds 0-4); its log holds the total grad norm only, so the config (args.json) lists
                             # the cause below 0.5 and the user picks it, as on Hydra
                             vanish_at=("train.sh", "--steps 150 --out", "--steps 150 --depth 8 --activation sigmoid "
                                        "--out"),
                             vanish_fixed='"--use_layer_norm", action=argparse.BooleanOptionalAction, default=True,',
                             vanish_fixed_in="train.py", vanish_fix="vanishing_gradients"),
    "hf_script": Layout("sh run.sh", "output", ("train.py", "learning_rate={lr},"),
                        "python train.py --output_dir output-fixed", fix="lr_too_high",
                        lr_at=("train.py", "learning_rate=0.1,"),
                        warmup_at=("train.py", "warmup_steps=16,", "warmup_steps={n},"),
                        resume=(("train.py", "learning_rate=0.1,", f"learning_rate={BASE_LR},",
                                 f"learning_rate={RESUME_LR},"),
                                ("run.sh", "--output_dir output", "--output_dir base",
                                 f"--output_dir output --init_from {BASE_CKPT}"),
                                ("train.py", "warmup_steps=16,", "warmup_steps=16,", "warmup_steps=0,"),
                                ("train.py", "logging_steps=5,", "logging_steps=5,", "logging_steps=1,"),
                                ("train.py", 'save_strategy="no",', 'save_strategy="steps",', 'save_strategy="no",'),
                                NW_BATCH["train.py"]),
                        # the HF form: LetterTrainer computes its own mean loss and ships saying so
                        # (loss_is_scaled_for_ga = False); without that line the Trainer, told the loss is already
                        # normalised over the accumulated batch (the model accepts num_items_in_batch), does not
                        # divide it by the 8 accumulation steps. AdamW at 3e-3 hardly minds a gradient 8x its size
                        # (m / sqrt(v) does not change with the gradient's scale), but the loss it logs is the sum
                        # over the 8 micro-batches: 8x the held-out loss, which makes grad_accum_bug the top cause
                        accum=(("train.py", HF_SCALED, ""),
                               ("train.py", "learning_rate=0.1,", "learning_rate=3e-3,"),
                               ("train.py", "max_steps=160,", f"max_steps=40, gradient_accumulation_steps={ACCUM},"))),
    # the JSON names output/ as the output folder: the user moved the first run aside, as the plan tells them
    "hf_argparser_json": Layout("make train", "output-run1", ("configs/train.json", '"learning_rate": {lr},'),
                                "python train.py configs/train.json", fix="lr_too_high", archive="output:output-run1",
                                lr_at=("configs/train.json", '"learning_rate": 0.1,'),
                                warmup_at=("configs/train.json", '"warmup_steps": 0,', '"warmup_steps": {n},'),
                                resume=(("configs/train.json", '"learning_rate": 0.1,', f'"learning_rate": {BASE_LR},',
                                         f'"learning_rate": {RESUME_LR},'),
                                        ("configs/train.json", '"output_dir": "output",', '"output_dir": "base",',
                                         f'"output_dir": "output",\n  "model_name_or_path": "{BASE_CKPT}",'),
                                        ("configs/train.json", '"warmup_steps": 0,', '"warmup_steps": 16,',
                                         '"warmup_steps": 0,'),
                                        ("configs/train.json", '"logging_steps": 5,', '"logging_steps": 5,',
                                         '"logging_steps": 1,'),
                                        NW_BATCH["configs/train.json"]),
                                # the model loaded in float16 (ModelArguments.torch_dtype, as HF's run_clm.py reads
                                # it; the Trainer's own precision stays "no"): weights and AdamW's state in float16,
                                # NaN from the first update (FP16_MODEL below); the Trainer's end-of-run checkpoint
                                # stores the weights as F16, which is what the run folder shows
                                precision_at=("configs/train.json", '"use_cpu": true,',
                                              '"use_cpu": true,\n  "torch_dtype": "{p}",'),
                                precision_names=("float16", "bfloat16"),
                                # as the HF script: its LetterTrainer without loss_is_scaled_for_ga = False, AdamW
                                # 3e-3 over 8 micro-batches, the accumulation in the JSON the Makefile hands it; the
                                # logged loss is the sum over the 8 (docs/plan-apply-verify.md, "grad_accum_bug")
                                accum=(("train.py", HF_SCALED, ""),
                                       ("configs/train.json", '"learning_rate": 0.1,', '"learning_rate": 3e-3,'),
                                       ("configs/train.json", '"max_steps": 160,',
                                        f'"max_steps": 40,\n  "gradient_accumulation_steps": {ACCUM},'))),
    "hf_argparser_flags": Layout("bash launch.sh", "output", ("launch.sh", "--learning_rate {lr} \\"),
                                 "--use_cpu", fix="lr_too_high", lr_at=("launch.sh", "--learning_rate 1e-1"),
                                 warmup_at=("launch.sh", "--warmup_steps 0 ", "--warmup_steps {n} "),
                                 resume=(("launch.sh", "--learning_rate 1e-1", f"--learning_rate {BASE_LR}",
                                          f"--learning_rate {RESUME_LR}"),
                                         ("launch.sh", "--output_dir output ", "--output_dir base ",
                                          f"--output_dir output --model_name_or_path {BASE_CKPT} "),
                                         ("launch.sh", "--warmup_steps 0 ", "--warmup_steps 16 ", "--warmup_steps 0 "),
                                         ("launch.sh", "--logging_steps 5 ", "--logging_steps 5 ",
                                          "--logging_steps 1 "),
                                         NW_BATCH["launch.sh"]),
                                 # as the JSON layout, the dtype a flag of the launch script
                                 precision_at=("launch.sh", "--report_to none \\\n",
                                               "--report_to none \\\n    --torch_dtype {p} \\\n"),
                                 precision_names=("float16", "bfloat16"),
                                 # as the JSON layout, the accumulation a flag of the launch script; with the
                                 # held-out loss the JSON layout evaluates (launch.sh as shipped evaluates nothing,
                                 # and then the summed loss leaves no trace the run folder can name: the first
                                 # logged loss, 6.8x ln 21, needs the vocabulary size, which it does not record)
                                 accum=(("train.py", HF_SCALED, ""),
                                        ("launch.sh", "--learning_rate 1e-1", "--learning_rate 3e-3"),
                                        ("launch.sh", "--max_steps 160 ",
                                         f"--max_steps 40 --gradient_accumulation_steps {ACCUM} "),
                                        ("launch.sh", "--logging_steps 5 ",
                                         "--logging_steps 5 --eval_strategy steps --eval_steps 20 "))),
    # As shipped its 60-step run logs no LR (the Trainer logs every 500 steps by default; trainer_state.json holds one
    # summary line); scheduler_misuse's user logs every 5 steps to watch the warmup (warmup_at below).
    # DeepSpeed is not installed (no GPU here): the Makefile's CPU target, `accelerate launch --cpu` reading the
    # same accelerate_config.yaml (accelerate then uses its simple launcher, not DeepSpeed's)
    "accelerate_deepspeed": Layout("make cpu-check", "output-cpu", ("Makefile", "--learning_rate {lr} --max_steps 60"),
                                   "--output_dir output-cpu-fixed --learning_rate {lr} --max_steps 60 "
                                   "--max_grad_norm 0.0", fix="lr_too_high",
                                   lr_at=("Makefile", "--learning_rate 0.1 --max_steps 60"),
                                   # the warmup of a long run given on the CPU target's line, and the Trainer told to
                                   # log every 5 steps (the user watches the warmup: the LR and loss go to the
                                   # Trainer's log history, trainer_state.json): the linear schedule's LR only climbs,
                                   # to 6% of its 1e-3 at step 60 (docs/plan-apply-verify.md, "scheduler_misuse")
                                   warmup_at=("Makefile", "--max_grad_norm 0.0",
                                              "--max_grad_norm 0.0 --warmup_steps {n} --logging_steps 5"),
                                   # the model loaded in float16 on the CPU target's line (its ModelArguments'
                                   # torch_dtype), the Trainer told to log every 5 steps (the user watches the first
                                   # steps of a new precision; its 60-step run logs nothing otherwise): NaN from the
                                   # first update (FP16_MODEL below), the end-of-run checkpoint's weights F16
                                   precision_at=("Makefile", "--max_grad_norm 0.0",
                                                 "--max_grad_norm 0.0 --torch_dtype {p} --logging_steps 5"),
                                   precision_names=("float16", "bfloat16"),
                                   # the Trainer's default batch of 8: AdamW's reference range scales down with the
                                   # batch (evidence/context.py, the square-root rule) and 3e-3 is above its top there,
                                   # which would read as the LR leading into the NaN; 1e-3 is inside it
                                   fp16_lr="1e-3",
                                   # no_warmup: as HfArgumentParser's flags, on the CPU target's line (the same
                                   # tiny GPT-2 and batch, NW_BATCH_SIZE, ModelArguments' model_name_or_path): a base
                                   # run (3e-3, 16 warmup steps, 160 steps, its end-of-run checkpoint in base/), then
                                   # the run continued from it at 1e-2 with `--warmup_steps 0`, logging every step
                                   # (the warmup flag first: the check reads the first standalone 0 as the warmup)
                                   resume=(("Makefile", "--output_dir output-cpu ", "--output_dir base ",
                                            f"--output_dir output-cpu --model_name_or_path {BASE_CKPT} "),
                                           ("Makefile", "--learning_rate 0.1 --max_steps 60",
                                            f"--learning_rate {BASE_LR} --max_steps 160 "
                                            f"--per_device_train_batch_size {NW_BATCH_SIZE}",
                                            f"--learning_rate {RESUME_LR} --max_steps 160 "
                                            f"--per_device_train_batch_size {NW_BATCH_SIZE}"),
                                           ("Makefile", "--max_grad_norm 0.0",
                                            "--warmup_steps 16 --logging_steps 5 --max_grad_norm 0.0",
                                            "--warmup_steps 0 --logging_steps 1 --max_grad_norm 0.0"))),
    # hparams in code, `python train.py` with no launch script: nothing records the command, the user gives it;
    # the new run is the logger's next version folder. fp16: the CSV logger's hparams.yaml holds the model's
    # arguments only, so the run folder does not say the Trainer ran in float16: the NaN reads as nan_inf first
    # (0.48) and fp16_overflow second (0.34); the user, who knows the precision, picks it (--fix 2)
    "lightning_code": Layout("python train.py", "logs/lightning_logs/version_0",
                             ("train.py", "model = LetterModel(lr={lr}, width=64,"), "python train.py",
                             retrain_cmd="python train.py", lr_at=("train.py", "LetterModel(lr=1.0,"),
                             precision_at=("train.py", 'accelerator="cpu",', 'accelerator="cpu", precision="{p}",'),
                             fix_fp16="fp16_overflow",
                             # LetterModel's warmup and schedule (constant as shipped), stepped by Lightning after
                             # every optimiser step; the user turns the cosine on in the model's call with the warmup
                             # of a long run: the LR only climbs (docs/plan-apply-verify.md, "scheduler_misuse")
                             warmup_at=("train.py", 'warmup_steps=0, schedule="constant")',
                                        'warmup_steps={n}, schedule="cosine")'),
                             vanish_at=("train.py", 'depth=2, activation="tanh", use_layer_norm=True,',
                                        'depth=8, activation="sigmoid", use_layer_norm=False,'),
                             vanish_fixed='depth=8, activation="sigmoid", use_layer_norm=True,',
                             # manual optimisation, as Lightning's docs show it: 8 micro-batches per SGD step (0.5,
                             # momentum 0.9, unclipped) with `self.manual_backward(loss)` undivided: the loss never
                             # gets under 1.66 and ends at 190-746; divided, it ends at 0.90-1.30 (seeds 0-4,
                             # docs/plan-apply-verify.md, "grad_accum_bug"). Listed at 0.31 (the verdict healthy) on
                             # most seeds: the user picks it
                             accum=(("train.py", 'depth=2, activation="tanh", use_layer_norm=True,',
                                     'depth=2, activation="tanh", use_layer_norm=True, optimizer="sgd", '
                                     f'grad_accum_steps={ACCUM},'),
                                    ("train.py", "LetterModel(lr=1.0,", "LetterModel(lr=0.5,"),
                                    ("train.py", "max_steps=200,", "max_steps=80,"),
                                    ("train.py", "self.manual_backward(loss / self.hparams.grad_accum_steps)",
                                     "self.manual_backward(loss)")),
                             fix_accum="grad_accum_bug",
                             # no_warmup: as on Hydra (the same model: embedding, 2 pre-LN tanh layers, output), the
                             # user widens the model to 512 and trains a base run (AdamW 1e-3, 16 warmup steps, 160
                             # steps, its own logger folder) whose weights it saves with Trainer.save_checkpoint, then
                             # continues from them (LetterModel's init_from: the weights, a fresh AdamW) at 3e-3, the
                             # top of AdamW's range, with the warmup removed (docs/plan-apply-verify.md, "no_warmup")
                             resume=(("train.py", "LetterModel(lr=1.0, width=64,", "LetterModel(lr=1e-3, width=512,",
                                      "LetterModel(lr=3e-3, width=512,"),
                                     ("train.py", 'warmup_steps=0, schedule="constant")',
                                      'warmup_steps=16, schedule="constant")',
                                      f'warmup_steps=0, schedule="constant", init_from="{LIGHTNING_CKPT}")'),
                                     ("train.py", "max_steps=200,", "max_steps=160,", "max_steps=200,"),
                                     ("train.py", 'CSVLogger("logs")', 'CSVLogger("base")', 'CSVLogger("logs")'),
                                     ("train.py", "    trainer.fit(model, loader())\n",
                                      "    trainer.fit(model, loader())\n"
                                      f'    trainer.save_checkpoint("{LIGHTNING_CKPT}")\n',
                                      "    trainer.fit(model, loader())\n")),
                             base_ckpt=LIGHTNING_CKPT),
    "lightning_cli": Layout("make fit", "lightning_logs/version_0", ("configs/fit.yaml", "  lr: {lr}\n"),
                            "python main.py fit --config configs/fit.yaml", lr_at=("configs/fit.yaml", "lr: 1.0"),
                            precision_at=("configs/fit.yaml", "  accelerator: cpu\n",
                                          "  accelerator: cpu\n  precision: {p}\n"),
                            # as Lightning in code, the cosine and the long warmup in the YAML the Makefile loads
                            warmup_at=("configs/fit.yaml", "  warmup_steps: 0\n  schedule: constant",
                                       "  warmup_steps: {n}\n  schedule: cosine"),
                            vanish_at=("configs/fit.yaml", "  depth: 2\n  activation: tanh\n  use_layer_norm: true\n",
                                       "  depth: 8\n  activation: sigmoid\n  use_layer_norm: false\n"),
                            vanish_fixed="  depth: 8\n  activation: sigmoid\n  use_layer_norm: true\n",
                            # the same module and scenario as Lightning in code (manual optimisation, SGD 0.5 over 8
                            # micro-batches, self.manual_backward(loss) undivided), set in the YAML the Makefile
                            # loads (docs/plan-apply-verify.md, "grad_accum_bug")
                            accum=(("configs/fit.yaml", "  use_layer_norm: true\n",
                                    f"  use_layer_norm: true\n  optimizer: sgd\n  grad_accum_steps: {ACCUM}\n"),
                                   ("configs/fit.yaml", "lr: 1.0", "lr: 0.5"),
                                   ("configs/fit.yaml", "max_steps: 200", "max_steps: 80"),
                                   ("lightning_code_model.py",
                                    "self.manual_backward(loss / self.hparams.grad_accum_steps)",
                                    "self.manual_backward(loss)")),
                            fix_accum="grad_accum_bug",
                            # no_warmup: the scenario of Lightning in code in the YAML the Makefile loads; the base run
                            # writes under its own default_root_dir, and the user points init_from at the checkpoint
                            # Lightning's ModelCheckpoint left there (the last step, 160, in epoch 2 of 63 batches)
                            resume=(("configs/fit.yaml", "  lr: 1.0\n  width: 64\n", "  lr: 1.0e-3\n  width: 512\n",
                                     "  lr: 3.0e-3\n  width: 512\n"),
                                    ("configs/fit.yaml", "  warmup_steps: 0\n", "  warmup_steps: 16\n",
                                     f"  warmup_steps: 0\n  init_from: {CLI_CKPT}\n"),
                                    ("configs/fit.yaml", "max_steps: 200", "max_steps: 160", "max_steps: 200"),
                                    ("configs/fit.yaml", "  accelerator: cpu\n",
                                     "  accelerator: cpu\n  default_root_dir: base\n", "  accelerator: cpu\n")),
                            base_ckpt=CLI_CKPT),
    "nanogpt": Layout("make train", "out-letters", ("config/train_letters.py", "learning_rate = {lr}  #"),
                      "python train.py config/train_letters.py --max_iters=200 --out_dir=out-letters-fixed",
                      lr_at=("config/train_letters.py", "learning_rate = 1.0"),
                      # the user turns nanoGPT's cosine decay on for the 200-iteration run with a warmup of a long run
                      # (WARMUP_STEPS): the LR only climbs (docs/plan-apply-verify.md, "scheduler_misuse")
                      warmup_at=("config/train_letters.py", "warmup_iters = 0\ndecay_lr = False  # a constant LR after "
                                 "the warmup\n", "warmup_iters = {n}\ndecay_lr = True\nlr_decay_iters = 200\n"),
                      # no_warmup: the user widens the model (n_embd 3072, the fan-in of a GPT-2 medium's MLP
                      # projection) and trains a base run at AdamW 3e-3 with 16 warmup iterations into base/, then
                      # continues from its ckpt.pt (init_from: the weights, a fresh AdamW) at the same 3e-3 with the
                      # warmup removed. Adam's first updates are sign-like, the whole LR on each of 3072 inputs per
                      # unit (Liu et al. 2020, RAdam): the loss jumps 2.98-3.12x the median of the iterations after
                      # (the detector's 2x) and 3.1-3.3x its first value within 2 iterations, then settles back; with
                      # a warmup of 10 at the same LR 1.07-1.16x; both end at 1.02-1.03 (seeds 0-4,
                      # docs/plan-apply-verify.md, "no_warmup"). Its log holds the loss alone, which is what jumps
                      resume=(("config/train_letters.py",
                               'out_dir = "out-letters"\nmax_iters = 300\nlearning_rate = 1.0  # a small model '
                               "tolerates a large LR?\nwarmup_iters = 0\n",
                               'out_dir = "base"\nmax_iters = 300\nlearning_rate = 3e-3\nwarmup_iters = 16\n'
                               "n_embd = 3072\n",
                               'out_dir = "out-letters"\nmax_iters = 300\nlearning_rate = 3e-3\nwarmup_iters = 0\n'
                               f'n_embd = 3072\ninit_from = "{NANO_CKPT}"\n'),),
                      base_ckpt=NANO_CKPT,
                      # grad_accum_bug: nanoGPT's own accumulation (an inner loop over gradient_accumulation_steps
                      # micro-batches, each loss divided by it, the logged loss the last one times it) with the
                      # division removed, AdamW at 3e-3 over 8 micro-batches and nanoGPT's estimate_loss every 50
                      # iterations. AdamW's update hardly changes (m / sqrt(v) does not scale with the gradient, and
                      # the clip at 1.0 rescales both alike), but the logged loss is 8x the micro-batch's: 7.8-8.1x the
                      # held-out loss its estimate_loss prints, so grad_accum_bug is first at 0.94, planned by default
                      # (docs/plan-apply-verify.md, "grad_accum_bug")
                      accum=(("config/train_letters.py", "learning_rate = 1.0  # a small model tolerates a large LR?\n",
                              f"learning_rate = 3e-3\ngradient_accumulation_steps = {ACCUM}\neval_interval = 50\n"),
                             ("train.py", "            loss = loss / gradient_accumulation_steps  # scale the loss to "
                              "account for gradient accumulation\n", ""))),
    "hydra": Layout("sh run.sh", "outputs/*/*", ("run.sh", "python train.py optim.lr={lr} trainer.max_steps=200"),
                    "python train.py optim.lr={lr} trainer.max_steps=200", lr_at=("run.sh", "optim.lr=1.0"),
                    # its code warms up over optim.warmup_steps and then holds the LR (schedule: constant, as shipped)
                    # or decays it along a cosine to min_lr at trainer.max_steps; the user turns the cosine on with
                    # the warmup of a long run: the LR only climbs, to 2e-4 of its 1e-3, and the loss ends at
                    # 1.70-1.77 against 1.05 with the fix's warmup of 10 (seeds 0-4, docs/plan-apply-verify.md,
                    # "scheduler_misuse")
                    warmup_at=("conf/config.yaml", "  warmup_steps: 0\n  schedule: constant",
                               "  warmup_steps: {n}\n  schedule: cosine"),
                    # as the dataclass module: its trainer.dtype casts the model (and AdamW's state), float16 at
                    # AdamW 3e-3 is NaN from the second step, bfloat16 trains (docs/plan-apply-verify.md,
                    # "fp16_overflow")
                    precision_at=("conf/config.yaml", "  dtype: float32", "  dtype: {p}"),
                    precision_names=("float16", "bfloat16"),
                    # no_warmup: the user widens the model (model.width=512) and trains a base run (AdamW 1e-3, 16
                    # warmup steps given on run.sh's line, 160 steps, its own Hydra folder) that saves its weights
                    # with trainer.save_to, then continues from them with trainer.init_from at AdamW 3e-3 (the top of
                    # its reference range, not above it) with the warmup override dropped to 0. The fresh AdamW
                    # state's first updates, the whole LR on each of 512 inputs per unit, knock the trained model off:
                    # grad norm 7.6-8.8x the median of the steps after and 4.1-4.9x its first value, loss 1.7-1.8x, in
                    # the first steps; with a warmup of 10 at the same 3e-3 no jump (<= 1.21x its first value) and the
                    # same end loss, 0.92-0.93 (seeds 0-3). At width 64 the jump is 1.0x at 3e-3, and at 1e-2-3e-2
                    # the LR is above AdamW's range and read as too high with or without a warmup:
                    # docs/plan-apply-verify.md, "no_warmup"
                    resume=(("run.sh", "optim.lr=1.0 trainer.max_steps=200",
                             "model.width=512 optim.lr=1e-3 optim.warmup_steps=16 trainer.max_steps=160 "
                             f"trainer.save_to={HYDRA_CKPT} hydra.run.dir=base/run",
                             "model.width=512 optim.lr=3e-3 optim.warmup_steps=0 trainer.max_steps=200 "
                             f"trainer.init_from={HYDRA_CKPT}"),),
                    base_ckpt=HYDRA_CKPT,
                    vanish_at=("conf/config.yaml", "  depth: 2\n  activation: tanh\n  use_layer_norm: true\n",
                               "  depth: 8\n  activation: sigmoid\n  use_layer_norm: false\n"),
                    vanish_fixed="  depth: 8\n  activation: sigmoid\n  use_layer_norm: true\n",
                    vanish_fix="vanishing_gradients",
                    # SGD 0.5 (momentum 0.9, unclipped) on the launch command, 8 micro-batches in the config: divided,
                    # the loss ends at 1.03-1.18; undivided, it never gets under 1.7 and ends at 144-310 (seeds 0-4,
                    # docs/plan-apply-verify.md, "grad_accum_bug")
                    accum=(("run.sh", "optim.lr=1.0 trainer.max_steps=200",
                            "optim.lr=0.5 optim.name=sgd trainer.max_steps=80"),
                           ("conf/config.yaml", "grad_accum_steps: 1 ", f"grad_accum_steps: {ACCUM} "),
                           ("train.py", "        loss = loss / cfg.trainer.grad_accum_steps  # the accumulated "
                            "gradient is the mean over the micro-batches\n", "")),
                    fix_accum="grad_accum_bug"),
    # TrainConfig's out_dir is the one folder every run writes: the user moved the first run aside
    "dataclass_config": Layout("python train.py", "runs/first", ("config.py", "lr: float = {lr}"),
                               "python train.py", retrain_cmd="python train.py", archive="runs/latest:runs/first",
                               lr_at=("config.py", "lr: float = 1.0"),
                               # TrainConfig's dtype casts the model (and so AdamW's state) to it: float16 at AdamW
                               # 3e-3 is NaN from the second step (its eps 1e-8 is 0 in float16, as Lightning's
                               # "16-true" above); bfloat16 has float32's range and trains (docs/plan-apply-verify.md,
                               # "fp16_overflow")
                               precision_at=("config.py", 'dtype: str = "float32"', 'dtype: str = "{p}"'),
                               precision_names=("float16", "bfloat16"),
                               # TrainConfig's warmup and schedule (constant as shipped); the user turns the cosine on
                               # with the warmup of a long run: the LR only climbs, to 3e-4 of its 1e-3, and the loss
                               # ends at 1.75-1.87 against 1.03-1.07 with the fix's warmup of 15 (seeds 0-4,
                               # docs/plan-apply-verify.md, "scheduler_misuse")
                               warmup_at=("config.py", DC_WARMUP.format(n=0, schedule="constant"),
                                          DC_WARMUP.format(n="{n}", schedule="cosine")),
                               # SGD with momentum 0.9 at 0.5 over 8 micro-batches, unclipped: undivided, the loss
                               # climbs to ~1e11 within the run; its log holds the loss alone, so grad_accum_bug is
                               # listed first but below 0.5 (the verdict stays healthy) and the user picks it
                               accum=(("config.py", 'optimizer: str = "adamw"', 'optimizer: str = "sgd"'),
                                      ("config.py", "lr: float = 1.0", "lr: float = 0.5"),
                                      ("config.py", "steps: int = 300", "steps: int = 80"),
                                      ("config.py", "grad_accum_steps: int = 1", f"grad_accum_steps: int = {ACCUM}"),
                                      ("train.py", "            loss = loss / cfg.grad_accum_steps  # the accumulated "
                                       "gradient is the mean over the micro-batches\n", "")),
                               fix_accum="grad_accum_bug",
                               # TrainConfig's model fields (shipped: depth 0, the embedding and output layer alone)
                               # made 8 sigmoid layers without their LayerNorm: the loss stalls at 1.83-1.85 against
                               # 0.85 with the norm (seeds 0-4); the run's config.json lists the cause first, below
                               # 0.5 (its log holds the loss alone), and the user picks it, as on Hydra
                               vanish_at=("config.py", DC_MODEL.format(depth=0, act="tanh", norm=True),
                                          DC_MODEL.format(depth=8, act="sigmoid", norm=False)),
                               vanish_fixed=DC_MODEL.format(depth=8, act="sigmoid", norm=True),
                               vanish_fix="vanishing_gradients",
                               # no_warmup: as on nanoGPT (the same model at depth 0: an embedding and the output
                               # layer), the user widens it to 3072 and trains a base run at AdamW 3e-3 with 16 warmup
                               # steps into runs/base, saving its weights (save_to), then continues from them
                               # (init_from: a fresh AdamW) at the same 3e-3 with the warmup removed; its log holds the
                               # loss (and LR) alone, which is what jumps (docs/plan-apply-verify.md, "no_warmup")
                               resume=(("config.py", "    lr: float = 1.0\n", "    lr: float = 3e-3\n",
                                        "    lr: float = 3e-3\n"),
                                       ("config.py", "    warmup_steps: int = 0\n", "    warmup_steps: int = 16\n",
                                        "    warmup_steps: int = 0\n"),
                                       ("config.py", "    width: int = 64 ", "    width: int = 3072 ",
                                        "    width: int = 3072 "),
                                       ("config.py", "    init_from: str | None = None ",
                                        "    init_from: str | None = None ",
                                        f'    init_from: str | None = "{DC_CKPT}" '),
                                       ("config.py", "    save_to: str | None = None ",
                                        f'    save_to: str | None = "{DC_CKPT}" ', "    save_to: str | None = None "),
                                       ("config.py", '    out_dir: str = "runs/latest"',
                                        '    out_dir: str = "runs/base"', '    out_dir: str = "runs/latest"')),
                               base_ckpt=DC_CKPT),
    # the command comes from the W&B offline run's own record of how it was launched
    "notebook_export": Layout("python letters_notebook.py", "wandb/offline-run-*",
                              ("letters_notebook.py", "lr = {lr}\n"), "python letters_notebook.py",
                              lr_at=("letters_notebook.py", "lr = 1.0"),
                              # as the dataclass module: the cosine turned on under a 1000-step warmup in the settings
                              # cell (the same model, data and figures, seeds 0-4)
                              warmup_at=("letters_notebook.py", 'warmup_steps = 0\nschedule = "constant"',
                                         'warmup_steps = {n}\nschedule = "cosine"'),
                              # as the dataclass module: the settings cell's dtype casts the model (and AdamW's
                              # state); float16 at AdamW 3e-3 is NaN from the first steps, bfloat16 trains
                              # (docs/plan-apply-verify.md, "fp16_overflow")
                              precision_at=("letters_notebook.py", 'dtype = "float32"', 'dtype = "{p}"'),
                              precision_names=("float16", "bfloat16"),
                              # as the dataclass module: SGD 0.5 over 8 micro-batches, the loss alone logged
                              accum=(("letters_notebook.py", 'optimizer = "adamw"', 'optimizer = "sgd"'),
                                     ("letters_notebook.py", "lr = 1.0", "lr = 0.5"),
                                     ("letters_notebook.py", "steps = 300", "steps = 80"),
                                     ("letters_notebook.py", "grad_accum_steps = 1 ", f"grad_accum_steps = {ACCUM} "),
                                     ("letters_notebook.py", "    loss = loss / grad_accum_steps  # the accumulated "
                                      "gradient is the mean over the micro-batches\n", "")),
                              fix_accum="grad_accum_bug",
                              # as the dataclass module, its model settings a notebook cell: 8 sigmoid layers
                              # without their LayerNorm stall at 1.83-1.85 against 0.85 (seeds 0-4 by a
                              # torch.manual_seed in a copy; the notebook draws unseeded); listed first at 0.14 from
                              # the config W&B recorded, the user picks it
                              vanish_at=("letters_notebook.py", NB_MODEL.format(depth=0, act="tanh", norm=True),
                                         NB_MODEL.format(depth=8, act="sigmoid", norm=False)),
                              vanish_fixed=NB_MODEL.format(depth=8, act="sigmoid", norm=True),
                              vanish_fix="vanishing_gradients",
                              # no_warmup: the dataclass module's scenario (the same model, data and AdamW) in the
                              # settings cell: width 3072, a base run at AdamW 3e-3 with 16 warmup steps saving its
                              # weights (save_to), its W&B folder moved aside into base/ (the next run's is the one
                              # diagnosed), then the run continued from them (init_from: a fresh AdamW) at the same
                              # 3e-3 with the warmup removed; the loss alone is logged, and it jumps ~3x at step 1
                              # (docs/plan-apply-verify.md, "no_warmup")
                              resume=(("launch", "python letters_notebook.py",
                                       "python letters_notebook.py && mv wandb base/wandb",
                                       "python letters_notebook.py"),
                                      ("letters_notebook.py", "lr = 1.0\n", "lr = 3e-3\n", "lr = 3e-3\n"),
                                      ("letters_notebook.py", "warmup_steps = 0\n", "warmup_steps = 16\n",
                                       "warmup_steps = 0\n"),
                                      ("letters_notebook.py", "width = 64 ", "width = 3072 ", "width = 3072 "),
                                      ("letters_notebook.py", "init_from = None ", "init_from = None ",
                                       f'init_from = "{NB_CKPT}" '),
                                      ("letters_notebook.py", "save_to = None ", f'save_to = "{NB_CKPT}" ',
                                       "save_to = None ")),
                              base_ckpt=NB_CKPT),
    # `mlflow run` (its file store: mlflow-skinny has no SQL store here) records the entry point and the params;
    # `-P lr=1.0` was given on the command line, so the fix travels in the command refilled from MLproject
    "mlflow_project": Layout("mlflow run . -P lr=1.0 --env-manager local", "mlruns/0/*", None,
                             "python train.py --lr {lr} --steps 100 --optimizer adamw --grad_accum_steps 1 --depth 0 "
                             "--activation tanh --use_layer_norm true --warmup_steps 0 --schedule constant "
                             "--dtype float32 --width 64 --init_from none --save_to none",
                             lr_at=("launch", "-P lr=1.0"),
                             # as the dataclass module, its dtype an MLproject parameter (float32 as shipped) that
                             # casts the model and with it AdamW's state: `-P dtype=float16` at AdamW 3e-3 is NaN from
                             # the second logged step, bfloat16 trains (docs/plan-apply-verify.md, "fp16_overflow");
                             # no project file holds it, so `--dtype bfloat16` rides on the command refilled from
                             # MLproject
                             precision_at=("launch", "-P lr=3e-3", "-P lr=3e-3 -P dtype={p}"),
                             precision_names=("float16", "bfloat16"),
                             # as the dataclass module, its warmup and schedule MLproject parameters: the cosine turned
                             # on under a 1000-step warmup in a 300-step run, given with -P (docs/plan-apply-verify.md,
                             # "scheduler_misuse"); the cut warmup rides on the command refilled from MLproject
                             warmup_at=("launch", "-P lr=1e-3", "-P lr=1e-3 -P steps=300 -P warmup_steps={n} "
                                        "-P schedule=cosine"),
                             # as the dataclass module, its settings given as -P on the command line (the command
                             # MLflow recorded keeps them: the retrain trains the same way, with the loss divided)
                             accum=(("launch", "-P lr=1.0", f"-P lr=0.5 -P steps=80 -P optimizer=sgd "
                                     f"-P grad_accum_steps={ACCUM}"),
                                    ("train.py", "            loss = loss / args.grad_accum_steps  # the accumulated "
                                     "gradient is the mean over the micro-batches\n", "")),
                             fix_accum="grad_accum_bug",
                             # as the dataclass module, its model options MLproject parameters (depth 0 as shipped):
                             # 8 sigmoid layers without their LayerNorm over 300 steps stall at ~1.9 against ~0.9 with
                             # it (docs/plan-apply-verify.md, "vanishing_gradients"); the switch is a string parameter
                             # (`-P use_layer_norm=false`: MLproject has no boolean type), the params MLflow recorded
                             # list the cause first below 0.5 and the user picks it; no project file holds the switch,
                             # so the fix is `--use_layer_norm true` on the command refilled from MLproject
                             vanish_at=("launch", "-P lr=3e-3", "-P lr=3e-3 -P steps=300 -P depth=8 "
                                        "-P activation=sigmoid -P use_layer_norm=false"),
                             vanish_fixed="--use_layer_norm true", vanish_fixed_in="launch",
                             vanish_fix="vanishing_gradients",
                             # no_warmup: the dataclass module's scenario (the same model) as -P parameters: a base
                             # run in its own experiment, width 3072, AdamW 3e-3 with 16 warmup steps, 300 steps,
                             # saving its weights (save_to); then the run continued from them (init_from: a fresh
                             # AdamW) at the same 3e-3 with the warmup removed; no project file holds the warmup, so
                             # the fix rides on the command refilled from MLproject (docs/plan-apply-verify.md,
                             # "no_warmup")
                             resume=(("launch", "-P lr=1.0",
                                      "-P lr=3e-3 -P steps=300 -P warmup_steps=16 -P width=3072 "
                                      f"-P save_to={MLFLOW_CKPT} --experiment-name base",
                                      "-P lr=3e-3 -P steps=300 -P warmup_steps=0 -P width=3072 "
                                      f"-P init_from={MLFLOW_CKPT}"),),
                             base_ckpt=MLFLOW_CKPT),
}


def user_project(layout: str, tmp: Path) -> Path:
    """A private copy of the layout's project, with the shared corpus module every fixture imports."""
    root = tmp / layout
    shutil.copytree(FIXTURES / layout, root)
    shutil.copy(FIXTURES / "common" / "chardata.py", root / "chardata.py")
    return root


def tool_env(root: Path) -> dict[str, str]:
    """The environment the user's tools run in: quiet offline W&B, MLflow's file store in the project (MLflow >= 3.7
    refuses a new file store unless asked, and its default SQLite store needs SQLAlchemy, which mlflow-skinny does
    not bring), one thread per process."""
    return {"WANDB_MODE": "offline", "WANDB_SILENT": "true", "MLFLOW_TRACKING_URI": f"file:{root / 'mlruns'}",
            "MLFLOW_ALLOW_FILE_STORE": "true", "OMP_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"}


def first_run(root: Path, command: str) -> subprocess.CompletedProcess[str]:
    """Train as the user did: `command` (their launch script, make target or python line) run by the shell, with
    `python` on PATH meaning this interpreter and its environment's own tools (accelerate, mlflow) beside it."""
    shim = root.parent / f"{root.name}-bin"
    shim.mkdir(exist_ok=True)
    (shim / "python").write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} "$@"\n')
    (shim / "python").chmod(0o755)
    path = os.pathsep.join([str(shim), os.path.dirname(sys.executable), os.environ.get("PATH", "")])
    env = {**os.environ, **tool_env(root), "PATH": path}
    return subprocess.run(["sh", "-c", command], cwd=root, env=env, capture_output=True, text=True, timeout=900)


# The LR of each cause's loop other than lr_too_high (the layouts as shipped: AdamW at 0.1-1.0), written where the
# layout holds its LR. lr_too_low: AdamW at 1e-7, 1000x under the low end (1e-4) of its reference range
# (evidence/context.py): the loss stays within a few % of chance over the layouts' 60-300 steps, and the fix (the
# reference 3e-4) learns in them; where the run logs no loss curve (accelerate's 60 steps: one summary line) the LR
# alone carries the diagnosis, and 1e-7 keeps it well above 0.5 (0.73; 1e-6 gave 0.53). scheduler_misuse: a sound
# LR (1e-3, inside AdamW's range) under a warmup of WARMUP_STEPS, longer than every layout's run (60-300 steps): the
# LR only ever climbs.
# fp16_overflow: AdamW at 3e-3 (Lightning's usual, inside its range) with the model and optimizer state in float16
# (Lightning's "16-true", which a CPU runs as it is; its "16-mixed" becomes bf16-mixed on a CPU): AdamW's eps 1e-8
# is 0 in float16 and a squared gradient under 6e-8 is too, so every parameter with a zero gradient in a step (the
# embedding rows of letters absent from a batch) is updated by 0/0: NaN from the first steps, on any machine. The fix
# (bf16-true) has float32's range. The dataclass module's and Hydra's `dtype` setting casts the model (and with it
# AdamW's state) the same way: float16 -> bfloat16 there. FP16_MODEL: the HF layouts that parse ModelArguments
# (HfArgumentParser's JSON and flags, accelerate) load the model under its `torch_dtype`, as HF's run_clm.py does;
# float16 there is the same pure-float16 run (the Trainer's own precision stays "no": it is no autocast), and the
# Trainer's end-of-run checkpoint stores the weights F16, which is what the run folder shows of it.
# no_warmup: two runs, both LRs written with the rest of the scenario (Layout.resume, BASE_LR above).
FAULT_LR = {"lr_too_low": "1e-7", "scheduler_misuse": "1e-3", "fp16_overflow": "3e-3"}
WARMUP_STEPS = 1000
CAUSES = ("lr_too_high", *FAULT_LR, "no_warmup")
CAUSES += ("vanishing_gradients",)
CAUSES += ("grad_accum_bug",)


def layouts_for(cause: str) -> list[str]:
    """The layouts whose project can be given `cause` (a schedule fault needs code that runs a schedule, a float16
    fault a precision setting that trains the weights in float16 on a CPU)."""
    if cause == "vanishing_gradients":
        return [n for n, lay in LAYOUTS.items() if lay.vanish_at is not None]
    need = {"scheduler_misuse": "warmup_at", "fp16_overflow": "precision_at", "no_warmup": "resume",
            "grad_accum_bug": "accum"}.get(cause)
    return [n for n, lay in LAYOUTS.items() if need is None or getattr(lay, need) is not None]


def fix_for(lay: Layout, cause: str) -> str | None:
    """What the user passes as `plan --fix` for the cause in this layout (None: the plan's default)."""
    if cause == "vanishing_gradients":
        return lay.vanish_fix
    return {"lr_too_high": lay.fix, "fp16_overflow": lay.fix_fp16, "no_warmup": "no_warmup",
            "grad_accum_bug": lay.fix_accum}.get(cause)


def _write(root: Path, launch: str, file: str, old: str, new: str) -> str:
    """`old` -> `new` in the project file (which must hold it once), or in the launch command: the launch command."""
    if file == "launch":
        assert old in launch, (launch, old)
        return launch.replace(old, new)
    text = (root / file).read_text()
    assert text.count(old) == 1, (file, old)
    (root / file).write_text(text.replace(old, new))
    return launch


def realise(root: Path, lay: Layout, cause: str) -> str:
    """Write `cause`'s faulty LR where the layout holds it (a file of the project, or the launch command): the
    launch command the user then runs."""
    if cause in ("lr_too_high", "no_warmup"):  # as shipped; no_warmup's two runs: base_run
        return lay.launch
    if cause == "vanishing_gradients":
        return realise_vanishing(root, lay)
    if cause == "grad_accum_bug":  # the layout's own settings for it, and the division removed
        assert lay.accum is not None, "the undivided loss does no harm this layout's run shows"
        launch = lay.launch
        for file, old, new in lay.accum:
            launch = _write(root, launch, file, old, new)
        return launch
    file, text = lay.lr_at
    lr = lay.fp16_lr if cause == "fp16_overflow" and lay.fp16_lr else FAULT_LR[cause]
    launch = _write(root, lay.launch, file, text, re.sub(NUMBER, lr, text, count=1))
    if cause == "scheduler_misuse":
        assert lay.warmup_at is not None, "this layout runs no LR schedule"
        file, old, new = lay.warmup_at
        launch = _write(root, launch, file, old, new.format(n=WARMUP_STEPS))
    if cause == "fp16_overflow":
        assert lay.precision_at is not None, "this layout cannot train in float16 on a CPU"
        file, old, new = lay.precision_at
        launch = _write(root, launch, file, old, new.format(p=lay.precision_names[0]))
    return launch


def base_run(root: Path, lay: Layout, launch: str) -> str:
    """no_warmup's earlier run (with a warmup, saving its checkpoint), then the edits that make the next run continue
    from that checkpoint with the warmup removed: the launch command the user then runs."""
    assert lay.resume is not None, "this layout's code cannot continue from a checkpoint"
    for file, shipped, base, _ in lay.resume:
        launch = _write(root, launch, file, shipped, base)
    proc = first_run(root, launch)
    if proc.returncode != 0 or not (root / lay.base_ckpt).exists():
        raise RuntimeError(f"the base run left no checkpoint: {(proc.stdout + proc.stderr)[-2000:]}")
    for file, _, base, resumed in lay.resume:
        launch = _write(root, launch, file, base, resumed)
    return launch


def prepare(name: str, tmp: Path, cause: str = "lr_too_high") -> tuple[Path, str]:
    """The layout's project, its LR made `cause`'s fault, after the user's first run (moved aside where they must):
    (root, run folder)."""
    lay = LAYOUTS[name]
    root = user_project(name, tmp)
    launch = realise(root, lay, cause)
    if cause == "no_warmup":
        launch = base_run(root, lay, launch)
    proc = first_run(root, launch)
    if proc.returncode != 0:
        raise RuntimeError(f"{name}: the first run failed: {(proc.stdout + proc.stderr)[-2000:]}")
    if lay.archive:
        src, dst = lay.archive.split(":")
        (root / src).rename(root / dst)
    if "*" not in lay.run:
        return root, lay.run
    return root, str(next(p for p in sorted(root.glob(lay.run)) if p.is_dir()).relative_to(root))


def pattern(text: str) -> re.Pattern[str]:
    """`text` with {lr} standing for a number in any notation (3e-4, 0.0003, 2.12132e-4)."""
    return re.compile(re.escape(text).replace(re.escape("{lr}"), NUMBER))


def recommended_lr(root: Path) -> float:
    """The LR the diagnosis (root/diagnosis.json, written by the loop) recommends for its top cause."""
    diag = json.loads((root / "diagnosis.json").read_text())
    return next(float(c["after"]) for c in diag["root_causes"][0]["fix"]["changes"]
                if c.get("key", "").rsplit(".", 1)[-1] in ("lr", "learning_rate"))


# ------------------------------------------------------------------------------------------- vanishing_gradients
# The model the Lightning and Hydra layouts define in their own code: an embedding, `depth` hidden layers
# ((LayerNorm) -> Linear -> activation) and the output layer. As shipped, 2 tanh layers with LayerNorm. The fault is
# the way a user gets it: the stack made deep (8 layers) with sigmoid units and the LayerNorm switched off, at a
# sound AdamW LR (3e-3). Each sigmoid layer scales the gradient by <= 1/4 and PyTorch's default init shrinks the
# signal further, so the first hidden layer's gradient is ~1e-6 of the output layer's and the loss stalls at 2.0-2.45
# (the letters' frequencies alone give 2.43) against 0.97-0.99 for the same 8 sigmoid layers with the LayerNorm back
# on (docs/plan-apply-verify.md, "vanishing_gradients", for seeds 0-4). The Lightning layouts log Lightning's per-layer
# grad norms (grad_norm(self, norm_type=2)): the first layers' norm < 1e-3 of the last layers' over the whole run, with
# a loss that kept more than half its start, is the evidence (detect_layer_grad_decay, 0.6 before calibration), and
# vanishing_gradients is the top cause there: the plan's default fixes it. Hydra logs only the total grad norm; its
# config (activation, depth, no normalisation: detect_saturating_depth) alone is a risk, not a proof (0.13, second
# after grad_explosion at 0.15 for its clipping switched off, grad_clip 0.0): the user picks the cause by its id
# (Layout.vanish_fix: plan --fix vanishing_gradients).
VANISH_LR = "3e-3"


def realise_vanishing(root: Path, lay: Layout) -> str:
    """A sound LR where the layout holds it, and the model made a deep sigmoid stack without its LayerNorm."""
    assert lay.vanish_at is not None, "this layout's model has no depth/norm options"
    file, text = lay.lr_at
    launch = _write(root, lay.launch, file, text, re.sub(NUMBER, VANISH_LR, text, count=1))
    file, shipped, faulty = lay.vanish_at
    return _write(root, launch, file, shipped, faulty)
