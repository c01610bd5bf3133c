# letters, small and fast
out_dir = "out-letters"
max_iters = 300
learning_rate = 1.0  # a small model tolerates a large LR?
warmup_iters = 0
decay_lr = False  # a constant LR after the warmup
