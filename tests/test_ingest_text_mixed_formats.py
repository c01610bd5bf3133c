"""Text-log reader: one file whose lines belong to more than one format (a library's lines beside the script's own
prints). The file's family reads its own lines; the script's own prints (a counted line shape the head repeats, that
no family reads) are read by the generic rules beside them, on a clock of their own, and kept apart under
`<name>@print` where the family gives the same quantity. Every file here is made of exact lines of
tests/corpus/realworld logs (their line numbers given), mixed as a user's console mixes them."""

from __future__ import annotations

from pathlib import Path

from textlog_support import points, read, read_text
from traindoc.ingest.readers import text_log
from traindoc.ingest.readers.textlog_formats import State, normalise, parse_generic

REALWORLD = Path(__file__).parent / "corpus" / "realworld"
# DeepSpeed-Chat's step-1 log: "[...] [Rank 0] step=10, skipped=6, lr=[9.649992967150629e-06, ...], mom=[...]"
DEEPSPEED = (REALWORLD / "g20-deepspeed-chat-step1-sft-opt1.3b-16ep-reference-log" / "run"
             / "opt-1.3b-globalBatchSize128.log")
DS_STEP_10, DS_STEP_20 = 12, 14
# tensorflow/models#1264, the CIFAR-10 multi-GPU tutorial: "2017-03-28 14:49:08.503782: step 0, loss = 4.67 (...)"
TF_CIFAR = REALWORLD / "tf-models-1264-cifar10-multigpu-steps" / "run" / "train.log"
# tensorflow#12287: a script's own "= >   step: 0 loss: 0.6773 accuracy:0.61"
TF_PLAIN = REALWORLD / "tf-12287-loss-pinned-0p6931" / "run" / "train.log"
# orbit's SVI fit through the logging module: "2024-01-21 17:24:16 - orbit - INFO - step    0 loss = 1529.1, ..."
ORBIT = REALWORLD / "orbit-ktr-simulation-svi-fit" / "run" / "fit_stderr.log"
# Megatron-DeepSpeed (BigScience tr8): "iteration     8738/  159576 | consumed samples: ... | lm loss: 3.317482E+00 |"
MEGATRON = REALWORLD / "bigscience-tr8-104b-exp12-lr6e-5-diverges" / "run" / "train.log"
# Keras 1 (Deep Learning with Python 3.6): "Epoch 1/20" then "7982/7982 [====...] - 1s - loss: 2.5241 - acc: ..."
KERAS = REALWORLD / "dlwp1-3.6-reuters-dense-overfits-after-epoch8" / "run" / "train.log"
# PyTorch Lightning's bar: "Epoch 0:  22%|██▏       | 4/18 [00:17<01:02,  4.47s/it, loss=10.072, v_num=193315]"
LIGHTNING = REALWORLD / "lightning-4225-progress-bar-postfix" / "run" / "train.log"
# fairseq-hydra, whose checkpoint_utils notes each save: "saved checkpoint ... (epoch 1 @ 85 updates, score 100.393)"
W2V2 = REALWORLD / "g1-w2v2-vietnamese-hydra-finetune-102ep" / "run" / "hydra_train_finetune.log"
# rl_games' console, which notes each new best: "saving next best rewards:  [53.92224]"
RL_GAMES = REALWORLD / "rl-games-mjlab-go1-ppo-notebook-1000ep" / "run" / "train.log"
# DeepSpeed-Chat's step-2 log, DeepSpeed's "Reducing dynamic loss scale from 65536 to 32768.0" once per rank
DS_REWARD = (REALWORLD / "g20-deepspeed-chat-step2-reward-opt350m-1ep-reference-log" / "run"
             / "opt-350m_globalBatchSize-64.log")


def lines_of(path: Path, *numbers: int) -> str:
    """The given 1-based lines of a corpus log, exactly as stored."""
    text = path.read_text().splitlines(keepends=True)
    return "".join(text[n - 1] for n in numbers)


# --- fires: the script's own prints beside a family's lines ---------------------------------------------------------


