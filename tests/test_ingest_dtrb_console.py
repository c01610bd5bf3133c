"""The deep-text-recognition-benchmark / EasyOCR trainer's `log_train.txt` (_dtrb_console.py): its validation blocks,
read blind by the generic rules with the line order as the step (issue 8, session 33)."""

from __future__ import annotations

from textlog_support import points, write_run_dir
from traindoc.ingest.loader import load_run
from traindoc.ingest.readers._dtrb_console import parse_dtrb
from traindoc.ingest.readers.textlog_formats import State

# The first three validation blocks of a public EasyOCR trainer log (a VGG-BiLSTM-CTC recogniser, valInterval 20000
# of 300000 iterations), exactly as committed: tabs before True/False, Turkish ground truth.
EASYOCR = (
    "[20000/300000] Train loss: 0.30092, Valid loss: 1.49355, Elapsed_time: 1935.90580\n"
    "Current_accuracy : 60.039, Current_norm_ED  : 0.8185\n"
    "Best_accuracy    : 60.039, Best_norm_ED     : 0.8185\n"
    "--------------------------------------------------------------------------------\n"
    "Ground Truth              | Prediction                | Confidence Score & T/F\n"
    "--------------------------------------------------------------------------------\n"
    "TROY                      | TROY                      | 0.4822\tTrue\n"
    "Master)                   | Möster                    | 0.4122\tFalse\n"
    "--------------------------------------------------------------------------------\n"
    "[40000/300000] Train loss: 0.00001, Valid loss: 1.58368, Elapsed_time: 3892.43095\n"
    "Current_accuracy : 60.328, Current_norm_ED  : 0.8201\n"
    "Best_accuracy    : 60.328, Best_norm_ED     : 0.8201\n"
    "--------------------------------------------------------------------------------\n"
    "Ground Truth              | Prediction                | Confidence Score & T/F\n"
    "--------------------------------------------------------------------------------\n"
    "Yaslanmayınız.            | Yaslanmayınız.            | 0.5446\tTrue\n"
    "HEATHER                   | HEATHER                   | 0.6924\tTrue\n"
    "--------------------------------------------------------------------------------\n"
    "[60000/300000] Train loss: 0.00001, Valid loss: 1.60004, Elapsed_time: 5945.06910\n"
    "Current_accuracy : 60.521, Current_norm_ED  : 0.8201\n"
    "Best_accuracy    : 60.521, Best_norm_ED     : 0.8201\n"
    "--------------------------------------------------------------------------------\n"
    "Ground Truth              | Prediction                | Confidence Score & T/F\n"
    "--------------------------------------------------------------------------------\n"
    "SAĞA                      | SAĞA                      | 0.9864\tTrue\n"
    "1851                      | 1031                      | 0.8874\tFalse\n"
    "--------------------------------------------------------------------------------\n"
)

# A fork's per-epoch print (korea-text-recognition-pytorch's committed log, its first lines).
FORK = (
    "epoch : 0 [0/21279] Train loss: 8.01477,Valid loss: 7.96785, time : 43.055087089538574 lr : 1\n"
    "epoch : 0 [1/21279] Train loss: 7.90191,Valid loss: 7.95940, time : 10.63684606552124 lr : 1\n"
    "epoch : 0 [2/21279] Train loss: 7.76160,Valid loss: 7.92126, time : 10.193422079086304 lr : 1\n"
    "epoch : 1 [0/21279] Train loss: 5.30358,Valid loss: 5.36891, time : 10.900947093963623 lr : 1\n"
)


def test_easyocr_blocks_read_at_their_iterations(tmp_path):
    run = load_run([write_run_dir(tmp_path, EASYOCR, "log_train.txt")])
    assert run.sources[0].format == "text_log:dtrb_console"
    assert points(run, "loss") == [(20000, 0.3009), (40000, 0.0), (60000, 0.0)]
    assert points(run, "eval_loss") == [(20000, 1.4935), (40000, 1.5837), (60000, 1.6)]
    assert points(run, "eval_accuracy") == [(20000, 60.039), (40000, 60.328), (60000, 60.521)]
    # the running best, the norm_ED of unknown direction and the sample table are not series
    assert set(run.metrics) == {"loss", "eval_loss", "eval_accuracy"}


def test_fork_epoch_counter_gives_a_global_step(tmp_path):
    run = load_run([write_run_dir(tmp_path, FORK, "log_train.txt")])
    assert [s for s, _ in points(run, "loss")] == [0, 1, 2, 21279]
    assert points(run, "eval_loss")[-1] == (21279, 5.3689)


def test_other_formats_lines_are_not_claimed():
    st = State()
    # before any block head, the trainer's other lines are not this family's
    assert parse_dtrb("Current_accuracy : 60.039, Current_norm_ED  : 0.8185", st) is None
    assert parse_dtrb("--------------------------------------------------------------------------------", st) is None
    assert parse_dtrb("| epoch   1 |   200/ 2983 batches | lr 20.00 | loss  7.63 | ppl  2063.85", st) is None
    assert parse_dtrb("Epoch 1/10 - loss: 0.52 - val_loss: 0.61", st) is None
    # a train/valid print without the bracketed iteration counter is another loop's
    assert parse_dtrb("Train loss: 0.30092, Valid loss: 1.49355, Elapsed_time: 1935.90580", st) is None
    assert parse_dtrb("[20/300] Train loss: 0.3, Valid loss: 1.4, Elapsed_time: 19.3", st) is not None
    # a markdown table row of another log is not a prediction row, even after a block head
    assert parse_dtrb("| 1 | 0.52 | 0.61 |", st) is None
