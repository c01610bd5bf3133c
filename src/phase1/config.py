"""One dataclass tree for the whole Phase 1 trainer: model / optim / data / train.

Precedence (later wins): dataclass defaults -> `--model` preset -> `--test` reductions -> YAML file (`--config`)
-> `--set key=value` overrides. The effective config is dumped as nested YAML into the run directory
(`config.yaml`) and into the `meta` record of metrics.jsonl, so a run can always be reproduced from its own files.

Keys are addressed as dotted paths (`optim.muon_lr`). A YAML file may be nested (the dump format) or flat with
dotted keys; both load the same way.
"""

from __future__ import annotations

import ast
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


@dataclass
class ModelConfig:
    # 256 bytes + PAD/BOS/EOS + one spare id: the byte tokenizer's size. A larger value is allowed (the extra rows
    # simply never appear in the data), which is how the param_imbalance scenario reproduces a 50257-row table.
    vocab_size: int = 260
    d_model: int = 512
    n_layers: int = 8  # the last block doubles as the recursive refinement block (see model.py)
    n_heads: int = 8
    mlp_ratio: int = 4
    max_seq_len: int = 256
    dropout: float = 0.0
    tie_embeddings: bool = True
    # ACT halting: the refinement block is applied at most act_max_steps times per token.
    act_max_steps: int = 4
    act_threshold: float = 0.99  # halt once the accumulated halting probability reaches this (Graves' 1 - eps)
    act_init_bias: float = -1.0  # sigmoid(-1) = 0.27: tokens start by using ~3-4 steps and learn to stop earlier
    act_ponder_weight: float = 0.01  # tau: cost per refinement step (Graves' ponder cost)
    act_diversity_weight: float = 0.01  # beta: KL of the per-token step distribution to a geometric prior
    act_prior_p: float = 0.5  # the geometric prior's per-step halting probability


@dataclass
class OptimConfig:
    # mugrokfast | adamw (AdamW everywhere: the benchmark baseline and a safe fallback) | sgd (torch SGD everywhere
    # at adam_lr with momentum/nesterov below: its step scales with the gradient, so grad_clip matters under it)
    name: str = "mugrokfast"
    muon_lr: float = 5e-3
    adam_lr: float = 3e-3
    momentum: float = 0.95
    nesterov: bool = True
    ns_steps: int = 5
    # "match_rms_adamw" (Moonshot): Muon's update RMS ~= 0.2 * lr, so muon_lr lives on AdamW's scale and 5e-3 is a
    # sensible default. "original" (Keller Jordan): lr * sqrt(max(1, rows/cols)), where ~0.02 is typical.
    muon_scaling: str = "match_rms_adamw"
    weight_decay: float = 0.0
    adam_betas: tuple[float, float] = (0.9, 0.95)
    adam_eps: float = 1e-8
    grokfast_alpha: float = 0.98  # EMA decay of the slow gradient (ironjr/grokfast default)
    grokfast_lambda: float = 0.5  # amplification of the slow gradient; 0 disables the filter
    warmup_steps: int = 50
    min_lr_ratio: float = 0.1  # cosine decays to this fraction of the initial LR
    grad_clip: float = 1.0  # global grad-norm clip; 0 = off (the norm is still measured and logged)


@dataclass
class DataConfig:
    source: str = "curriculum"  # curriculum | a path to a local .txt / .jsonl file
    text_field: str = "text"  # JSONL field read when source is a .jsonl file
    tokenizer: str = "byte"  # byte | gpt2 (GPT-2 BPE, only from local files below; nothing is downloaded)
    bpe_vocab: str = ""  # path to encoder.json / gpt2_vocab.json
    bpe_merges: str = ""  # path to vocab.bpe / gpt2_merges.txt
    seq_len: int = 128
    train_size: int = 2048  # packed training sequences per curriculum stage
    val_size: int = 64  # packed validation sequences per stage (generated with a different seed)
    # First epoch (1-based) of each later curriculum stage: Foundation runs before reasoning_epoch.
    reasoning_epoch: int = 4
    advanced_epoch: int = 7
    max_number: int = 99  # operand range of the arithmetic tasks
    stage_mix: float = 0.2  # share of each stage's examples drawn from the other stages (0 = pure stages)


