"""DeepSpeed-Chat's evaluation prints among DeepSpeed engine lines (readers/_deepspeed_chat.py, read by
textlog_formats.parse_deepspeed): the held-out perplexity after "***** Evaluating perplexity, Epoch e/N *****", the
reward model's pairwise accuracy, DPO's held-out loss, and "Epoch e/N with loss x". Fixtures are lines in the shape
the scripts print them; the silent cases keep look-alike lines unread."""

from __future__ import annotations

from pathlib import Path

from textlog_support import points as _points
from traindoc.ingest.loader import load_run
from traindoc.ingest.readers.textlog_formats import State, parse_deepspeed

_ENGINE = ("[2023-04-18 01:46:59,142] [INFO] [logging.py:96:log_dist] [Rank 0] step={s}, skipped=0, "
           "lr=[9.6e-06, 9.6e-06], mom=[(0.9, 0.95), (0.9, 0.95)]")




def test_sft_perplexity_and_reward_accuracy_are_held_out_points_on_the_last_engine_step(tmp_path: Path):
    lines = ["***** Running training *****", "***** Evaluating perplexity, Epoch 0/2 *****", "ppl: 4998.29638671875",
             "Beginning of Epoch 1/2, Total Micro Batches 20"]
    lines += [_ENGINE.format(s=s) for s in (10, 20)]
    lines += ["***** Evaluating perplexity, Epoch 1/2 *****", "ppl: 2.0179834365844727, loss: 0.7021"]
    lines += [_ENGINE.format(s=s) for s in (30, 40)]
    lines += ["Epoch 2/2 with loss 0.5754789632299672", "***** Evaluating reward, Epoch 2/2 *****",
              "chosen_last_scores (higher is better) : 2.243525981903076, acc (higher is better) : 0.6994950175285339"]
    p = tmp_path / "training.log"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = load_run([p])
    ppl = _points(run, "eval_ppl")
    assert [v for _, v in ppl] == [4998.2964, 2.018] and ppl[1][0] == 20  # after the epoch's last engine step
    assert _points(run, "eval_loss") == [(20, 0.7021)]
    assert _points(run, "eval_accuracy") == [(40, 0.6995)]
    assert _points(run, "loss") == [(40, 0.5755)]  # the epoch's mean training loss


def test_value_lines_need_their_heading_and_other_headings_open_nothing():
    st = State()
    assert parse_deepspeed("ppl: 2.01", st) is None  # no "Evaluating perplexity" heading just before
    assert parse_deepspeed("***** Running Evaluation *****", st) is None  # HF Trainer's heading: not this one
    assert parse_deepspeed("ppl: 2.01", st) is None
    assert parse_deepspeed("chosen: 1.0, rejected: 0.5, loss: 0.6", st) is None  # DPO line without its heading
    assert parse_deepspeed("Epoch 3/10 with loss of patience", st) is None
    assert parse_deepspeed("***** Evaluating rewards, Epoch 1/1 *****", st) is None
    rec = parse_deepspeed("chosen: -31.9375, rejected: -33.96875, loss: 0.6650807857513428", st)
    assert rec is not None and rec.eval and rec.step is None
    assert rec.metrics == {"eval_chosen_score": -31.9375, "eval_rejected_score": -33.96875,
                           "eval_loss": 0.6650807857513428}
