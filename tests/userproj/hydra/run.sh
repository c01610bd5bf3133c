#!/bin/sh
python train.py optim.lr=0.1 trainer.max_steps=200
