"""Checkpoints → parameter counts by role (embedding / unembedding / blocks / other), tied weights, trainable count.

Two file families:
- safetensors: an 8-byte little-endian header length, then a JSON header {name: {dtype, shape, data_offsets}}. We
  parse the header ourselves: no torch, no tensor data read. Tensors with the same data span share memory (tied).
- torch.save archives (.pt/.pth/.ckpt/.bin): read with the no-import unpickler (readers/_safe_pickle.py), which
  recovers every tensor's shape and storage id without reading tensor data and without running code from the file.
  When that fails (pre-1.6 tar format, exotic pickles) and torch is installed, `torch.load(weights_only=True,
  mmap=True)` is tried, imported lazily: the diagnosis core never imports torch at module level.

Roles come from parameter-name conventions shared by GPT-2/nanoGPT (wte, wpe, lm_head, transformer.h.N), LLaMA / HF
(embed_tokens, model.layers.N, lm_head), torchtitan (tok_embeddings, layers.N, output), BERT (embeddings.*,
encoder.layer.N, cls.predictions.decoder) and the bundled trainer. Tied weights: two names on one storage count
once, and when they are the embedding and the output head, `tied` is True and `unembedding` is 0.

Trainable count: from `requires_grad` when whole modules were pickled; else from the optimizer state saved next to
the weights (Adam's exp_avg / SGD's momentum_buffer have the shape of the parameter they belong to, and frozen
parameters never get state), when there is one.
"""

from __future__ import annotations

import json
import re
import struct
import warnings
from pathlib import Path
from typing import Any

from traindoc.ingest import budget
from traindoc.ingest.model import ConfigValue, ParamCounts, Run, Source
from traindoc.ingest.readers import _safe_pickle, history_dict
from traindoc.ingest.readers._safe_pickle import TensorInfo, as_tensor, children, plain
from traindoc.ingest.registry import Reader, ReadError

MAX_HEADER = 100 << 20  # safetensors caps its header at 100 MB too
MAX_TENSORS = 200_000
TORCH_SUFFIXES = (".pt", ".pth", ".ckpt", ".bin", ".tar")
# Files in HF/Lightning checkpoint folders that hold no weights.
_NOT_WEIGHTS = re.compile(r"^(optimizer|scheduler|rng_state|scaler|training_args|trainer_state)", re.I)
# Sub-dicts that hold the model's weights, most specific first (Lightning, nanoGPT, common scripts, DeepSpeed, EMA).
MODEL_KEYS = ("state_dict", "model_state_dict", "model", "module", "net", "network", "model_state", "weights",
              "params", "ema", "model_ema")
OPTIMIZER_KEYS = ("optimizer", "optimizer_state_dict", "optimizer_states", "optim", "opt", "optimizer_state")
CONFIG_KEYS = ("config", "hyper_parameters", "hparams", "model_args", "args", "cfg", "train_config")
_STRIP_PREFIXES = ("module.", "_orig_mod.", "model.", "_forward_module.", "_fsdp_wrapped_module.")

_UNEMBED = re.compile(r"(?:^|\.)(?:lm_head|embed_out|unembed\w*|output_layer|output_embeddings?|head_out)\.weight$"
                      r"|(?:^|\.)output\.weight$|predictions\.decoder\.weight$|(?:^|\.)(?:lm_head|head)\.bias$")
_EMBED = re.compile(r"(?:^|\.)(?:wte|wpe|embed_tokens|embed_positions|tok_embeddings|token_embeddings?|tok_emb"
                    r"|pos_emb|position_embeddings?|word_embeddings|token_type_embeddings|embedding|embeddings"
                    r"|embed|emb|pos_embedding|positional_embedding|shared)(?:\.weight)?(?:$|\.)", re.I)
_BLOCK = re.compile(r"(?:^|\.)(?:h|layers?|blocks?|block_list|resblocks|stages?|encoder\.layer|decoder\.layers?"
                    r"|transformer\.h|transformer\.layers|encoder_layers|decoder_layers)\.\d+\."
                    r"|(?:^|\.)(?:lstm|gru|rnn)\d*\.")  # recurrent cores are the "blocks" of an RNN LM
