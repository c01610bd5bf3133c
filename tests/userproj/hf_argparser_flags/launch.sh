#!/bin/bash
# GPT-2 letters, run 3
python train.py \
    --output_dir output \
    --max_steps 160 \
    --per_device_train_batch_size 16 \
    --learning_rate 1e-1 \
    --warmup_steps 0 \
    --max_grad_norm 0.0 \
    --logging_steps 5 \
    --report_to none \
    --use_cpu
