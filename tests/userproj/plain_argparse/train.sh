#!/usr/bin/env bash
# Experiment 1: push the learning rate to train faster.
python train.py --lr 0.5 --steps 150 --out runs/exp1
