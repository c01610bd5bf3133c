"""Sample reader: nanoGPT-style separated text and JSONL generations, with steps and prompts."""

from __future__ import annotations

from pathlib import Path

from traindoc.ingest.model import Run
from traindoc.ingest.readers import samples

DATA = Path(__file__).parent / "data" / "samples"


def test_text_samples_separated_with_steps_and_prompts():
    path = DATA / "samples.txt"
    assert samples.sniff(path, path.read_bytes()) > 0.5
    run = Run()
    src = samples.read(path, run)
    assert src.records == 3
    first, collapsed, late = run.samples
    assert first.prompt == "ROMEO:" and "yonder window" in first.text and "It is the east." in first.text
    assert set(collapsed.text) == {":"}
    assert late.step == 500 and late.text == "the the the the the the"


def test_jsonl_generations_and_truncated_tail():
    path = DATA / "generations.jsonl"
    assert samples.sniff(path, path.read_bytes()) > 0.5
    run = Run()
    src = samples.read(path, run)
    assert [(s.step, s.text) for s in run.samples] == [(100, "4"), (200, "::::::::"), (300, "a"), (300, "b")]
    assert run.samples[0].prompt == "Q: 2+2?"
    assert any("not JSON" in w for w in src.warnings)


def test_not_samples(tmp_path):
    log = tmp_path / "train.log"
    log.write_text("iter 1: loss 2.0\n")
    assert samples.sniff(log, log.read_bytes()) == 0.0
    metrics = tmp_path / "outputs.jsonl"
    metrics.write_text('{"type": "step", "loss": 1.0, "text": "x"}\n')
    assert samples.sniff(metrics, metrics.read_bytes()) == 0.0


def test_unseparated_file_is_one_sample(tmp_path):
    p = tmp_path / "sample_output.txt"
    p.write_text("once upon a time\n\nthere was a model\n")
    run = Run()
    src = samples.read(p, run)
    assert len(run.samples) == 1 and "there was a model" in run.samples[0].text
    assert src.warnings


def test_console_named_output_is_left_to_the_log_reader(tmp_path):
    p = tmp_path / "output.txt"
    p.write_text("iter 0: loss 4.2, time 10ms, mfu 1%\niter 10: loss 4.0, time 10ms, mfu 1%\n"
                 "iter 20: loss 3.9, time 10ms, mfu 1%\n")
    assert samples.sniff(p, p.read_bytes()) < 0.2


# The head of a Kaggle solution's LightGBM console saved as lgb_2193_output.txt (realworld
# avito-18th-lgb-10fold-rmse-early-stop), read as one generated sample before: its lines name no loss, step or LR.
LGB_OUTPUT = (
    "Training until validation scores don't improve for 200 rounds.\n"
    "[100]\ttrain's rmse: 0.224799\tvalid's rmse: 0.227289\n"
    "[200]\ttrain's rmse: 0.217056\tvalid's rmse: 0.221856\n"
    "[300]\ttrain's rmse: 0.211977\tvalid's rmse: 0.2193\n"
    "[400]\ttrain's rmse: 0.208181\tvalid's rmse: 0.218033\n"
)


def test_gbdt_console_named_output_is_left_to_the_log_reader(tmp_path):
    p = tmp_path / "lgb_2193_output.txt"
    p.write_text(LGB_OUTPUT)
    assert samples.sniff(p, p.read_bytes()) < 0.2
    generations = tmp_path / "outputs.txt"  # generations that print numbers stay samples
    generations.write_text("[100] the answer is 42\n[200] the answer is 42\n[300] 3.14 is pi\n")
    assert samples.sniff(generations, generations.read_bytes()) > 0.5