@dataclass
class TrainConfig:
    epochs: int = 10
    batch_size: int = 16
    steps_per_epoch: int = 0  # 0 = one pass over the stage's training set
    seed: int = 1337
    device: str = "auto"  # auto | cpu | cuda
    precision: str = "auto"  # auto (bf16 autocast on CUDA when supported, else fp32) | fp32 | bf16
    compile: bool = False
    log_every: int = 10  # plain-text progress line every N steps (the JSONL log has every step)
    eval_batches: int = 4  # validation batches per evaluation (0 = the whole validation set)
    eval_mode: str = "prefix"  # prefix: each position scored from its prefix alone (as in generation) | teacher_forced
    ckpt_every: int = 0  # also write last.pt every N steps (0 = at the end of each epoch only)
    sample_tokens: int = 32
    freeze_backbone: bool = False
    early_stopping_patience: int = 0  # epochs without val improvement before stopping; 0 = off
    max_nonfinite_steps: int = 20  # stop as "diverged" after this many consecutive non-finite losses
    threads: int = 0  # torch.set_num_threads on CPU; 0 = leave torch's default


@dataclass
class Config:
    model: ModelConfig = field(default_factory=ModelConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        return _plain(dataclasses.asdict(self))


# --model presets. reasoning: deep recursion for multi-step tasks (the default); memory: longer context and fewer
# refinement steps; speed: a shallower, narrower model with at most 2 refinement steps.
PRESETS: dict[str, dict[str, Any]] = {
    "reasoning": {},
    "memory": {"model.act_max_steps": 2, "model.max_seq_len": 512, "data.seq_len": 256},
    "speed": {"model.n_layers": 6, "model.d_model": 384, "model.n_heads": 6, "model.act_max_steps": 2},
}

# --test: the same code path at a size that trains on this project's 2-core CPU in well under 2 minutes.
TEST_OVERRIDES: dict[str, Any] = {
    "model.d_model": 96,
    "model.n_layers": 3,
    "model.n_heads": 4,
    "model.max_seq_len": 64,
    "model.act_max_steps": 3,
    "data.seq_len": 64,
    "data.train_size": 512,
    "data.val_size": 16,
    "train.epochs": 3,
    "train.steps_per_epoch": 60,
    "train.batch_size": 16,
    "train.device": "cpu",
    "train.eval_batches": 1,
    "train.log_every": 20,
    "data.reasoning_epoch": 2,
    "data.advanced_epoch": 3,
    "optim.warmup_steps": 10,
}


class ConfigError(ValueError):
    """A bad key or value; the message is one line meant for the user."""


def _plain(value: Any) -> Any:
    """Tuples -> lists so that YAML/JSON dumps stay plain."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, path + "."))
        else:
            flat[path] = value
    return flat


def _coerce(current: Any, value: Any, key: str) -> Any:
    """Convert `value` to the type of the field's current value; strings from --set are parsed."""
    if isinstance(current, bool):
        if isinstance(value, str):
            low = value.strip().lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off"):
                return False
            raise ConfigError(f"{key}: expected true/false, got {value!r}")
        return bool(value)
    if isinstance(current, (int, float)) and not isinstance(current, bool):
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError as exc:
                raise ConfigError(f"{key}: expected a number, got {value!r}") from exc
        if isinstance(current, int) and isinstance(value, float) and not value.is_integer():
            raise ConfigError(f"{key}: expected an integer, got {value!r}")
        return type(current)(value)
    if isinstance(current, tuple):
        if isinstance(value, str):
            try:
                value = ast.literal_eval(value)
            except (ValueError, SyntaxError) as exc:
                raise ConfigError(f"{key}: expected a list like [0.9, 0.95], got {value!r}") from exc
        if not isinstance(value, (list, tuple)) or len(value) != len(current):
            raise ConfigError(f"{key}: expected {len(current)} values, got {value!r}")
        return tuple(type(c)(v) for c, v in zip(current, value, strict=True))
    return str(value)


def set_value(cfg: Config, key: str, value: Any) -> None:
    """Set a dotted key (`optim.muon_lr`), converting the value to the field's type."""
    parts = key.split(".")
    if len(parts) != 2 or parts[0] not in ("model", "optim", "data", "train"):
        raise ConfigError(f"unknown config key {key!r} (expected section.name, sections: model, optim, data, train)")
    section = getattr(cfg, parts[0])
    if not hasattr(section, parts[1]):
        names = ", ".join(f.name for f in dataclasses.fields(section))
        raise ConfigError(f"unknown config key {key!r}; {parts[0]} has: {names}")
    setattr(section, parts[1], _coerce(getattr(section, parts[1]), value, key))


def apply_overrides(cfg: Config, overrides: dict[str, Any]) -> Config:
    for key, value in overrides.items():
        set_value(cfg, key, value)
    return cfg


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a config file into flat dotted keys (accepts nested sections or dotted keys)."""
    try:
        data = yaml.safe_load(Path(path).read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"config {path} is not valid YAML: {str(exc).splitlines()[0]}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config {path} must be a mapping of sections or dotted keys")
    return _flatten(data)


def parse_set(items: list[str]) -> dict[str, Any]:
    """`--set key=value` strings -> dict; values stay strings and are typed by set_value."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set expects key=value, got {item!r}")
        out[key.strip()] = value.strip()
    return out


