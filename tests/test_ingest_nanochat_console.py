"""nanochat's speedrun console (_nanochat_console.py). Blind (issue 8, session 34) a complete d24 speedrun log read by
the generic rules as lr_too_high 0.71: the SFT script's steps 1-502 overwrote the pretraining's, its validation bpb
was not read, and the per-task CORE accuracies became an `eval_accuracy` series."""

from __future__ import annotations

from pathlib import Path

import pytest

from traindoc.ingest.loader import load_run
from traindoc.ingest.readers._nanochat_console import parse_nanochat
from traindoc.ingest.readers.textlog_formats import State

REALWORLD = Path(__file__).parent / "corpus" / "realworld"
BASE = ("step {:05d}/05742 (0.00%) | loss: {} | lrm: 1.00 | dt: 46455.52ms | tok/sec: 22,571 | bf16_mfu: 39.30 | "
        "epoch: 1 | total time: 0.00m")
SFT = ("step {:05d} (0.17%) | loss: {} | lrm: 1.00 | dt: 93382.51ms | tok/sec: 11,228 | mfu: 19.55 | epoch: 1 | "
       "total time: 0.00m")


def test_speedrun_log_reads_the_pretraining_and_its_validation_bpb():
    run = load_run([REALWORLD / "nanochat-d24-4gpu-speedrun-log-base-sft" / "run"])
    assert any(s.format == "text_log:nanochat" for s in run.sources)
    loss = run.series("loss")
    assert loss is not None and loss.steps.tolist() == list(range(5742))
    # step 1 is the pretraining's 10.99, not the SFT's 1.08 printed at its own step 1
    assert [round(float(v), 6) for v in loss.values[:2]] == [10.397083, 10.991461]
    assert round(float(loss.values[-1]), 6) == 2.574317
    bpb = run.series("val_bpb")
    assert bpb is not None and bpb.steps.tolist() == list(range(0, 5742, 250)) + [5742]
    assert round(float(bpb.values[0]), 6) == 3.16909 and round(float(bpb.values[-1]), 6) == 0.76207
    assert run.series("bf16_mfu") is not None and run.series("tokens_per_s") is not None
    # the CORE tasks' accuracies are no curve of the training
    assert not {"eval_accuracy", "val_centered", "accuracy"} & set(run.metrics)


def test_earlier_line_layout_with_grad_norm():
    rec = parse_nanochat("step 00101/21400 (0.47%) | loss: 5.135966 | grad norm: 0.4282 | lrm: 1.00 | dt: 13866.37ms "
                         "| tok/sec: 37,810 | mfu: 12.15 | total time: 21.09m", State())
    assert rec is not None and rec.step == 101
    assert rec.metrics == {"loss": 5.135966, "grad norm": 0.4282, "lrm": 1.0, "tok/sec": 37810.0, "mfu": 12.15}


def test_a_later_script_starting_its_count_over_is_claimed_without_points():
    st = State()
    for step, loss in ((0, "10.39"), (1, "10.99"), (2, "10.70")):
        assert parse_nanochat(BASE.format(step, loss), st).step == step
    val = parse_nanochat("Step 00002 | Validation bpb: 3.169090", st)
    assert val is not None and val.eval and val.step == 2 and val.metrics == {"val_bpb": 3.16909}
    for line in ("Step 00000 | Validation bpb: 0.6153", SFT.format(1, "1.084291"), SFT.format(3, "1.787572"),
                 "Step 00002 | Validation bpb: 0.3908"):
        rec = parse_nanochat(line, st)
        assert rec is not None and rec.claimed and not rec.metrics and rec.step is None


def test_a_resume_of_the_same_script_is_read():
    st = State()
    parse_nanochat(BASE.format(2369, "3.20"), st)
    rec = parse_nanochat(BASE.format(2000, "3.28"), st)  # --resume-from-step 2000: a resume, not a new script
    assert rec is not None and rec.step == 2000 and rec.metrics["loss"] == 3.28


@pytest.mark.parametrize("line", [
    "Step 02000 | CORE metric: 0.1816",
    "Step 00200 | ChatCORE: 0.2711 | ChatCORE_cat: 0.1811",
    "Evaluating: hellaswag (10-shot, type: multiple_choice)... accuracy: 0.4740 | centered: 0.2987 | time: 19.89s",
])
def test_evaluation_lines_are_claimed(line: str):
    rec = parse_nanochat(line, State())
    assert rec is not None and rec.claimed and not rec.metrics


@pytest.mark.parametrize("line", [
    "iter 100: loss 2.3456, time 123.45ms, mfu 12.34%",  # nanoGPT
    "step:100/1000 val_loss:3.2806 train_time:120000ms step_avg:120.00ms",  # modded-nanogpt
    "step 100 | loss: 0.5 | lr 1e-4",  # no percentage
    "Step 200 | loss 0.3 | lr 1e-4",
    "step    10 | loss 4.567890 | norm 1.2345 | lr 3.00e-04 | 123.45 ms | 12.3% bf16 MFU | 123456 tok/s",  # llm.c
    "INFO 2025-12-12 21:47:14 ot_train.py:351 step:1K smpl:64K ep:201 epch:3.29 loss:0.294 grdn:17.126 lr:5.0e-05",
    "Step 100/900000, Total Loss: 9.0855, Mel Loss: 3.1372, Mel PostNet Loss: 2.6202",  # FastSpeech 2
    "Validation Step 1000, Total Loss: 2.5466, Mel Loss: 0.8574",
    "Evaluating: loss=0.41",
])
def test_parser_silent_on_other_lines(line: str):
    assert parse_nanochat(line, State()) is None


def test_claimed_evaluation_line_is_not_read_by_the_phase_rules(tmp_path: Path):
    lines = [BASE.format(i, f"{10 - i * 0.5:.4f}") for i in range(12)]
    lines.insert(6, "Evaluating: hellaswag (10-shot, type: multiple_choice)... accuracy: 0.4740 | centered: 0.2987 | "
                    "time: 19.89s")
    (tmp_path / "speedrun.log").write_text("\n".join(lines) + "\n")
    run = load_run([tmp_path])
    loss = run.series("loss")
    assert loss is not None and len(loss) == 12
    assert not any(name.startswith(("eval_", "val_")) for name in run.metrics)