_LM_HEAD = re.compile(r"(?:^|\.)(?:lm_head|embed_out|output)\.weight$")  # heads of language models only
_ACT = re.compile(r"halt|act_head|ponder", re.I)


def _role(name: str) -> str:
    if _ACT.search(name):
        return "act_head"
    if _UNEMBED.search(name):
        return "unembedding"
    if _BLOCK.search(name):
        return "blocks"
    if _EMBED.search(name) and "norm" not in name.lower():
        return "embedding"
    return "other"


def _strip(name: str) -> str:
    changed = True
    while changed:
        changed = False
        for p in _STRIP_PREFIXES:
            if name.startswith(p) and len(name) > len(p):
                name, changed = name[len(p):], True
    return name


def count_params(tensors: dict[str, TensorInfo], source: str = "", guess_ties: bool = True) -> ParamCounts:
    """ParamCounts from named tensors (shape + storage id), counting shared storage once.

    `guess_ties=False` for one shard of a sharded model: the embedding may sit in another shard."""
    counts = {"embedding": 0, "unembedding": 0, "blocks": 0, "other": 0, "act_head": 0}
    seen: dict[tuple, str] = {}  # (storage, offset, shape) -> role of the first name on it
    tied = False
    trainable = 0
    trainable_known = False
    roles = {raw: _role(_strip(raw)) for raw in tensors}
    # A tied output head saved once under the head's name (safetensors' save_model keeps one name per storage):
    # no token embedding of the head's shape remains, so the head IS the embedding.
    embed_shapes = {t.shape for raw, t in tensors.items() if roles[raw] == "embedding"}
    vocab_rows = {sh[0] for sh in embed_shapes if len(sh) == 2}
    # A plain "head" projecting onto the vocabulary (its rows = the token embedding's rows) is the output head.
    for raw, t in tensors.items():
        if roles[raw] == "other" and re.search(r"(?:^|\.)head\.weight$", raw) and len(t.shape) == 2 \
                and t.shape[0] in vocab_rows:
            roles[raw] = "unembedding"
    for raw, t in tensors.items() if guess_ties else ():
        if roles[raw] == "unembedding" and len(t.shape) == 2 and t.shape[0] not in vocab_rows \
                and t.shape[::-1] not in embed_shapes and (embed_shapes or _LM_HEAD.search(_strip(raw))):
            roles[raw] = "embedding"
            tied = True
    for raw_name, t in tensors.items():
        name = _strip(raw_name)
        if len(t.shape) == 4 and name.endswith("bias") and t.shape[0] == 1:
            continue  # causal-mask buffers saved in state_dicts (GPT-2 "attn.bias", "attn.masked_bias")
        role = roles[raw_name]
        key = (t.storage, t.offset, t.shape) if t.storage is not None else None
        if key is not None and key in seen:
            if {seen[key], role} == {"embedding", "unembedding"}:
                tied = True
            continue
        if key is not None:
            seen[key] = role
        counts[role] += t.numel
        if t.requires_grad is not None:
            trainable_known = True
            trainable += t.numel if t.requires_grad else 0
    total = sum(counts.values())
    pc = ParamCounts(total=total, embedding=counts["embedding"], unembedding=counts["unembedding"],
                     blocks=counts["blocks"], other=counts["other"] + counts["act_head"],
                     trainable=trainable if trainable_known else None,
                     tied=True if tied else None,
                     by_group={k: v for k, v in counts.items() if v}, source=source)
    if not tied and counts["unembedding"] and counts["embedding"]:
        pc.tied = False
    return pc


# ------------------------------------------------------------------------------------------------ safetensors


