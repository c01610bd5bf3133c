"""The StyleGAN2-ADA / StyleGAN3 training loop's run folder: log.txt, stats.jsonl and metric-<name>.jsonl.

NVIDIA's `training/training_loop.py` (StyleGAN2-ADA-PyTorch, StyleGAN3 and the code bases built on them) writes
three logs into the run folder, all stepped by the images the discriminator has been shown, counted in thousands
(kimg):

- `stats.jsonl`, one record per tick (every 4 kimg by default), each statistic a `{"num", "mean", "std"}` dict:

      {"Loss/G/loss": {"num": 4000, "mean": 12.79, "std": 10.42}, "Loss/D/loss": {...}, "Loss/r1_penalty": {...},
       "Progress/kimg": {"num": 1, "mean": 4.008, "std": 0.0}, "Progress/augment": {...}, "Timing/...": {...}, ...}

- `metric-fid50k_full.jsonl` (one file per metric), one record per snapshot evaluation:

      {"results": {"fid50k_full": 60.95}, "metric": "fid50k_full", "total_time": 459.5, "num_gpus": 2,
       "snapshot_pkl": "network-snapshot-000400.pkl", "timestamp": 1653519027.5}

- `log.txt`, the console: one `tick N kimg K time ... sec/kimg ... augment p` line per tick and, after each
  snapshot's "Evaluating metrics...", the same result record as the metric file.

The generic readers read none of this right: the ticks are no `key: value` lines (log.txt read as "no metric lines"),
the JSON-lines reader stepped both JSON files by line order, kept `total_time` and `num_gpus` as metrics, and split
every statistic of stats.jsonl into `.num` / `.mean` / `.std` series (84 series, no loss).

Here every point is at the number of images shown: a tick's `Progress/kimg` to the console's one decimal (so that
both files put a tick at the same step) times 1000,
a snapshot's kimg (the number in its pickle's name, the loop's `cur_nimg // 1000`) times 1000. From stats.jsonl the
tick means of the generator's and the discriminator's losses are `loss_g` / `loss_d` (the two players of the game,
evidence/context.py), the R1 and path-length regularisers `r1_penalty` / `pl_penalty`, and ADA's augmentation
probability `augment_p` (Karras et al. 2020, "Training Generative Adversarial Networks with Limited Data", §3: it
rises while the discriminator overfits); timings and memory are not metrics. A result record's values (FID, KID,
precision/recall, IS) are held-out metrics under `eval_` names (`eval_fid50k_full`). A record of no snapshot
(`calc_metrics.py` on a network with no step in its name) is no point of a training curve and is not read.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from traindoc.ingest.model import Run, Source
from traindoc.ingest.names import canonical_metric
from traindoc.ingest.readers._structured import Columns, LineStats, json_dicts, to_float
from traindoc.ingest.readers.jsonl_metrics import _head_records
from traindoc.ingest.readers.textlog_formats import NUM, Record, State, parse_number
from traindoc.ingest.registry import Reader, ReadError

_SNAPSHOT = re.compile(r"(?:^|[/\\])network-snapshot-(\d{1,12})\.pkl$")
# stats.jsonl statistic -> name read (module docstring); the others are timings, resources and bookkeeping
_STATS = {"Loss/G/loss": "loss_g", "Loss/D/loss": "loss_d", "Loss/r1_penalty": "r1_penalty",
          "Loss/pl_penalty": "pl_penalty", "Progress/augment": "augment_p"}
_KIMG = "Progress/kimg"
# the console's tick line; StyleGAN2 (TF) and ADA-TF print "lod" and "minibatch" between kimg and time
_TICK = re.compile(rf"^tick\s+(\d+)\s+kimg\s+({NUM})\s+(?:lod\s+{NUM}\s+)?(?:minibatch\s+\d+\s+)?time\s")
_AUGMENT = re.compile(rf"\saugment\s+({NUM})\s*$")


def _images(kimg: float) -> int:
    return int(round(kimg * 1000))


def snapshot_step(rec: dict) -> int | None:
    """Images shown at the snapshot a result record evaluated, or None for a record of no training snapshot."""
    m = _SNAPSHOT.search(str(rec.get("snapshot_pkl") or ""))
    return None if m is None else int(m.group(1)) * 1000


def result_metrics(rec: dict) -> dict[str, float]:
    """A result record's values under their held-out names (empty when the record holds none)."""
    res = rec.get("results")
    if not isinstance(res, dict):
        return {}
    out = {}
    for k, v in res.items():
        fv = to_float(v)
        if fv is not None:
            out[canonical_metric(str(k), "eval")] = fv
    return out


def _is_result(rec: dict) -> bool:
    return isinstance(rec.get("results"), dict) and "metric" in rec and "snapshot_pkl" in rec


def _is_stats(rec: dict) -> bool:
    kimg = rec.get(_KIMG)
    return isinstance(kimg, dict) and "mean" in kimg


def sniff_stylegan_jsonl(path: Path, head: bytes) -> float:
    if not head.lstrip().startswith(b"{"):
        return 0.0
    recs = _head_records(head)
    if recs and (all(_is_result(r) for r in recs) or all(_is_stats(r) for r in recs)):
        return 0.95  # above the generic JSON-lines reader's 0.9
    return 0.0


def read_stylegan_jsonl(path: Path, run: Run) -> Source:
    source = Source(str(path), "stylegan_jsonl")
    cols = Columns()
    stats = LineStats()
    records = 0
    for rec in json_dicts(path, stats):
        if _is_result(rec):
            step = snapshot_step(rec)
            metrics = result_metrics(rec)
            if step is None or not metrics:
                continue
            records += 1
            for name, value in metrics.items():
                cols.add(name, step, value, name.removeprefix("eval_"))
        elif _is_stats(rec):
            kimg = to_float(rec[_KIMG].get("mean"))
            if kimg is None:
                continue
            records += 1
            for key, name in _STATS.items():
                stat = rec.get(key)
                value = to_float(stat.get("mean")) if isinstance(stat, dict) else None
                if value is not None:
                    cols.add(name, _images(round(kimg, 1)), value, key)
    if not records:
        raise ReadError("no StyleGAN record (a tick's statistics or a snapshot's metric results)")
    source.records = records
    source.metrics = cols.flush(run, str(path))
    return source


def parse_stylegan_log(line: str, st: State) -> Record | None:
    """A log.txt tick line (ADA's augmentation probability, when printed) or snapshot result line (module
    docstring), or None for any other line."""
    text = line.strip()
    m = _TICK.match(text)
    if m is not None:
        kimg = parse_number(m.group(2))
        if kimg is None:
            return None
        aug = _AUGMENT.search(text)
        p = None if aug is None else parse_number(aug.group(1))
        if p is None:
            return Record(_images(kimg), claimed=True)
        return Record(_images(kimg), {"augment_p": p})
    if text == "Evaluating metrics...":
        return Record(None, claimed=True)
    if not text.startswith('{"results":'):
        return None
    try:
        rec = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(rec, dict) or not _is_result(rec):
        return None
    step = snapshot_step(rec)
    metrics = result_metrics(rec)
    if step is None or not metrics:
        return Record(None, claimed=True)
    return Record(step, metrics, eval=True)


READERS = [Reader("stylegan_jsonl", sniff_stylegan_jsonl, read_stylegan_jsonl)]
