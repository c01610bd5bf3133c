# letters, small and fast
out_dir = "out-letters"
max_iters = 300
learning_rate = 1e-1  # a small model tolerates a large LR?
warmup_iters = 0