def test_own_step_prints_beside_one_deepspeed_line_are_read(tmp_path):
    # the case found: one DeepSpeed step line made the file DeepSpeed's and every "step N, loss = x" print was lost
    run = read_text(tmp_path, lines_of(DEEPSPEED, DS_STEP_10) + lines_of(TF_CIFAR, 1, 2, 3, 4, 5))
    assert points(run, "loss") == [(0, 4.67), (10, 4.59), (20, 4.43), (30, 4.43), (40, 4.35)]
    assert points(run, "skipped") == [(10, 6.0)]  # the family's line as before
    lr = run.series("lr")
    assert lr is not None and lr.steps.tolist() == [10] and lr.values.tolist() == [9.649992967150629e-06]


def test_own_prints_keep_their_own_clock_beside_the_family_steps(tmp_path):
    # DeepSpeed's optimizer steps 10 and 20 interleaved with a loop's own counter: the prints move no step of the
    # family's (no "step went back" restart at each print) and the family's series stay at its own steps
    text = (lines_of(TF_PLAIN, 1, 2) + lines_of(DEEPSPEED, DS_STEP_10) + lines_of(TF_PLAIN, 3, 4)
            + lines_of(DEEPSPEED, DS_STEP_20) + lines_of(TF_PLAIN, 5))
    run = read_text(tmp_path, text)
    assert points(run, "loss") == [(0, 0.6773), (1, 2.4587), (2, 5.3353), (3, 1.0234), (4, 10.6901)]
    assert points(run, "accuracy") == [(0, 0.61), (1, 0.66), (2, 0.32), (3, 0.52), (4, 0.67)]
    assert points(run, "skipped") == [(10, 6.0), (20, 6.0)]
    assert not [e for e in run.events if e.tag == "restart"]


def test_logging_module_prints_beside_deepspeed_are_read(tmp_path):
    run = read_text(tmp_path, lines_of(DEEPSPEED, DS_STEP_10) + lines_of(ORBIT, 5, 7, 9, 11))
    assert points(run, "loss") == [(0, 1529.1), (50, 384.48), (100, 332.66), (150, 325.49)]
    assert points(run, "skipped") == [(10, 6.0)]


def test_the_same_quantity_from_megatron_and_a_print_is_never_spliced(tmp_path):
    # Megatron's "lm loss" at its iterations 8738-8739 and the print's "loss" at its steps 0-4: two clocks, two series
    run = read_text(tmp_path, lines_of(MEGATRON, 1, 3) + lines_of(TF_PLAIN, 1, 2, 3, 4, 5))
    assert points(run, "loss") == [(8738, 3.3175), (8739, 3.4171)]
    assert points(run, "loss@print") == [(0, 0.6773), (1, 2.4587), (2, 5.3353), (3, 1.0234), (4, 10.6901)]
    assert run.series("loss@print").raw_name == "loss"
    assert points(run, "accuracy") == [(0, 0.61), (1, 0.66), (2, 0.32), (3, 0.52), (4, 0.67)]


def test_keras_epochs_and_a_loops_prints_stay_apart(tmp_path):
    run = read_text(tmp_path, lines_of(KERAS, 2, 3, 4, 5) + lines_of(TF_CIFAR, 1, 2, 3, 4, 5))
    assert points(run, "loss") == [(1, 2.5241), (2, 1.45)]
    assert points(run, "eval_loss") == [(1, 1.7263), (2, 1.3478)]
    assert points(run, "loss@print") == [(0, 4.67), (10, 4.59), (20, 4.43), (30, 4.43), (40, 4.35)]


def test_prints_after_a_lightning_bar_were_read_already(tmp_path):
    # the bar console's own path (text_log._Parser.bar_console): the lines between bar frames are the script's
    run = read_text(tmp_path, lines_of(LIGHTNING, 1, 3) + lines_of(TF_PLAIN, 1, 2, 3, 4, 5))
    assert points(run, "accuracy") == [(0, 0.61), (1, 0.66), (2, 0.32), (3, 0.52), (4, 0.67)]


# --- silent: what the fallback must not read ------------------------------------------------------------------------


def test_two_prints_are_no_loop_and_stay_unread(tmp_path):
    # a shape the head holds fewer than OWN_PRINT_MIN_LINES times is a one-off print (a start and an end banner)
    assert text_log.OWN_PRINT_MIN_LINES == 3
    run = read_text(tmp_path, lines_of(DEEPSPEED, DS_STEP_10) + lines_of(TF_CIFAR, 1, 2))
    assert sorted(run.metrics) == ["lr", "skipped"]


