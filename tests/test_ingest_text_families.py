"""Text-log families and generic rules added for real-world consoles. Each test reads a few lines in the format of
a corpus entry (tests/corpus/realworld/<entry>/, named in the test) and checks the steps and values read."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from test_ingest_text_logs import values
from traindoc.ingest.model import Run
from traindoc.ingest.readers import text_log


def read(tmp_path: Path, text: str, name: str = "train.log") -> tuple[Run, object]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    run = Run()
    src = text_log.read(path, run)
    run.finalize()
    return run, src


def test_opennmt_py_old_ppl_gives_the_loss(tmp_path):
    # opennmt-py-253-adam-lr1-ppl-overflow: OpenNMT-py 0.1 prints only ppl = exp(min(xent, 100))
    run, src = read(tmp_path, (
        "Epoch  1,    50/21692; acc:   0.41; ppl: 26881171418161356094253400435962903554686976.00; 3324 src tok/s; "
        "4592 tgt tok/s;     22 s elapsed\n"
        "Epoch  1,   100/21692; acc:   0.28; ppl: 26881171418161356094253400435962903554686976.00; 3974 src tok/s; "
        "5744 tgt tok/s;     37 s elapsed\n"
        "Epoch  2,    50/21692; acc:   1.11; ppl: 992.10; 4017 src tok/s; 5668 tgt tok/s;     70 s elapsed\n"
    ))
    assert src.format == "text_log:opennmt"
    loss = values(run, "loss")
    assert sorted(loss) == [50, 100, 21692 + 50]  # epoch 2 continues the step count
    assert loss[50] == pytest.approx(100.0)
    assert loss[21742] == pytest.approx(math.log(992.10))
    assert values(run, "accuracy")[100] == pytest.approx(0.28)


def test_opennmt_py_steps_xent_and_validation(tmp_path):
    # opennmt-py 0.4+ "Step i/N; ... xent" lines as in OpenNMT/OpenNMT-py#1072 (the corpus' OpenNMT-py entries)
    run, src = read(tmp_path, (
        "[2018-11-26 14:47:26,759 INFO] Step 5350/50000; acc:  51.25; ppl:  8.43; xent: 2.13; lr: 0.00066; "
        "1320/1445 tok/s;  19995 sec\n"
        "[2018-11-26 15:06:01,481 INFO] Step 5650/50000; acc:   0.19; ppl:   nan; xent:  nan; lr: 0.00070; "
        "1928/2310 tok/s;  21110 sec\n"
        "[2018-11-26 15:07:00,000 INFO] Validation perplexity: 9.73\n"
    ))
    assert src.format == "text_log:opennmt"
    assert values(run, "loss")[5350] == pytest.approx(2.13)  # xent is the loss; ppl does not overwrite it
    assert math.isnan(values(run, "loss")[5650])
    assert values(run, "lr")[5650] == pytest.approx(0.0007)
    assert values(run, "eval_ppl") == {5650: pytest.approx(9.73)}


def test_opennmt_lua_epoch_iteration_lines(tmp_path):
    # opennmt-lua-122-epoch-average-ppl-drop: OpenNMT (Lua) "Epoch e ; Iteration i/N ; Learning rate x ; Source
    # tokens/s n ; Perplexity p" and a later release's "Optim SGD LR x" field; the perplexity gives the loss, and the
    # step runs on across epochs as (e - 1) * N + i
    run, src = read(tmp_path, (
        "[02/10/17 10:00:00 INFO] Epoch 1 ; Iteration 77000/77776 ; Learning rate 1.0000 ; Source tokens/s 1270 ; "
        "Perplexity 14.37\n"
        "[02/10/17 10:00:01 INFO] Validation perplexity: 7.8701437591397\n"
        "[02/10/17 10:00:02 INFO] Epoch 2 ; Iteration 1000/77776 ; Learning rate 1.0000 ; Source tokens/s 1274 ; "
        "Perplexity 8.29\n"
        "[01/15/18 08:32:07 INFO] Epoch 3 ; Iteration 500/77776 ; Optim SGD LR 0.100000 ; Source tokens/s 3264 ; "
        "Perplexity 2907.71 ; Time 1.250 sec\n"
    ))
    assert src.format == "text_log:opennmt"
    loss = values(run, "loss")
    assert sorted(loss) == [77000, 77776 + 1000, 2 * 77776 + 500]
    assert loss[77000] == pytest.approx(math.log(14.37))
    assert values(run, "ppl")[78776] == pytest.approx(8.29)
    assert values(run, "lr") == {77000: pytest.approx(1.0), 78776: pytest.approx(1.0), 156052: pytest.approx(0.1)}
    assert values(run, "eval_ppl") == {77000: pytest.approx(7.8701437591397)}
    assert "Source tokens/s" not in run.metrics  # a throughput, not a training metric


def test_opennmt_tf_steps_and_evaluation(tmp_path):
    # opennmt-tf-744-gpt2small-lr2-loss-1e5
    run, src = read(tmp_path, (
        "INFO:tensorflow:Evaluation result for step 435000: loss = 148890.718750 ; perplexity = inf\n"
        "INFO:tensorflow:Step = 435100 ; steps/s = 2.97, source words/s = 12176 ; Learning rate = 1.202480 ; "
        "Loss = 185912.781250\n"
        "INFO:tensorflow:Step = 435200 ; steps/s = 2.93, source words/s = 12020 ; Learning rate = 1.202172 ; "
        "Loss = 158771.156250\n"
    ))
    assert src.format == "text_log:opennmt"
    assert values(run, "loss") == {435100: pytest.approx(185912.78125), 435200: pytest.approx(158771.15625)}
    assert values(run, "lr")[435200] == pytest.approx(1.202172)
    assert values(run, "eval_loss") == {435000: pytest.approx(148890.71875)}
    assert math.isinf(values(run, "eval_ppl")[435000])


def test_mxnet_batches_epochs_and_validation(tmp_path):
    # the format of apache/mxnet#15962 (Module.fit with Speedometer); cross-entropy is the loss
    run, src = read(tmp_path, (
        "2019-08-21 14:56:44,024 INFO Epoch[0] Batch [50]\tSpeed: 581.56 samples/sec\taccuracy=0.300000\t"
        "cross-entropy=1.900000\n"
        "2019-08-21 14:56:54,971 INFO Epoch[0] Batch [100]\tSpeed: 584.65 samples/sec\taccuracy=0.400000\t"
        "cross-entropy=1.600000\n"
        "2019-08-21 14:57:14,472 INFO Epoch[0] Train-accuracy=0.410000\n"
        "2019-08-21 14:57:18,638 INFO Epoch[0] Validation-accuracy=0.450000\n"
        "2019-08-21 14:57:29,825 INFO Epoch[1] Batch [50]\tSpeed: 580.51 samples/sec\taccuracy=0.500000\t"
        "cross-entropy=1.400000\n"
    ))
    assert src.format == "text_log:mxnet"
    assert values(run, "loss") == {50: pytest.approx(1.9), 100: pytest.approx(1.6), 150: pytest.approx(1.4)}
    assert values(run, "eval_accuracy") == {100: pytest.approx(0.45)}  # the epoch's result: its last step


def test_mxnet_epoch_lines_only(tmp_path):
    # mxnet-9185-tornadomeet-resnet20-cifar10-epochs-10-11: no batch lines, the epoch is the step
    run, src = read(tmp_path, (
        "INFO:root:Epoch[10] Resetting Data Iterator\n"
        "INFO:root:Epoch[10] Time cost=24.303\n"
        "INFO:root:Epoch[10] Validation-accuracy=0.825040\n"
        "INFO:root:Epoch[10] Validation-cross-entropy=0.515972\n"
        "INFO:root:Epoch[11] Validation-accuracy=0.814988\n"
        "INFO:root:Epoch[11] Validation-cross-entropy=0.543225\n"
    ))
    assert src.format == "text_log:mxnet"
    assert values(run, "eval_loss") == {10: pytest.approx(0.515972), 11: pytest.approx(0.543225)}
    assert "Time cost" not in run.metrics


def test_spacy_v3_and_v2_tables(tmp_path):
    # spacy-6233-tok2vec-ner-v3-table
    run, src = read(tmp_path, (
        "E     #        LOSS TOK2VEC   LOSS NER   ENTS_F   ENTS_P   ENTS_R   SCORE \n"
        "---   ------   ------------   --------   ------   ------   ------   ------\n"
        "  0        0           0.00      41.00     3.71     5.72     2.75     0.04\n"
        "  0      200         120.55    5192.01    56.22    59.73    53.10     0.56\n"
        "  1      400         138.67    4601.48    59.48    65.31    54.60     0.59\n"
    ))
    assert src.format == "text_log:spacy"
    assert values(run, "loss")[200] == pytest.approx(120.55 + 5192.01)  # the components' losses add up
    assert values(run, "loss_ner")[400] == pytest.approx(4601.48)
    assert values(run, "eval_ents_f")[400] == pytest.approx(59.48)
    assert (400, 1) in run.epoch_starts
    # spaCy 2 (explosion/spaCy#3166): iterations are the step, WPS columns are throughput
    run, src = read(tmp_path, (
        "Itn.  Dep Loss  NER Loss  UAS     NER P.  NER R.  NER F.  Tag %   Token %  CPU WPS  GPU WPS\n"
        "0     0.000     12.500    0.000   5.882   40.000  10.256  100.000 100.000  349.7    0.0\n"
        "1     0.000     8.250     0.000   7.000   41.000  11.956  100.000 100.000  350.1    0.0\n"
    ), name="spacy2.log")
    assert src.format == "text_log:spacy"
    assert values(run, "loss") == {0: pytest.approx(12.5), 1: pytest.approx(8.25)}
    assert not any("wps" in name.lower() for name in run.metrics)


def test_dllogger_prefix_and_parameter_lines(tmp_path):
    # dle-543-bert-pytorch-loss-scale-to-1e-13 (loss scale logged with step="PARAMETER"); FastPitch-style step lines
    run, _ = read(tmp_path, (
        "DLL 2020-05-30 07:35:01.358301 - PARAMETER SEED : 1234 \n"
        "DLL 2020-05-30 07:35:01.358301 - PARAMETER loss_scale : 3.725290298461914e-09 \n"
        "DLL 2020-05-30 07:35:53.788120 - PARAMETER loss_scale : 1.862645149230957e-09 \n"
        "DLL 2020-05-30 07:36:46.038493 - PARAMETER loss_scale : 9.313225746154785e-10 \n"
    ))
    assert list(values(run, "loss_scale").values()) == pytest.approx([3.725290298461914e-09, 1.862645149230957e-09,
                                                                     9.313225746154785e-10])
    assert "DLL" not in run.metrics and "SEED" not in run.metrics
    run, _ = read(tmp_path, (
        "DLL 2021-06-14 23:08:53.659718 - epoch    1 | iter   1/48 | loss 40.97 | mel loss 35.04 | lrate 3.16e-06\n"
        "DLL 2021-06-14 23:09:28.449961 - epoch    1 | iter   2/48 | loss 41.07 | mel loss 35.12 | lrate 3.2e-06\n"
        "DLL 2021-06-14 23:10:02.101010 - epoch    1 | iter   3/48 | loss 39.50 | mel loss 34.00 | lrate 3.3e-06\n"
    ), name="fastpitch.log")
    assert values(run, "loss") == {1: pytest.approx(40.97), 2: pytest.approx(41.07), 3: pytest.approx(39.5)}


def test_yacs_prefix_and_explicit_step_over_a_fraction(tmp_path):
    # paddlespeech-675-lr-zero-from-epoch2: "step: N" is the global step, "batch : i/n" only the place in the epoch
    run, _ = read(tmp_path, (
        "[INFO 2021/06/19 16:01:34 model.py:61] Train: Rank: 0, epoch: 1, step: 5310, batch : 1559/1876, "
        "lr: 0.00000000, data time: 0.000s, train time: 3.019s, batch size: 64, train_loss: 16.030918\n"
        "[INFO 2021/06/19 16:01:37 model.py:61] Train: Rank: 0, epoch: 1, step: 5311, batch : 1560/1876, "
        "lr: 0.00000000, data time: 0.000s, train time: 2.954s, batch size: 64, train_loss: 15.383665\n"
    ))
    assert values(run, "loss") == {5310: pytest.approx(16.030918), 5311: pytest.approx(15.383665)}
    assert values(run, "lr") == {5310: 0.0, 5311: 0.0}
    assert not {"INFO", "model.py", "Rank"} & set(run.metrics)


def test_epoch_fraction_with_iteration_counter(tmp_path):
    # paddleocr-4045-cosine-lr-reaches-zero: "epoch: [6/6]" is not the step when "iter: N" is printed
    run, _ = read(tmp_path, (
        "[2021/09/08 13:16:19] root INFO: epoch: [6/6], iter: 72630, lr: 0.000001, acc: 0.919922, "
        "loss: 0.728784, reader_cost: 0.00461 s\n"
        "[2021/09/08 13:18:12] root INFO: epoch: [6/6], iter: 72660, lr: 0.000000, acc: 0.919922, "
        "loss: 0.620143, reader_cost: 0.00429 s\n"
    ))
    assert values(run, "loss") == {72630: pytest.approx(0.728784), 72660: pytest.approx(0.620143)}
    assert (72630, 6) in run.epoch_starts


def test_one_element_arrays_are_values(tmp_path):
    # paddleslim-1582-loss-nan-after-iter0: Paddle fetches print as numpy arrays
    run, _ = read(tmp_path, (
        "2022-12-08 17:57:31,371-INFO: Total iter: 0, epoch: 0, batch: 0, loss: [10.000229]\n"
        "2022-12-08 17:57:32,672-INFO: Total iter: 10, epoch: 0, batch: 10, loss: [nan]\n"
        "2022-12-08 17:57:33,992-INFO: Total iter: 20, epoch: 0, batch: 20, loss: [nan]\n"
    ))
    loss = values(run, "loss")
    assert loss[0] == pytest.approx(10.000229) and math.isnan(loss[10]) and math.isnan(loss[20])
    # several per-device values: which one is "the" loss is not ours to choose, so none is read
    run, _ = read(tmp_path, "Pass 0, batch 100, loss [9.212549  9.2083845 9.087779]\n"
                            "Pass 0, batch 200, loss [9.291733 9.210005 8.988502]\n", name="multi.log")
    assert run.series("loss") is None


def test_fastai_table_metrics_are_validation_metrics(tmp_path):
    # fastai-forum-lesson4-lstm-lr-too-high-epoch10 (fastai 0.7 "trn_loss"); fastai computes metrics on valid only
    run, src = read(tmp_path, (
        "epoch trn_loss val_loss accuracy\n"
        "0 0.465021 0.354633 0.915533\n"
        "1 0.413693 0.325593 0.923896\n"
        "2 0.71977 0.759003 0.737836\n"
    ))
    assert src.format == "text_log:table"
    assert values(run, "loss")[3] == pytest.approx(0.71977)  # epoch "2" counted from 0: the third
    assert values(run, "eval_accuracy")[3] == pytest.approx(0.737836)
    assert "accuracy" not in run.metrics


def test_fastai_v1_row_duration_cell_is_not_a_column(tmp_path):
    # g5-blog-oyane806-fastai-error-rate-worse-overfit: fastai 1.0.x printed "(00:13)" after the last metric, outside
    # the header; the rows are read, the duration is dropped
    run, src = read(tmp_path, (
        "Total time: 06:39\n"
        "epoch train_loss valid_loss error_rate\n"
        "1 1.513021 1.041628 0.507326 (00:13)\n"
        "2 1.290093 0.994758 0.443223 (00:09)\n"
        "3 1.185764 0.936145 0.410256 (00:09)\n"
    ))
    assert src.format == "text_log:table"
    assert values(run, "loss")[3] == pytest.approx(1.185764)
    assert values(run, "eval_loss")[1] == pytest.approx(1.041628)
    assert values(run, "valid_error_rate")[2] == pytest.approx(0.443223)
    # an extra cell that is not a duration still makes the row not a row of this table
    run, _ = read(tmp_path, "epoch train_loss valid_loss error_rate\n1 1.5 1.0 0.5 extra\n2 1.2 0.9 0.4 extra\n",
                  name="other.log")
    assert run.series("loss") is None


def test_marian_updates_cost_and_validation(tmp_path):
    # marian-s2s-europarl-encs-early-stop-overfit
    run, src = read(tmp_path, (
        "[2018-12-07 21:41:48] Ep. 1 : Up. 500 : Sen. 180,689 : Cost 6.78076077 : Time 621.39s : 8698.01 words/s : "
        "L.r. 3.0000e-04\n"
        "[2018-12-07 21:56:24] Ep. 1 : Up. 1000 : Sen. 362,643 : Cost 5.02112103 : Time 875.55s : 6163.35 words/s : "
        "L.r. 3.0000e-04\n"
        "[2018-12-07 23:12:56] [valid] Ep. 1 : Up. 1000 : ce-mean-words : 1.89655 : new best\n"
        "[2018-12-07 23:13:10] [valid] Ep. 1 : Up. 1000 : perplexity : 6.66287 : new best\n"
        "[2021-05-26 23:22:42] Ep. 1 : Up. 1500 : Sen. 15,203 : Cost 6.01253986 * 414,436 after 414,436 : "
        "Time 609.91s : 679.50 words/s\n"
    ))
    assert src.format == "text_log:marian"
    assert values(run, "loss") == {500: pytest.approx(6.78076077), 1000: pytest.approx(5.02112103),
                                   1500: pytest.approx(6.01253986)}
    assert values(run, "lr")[1000] == pytest.approx(3e-4)
    assert values(run, "eval_loss") == {1000: pytest.approx(1.89655)}
    assert values(run, "eval_ppl") == {1000: pytest.approx(6.66287)}


def test_marian_gnorm_is_the_grad_norm(tmp_path):
    # marian-dev-699-fp16-cost-nan-gnorm-2080ti: the display line's gNorm is read, a nan cost stays a nan loss
    run, src = read(tmp_path, (
        "[2020-09-05 20:22:04] Ep. 1 : Up. 100 : Sen. 46,750 : Cost 314.00448608 : Time 35.20s : 5532.88 words/s : "
        "gNorm 20126.2366\n"
        "[2020-09-05 20:22:42] Ep. 1 : Up. 300 : Sen. 137,255 : Cost nan : Time 17.18s : nan words/s : "
        "gNorm 41172.8250\n"
    ))
    assert src.format == "text_log:marian"
    assert values(run, "grad_norm") == {100: pytest.approx(20126.2366), 300: pytest.approx(41172.825)}
    assert values(run, "loss")[100] == pytest.approx(314.00448608)
    assert math.isnan(values(run, "loss")[300])


def test_flair_iterations_and_dev_lines(tmp_path):
    # flair-docs-upos-tagger-epoch1: the DEV line is validation, the "EPOCH n done" mean adds nothing
    run, src = read(tmp_path, (
        "2023-02-27 17:07:39,128 epoch 1 - iter 4/40 - loss 3.28409882 - time (sec): 1.10 - samples/sec: 2611.84 - "
        "lr: 0.100000\n"
        "2023-02-27 17:07:41,972 epoch 1 - iter 40/40 - loss 2.58915523 - time (sec): 3.95 - samples/sec: 5394.33 - "
        "lr: 0.100000\n"
        "2023-02-27 17:07:41,977 EPOCH 1 done: loss 2.5892 - lr 0.100000\n"
        "2023-02-27 17:07:42,567 DEV : loss 2.009714126586914 - f1-score (micro avg)  0.41\n"
        "2023-02-27 17:07:43,128 epoch 2 - iter 4/40 - loss 2.40000000 - time (sec): 0.30 - samples/sec: 2611.84 - "
        "lr: 0.100000\n"
    ))
    assert src.format == "text_log:flair"
    assert values(run, "loss") == {4: pytest.approx(3.28409882), 40: pytest.approx(2.58915523),
                                   44: pytest.approx(2.4)}
    assert values(run, "eval_loss") == {40: pytest.approx(2.009714126586914)}
    assert values(run, "eval_f1_score_micro_avg") == {40: pytest.approx(0.41)}
    assert not [e for e in run.events if e.tag == "restart"]


def test_running_mean_qualifiers_keep_the_metric(tmp_path):
    # kglids-int-column-embedding-100ep: "Avg Train Loss" is the training loss, "Avg Valid Loss" the validation loss
    from traindoc.ingest.names import canonical_metric

    assert canonical_metric("Avg Train Loss") == "loss"
    assert canonical_metric("Avg Valid Loss") == "eval_loss"
    assert canonical_metric("average_loss") == "loss"
    assert canonical_metric("avg_widgets") == "avg_widgets"  # an unknown name stays as printed
    run, _ = read(tmp_path, (
        "2023-01-23 15:03:49.000378: Epoch: 1 done: Avg Train Loss: 0.3942 Avg Valid Loss: 0.3828 --- "
        "Valid Accuracy: 0.7919\n"
        "2023-01-23 16:02:38.838288: Epoch: 2 done: Avg Train Loss: 0.3798 Avg Valid Loss: 0.3758 --- "
        "Valid Accuracy: 0.7930\n"
    ))
    assert values(run, "loss") == {1: pytest.approx(0.3942), 2: pytest.approx(0.3798)}
    assert values(run, "eval_loss") == {1: pytest.approx(0.3828), 2: pytest.approx(0.3758)}


def test_chainer_printreport_names(tmp_path):
    # chainer-blog-mnist-trainer-10ep: "main" is the reporter's target, "validation/" its evaluation copy
    run, src = read(tmp_path, (
        "    epoch       main/loss   main/accuracy  validation/main/loss  validation/main/accuracy  elapsed_time\n"
        "    \x1b[J1           0.529012    0.854044       0.244404              0.930083                  4.24566\n"
        "    \x1b[J2           0.225027    0.934935       0.180788              0.947389                  6.22003\n"
    ))
    assert src.format == "text_log:table"
    assert values(run, "loss") == {1: pytest.approx(0.529012), 2: pytest.approx(0.225027)}
    assert values(run, "eval_loss")[2] == pytest.approx(0.180788)
    assert values(run, "eval_accuracy")[2] == pytest.approx(0.947389)


def test_darknet_iteration_lines(tmp_path):
    # darknet-866-avg-loss-explodes-to-nan: "<iter>: <loss>, <avg> avg, <rate> rate, <s> seconds, <n> images", the
    # per-layer "Region .. Avg IOU" lines between them, C's "-nan"; the leading "1012: " is no srun rank prefix
    run, src = read(tmp_path, (
        "Region 106 Avg IOU: 0.172903, Class: 0.473075, Obj: 0.000001, No Obj: 0.000024, .5R: 0.000000, .75R: "
        "0.000000,  count: 2\n"
        "1012: 112495697920.000000, 11258310656.000000 avg, 0.001000 rate, 1.947555 seconds, 6072 images\n"
        "Loaded: 0.000021 seconds\n"
        "1013: 6639084410529692778496.000000, 663908412905471606784.000000 avg, 0.001000 rate, 1.959194 seconds, "
        "6078 images\n"
        "1014: -nan, -nan avg, 0.001000 rate, 1.896905 seconds, 6084 images\n"
    ))
    assert src.format == "text_log:darknet"
    loss = values(run, "loss")
    assert sorted(loss) == [1012, 1013, 1014]
    assert loss[1013] == pytest.approx(6.639084410529692e21)
    assert math.isnan(loss[1014])
    assert values(run, "loss_avg")[1012] == pytest.approx(11258310656.0)
    assert values(run, "lr")[1014] == pytest.approx(0.001)


def test_darknet_alexeyab_avg_loss_spelling(tmp_path):
    # darknet-1082-lr-zero-during-burn-in: AlexeyAB's fork prints "avg loss"; burn-in prints the rate as 0.000000
    run, src = read(tmp_path, (
        " 1: 412.725830, 412.725830 avg loss, 0.000000 rate, 548.818333 seconds, 128 images\n"
        " 2: 398.1, 411.2 avg loss, 0.000000 rate, 5.1 seconds, 256 images\n"
    ))
    assert src.format == "text_log:darknet"
    assert values(run, "loss") == {1: pytest.approx(412.72583), 2: pytest.approx(398.1)}
    assert values(run, "lr")[1] == 0.0


def test_srun_rank_prefix_still_stripped_beside_darknet_rule(tmp_path):
    # the Darknet exception is narrow: "srun -l"'s "0: " before an ordinary line is still a rank prefix
    run, _ = read(tmp_path, "0: step 10, loss = 2.5\n0: step 20, loss = 2.1\n0: step 30, loss = 1.9\n")
    assert values(run, "loss") == {10: 2.5, 20: 2.1, 30: 1.9}


def test_bracketed_logging_prefix_sockeye(tmp_path):
    # sockeye-706-epoch0-perplexity-speed-question: "[%(levelname)s:%(name)s] " before MXNet's Speedometer line;
    # its file log adds the time and function ("[<time>:INFO:sockeye.training:__call__] ")
    run, src = read(tmp_path, (
        "[INFO:sockeye.training] Epoch[0] Batch [550]    Speed: 1173.82 samples/sec 36883.65 tokens/sec 6.25 "
        "updates/sec perplexity=1459.196921  accuracy=0.108554\n"
        "[INFO:sockeye.training] Epoch[0] Batch [600]    Speed: 1181.29 samples/sec 37021.22 tokens/sec 6.26 "
        "updates/sec perplexity=1375.478856  accuracy=0.111537\n"
        "[2019-03-17:14:36:36:INFO:sockeye.training:__call__] Epoch[0] Batch [650]\tSpeed: 71.18 samples/sec "
        "1971.60 tokens/sec 1.27 updates/sec\tperplexity=1299.467843\n"
    ))
    assert src.format == "text_log:mxnet"
    assert values(run, "perplexity") == {550: pytest.approx(1459.196921), 600: pytest.approx(1375.478856),
                                         650: pytest.approx(1299.467843)}
    assert set(run.metrics) == {"perplexity", "accuracy"}  # the throughput figures are no metrics


def test_cntk_minibatch_lines_with_msvc_nan(tmp_path):
    # a CNTK BrainScript console log: the criterion is the first "<node> = <mean> * <samples>" pair; Windows prints
    # NaN as "1.#QNAN000"; the step is the minibatch range's end
    run, src = read(tmp_path, (
        " Epoch[ 1 of 30]-Minibatch[   1- 500]: ce = -0.00000000 * 500; errs = 0.000% * 500; time = 1.6253s; "
        "samplesPerSecond = 307.6\n"
        " Epoch[ 1 of 30]-Minibatch[ 501-1000]: ce = 1.#QNAN000 * 500; errs = 12.500% * 500; time = 0.9243s; "
        "samplesPerSecond = 541.0\n"
    ))
    assert src.format == "text_log:cntk"
    loss = values(run, "loss")
    assert sorted(loss) == [500, 1000]
    assert loss[500] == 0.0 and math.isnan(loss[1000])
    assert values(run, "errs")[1000] == pytest.approx(0.125)


def test_cntk_v1_lines_epoch_offset_and_epoch_summary(tmp_path):
    # a CNTK 1.x console log ("TrainLossPerSample"), with the epoch-start LR line and the
    # "Finished Epoch" summary; minibatch ranges restart each epoch, so epoch 2's range ends add epoch 1's last one
    run, src = read(tmp_path, (
        "Starting Epoch 1: learning rate per sample = 0.020000  effective momentum = 0.900000\n"
        " Epoch[ 1 of 2]-Minibatch[   1- 500]: SamplesSeen = 500; TrainLossPerSample =  5.87155566; "
        "EvalErr[0]PerSample = 0.27600000; TotalTime = 2.7641s; SamplesPerSecond = 180.9\n"
        " Epoch[ 1 of 2]-Minibatch[ 501-1000]: SamplesSeen = 500; TrainLossPerSample =  4.5; "
        "EvalErr[0]PerSample = 0.2; TotalTime = 2.3504s; SamplesPerSecond = 212.7\n"
        "Finished Epoch[ 1 of 2]: [Training Set] TrainLossPerSample = 5.1; TotalSamplesSeen = 1000; "
        "EvalErrPerSample = 0.24; AvgLearningRatePerSample = 0.0046875002; EpochTime=4344.08\n"
        " Epoch[ 2 of 2]-Minibatch[   1- 500]: SamplesSeen = 500; TrainLossPerSample =  1.#QNAN000; "
        "EvalErr[0]PerSample = 0.48000000; TotalTime = 2.3504s; SamplesPerSecond = 212.7\n"
    ))
    assert src.format == "text_log:cntk"
    loss = values(run, "loss")
    assert loss[500] == pytest.approx(5.87155566) and loss[1000] == pytest.approx(5.1)
    assert math.isnan(loss[1500])
    assert values(run, "lr")[1000] == pytest.approx(0.0046875002)


def test_cntk_python_progress_printer_epoch_lines(tmp_path):
    # the Python API's ProgressPrinter (microsoft/CNTK#1639): epoch summaries only, no "[Training]" bracket, pairs
    # separated by commas; with no minibatch lines the step is the epoch
    run, src = read(tmp_path, (
        "Finished Epoch[935 of 300]: loss = 0.000061 * 512, metric = 0.00% * 512 0.661s (774.6 samples/s);\n"
        "Finished Epoch[936 of 300]: loss = 0.000055 * 512, metric = 0.00% * 512 0.662s (773.4 samples/s);\n"
    ))
    assert src.format == "text_log:cntk"
    assert values(run, "loss") == {935: pytest.approx(0.000061), 936: pytest.approx(0.000055)}
    assert values(run, "metric")[936] == 0.0


@pytest.mark.parametrize("line", [
    # MXNet's Speedometer line has "Epoch[0] Batch [50]", not CNTK's "-Minibatch[a-b]:" range
    "Epoch[0] Batch [50]\tSpeed: 1000.0 samples/sec\taccuracy=0.5\n",
    # CNTK's learning-rate search passes are trials, not training steps
    "AdaptiveLearnRateSearch: Epoch[1002 of 5000]-Minibatch[ 341- 350, 0.00000000000076%]: error = 157926.4 * 1000; "
    "time = 0.0150s\n",
    # a minibatch line with no criterion pair carries no loss
    " Epoch[ 1 of 10]-Minibatch[   1-  10]: time = 0.0769s; SamplesPerSecond = 3251.1\n",
])
def test_cntk_silent_on_look_alikes(tmp_path, line):
    _, src = read(tmp_path, line * 3)
    assert src is None or src.format != "text_log:cntk"


def test_eesen_ctc_objective_is_the_negative_loss(tmp_path):
    # an EESEN train-ctc-parallel log: Obj(log[Pzx]) is log P(z|x), the loss its negative; -1e+30 is the
    # log(0) floor; TokenAcc is a percentage; the step is the sequence count (also with the URL-escaped "%28%29")
    run, src = read(tmp_path, (
        "VLOG[1](train-ctc-parallel:EvalParallel%28%29:ctc-loss.cc:182) After 64000 sequences (35.0689Hr): "
        "Obj(log[Pzx]) = -8.71485   TokenAcc = 97.4921%\n"
        "VLOG[1] (train-ctc-parallel:EvalParallel():ctc-loss.cc:182) After 65000 sequences (36.0363Hr): "
        "Obj(log[Pzx]) = -1e+30   TokenAcc = 19.0128%\n"
        "VLOG[1](train-ctc-parallel:EvalParallel%28%29:ctc-loss.cc:183) After 66000 sequences (0.00273056Hr): "
        "Obj(log[Pzx]) = nan   TokenAcc = -nan%\n"
    ))
    assert src.format == "text_log:eesen"
    loss = values(run, "loss")
    assert loss[64000] == pytest.approx(8.71485) and loss[65000] == pytest.approx(1e30)
    assert math.isnan(loss[66000])
    assert values(run, "token_acc")[64000] == pytest.approx(0.974921)


def test_eesen_silent_on_kaldi_objective_lines(tmp_path):
    # Kaldi nnet3's "Average objective function ... is x over n frames" is another format: not read as EESEN's
    line = ("LOG (nnet3-train:PrintStatsForThisPhase():nnet-training.cc:121) Average objective function for 'output' "
            "for minibatches 40-49 is -35.0044 over 19538 frames.\n")
    _, src = read(tmp_path, line * 3)
    assert src is None or src.format != "text_log:eesen"


def test_fasttext_progress_lines_and_nan_abort(tmp_path):
    # g1-fasttext-1063-ova-lr-nan: the progress line rewritten with "\r", the C++ abort glued to its last rewrite
    run, src = read(tmp_path, (
        "Read 18M words\nNumber of words:  138381\nNumber of labels: 3324\n"
        "Progress:   0.1% words/sec/thread:    4001 lr:  0.899500 avg.loss: 130.500000 ETA:   2h40m01s\r"
        "Progress:   0.2% words/sec/thread:    4139 lr:  0.898591 avg.loss: 114.726540 ETA:   2h33m27sterminate "
        "called after throwing an instance of 'fasttext::DenseMatrix::EncounteredNaNError'\n"
        "  what():  Encountered NaN.\nAborted\n"
    ))
    assert src.format == "text_log:fasttext"
    assert values(run, "loss") == {1: pytest.approx(130.5), 2: pytest.approx(114.72654)}
    assert values(run, "lr")[2] == pytest.approx(0.898591)
    assert run.meta.get("planned_steps") == 1000
    assert any(e.tag == "nan_loss" for e in run.events)
    # releases before 0.9: "loss:" and "eta:"
    run, src = read(tmp_path, "Progress: 0.3%  words/sec/thread: 1802641  lr: 0.099661  loss: 1.386032  eta: 0h11m\n"
                              "Progress: 0.4%  words/sec/thread: 1802386  lr: 0.099660  loss: 1.386033  eta: 0h11m\n")
    assert values(run, "loss") == {3: pytest.approx(1.386032), 4: pytest.approx(1.386033)}
    # a progress line of something else is no fastText line
    run, src = read(tmp_path, "Progress: 50% of files copied\nProgress: 60% of files copied\n")
    assert "loss" not in run.metrics


def test_hf_metrics_tables(tmp_path):
    # g1-transformers-10819-mt5-fp16-eval-loss-nan: Trainer.log_metrics' table, process rows left out
    run, src = read(tmp_path, (
        "***** eval metrics *****\n"
        "  epoch                     =     3.0\n"
        "  eval_bleu                 =  0.0039\n"
        "  eval_loss                 =     nan\n"
        "  eval_mem_gpu_peaked_delta =  1080MB\n"
        "  eval_runtime              = 72.1865\n"
        "  eval_samples_per_second   =  27.692\n"
        "Saving model checkpoint to out\n"
        "  not_a_row                 =     1.0\n"
    ), name="metrics.txt")
    assert src.format == "text_log:hf_metrics"
    assert math.isnan(next(iter(values(run, "eval_loss").values())))
    assert "eval_bleu" in run.metrics
    assert not any("mem" in k or "runtime" in k or "per_second" in k or k == "epoch" for k in run.metrics)
    assert "not_a_row" not in run.metrics  # after the table ended


def test_epoch_announcements_give_the_step_and_the_epoch(tmp_path):
    # g1-deepspeech-238-training-loss-inf: "STARTING Epoch 0009" above the epoch's report line
    run, _ = read(tmp_path, (
        "2016-11-25 17:41:55 STARTING Epoch 0009\n2016-11-25 17:41:55 Training model...\n"
        "2016-11-25 18:29:38 Training loss=inf avg_cer=0.377731130 WER: 0.828431\n"
    ))
    assert list(values(run, "loss")) == [9] and run.epoch_starts == [(9, 9)]
    run, _ = read(tmp_path, "speechbrain.utils.epoch_loop - Going into epoch 4\ntrain loss: 0.5 valid loss: 0.7\n"
                            "speechbrain.utils.epoch_loop - Going into epoch 5\ntrain loss: 0.4 valid loss: 0.6\n")
    assert list(values(run, "loss")) == [4, 5]
    # no number after the word: no step
    run, _ = read(tmp_path, "Starting training\nloss: 0.5\nloss: 0.4\n")
    assert list(values(run, "loss")) == [1, 2] and not run.epoch_starts


def test_printed_metric_dicts_read_their_quoted_keys(tmp_path):
    # g1-parlai-2433-two-rank-integration-train: ParlAI's report line, a dict of metrics after the time header;
    # its global step is total_train_updates
    run, _ = read(tmp_path, (
        "[ time:4.0s total_exs:2114 epochs:4.23 time_left:16.0s ] {'exs': 1134, 'loss': 0.949, 'ppl': 2.583, "
        "'token_acc': 0.6748, 'gnorm': 3.133, 'lr': 0.007, 'total_train_updates': 151}\n"
        "[ time:4.0s total_exs:2506 epochs:5.01 time_left:15.0s ] {'exs': 392, 'loss': 0.3908, 'ppl': 1.478, "
        "'token_acc': 0.8959, 'gnorm': 4.156, 'lr': 0.007, 'total_train_updates': 179}\n"
    ))
    assert values(run, "loss") == {151: pytest.approx(0.949), 179: pytest.approx(0.3908)}
    assert values(run, "lr")[179] == pytest.approx(0.007)
    # a printed settings dict names no measurement: configuration, not a one-point metric series
    run, _ = read(tmp_path, "{'lr': 0.001, 'batch_size': 32, 'epochs': 10}\nstep 1 loss 2.5\nstep 2 loss 2.4\n"
                            "step 3 loss 2.3\n")
    assert "lr" not in run.metrics and sorted(values(run, "loss")) == [1, 2, 3]


def test_a_validating_bar_is_held_out(tmp_path):
    # g1-kur-6-speech-val-loss-766-overfit: kur's validation bar after the epoch's training bar; read into "loss" it
    # would overwrite the training loss of the same epoch (5.845 -> 766)
    run, _ = read(tmp_path, (
        "Epoch 80/inf, loss=5.845: 100%|##########| 2432/2432 [07:04<00:00,  7.80samples/s]\n"
        "Validating, loss=766.122:  94%|#########4| 256/271 [00:21<00:01, 13.70samples/s]\n"
    ))
    assert values(run, "loss") == {80: pytest.approx(5.845)}
    assert values(run, "eval_loss") == {80: pytest.approx(766.122)}
    # "Testing" is the test split; a word that merely starts like one is not a phase
    run, _ = read(tmp_path, "Testing, loss=0.9: 100%|##| 10/10 [00:01<00:00]\n")
    assert "test_loss" in run.metrics and "loss" not in run.metrics


def test_keras2_verbose2_epoch_lines_and_callback_prose(tmp_path):
    # g3-rmdl-14-text-rnn-val-loss-rises-overfit: Keras 2.0-2.2 fit(verbose=2) prints " - 572s - loss: ..." under
    # each "Epoch i/N" header; ModelCheckpoint's "val_acc improved from X to Y" lines are prose, not metrics
    run, src = read(tmp_path, (
        "Epoch 00028: val_acc improved from 0.68881 to 0.69674, saving model to weights\\weights_RNN_0.hdf5\n"
        "Epoch 29/100\n"
        " - 572s - loss: 0.1689 - acc: 0.9452 - val_loss: 2.2266 - val_acc: 0.6800\n"
        "\n"
        "Epoch 00029: val_acc did not improve from 0.69674\n"
        "Epoch 30/100\n"
        " - 550s - loss: 0.1560 - acc: 0.9530 - val_loss: 2.1155 - val_acc: 0.6984\n"
        "\n"
        "Epoch 00030: val_acc improved from 0.69674 to 0.69841, saving model to weights\\weights_RNN_0.hdf5\n"
        "Epoch 31/100\n"
        " - 543s - loss: 0.1448 - acc: 0.9552 - val_loss: 2.3955 - val_acc: 0.6546\n"
    ))
    assert src.format == "text_log:keras"
    assert values(run, "loss") == pytest.approx({29: 0.1689, 30: 0.1560, 31: 0.1448})
    assert values(run, "eval_loss")[31] == pytest.approx(2.3955)
    assert sorted(run.metrics) == ["accuracy", "eval_accuracy", "eval_loss", "loss"]


def test_keras2_verbose2_line_needs_an_epoch_header(tmp_path):
    # a bulleted " - 5s - loss: x" line with no "Epoch i/N" header anywhere is not taken for a Keras epoch
    run, src = read(tmp_path, (
        "summary of the sweep\n"
        " - 5s - loss: 0.70 - acc: 0.50\n"
        " - 6s - loss: 0.60 - acc: 0.60\n"
        " - 7s - loss: 0.50 - acc: 0.70\n"
    ))
    assert src.format != "text_log:keras"


def test_table_column_that_names_its_split_is_not_prefixed_again(tmp_path):
    # skorch's printed history (NeuralNet's PrintLog, tabulate "simple" format): "valid_acc" already says its split,
    # and "dur" is the epoch's duration in seconds, no metric
    run, _ = read(tmp_path, (
        "  epoch    train_loss    valid_acc    valid_loss     dur\n"
        "-------  ------------  -----------  ------------  ------\n"
        "      1        2.0512       0.3125        1.9001  0.1288\n"
        "      2        1.7003       0.4531        1.6502  0.1526\n"
        "      3        1.5107       0.5000        1.5004  0.1279\n"
    ))
    assert sorted(run.metrics) == ["eval_accuracy", "eval_loss", "loss"]
    assert values(run, "eval_accuracy") == pytest.approx({1: 0.3125, 2: 0.4531, 3: 0.5})


def test_fastai_table_metric_column_still_reads_as_validation(tmp_path):
    # fastai's "accuracy" beside train_loss / valid_loss is a validation metric (Learner.validate); "time" is none
    run, _ = read(tmp_path, (
        "epoch     train_loss  valid_loss  accuracy  time\n"
        "0         0.912036    0.701203    0.781000  00:12\n"
        "1         0.601124    0.550977    0.822000  00:12\n"
        "2         0.455013    0.501114    0.840000  00:12\n"
    ))
    assert "eval_accuracy" in run.metrics and "accuracy" not in run.metrics


def test_metric_logger_console_with_mae_time_prefix(tmp_path):
    # OpenGVLab/LLaMA-Adapter#144 (MAE-derived finetuning.py): "[time] Epoch: [e]  [ i/N]  eta ..  meters"; the
    # windowed median is the value, the parenthesised global average the running mean
    run, src = read(tmp_path, (
        "[17:11:05.859398] Epoch: [0]  [   30/13000]  eta: 2:17:53  lr: 0.000000  closs: 1.5078 (1.6011)  "
        "time: 0.6125  data: 0.0001  max mem: 20618\n"
        "[17:11:12.016458] Epoch: [0]  [   40/13000]  eta: 2:16:36  lr: 0.000000  closs: 1.5508 (1.6249)  "
        "time: 0.6146  data: 0.0001  max mem: 20618\n"
        "[17:11:49.250349] Epoch: [0]  [  100/13000]  eta: 2:14:27  lr: 0.000001  closs: 1.5889 (1.6096)  "
        "time: 0.6232  data: 0.0001  max mem: 20618\n"
    ))
    assert src.format == "text_log:metric_logger"
    assert values(run, "closs") == {30: pytest.approx(1.5078), 40: pytest.approx(1.5508), 100: pytest.approx(1.5889)}
    assert set(run.metrics) == {"closs", "lr"}  # the clock meters (eta, time, data, max mem) are no metrics


def test_metric_logger_loss_mean_epoch_offset_and_nan_guard(tmp_path):
    # g8-mar-69-autocast-fp16-loss-nan: epoch 8 of 2293 iterations, then MAE's guard message, which is an event and
    # the NaN loss of a later step (text_log._loss_guard)
    run, _ = read(tmp_path, (
        "[11:41:33.534863] Epoch: [8]  [ 200/2293]  eta: 1:52:52  lr: 0.000004  loss: 0.2606 (0.2654)  time: 3.0808  "
        "data: 0.0002  max mem: 32637\n"
        "[11:41:59.064379] Loss is nan, stopping training\n"
    ))
    loss = values(run, "loss")
    assert loss[8 * 2293 + 200] == pytest.approx(0.2606) and math.isnan(loss[8 * 2293 + 201]) and len(loss) == 2
    assert values(run, "loss_avg") == {8 * 2293 + 200: pytest.approx(0.2654)}
    assert "Loss" not in run.metrics  # the guard's sentence is not read as a metric
    assert any(e.tag == "nan_loss" for e in run.events)


def test_metric_logger_evaluation_lines_are_held_out(tmp_path):
    # constructed in the layout of torchvision's reference MetricLogger ("Test:  [i/N]  eta: ..  meters"), not a
    # transcribed log: the running means over the evaluation set are held-out values
    run, _ = read(tmp_path, (
        "Epoch: [0]  [  10/500]  eta: 0:10:00  lr: 0.1  loss: 2.2000 (2.2500)  acc1: 20.0000 (18.0000)  time: 1.0\n"
        "Test:  [ 0/98]  eta: 0:02:03  loss: 2.1000 (2.1000)  acc1: 21.0000 (21.0000)  time: 1.2  data: 1.1\n"
    ))
    assert values(run, "loss") == {10: pytest.approx(2.2)}
    assert "val_acc1" in run.metrics and "acc1" in run.metrics


@pytest.mark.parametrize("line", [
    # the ImageNet example's adjacent brackets and tab-separated "Name value (avg)" meters stay with their reader
    "Epoch: [0][10/5005]\tTime 0.105 (4.681)\tData 0.000 (4.501)\tLoss nan (nan)\tAcc@1 0.000 (7.209)",
    # no "eta:" after the position: not the MetricLogger layout
    "Epoch: [3]  [ 12/40]  loss 0.5",
])
def test_metric_logger_silent_on_look_alikes(tmp_path, line):
    _, src = read(tmp_path, line + "\n")
    assert src.format != "text_log:metric_logger"
