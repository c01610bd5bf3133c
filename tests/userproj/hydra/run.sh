#!/bin/sh
python train.py optim.lr=1.0 trainer.max_steps=200
