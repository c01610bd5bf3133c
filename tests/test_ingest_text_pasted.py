"""Text-log reader on what people paste (issue 8): one real excerpt per format family, and documents that must not
become metric logs.

The fixtures under tests/data/text_logs/pasted/ are the first lines of real-world corpus entries, byte for byte
(tests/data/text_logs/pasted/README.md names the entry of each); every number asserted below is printed in the
fixture. The documents of the "no false reads" tests are synthetic and written inline.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from traindoc.diagnosis.build import diagnose
from traindoc.ingest.loader import MIN_SCORE, load_run
from traindoc.ingest.model import Run, Series
from traindoc.ingest.readers import text_log

PASTED = Path(__file__).parent / "data" / "text_logs" / "pasted"


def read(name: str) -> tuple[Run, object]:
    run = Run()
    src = text_log.read(PASTED / name, run)
    return run.finalize(), src


def points(run: Run, name: str) -> dict[int, float]:
    s = run.series(name)
    assert s is not None, f"missing series {name}: have {sorted(run.metrics)}"
    return dict(zip(s.steps.tolist(), s.values.tolist(), strict=True))


@pytest.mark.parametrize(
    "name, family, series, want",
    [
        # PyTorch word_language_model, saved as .md: step = (epoch-1) * batches + batch
        ("word_lm_gru.md", "word_lm", "loss", {200: 8.08, 400: 6.77, 2800: 5.50, 3183: 5.51}),
        ("llmc_main.log", "llmc", "loss", {0: 10.965596, 1: 10.814037, 6: 9.722627}),
        ("caffe_solver.log", "caffe", "loss", {2380: 2.04238, 2400: 2.00524}),
        ("yolov5_results.txt", "yolo_results", "loss", {0: 0.123, 1: 0.08027, 3: 0.06408}),
        # YOLO's "0/49" epochs count from 0: read as epochs completed (1..n), the header repeated above every row
        # (the training rows as the table reader reads them, by the YOLO console reader, _yolo_console.py)
        ("yolor_table.log", "yolo_console", "total", {1: 0.05738, 2: 0.05269, 4: 0.05802}),
        ("markdown_table.txt", "md_table", "loss", {5: 2.24, 10: 1.86, 20: 1.69}),
        # pytorch/examples imagenet meters: epoch 83 of 10010 batches (0-based epochs)
        ("imagenet_meters.log", "imagenet_example", "loss", {83 * 10010: 1.8135, 83 * 10010 + 400: 1.5161}),
        ("swin_meters.log", "imagenet_example", "grad_norm", {3 * 1251 + 370: 2.0382, 3 * 1251 + 390: 2.1987}),
        ("keras_inline_header.log", "keras", "loss", {1: 0.5015, 2: 0.1406, 4: 0.0617}),
        # no "Epoch i/N" header: each bar that reaches its total ends an epoch; a callback's text is glued on
        ("keras_no_header.log", "keras", "eval_loss", {1: 1.5564, 2: 1.5285, 3: 1.5510}),
        ("epoch_complete.log", "generic", "loss", {132: 0.014821, 133: 0.014929, 134: 0.014724}),
        ("pytorch_examples_variant.log", "pytorch_examples", "loss", {7007: 0.154045, 7009: 0.131326}),
        ("fairseq_0x.log", "fairseq", "loss", {4 * 8223 + 1000: 2.17, 4 * 8223 + 8000: 1.47}),
        ("epoch_header_lines.log", "generic", "loss", {0: 0.347656, 1: 0.219913, 2: 0.175050}),
        ("maskrcnn_benchmark.log", "detectron2", "loss", {400: 0.2376, 420: 0.2443, 440: 0.3062}),
        ("epoch_counter_short.log", "generic", "Accuracy score", {0: 0.09547619047619048, 2: 0.09547619047619048}),
        # the pytorch/examples loop without the percentage, and the LR printed after the loss (pytorch-cifar100)
        ("pytorch_cifar100_loop.log", "pytorch_examples", "lr", {3976: 0.00497, 3984: 0.00498, 4000: 0.005}),
        # pytorch-CycleGAN-and-pix2pix's loss_log.txt: every value after the prefix is a loss (`loss_<name>`)
        ("cyclegan_loss_log.txt", "gan_visualizer", "loss_D_A", {100: 0.267, 300: 0.388, 500: 0.165}),
    ],
)
def test_pasted_format_is_read(name, family, series, want):
    path = PASTED / name
    assert text_log.sniff(path, path.read_bytes()[:65536]) >= MIN_SCORE
    run, src = read(name)
    assert src.format == f"text_log:{family}"
    got = points(run, series)
    for step, value in want.items():
        assert got[step] == pytest.approx(value), (step, got)


def test_word_lm_end_of_epoch_is_validation_at_the_last_step():
    run, _ = read("word_lm_gru.md")
    assert points(run, "eval_loss") == {2800: pytest.approx(5.48)}
    assert points(run, "lr")[200] == 20.0


def test_llmc_validation_and_yolov5_validation_columns():
    run, _ = read("llmc_main.log")
    assert points(run, "eval_loss") == {0: pytest.approx(10.968871)}
    run, _ = read("yolov5_results.txt")
    assert points(run, "val/box_loss")[0] == pytest.approx(0.04524)
    assert points(run, "metrics/mAP_0.5")[1] == pytest.approx(0.7054)


def test_fairseq_0x_validation_keeps_its_names_and_skips_progress_lines():
    run, _ = read("fairseq_0x.log")
    assert sorted(points(run, "valid ppl").values()) == [pytest.approx(8.78), pytest.approx(12.94)]
    assert not any("subset" in name for name in run.metrics)


def test_keras_eta_is_not_a_metric():
    run, _ = read("keras_no_header.log")
    assert "ETA" not in run.metrics


def test_excerpt_gaps_keep_the_nan_steps():
    run, _ = read("excerpt_gaps.log")
    got = points(run, "loss")
    assert sorted(got) == [1655, 1656, 1657, 1658] and all(math.isnan(v) for v in got.values())


def test_short_excerpt_is_diagnosed_not_insufficient():
    run, _ = read("epoch_counter_short.log")
    assert diagnose(run)["verdict"] != "insufficient_data"
    run, _ = read("caffe_solver.log")  # two points per series: nothing to judge
    assert diagnose(run)["verdict"] == "insufficient_data"


def test_short_nan_excerpt_still_reaches_the_nan_detector():
    run, _ = read("excerpt_gaps.log")
    doc = diagnose(run)
    assert any(f["detector"] == "detect_nan_inf" for f in doc["findings"])


# --- no false reads (synthetic documents) ------------------------------------------------------------------------

_README = """# My model (synthetic README for a test)