def read_safetensors_header(path: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """(tensor entries, __metadata__) from a .safetensors file's header. Raises ReadError."""
    # safetensors allows a 100 MB header, but parsed JSON costs up to ~30 bytes of objects a byte: a header is
    # held to the budget of a file parsed whole (a 200k-tensor model's header is ~20 MB).
    cap = min(MAX_HEADER, budget.current().limits.whole_file_bytes)
    try:
        with budget.open_input(path) as f:
            raw_len = f.read(8)
            if len(raw_len) < 8:
                raise ReadError(f"{path.name}: truncated safetensors file (no header length)")
            (n,) = struct.unpack("<Q", raw_len)
            size = path.stat().st_size
            if n == 0 or n > MAX_HEADER or n > size - 8:
                raise ReadError(f"{path.name}: not a safetensors file (header length {n} for {size} bytes)")
            if n > cap:
                raise budget.BudgetExceeded(f"{path.name}: safetensors header of {n:,} bytes is over the "
                                            f"{cap:,}-byte budget; not read")
            header = f.read(n)
    except OSError as exc:
        raise ReadError(f"{path.name}: cannot read ({exc.strerror or exc})") from None
    try:
        obj = json.loads(header.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ReadError(f"{path.name}: safetensors header is not valid JSON (truncated or corrupted)") from None
    if not isinstance(obj, dict):
        raise ReadError(f"{path.name}: safetensors header is not an object")
    meta = obj.pop("__metadata__", None)
    return obj, meta if isinstance(meta, dict) else {}


def _safetensors_tensors(entries: dict[str, Any]) -> dict[str, TensorInfo]:
    out: dict[str, TensorInfo] = {}
    for name, e in list(entries.items())[:MAX_TENSORS]:
        if not isinstance(e, dict):
            continue
        shape = e.get("shape")
        offs = e.get("data_offsets")
        if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
            continue
        storage = f"{offs[0]}:{offs[1]}" if isinstance(offs, list) and len(offs) == 2 else None
        out[name] = TensorInfo(tuple(shape), storage, 0)
    return out


# A training checkpoint is one saved with its optimizer state beside it (HF Trainer / accelerate `checkpoint-N/`:
# `optimizer.pt` next to `model.safetensors`): what a resume continues from, so its tensors are the weights as they
# trained, not an export cast for inference. Their stored dtype is recorded for evidence/precision.py.
_OPTIMIZER_FILES = ("optimizer.pt", "optimizer.bin", "optimizer.pth")
_FLOAT_DTYPES = ("F64", "F32", "F16", "BF16", "F8_E4M3", "F8_E5M2")


def _record_dtypes(entries: dict[str, Any], path: Path, run: Run) -> None:
    """The floating dtypes a training checkpoint's tensors are stored in (run.meta["checkpoint_dtypes"]: one entry
    per checkpoint file, its dtype -> tensor count)."""
    if not any((path.parent / n).is_file() for n in _OPTIMIZER_FILES):
        return
    counts: dict[str, int] = {}
    for e in list(entries.values())[:MAX_TENSORS]:
        dt = e.get("dtype") if isinstance(e, dict) else None
        if isinstance(dt, str) and dt in _FLOAT_DTYPES:
            counts[dt] = counts.get(dt, 0) + 1
    if counts:
        run.meta.setdefault("checkpoint_dtypes", []).append({"source": str(path), "dtypes": counts})


# ---------------------------------------------------------------------------------------------------- torch


def _collect(obj: Any, prefix: str, out: dict[str, TensorInfo], depth: int = 0,
             fb: budget.FileBudget | None = None, path: set[int] | None = None) -> None:
    """Named tensors under `obj`. A container already on the way down (a cycle) is skipped, and every container
    is charged to the file's node budget: a pickle may share one list a billion times over."""
    if depth > 12 or len(out) >= MAX_TENSORS:
        return
    t = as_tensor(obj)
    if t is not None:
        out[prefix] = t
        return
    fb = fb or budget.current()
    path = set() if path is None else path  # containers on the way down
    kids = children(obj)
    if id(obj) in path or not fb.spend(1 + len(kids)):  # every child visited is charged: wide shared lists too
        return
    path.add(id(obj))
    for k, v in kids:
        if k == "_buffers":
            continue  # a whole pickled nn.Module: buffers (masks, running stats) are not parameters
        if k in ("_modules", "_parameters"):
            _collect(v, prefix, out, depth + 1, fb, path)  # keep state_dict-style names: "h.0.fc.weight"
            continue
        _collect(v, f"{prefix}.{k}" if prefix else k, out, depth + 1, fb, path)
    path.discard(id(obj))


def _model_subtree(top: Any) -> tuple[Any, str]:
    """The part of a checkpoint that holds model weights, and the key it was under ("" for the top level)."""
    kids = dict(children(top))
    for k in MODEL_KEYS:
        if k in kids and children(kids[k]):
            return kids[k], k
    return {k: v for k, v in kids.items() if k not in OPTIMIZER_KEYS and k not in CONFIG_KEYS}, ""


def _trainable_from_optimizer(top: Any) -> int | None:
    kids = dict(children(top))
    for k in OPTIMIZER_KEYS:
        if k not in kids:
            continue
        opt = kids[k]
        if isinstance(opt, list) and opt:  # Lightning: optimizer_states is a list
            opt = opt[0]
        state = dict(children(opt)).get("state")
        if state is None:
            continue
        total = 0
        entries = children(state)
        for _, per_param in entries:
            sizes = [t.numel for _, v in children(per_param) if (t := as_tensor(v)) is not None and t.shape]
            total += max(sizes, default=0)
        return total if entries and total else None
    return None


def _trainable_from_sibling_optimizer(path: Path, src: Source) -> int | None:
    """HF Trainer / accelerate checkpoints keep the optimizer next to the weights (checkpoint-N/optimizer.pt).
    Only its pickle is read (the structure), never the moment tensors themselves."""
    for name in ("optimizer.pt", "optimizer.bin", "optimizer.pth"):
        opt = path.parent / name
        if not opt.is_file():
            continue
        try:
            top = _safe_pickle.load_file(opt)
        except (ValueError, OSError, ReadError):  # over budget or outside the run's folders: no count
            return None
        return _trainable_from_optimizer({"optimizer": top})
    return None


def _torch_load_tensors(path: Path) -> tuple[dict[str, TensorInfo], Any]:
    """Fallback: torch.load(weights_only=True), imported lazily. Returns (tensors, top object)."""
    try:
        import torch  # noqa: PLC0415 - lazy on purpose: torch is optional for diagnosis
    except ImportError:
        raise ReadError(f"{path.name}: not readable without torch (pre-1.6 checkpoint format)") from None
    try:
        with warnings.catch_warnings():  # torch's notes about pickle protocols are not the user's business
            warnings.simplefilter("ignore")
            top = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - torch raises many types for a bad file
        raise ReadError(f"{path.name}: torch.load(weights_only=True) refused it ({type(exc).__name__})") from None
    out: dict[str, TensorInfo] = {}

    fb = budget.current()

    def walk(obj: Any, prefix: str, depth: int) -> None:
        if depth > 12 or len(out) >= MAX_TENSORS or not fb.spend():
            return
        if isinstance(obj, torch.Tensor):
            st = obj.untyped_storage()
            rg = obj.requires_grad if isinstance(obj, torch.nn.Parameter) else None
            out[prefix] = TensorInfo(tuple(obj.shape), str(st.data_ptr()), obj.storage_offset(), rg)
        elif isinstance(obj, dict):
            for k, v in obj.items():
                walk(v, f"{prefix}.{k}" if prefix else str(k), depth + 1)
        elif isinstance(obj, (list, tuple)):
            for i, v in enumerate(obj):
                walk(v, f"{prefix}.{i}" if prefix else str(i), depth + 1)

    walk(top, "", 0)
    return out, top


def sniff(path: Path, head: bytes) -> float:
    if path.is_dir():
        return 0.0
    name = path.name.lower()
    if name.endswith(".safetensors"):
        return 0.9 if len(head) >= 8 else 0.3
    if not name.endswith(TORCH_SUFFIXES) or _NOT_WEIGHTS.match(name):
        return 0.0
    if head.startswith(b"PK\x03\x04") or head.startswith(b"\x80"):  # torch zip archive / bare pickle
        return 0.85
    return 0.1


def read(path: Path, run: Run) -> Source:
    if path.name.lower().endswith(".safetensors"):
        entries, meta = read_safetensors_header(path)
        tensors = _safetensors_tensors(entries)
        src = Source(str(path), "safetensors")
        if meta:
            run.meta.setdefault("safetensors_metadata", meta)
        _record_dtypes(entries, path, run)
        top = None
    else:
        src = Source(str(path), "torch_checkpoint")
        try:
            top = _safe_pickle.load_file(path)
            subtree, _key = _model_subtree(top)
            tensors = {}
            _collect(subtree, "", tensors)
        except budget.BudgetExceeded:
            raise  # over budget is not an unknown format: torch.load would only spend more
        except (ValueError, OSError) as exc:
            src.warnings.append(f"safe structural read failed ({exc}); tried torch.load(weights_only=True)")
            tensors, top = _torch_load_tensors(path)
            sub = top.get("state_dict") or top.get("model") if isinstance(top, dict) else None
            if isinstance(sub, dict):
                tensors = {k.split(".", 1)[1]: v for k, v in tensors.items() if k.split(".", 1)[0] in MODEL_KEYS}
    # metric histories saved with the weights (`torch.save({"model": ..., "train_losses": [...]}, ...)`) or alone
    # (`torch.save({"loss": [...], "val_loss": [...]}, "history.pt")`): lists of plain numbers under metric names
    histories = history_dict.add_histories(top, run, str(path), nested=True) if isinstance(top, dict) else []
    if histories:
        src.metrics = histories
    if not tensors:
        if histories:
            src.format = "torch_saved_history"  # a pickle of metric lists, no model in it
            src.records = max(len(run.series(n) or ()) for n in histories)
            return src
        raise ReadError(f"{path.name}: no tensors found (not a model checkpoint)")
    counts = count_params(tensors, source=str(path), guess_ties=not _SHARD.search(path.name))
    if top is not None and counts.trainable is None:
        counts.trainable = _trainable_from_optimizer(top)
    if counts.trainable is None:
        counts.trainable = _trainable_from_sibling_optimizer(path, src)
    src.records = len(tensors)
    if top is not None:
        _config_from_checkpoint(top, path, run, src)
    _merge_params(run, counts, path)
    return src


_SHARD = re.compile(r"-\d{5}-of-\d{5}")


def _merge_params(run: Run, counts: ParamCounts, path: Path) -> None:
    """First checkpoint wins (best.pt and last.pt describe the same model), except shards of one model, which add."""
    old = run.params
    if old is None:
        run.params = counts
        return
    if old.total == counts.total and not _SHARD.search(path.name):  # the same model saved again: fill what is unknown
        if old.trainable is None and counts.trainable is not None:
            old.trainable = counts.trainable
        if old.tied is None and counts.tied is not None:
            old.tied = counts.tied
        return
    if _SHARD.search(path.name) and _SHARD.search(Path(old.source).name) and \
            _SHARD.sub("", Path(old.source).name) == _SHARD.sub("", path.name):
        old.total += counts.total
        old.embedding += counts.embedding
        old.unembedding += counts.unembedding
        old.blocks += counts.blocks
        old.other += counts.other
        for k, v in counts.by_group.items():
            old.by_group[k] = old.by_group.get(k, 0) + v
        if counts.tied:
            old.tied = True
        elif counts.tied is False and old.tied is None:
            old.tied = False


def _config_from_checkpoint(top: Any, path: Path, run: Run, src: Source) -> None:
    """Plain config dicts saved with the weights (nanoGPT 'config'/'model_args', Lightning 'hyper_parameters').

    Added as `checkpoint.<section>.<key>` and never over a value read from a real config file: a fix cannot edit a
    checkpoint, but the value is evidence when no config file came with the run.
    """
    kids = dict(children(top))
    for section in CONFIG_KEYS:
        if section not in kids:
            continue
        cfg = plain(kids[section])
        if not isinstance(cfg, dict):
            continue
        for k, v in _flatten(cfg, f"checkpoint.{section}")[:2000]:
            run.config.setdefault(k, ConfigValue(k, v, str(path), None, "checkpoint", ""))
    for k in ("iter_num", "global_step", "step", "epoch", "best_val_loss"):
        v = kids.get(k)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            run.meta.setdefault("checkpoint_state", {})[k] = v


def _flatten(d: dict, prefix: str, depth: int = 0) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for k, v in d.items():
        key = f"{prefix}.{k}"
        if isinstance(v, dict) and depth < 4:
            out.extend(_flatten(v, key, depth + 1))
        elif isinstance(v, (int, float, str, bool)) or v is None or isinstance(v, list):
            out.append((key, v))
    return out


READERS = [Reader("checkpoint", sniff, read)]
