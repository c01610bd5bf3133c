#!/bin/sh
# train the letter model; results in output/
set -e
python train.py --output_dir output
