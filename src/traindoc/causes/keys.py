"""The one table of config-key synonyms. Detectors read config values through these groups and `traindoc plan`
edits the same keys, so what a detector cites is what the plan changes.

A name matches a config key when it equals the whole dotted key or its last component (`optim.warmup_steps`
matches "warmup_steps", see ingest/model.py: Run.config_value). Within a group the first name present wins, so
the more specific spelling comes first.
"""

from __future__ import annotations

KEYS: dict[str, tuple[str, ...]] = {
    # learning rate of a single-optimiser run (HF `learning_rate`, Lightning/timm `lr`, schedules' peak/base/max)
    # where a run names its optimiser (every one present is read, not only the first)
    # solver: scikit-learn's MLP ("sgd", "adam", "lbfgs"); opt_name: MLPerf's MLLOG ("lars", "sgd")
    "optimizer_name": ("optim.name", "optimizer", "optim", "optimizer_name", "optimizer.name", "optimizer_type", "opt",
                       "solver", "opt_name"),
    # lr0: YOLOv5/Ultralytics hyperparameters (the initial LR of every group; warmup_bias_lr only warms biases).
    # learning_rate_init first: scikit-learn's MLP keeps its LR there and its schedule's name ("constant",
    # "invscaling", "adaptive") in `learning_rate`
    "learning_rate": ("learning_rate_init", "learning_rate", "lr", "base_lr", "max_lr", "peak_lr", "lr0"),
    # the LR to scale when lowering/raising it: a Muon/Grokfast trainer's muon_lr is its main LR, adam_lr (the
    # embeddings' and norms' AdamW group) last
    "lr_to_scale": ("muon_lr", "learning_rate_init", "learning_rate", "lr", "base_lr", "max_lr", "peak_lr", "lr0",
                    "adam_lr"),
    "warmup_steps": ("warmup_steps", "num_warmup_steps", "warmup_iters", "lr_warmup_steps", "warmup"),
    "warmup_ratio": ("warmup_ratio",),
    # the weights a run starts from, where it names them (evidence/context.py: continued_from): HF Trainer's resume,
    # nanoGPT's init_from ('resume'), Lightning's fit(ckpt_path=...), a script's --init_from / --resume flags, and
    # HF's model_name_or_path, which names a checkpoint folder when a run continues another run's output
    "start_weights": ("resume_from_checkpoint", "init_from", "init_from_checkpoint", "resume_from", "resume",
                      "ckpt_path", "load_checkpoint", "init_checkpoint", "from_checkpoint", "model_name_or_path"),
    "lr_schedule": ("lr_scheduler_type", "scheduler", "lr_scheduler", "schedule", "lr_schedule", "decay_lr"),
    "grad_clip": ("grad_clip", "max_grad_norm", "gradient_clip_val", "clip_grad_norm", "clip_grad", "grad_clip_norm"),
    "freeze": ("freeze_backbone", "freeze", "freeze_base", "freeze_encoder", "freeze_embeddings", "freeze_layers"),
    "grad_accum": (
        "gradient_accumulation_steps",
        "accumulate_grad_batches",
        "grad_accum_steps",
        "gradient_accumulation",
        "accum_steps",
    ),
    # the batch one device takes per forward pass (HF per_device_train_batch_size, mmdet samples_per_gpu, a script's
    # --batch-size); multiplied by the device count and the accumulation factor for the batch one update sees
    "batch_size": ("per_device_train_batch_size", "micro_batch_size", "train_micro_batch_size_per_gpu",
                   "samples_per_gpu", "imgs_per_gpu", "batch_size", "batch", "bs"),
    # a batch already counted over every device (and accumulation): detectron2's SOLVER.IMS_PER_BATCH, Megatron's
    # global_batch_size
    "global_batch_size": ("global_batch_size", "total_batch_size", "ims_per_batch", "effective_batch_size"),
    # how many devices train data-parallel (`gpus` is left out: an id list in some launchers, a count in others)
    "devices": ("world_size", "num_gpus", "n_gpu", "n_gpus", "ngpus", "num_devices", "nproc_per_node", "devices"),
    "grokfast_lambda": ("grokfast_lambda", "grokfast_lamb", "lamb"),
    "grokfast_alpha": ("grokfast_alpha",),
    "adam_eps": ("adam_epsilon", "adam_eps", "eps", "epsilon"),
    # the epsilon a normalisation adds under its square root or norm (HF BERT `layer_norm_eps`, GPT-2/T5
    # `layer_norm_epsilon`, Llama `rms_norm_eps` and params.json `norm_eps`); a bare `eps` is Adam's as often, so it
    # is left out
    "norm_eps": ("norm_eps", "layer_norm_eps", "layer_norm_epsilon", "layernorm_eps", "layernorm_epsilon",
                 "rms_norm_eps", "rmsnorm_eps", "norm_epsilon", "ln_eps", "bn_eps", "batch_norm_eps",
                 "batchnorm_eps"),
    "weight_decay": ("weight_decay", "wd"),
    "early_stopping_patience": ("early_stopping_patience", "patience"),
    "precision": ("precision", "mixed_precision"),
    "fp16": ("fp16",),
    "bf16": ("bf16",),
    # the autocast dtype a script names as a string (nanoGPT's dtype = 'float16')
    "amp_dtype": ("dtype", "amp_dtype", "autocast_dtype", "mixed_precision_dtype"),
    # the dtype a script loads its model's weights in (HF examples' and TRL's ModelArguments `torch_dtype`, passed to
    # from_pretrained / from_config): the weights and the optimizer's state train in it
    "model_dtype": ("torch_dtype", "model_dtype"),
    # the length a run is configured for (a schedule's warmup and decay must fit inside it)
    "max_steps": ("max_steps", "max_iters", "num_train_steps", "total_steps", "train_steps", "num_steps", "steps"),
    # the steps a decaying schedule takes to reach its floor (nanoGPT's lr_decay_iters, CosineAnnealingLR's T_max)
    "decay_steps": ("lr_decay_iters", "lr_decay_steps", "decay_steps", "num_decay_steps", "T_max", "t_max"),
    # switches that put normalisation layers or residual connections into a model (the standard cures for
    # vanishing gradients when a project exposes them as config)
    "norm_switch": ("use_layernorm", "use_layer_norm", "layer_norm", "use_batchnorm", "batch_norm", "use_norm",
                    "norm"),
    "residual_switch": ("use_residual", "residual", "residual_connections", "use_skip", "skip_connections"),
    "vocab_size": ("vocab_size", "n_vocab", "vocab"),
    "d_model": ("d_model", "n_embd", "hidden_size", "dim"),
    "n_layers": ("n_layers", "n_layer", "num_hidden_layers", "num_layers", "depth"),
    "tie_embeddings": ("tie_embeddings", "tie_word_embeddings", "tied_embeddings"),
    "tokenizer": ("tokenizer",),
    # the hidden activation and the bias init of a network (a saturating or dead activation is read from them)
    "activation": ("activation", "act", "hidden_act", "activation_fn", "act_fn", "nonlinearity",
                   "hidden_activation", "activation_function"),
    # the recurrent cell of a sequence model (readers/_training_call.py records the one its code builds): "rnn" is
    # the ungated Elman cell, whose gradient through time vanishes (not_learning.ungated_recurrence)
    "rnn_cell": ("rnn_cell", "rnn_type", "cell_type"),
    "bias_init": ("bias_init", "init_bias", "bias_init_value", "bias_fill", "initial_bias"),
    # normalisation layers in the network (batch/layer norm): what keeps a deep saturating net trainable
    "normalization": ("normalization", "norm", "norm_layer", "norm_type", "use_bn", "batch_norm", "batchnorm",
                      "use_batch_norm", "use_batchnorm", "layer_norm", "use_layer_norm"),
    # the number of classes a classifier's loss is taken over (chance level = ln of it)
    "num_classes": ("num_labels", "num_classes", "n_classes", "nb_classes", "num_class", "classes"),
    # the published checkpoint a run starts from (HF config.json / training args): its architecture is a given
    "pretrained_checkpoint": ("_name_or_path", "model_name_or_path", "pretrained_model_name_or_path",
                              "base_model_name_or_path"),
    # a base model's own name in a fine-tuning config (axolotl's base_model)
    "base_model": ("base_model",),
    # adapter fine-tuning (LoRA, PEFT): its keys in a training config or a PEFT adapter_config.json
    "adapter": ("lora_r", "lora_rank", "lora_alpha", "lora_dropout", "peft_type", "target_modules", "use_lora",
                "adapter", "lora"),
    # LLaMA-Factory's choice of what a fine-tune trains: lora / qlora (adapters), full / freeze (the model's weights)
    "finetuning_type": ("finetuning_type",),
    # a transformers config.json names the library architecture family it instantiates (t5, whisper, m2m_100)
    "model_family_id": ("model_type",),
    # caps on the number of training rows (a tiny cap is what makes a model memorise)
    "train_cap": (
        "train_size",
        "max_train_samples",
        "num_train_samples",
        "n_train",
        "train_samples",
        "limit_train_batches",
    ),
}