We trained for 10 epochs with lr 0.001; the loss went from 2.3 to 0.4.

| epoch | train loss | val loss |
| --- | --- | --- |
| 1 | 2.30 | 2.10 |
| 5 | 0.90 | 1.00 |
| 10 | 0.40 | 0.70 |

Example output:

```
iter 100: loss 4.2312, time 152.33ms, mfu 31.02%
```

See `train.py` for the options, and the paper for the ablations (Table 3: 71.2, 72.5, 73.0).
"""
_REQUIREMENTS = "torch==2.1.0\nnumpy>=1.24\ntransformers==4.40.0\naccelerate>=0.26.1\nscipy==1.11.4\n"
_PYTHON = """import torch

def train(model, loader, lr: float = 0.001, epochs: int = 10):
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    for epoch in range(epochs):
        for step, (x, y) in enumerate(loader):
            loss = model(x, y)
            print(f"step {step}: loss {loss.item():.4f}")
            if step % 100 == 0:
                print("epoch", epoch, "loss", loss.item())
"""


@pytest.mark.parametrize(
    "name, text",
    [
        ("README.md", _README),
        ("requirements.txt", _REQUIREMENTS),
        ("train.py", _PYTHON),
        ("train_py.txt", _PYTHON),  # source pasted into a .txt
    ],
)
def test_documents_do_not_become_metric_logs(tmp_path, name, text):
    path = tmp_path / "run" / name
    path.parent.mkdir()
    path.write_text(text)
    if name != "train_py.txt":  # a .txt that opens with source code is opened (modded-nanogpt logs do), then read
        assert text_log.sniff(path, path.read_bytes()) < MIN_SCORE
    run = load_run([str(path.parent)])
    assert not run.metrics


def test_a_log_saved_as_markdown_is_read_but_a_doc_quoting_one_is_not(tmp_path):
    log = (PASTED / "word_lm_gru.md").read_bytes()
    assert text_log.sniff(PASTED / "word_lm_gru.md", log) >= MIN_SCORE
    quoted = tmp_path / "NOTES.md"  # three log lines quoted inside a longer synthetic document
    quoted.write_text("# Notes\n\n" + "".join(f"Paragraph {i} of prose about the run.\n\n" for i in range(12))
                      + "```\n" + b"\n".join(log.splitlines()[1:4]).decode() + "\n```\n")
    assert text_log.sniff(quoted, quoted.read_bytes()) == 0.0


def test_short_blow_up_fires_and_steady_short_series_is_silent():
    from traindoc.evidence.context import divergence

    def run_of(values: list[float]) -> Run:  # synthetic 5-point series
        run = Run()
        run.add_series(Series("loss", np.arange(len(values)), np.array(values, dtype=float), "m.log"))
        return run.finalize()

    d = divergence(run_of([0.35, 0.22, 0.18, 0.16, 1.6e18]), "loss")
    assert d is not None and d.onset_step == 4 and d.min_step == 3
    assert divergence(run_of([0.35, 0.22, 0.18, 0.16, 0.19]), "loss") is None  # a bump, not a blow-up
    assert divergence(run_of([0.35, 0.22, 3.0, 0.16, 0.15]), "loss") is None  # one outlier that came back


def test_blow_up_of_three_orders_needs_no_fall_before_it():
    # an excerpt that starts at its minimum (EESEN's CTC objective, loss = -Obj: 8.46, 8.57, 8.71, then 8.6e29):
    # three orders of magnitude above the minimum is a blow-up without the fall; a slow creep or a 20x jump from the
    # first point is not (the excerpt may start before the run learned anything)
    from traindoc.evidence.context import divergence

    def run_of(values: list[float]) -> Run:
        run = Run()
        run.add_series(Series("loss", np.arange(len(values)), np.array(values, dtype=float), "m.log"))
        return run.finalize()

    d = divergence(run_of([8.46, 8.57, 8.71, 8.6e29, 1e30]), "loss")
    assert d is not None and d.min_step == 0 and d.onset_step == 3
    long = [34.1, 35.1, 35.5, 36.0, 33.7, 32.9, 36.1, 3.1e29]  # 8 points: the smoothed path
    d = divergence(run_of(long), "loss")
    assert d is not None and d.onset_step >= 6  # the smoothing (3 points) moves the onset one point early
    assert divergence(run_of([0.5, 0.6, 0.8, 1.1, 1.5]), "loss") is None
    assert divergence(run_of([0.5, 0.6, 0.7, 10.0, 11.0]), "loss") is None
    assert divergence(run_of([34.1, 35.1, 35.5, 36.0, 36.7, 37.9, 38.1, 40.2]), "loss") is None


def test_gan_visualizer_steps_run_on_across_epochs_and_the_pair_is_no_total(tmp_path: Path) -> None:
    """The visualizer's `iters` restarts every epoch (images within the epoch): the steps keep rising, and the
    generator/discriminator losses are not summed into a training loss (an adversarial pair, evidence/context.py).
    A synthetic two-epoch document in the format of the fixture above."""
    doc = tmp_path / "loss_log.txt"
    doc.write_text("================ Training Loss (Mon May 13 06:36:42 2019) ================\n"
                   "(epoch: 1, iters: 100, time: 0.181, data: 0.135) D_A: 0.267 G_A: 0.371 cycle_A: 2.511 \n"
                   "(epoch: 1, iters: 200, time: 0.180, data: 0.002) D_A: 0.205 G_A: 0.636 cycle_A: 2.516 \n"
                   "(epoch: 2, iters: 4, time: 0.106) , D_A: 0.184, G_A: 0.543, cycle_A: 1.506\n"
                   "(epoch: 2, iters: 104, time: 0.302) , D_A: 0.133, G_A: 0.277, cycle_A: 1.426\n")
    run = Run()
    src = text_log.read(doc, run)
    run = run.finalize()
    assert src.format == "text_log:gan_visualizer"
    assert points(run, "loss_cycle_A") == {100: 2.511, 200: 2.516, 204: 1.506, 304: 1.426}
    from traindoc.evidence.context import loss_series
    assert loss_series(run) is None


def test_a_yolo_table_pasted_without_its_step_columns_keeps_its_nan_cells() -> None:
    run, src = read("yolov7_bare_loss_table.log")
    assert src.format == "text_log:table"
    assert math.isnan(run.series("box").values[0]) and math.isnan(run.series("total").values[0])
    assert run.series("obj").values[0] == 0.007422
    assert run.series("labels") is None and run.series("img_size") is None  # counts, not metrics


def test_a_header_of_words_that_are_not_loss_parts_is_no_bare_table(tmp_path: Path) -> None:
    f = tmp_path / "notes.log"
    f.write_text("name  size  labels  img_size\n3  22  22  1280\n")
    assert not load_run([f]).metrics