def test_repeated_notes_without_a_position_stay_unread():
    # rl_games' "saving next best rewards:  [53.92224]" (dozens of them) repeats no loop's position: not read
    run = read(RL_GAMES)
    assert not [n for n in run.metrics if "best" in n or n.endswith("@print")]


def test_a_checkpoint_note_with_its_epoch_stays_unread():
    # fairseq's "saved checkpoint ... (epoch 1 @ 85 updates, score 100.393)", once per epoch for 102 epochs, names its
    # epoch, but a save quotes the validation the epoch's own line gave: no series "score"
    run = read(W2V2)
    assert "score" not in run.metrics and not [n for n in run.metrics if n.endswith("@print")]


def test_lines_the_family_reads_stay_with_it():
    # DeepSpeed's loss-scale reductions, printed once per rank, are the family's (loss_scale), never an own print
    run = read(DS_REWARD)
    assert "loss_scale" in run.metrics
    assert not [n for n in run.metrics if n.endswith("@print") or "dynamic" in n]


def test_own_print_shapes_come_from_counted_unclaimed_lines_only():
    det = text_log._Detection()
    det.feed(lines_of(DEEPSPEED, DS_STEP_10, DS_STEP_20).splitlines() + lines_of(RL_GAMES, 272, 275, 279).splitlines()
             + lines_of(TF_CIFAR, 1, 2, 3).splitlines())
    assert det.own_print_shapes() == {frozenset({"loss"})}


# --- two misreads of the generic rules -------------------------------------------------------------------------------


def test_a_schedule_period_is_no_value():
    # "Decaying learning rate every 30 epochs": the period of a step schedule, once read as lr/every = 30
    assert parse_generic("Decaying learning rate every 30 epochs", State()) is None


def test_an_in_epoch_counter_glued_to_epoch_is_no_metric():
    # lxztju pytorch_classification#9: "epochiter: i/n" counts the batch within the epoch beside the global "iter"
    rec = parse_generic("Epoch:3 || epochiter: 32/139|| Totel iter 310 || Loss: 0.595441||ACC: 99.219 ||LR: "
                        "0.00044660", State())
    assert rec is not None and rec.step == 310 and rec.epoch == 3
    assert rec.metrics == {"Loss": 0.595441, "ACC": 99.219, "LR": 0.0004466}


# --- a print shape first seen after the head (text_log.LateShapes) --------------------------------------------------

# Ludwig 0.1.1's Titanic experiment, 2,365 lines read as Ludwig's: a head of 2,000 frames with no print in it
LUDWIG = REALWORLD / "ludwig-011-titanic-experiment-100-epochs" / "run" / "experiment.log"


def test_a_shape_first_printed_after_the_head_is_read(tmp_path):
    # the loop's prints start after the head (text_log.HEAD_FRAMES): held until OWN_PRINT_MIN_LINES are seen, then
    # read, the first ones included
    assert len(LUDWIG.read_text().splitlines()) > text_log.HEAD_FRAMES
    run = read_text(tmp_path, LUDWIG.read_text() + lines_of(TF_CIFAR, 1, 2, 3, 4, 5))
    assert points(run, "loss@print") == [(0, 4.67), (10, 4.59), (20, 4.43), (30, 4.43), (40, 4.35)]
    assert read(LUDWIG).metrics.keys() == run.metrics.keys() - {"loss@print"}


def test_two_late_prints_are_no_loop_and_stay_unread(tmp_path):
    run = read_text(tmp_path, LUDWIG.read_text() + lines_of(TF_CIFAR, 1, 2))
    assert not [n for n in run.metrics if n.endswith("@print")]


def test_a_late_shape_of_a_familys_lines_is_never_an_own_print():
    # Megatron's iteration lines offered after the head (as a family not in the file's order would leave them): the
    # generic rules read them, but Megatron's parser takes them, so the shape is never an own print however often
    late = text_log.LateShapes()
    state = State()
    for n in (1, 3, 1, 3):
        text = normalise(lines_of(MEGATRON, n)).text
        rec = parse_generic(text, state)
        assert rec is not None and rec.metrics
        assert late.offer(text, rec, (0, None)) == []
    got: list = []
    for n in (1, 2, 3):
        text = normalise(lines_of(TF_CIFAR, n)).text
        rec = parse_generic(text, state)
        assert rec is not None
        got = late.offer(text, rec, (n, None))
    assert [place for _, place in got] == [(1, None), (2, None), (3, None)]  # the held first two, with the third