def build_config(
    preset: str = "reasoning",
    test: bool = False,
    yaml_path: str | Path | None = None,
    sets: list[str] | None = None,
) -> Config:
    if preset not in PRESETS:
        raise ConfigError(f"unknown --model {preset!r}; choose one of {', '.join(PRESETS)}")
    cfg = Config()
    apply_overrides(cfg, PRESETS[preset])
    if test:
        apply_overrides(cfg, TEST_OVERRIDES)
    if yaml_path:
        apply_overrides(cfg, load_yaml(yaml_path))
    if sets:
        apply_overrides(cfg, parse_set(sets))
    validate(cfg)
    return cfg


def config_from_dict(tree: dict[str, Any]) -> Config:
    """Rebuild a Config from its nested dump (checkpoints, config.yaml)."""
    return apply_overrides(Config(), _flatten(tree))


def validate(cfg: Config) -> None:
    m, o, d, t = cfg.model, cfg.optim, cfg.data, cfg.train
    if m.d_model % m.n_heads:
        raise ConfigError(f"model.d_model ({m.d_model}) must be divisible by model.n_heads ({m.n_heads})")
    if m.n_layers < 1 or m.act_max_steps < 1:
        raise ConfigError("model.n_layers and model.act_max_steps must be >= 1")
    if d.seq_len > m.max_seq_len:
        raise ConfigError(f"data.seq_len ({d.seq_len}) exceeds model.max_seq_len ({m.max_seq_len})")
    if o.name not in ("mugrokfast", "adamw", "sgd"):
        raise ConfigError(f"optim.name must be mugrokfast, adamw or sgd, got {o.name!r}")
    if o.muon_scaling not in ("match_rms_adamw", "original"):
        raise ConfigError(f"optim.muon_scaling must be match_rms_adamw or original, got {o.muon_scaling!r}")
    if t.epochs < 1 or t.batch_size < 1:
        raise ConfigError("train.epochs and train.batch_size must be >= 1")
    if t.eval_mode not in ("prefix", "teacher_forced"):
        raise ConfigError(f"train.eval_mode must be prefix or teacher_forced, got {t.eval_mode!r}")
    if d.tokenizer not in ("byte", "gpt2"):
        raise ConfigError(f"data.tokenizer must be byte or gpt2, got {d.tokenizer!r}")


def dump_yaml(cfg: Config, path: str | Path) -> None:
    Path(path).write_text(yaml.safe_dump(cfg.to_dict(), sort_keys=False))
