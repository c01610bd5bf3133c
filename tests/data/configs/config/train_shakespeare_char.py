# train a miniature character-level shakespeare model (nanoGPT config/*.py style: plain module assignments)
out_dir = 'out-shakespeare-char'
eval_interval = 250 # keep frequent because we'll overfit
wandb_log = False # override via command line if you like
batch_size = 64
block_size = 256 # context of up to 256 previous characters

n_layer = 6
n_head = 6
n_embd = 384
dropout = 0.2

learning_rate = 1e-3 # with baby networks can afford to go a bit higher
max_iters = 5000
lr_decay_iters = 5000 # make equal to max_iters usually
min_lr = 1e-4 # learning_rate / 10 usually
beta2 = 0.99 # make a bit bigger because number of tokens per iter is small
tokens_per_iter = 2**10 * 4
warmup_iters = 100 # not super necessary potentially
