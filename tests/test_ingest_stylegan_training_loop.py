"""The StyleGAN2-ADA / StyleGAN3 training loop's run folder (_stylegan_training_loop.py): log.txt's tick and result
lines, metric-<name>.jsonl and stats.jsonl, all stepped by the images shown. Blind (issue 8, session 32), log.txt
was unreadable and both JSON files were stepped by line order with `total_time` / `num_gpus` as metrics. The "reads"
cases load the corpus entries or a real stats.jsonl excerpt; the silent cases give the reader other formats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from traindoc.ingest.loader import load_run
from traindoc.ingest.model import Run
from traindoc.ingest.readers._stylegan_training_loop import (
    parse_stylegan_log,
    read_stylegan_jsonl,
    sniff_stylegan_jsonl,
)
from traindoc.ingest.readers.textlog_formats import State
from traindoc.ingest.registry import ReadError

REALWORLD = Path(__file__).parent / "corpus" / "realworld"
PHYTO = "g3s32-stylegan3-phytoplankton-fid-3000kimg"


def _points(run: Run, name: str) -> list[tuple[int, float]]:
    s = run.series(name)
    assert s is not None, sorted(run.metrics)
    return [(int(a), round(float(b), 4)) for a, b in zip(s.steps, s.values, strict=True)]


def test_run_folder_reads_fid_at_snapshot_images_and_ada_p_per_tick():
    run = load_run([REALWORLD / PHYTO / "run"])
    fid = _points(run, "eval_fid50k_full")
    assert fid[0] == (0, 418.0418) and fid[1] == (400_000, 60.9475) and fid[-1] == (3_000_000, 29.3392)
    assert len(fid) == 9
    aug = _points(run, "augment_p")
    assert aug[0] == (0, 0.0) and aug[1] == (4000, 0.007) and aug[-1] == (3_000_000, 0.338) and len(aug) == 751
    assert not {"total_time", "num_gpus", "results.fid50k_full"} & set(run.metrics)
    formats = {Path(s.path).name: s.format for s in run.sources}
    assert formats["log.txt"] == "text_log:stylegan_log" and formats["metric-fid50k_full.jsonl"] == "stylegan_jsonl"


def test_metric_jsonl_alone_reads_every_snapshot():
    run = load_run([REALWORLD / "g3s32-stylegan-family-fid-jsonl-1536kimg" / "run"])
    fid = _points(run, "eval_fid50k_full")
    assert fid[:2] == [(0, 370.7282), (51_000, 408.7226)] and fid[-1] == (1_536_000, 12.6508) and len(fid) == 31
    assert set(run.metrics) == {"eval_fid50k_full"}


# two ticks of the phytoplankton run's stats.jsonl (its first two records, a subset of their keys, values as written)
_STATS = [
    {"Loss/G/loss": {"num": 8, "mean": 6.573058605194092, "std": 1.8491495659628507},
     "Loss/D/loss": {"num": 8, "mean": 1.108917474746704, "std": 0.0777056360213575},
     "Loss/r1_penalty": {"num": 8, "mean": 3.432006087678019e-05, "std": 7.753470467317792e-06},
     "Progress/tick": {"num": 1, "mean": 0.0, "std": 0.0},
     "Progress/kimg": {"num": 1, "mean": 0.00800000037997961, "std": 0.0},
     "Progress/augment": {"num": 1, "mean": 0.0, "std": 0.0},
     "Timing/sec_per_kimg": {"num": 1, "mean": 1326.39306640625, "std": 0.0},
     "Resources/cpu_mem_gb": {"num": 1, "mean": 4.7571563720703125, "std": 0.0}, "timestamp": 1653489051.7004979},
    {"Loss/G/loss": {"num": 4000, "mean": 12.78675121951683, "std": 10.419237295841722},
     "Loss/D/loss": {"num": 4000, "mean": 0.3381664074452128, "std": 2.0864379049910533},
     "Loss/r1_penalty": {"num": 248, "mean": 0.011233669388128609, "std": 0.06063755685986293},
     "Progress/tick": {"num": 1, "mean": 1.0, "std": 0.0},
     "Progress/kimg": {"num": 1, "mean": 4.007999897003174, "std": 0.0},
     "Progress/augment": {"num": 1, "mean": 0.006656001787632704, "std": 0.0},
     "Timing/sec_per_kimg": {"num": 1, "mean": 72.89028930664062, "std": 0.0},
     "Resources/cpu_mem_gb": {"num": 1, "mean": 5.19775390625, "std": 0.0}, "timestamp": 1653489343.3429937},
]


def test_stats_jsonl_reads_tick_means_of_the_players_losses(tmp_path: Path):
    path = tmp_path / "stats.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in _STATS))
    assert sniff_stylegan_jsonl(path, path.read_bytes()) == 0.95
    run = Run()
    read_stylegan_jsonl(path, run)
    run.finalize()
    assert _points(run, "loss_g") == [(0, 6.5731), (4000, 12.7868)]
    assert _points(run, "loss_d") == [(0, 1.1089), (4000, 0.3382)]
    assert _points(run, "augment_p") == [(0, 0.0), (4000, 0.0067)]
    assert set(run.metrics) == {"loss_g", "loss_d", "r1_penalty", "augment_p"}  # no timings, memory, .num/.std


@pytest.mark.parametrize("lines", [
    ['{"step": 1, "loss": 2.5}', '{"step": 2, "loss": 2.1}'],
    ['{"loss": 71.368, "mae_e": 203.5, "mode": "eval", "epoch": null}', '{"loss": 227.41, "mode": "opt", "epoch": 0}'],
    ['{"results": {"acc": 0.9}, "epoch": 1}'],  # a results dict of no StyleGAN metric record
])
def test_jsonl_sniff_leaves_other_json_lines(tmp_path: Path, lines: list[str]):
    path = tmp_path / "metrics.jsonl"
    path.write_text("\n".join(lines) + "\n")
    assert sniff_stylegan_jsonl(path, path.read_bytes()) == 0.0


def test_result_of_no_snapshot_is_no_training_point(tmp_path: Path):
    # calc_metrics.py on a network pickle of no step (a sampling sweep of one trained model)
    path = tmp_path / "metric-fid50k_full.jsonl"
    path.write_text('{"results": {"fid50k_full": 8.59}, "metric": "fid50k_full", "total_time": 181.9, "num_gpus": 1, '
                    '"snapshot_pkl": null, "timestamp": 1706812676.46}\n')
    with pytest.raises(ReadError):
        read_stylegan_jsonl(path, Run())


def test_log_lines_tick_result_and_stylegan2_tf_tick():
    st = State()
    rec = parse_stylegan_log("tick 1     kimg 4.0      time 13m 25s      sec/tick 291.6   sec/kimg 72.89   "
                             "maintenance 468.3  cpumem 5.20   gpumem 4.27   reserved 6.30   augment 0.007", st)
    assert rec is not None and rec.step == 4000 and rec.metrics == {"augment_p": 0.007}
    rec = parse_stylegan_log('{"results": {"fid50k_full": 60.94748293803442}, "metric": "fid50k_full", "total_time": '
                             '459.46, "num_gpus": 2, "snapshot_pkl": "network-snapshot-000400.pkl", "timestamp": 1.0}',
                             st)
    assert rec is not None and rec.eval and rec.step == 400_000
    assert rec.metrics == {"eval_fid50k_full": 60.94748293803442}
    # the TF code base's tick (lod, minibatch, no augment): the family's line, nothing to read
    rec = parse_stylegan_log("tick 1     kimg 140.3    lod 5.00  minibatch 32   time 1m 02s       sec/tick 44.0    "
                             "sec/kimg 0.31    maintenance 18.5   gpumem 4.6", st)
    assert rec is not None and rec.claimed and not rec.metrics
    rec = parse_stylegan_log("Evaluating metrics...", st)
    assert rec is not None and rec.claimed


@pytest.mark.parametrize("line", [
    "tick tock",
    "Iter 10 loss 0.3 kimg 4",
    '{"loss": 0.52, "step": 10}',
    "Epoch 1, Loss G: 1.1087, Loss D: -0.0124",
    "[TRAIN] Iter: 100 Loss: 0.05144716799259186 PSNR: 15.85673713684082",
    "Training for 3000 kimg...",
])
def test_log_parser_silent_on_other_lines(line: str):
    assert parse_stylegan_log(line, State()) is None
