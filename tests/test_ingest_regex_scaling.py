"""Line patterns that backtracked super-linearly on a line they do not fit (the threat model: no input makes us hang).

Not a timed test: only the ratio time(4n) / time(n) for one line of each shape, as in tests/test_ingest_text_scaling.py.
Linear matching gives ~4x; 8x leaves room for a loaded machine; the old patterns gave ~16x (a lazy `(.*?)\\s*$` over a
run of spaces), ~64x (the rule-line pattern `^[-=+|]*[-=]{3,}[-=+|]*$` over a run of dashes) and exponential time
(MACE's error pairs: ten `name=1 word` pairs then `=` took over a minute, so n is kept at 5 pairs there).
The later shapes (issue 8, the line readers swept for them): two quantified parts over one run of digits
(`\\d+\\.?\\d*`, `NUM? NUM?`), of spaces (`\\s*(?:[:=]\\s*|\\s+)`, `\\s*(?:name:)?\\s*`) or of "="
(`={5,}...={5,}`), and a findall, sub or search that tries a key from every letter of a long run with no separator
after it (~16x each).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from traindoc.ingest import names
from traindoc.ingest.readers import (
    _command_line,
    _config_line,
    _dl4j,
    _julia_symbol_tuple,
    _kotlindl_console,
    _lightgbm_eval,
    _mace_console,
    _mllog,
    _smp_epoch_runner,
    _yolo_console,
    hf_model_card,
    text_log,
)
from traindoc.ingest.readers import textlog_formats as tf
from traindoc.ingest.readers.textlog_formats import (
    _BAR_DASH_PAIR,
    _BRACED_NAME,
    _EPOCH_BRACKETS,
    State,
    _kv_rule,
    parse_kv_table,
)

RATIO = 8.0


def _kotlindl_after_epoch(line: str) -> object:
    st = State()
    _kotlindl_console.parse_kotlindl("epochs: 1 loss: 0.5 metric: 0.9", st)
    return _kotlindl_console.parse_kotlindl(line, st)


def _best(fn: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _ratio(make: Callable[[int], str], match: Callable[[str], object], n: int) -> float:
    small, large = make(n), make(4 * n)
    # one warm-up, then best-of-3 of each size
    match(small)
    return max(_best(lambda: match(large)), 1e-6) / max(_best(lambda: match(small)), 1e-6)


CASES = {
    # a MACE validation line whose errors do not end as the pattern expected
    "mace_pairs": (lambda n: "Epoch 1: loss=1.0," + " abcdefgh=1 xyz" * n + " =",
                   lambda s: _mace_console._EPOCH.search(s), 5),
    # a rule line of dashes ending in a letter (parse_kv_table's check)
    "kv_rule": (lambda n: "-" * n + "x", _kv_rule, 2000),
    # an MLPerf v0.5 line and a model card's heading and bullet with a long run of spaces inside
    "mlperf_v05": (lambda n: ":::MLPv0.5.0 resnet 1.0 (x.py:1) key: a" + " " * n + "x",
                   lambda s: _mllog._V05.search(s), 20000),
    "card_heading": (lambda n: "# a" + " " * n + "x", lambda s: hf_model_card._HEADING.match(s), 20000),
    "card_bullet": (lambda n: "- key: a" + " " * n + "x", lambda s: hf_model_card._BULLET.match(s), 20000),
    # the generic fallback's progress-bar postfix pairs over a run of rates glued into one long name
    "bar_dash_pair": (lambda n: "1it/sa" * n + " - x", lambda s: _BAR_DASH_PAIR.search(s), 2000),
    "bar_dash_pair_commas": (lambda n: ", a" * n + " - x", lambda s: _BAR_DASH_PAIR.search(s), 2000),
    "epoch_brackets": (lambda n: "Epoch: [1][" + " " * n + "x", lambda s: _EPOCH_BRACKETS.search(s), 2000),
    "braced_name": (lambda n: "{a" * n + "} = 1", lambda s: _BRACED_NAME.search(s), 2000),
    # a run of digits two quantified parts could split: a flag's value, a Julia Float32, a wrapped Rich bar line
    "command_number": (lambda n: "-" + "1" * n + "x", lambda s: _command_line._NUMBER.match(s), 2000),
    "julia_f32": (lambda n: "1" * n + "x", lambda s: _julia_symbol_tuple._JULIA_F32.match(s), 2000),
    "rich_part_digits": (lambda n: "1" * n + "x", lambda s: tf._RICH_PART.match(s), 2000),
    "table_bar_digits": (lambda n: "1 0.5 " + "1" * n + "x", lambda s: tf._TABLE_BAR.search(s), 2000),
    "tqdm_head_digits": (lambda n: "1" * n + "x", lambda s: tf._TQDM_HEAD.match(s), 2000),
    # a run of spaces two quantified parts could split, or one tried from every space of the run
    "rich_part_spaces": (lambda n: "1" + " " * n + "x", lambda s: tf._RICH_PART.match(s), 2000),
    "generic_pair": (lambda n: "loss" + " " * n + "x", lambda s: list(tf._GEN_PAIR.finditer(s)), 2000),
    # the fallback's sentence shapes: "from A to B" after a run of spaces or of participles, a count phrase, a
    # possessive, the labelled sum after "=" (_CODE)
    "from_to_spaces": (lambda n: "loss" + " " * n + "from 1 to x", lambda s: tf._FROM_TO.sub("", s), 2000),
    "from_to_participles": (lambda n: "abed " * n + "from 1 tox", lambda s: tf._FROM_TO.sub("", s), 2000),
    "count_phrase_spaces": (lambda n: "a" + " " * n + "on 1 x", lambda s: tf._COUNT_PHRASE.sub("", s), 2000),
    "count_phrase_digits": (lambda n: "a on " + "1" * n + " b: 1", lambda s: tf._COUNT_PHRASE.sub("", s), 2000),
    "possessive_spaces": (lambda n: "a's" + " " * n + "x", lambda s: tf._POSSESSIVE.sub("", s), 2000),
    "possessive_letters": (lambda n: "a" * n + "'s x", lambda s: tf._POSSESSIVE.sub("", s), 2000),
    "code_sum_spaces": (lambda n: "1 =" + " " * n + "x", lambda s: tf._CODE.search(s), 2000),
    # a change announced verb first ("reducing learning rate of group 0 from 0.1 to 0.01") over runs of verbs, of
    # words and of spaces; a " - " list of values; a clock word or a rate per second in a long key
    "changed_to_verbs": (lambda n: "reducing " * n + "x", lambda s: tf._CHANGED_TO.sub("", s), 2000),
    "changed_to_words": (lambda n: "setting a " * n + "of group 1 from 2 x", lambda s: tf._CHANGED_TO.sub("", s), 2000),
    "changed_to_spaces": (lambda n: "reducing a" + " " * n + "to x", lambda s: tf._CHANGED_TO.sub("", s), 2000),
    "dash_list_spaces": (lambda n: " " * n + "- 1x", lambda s: tf._DASH_LIST.match(s), 2000),
    "dash_list_digits": (lambda n: " - " + "1" * n + "x", lambda s: tf._DASH_LIST.match(s), 2000),
    # the whole fallback over a long line: n large enough that each call takes milliseconds (~1 ms at 200 repeats
    # read ~10x now and then on a box at load 8: a few scheduler slices land on the large call only), still ~0.1 s
    "generic_dash_lists": (lambda n: "a: 1 - 2 " * n + "x", lambda s: tf.parse_generic(s, State()), 800),
    "generic_edge_words": (lambda n: "loss of nan " * n + "x", lambda s: tf.parse_generic(s, State()), 800),
    "per_second": (lambda n: "per" * n + "/x", lambda s: tf._PER_SECOND.search(s), 2000),
    "time_unit_spaces": (lambda n: "1" + " " * n + "x", lambda s: tf._TIME_UNIT.match(s, 1), 2000),
    # an announced settings list ("Using SVI with steps: 501, ... and particles: 100."): long heads, items, values
    "with_list_head": (lambda n: "using " + "a " * n + "x", _config_line._with_list_pairs, 2000),
    "with_list_items": (lambda n: "using a with " + "a: 1, " * n + "x", _config_line._with_list_pairs, 2000),
    "with_list_value": (lambda n: "using a with a: " + "1" * n + " x", _config_line._with_list_pairs, 2000),
    "with_list_item_letters": (lambda n: "a" * n + ": x", lambda s: _config_line._WITH_LIST_ITEM.search(s), 2000),
    "generic_sentences": (lambda n: "a's b from 1 to 2 on 3 c. " * n + ": x", lambda s: tf.parse_generic(s, State()),
                          200),
    "julia_tuple": (lambda n: "(:epoch, 1, :loss, 1" + " " * n + "x", lambda s: _julia_symbol_tuple._TUPLE.match(s),
                    2000),
    "yolo_bar": (lambda n: "a" + " " * n + "x", lambda s: _yolo_console._BAR.sub("", s), 2000),
    "table_bar_spaces": (lambda n: "1 0.5" + " " * n + "x", lambda s: tf._TABLE_BAR.search(s), 2000),
    "card_optimizer": (lambda n: "Adam" + " " * n + "x", lambda s: hf_model_card._OPTIMIZER.match(s), 2000),
    "rank_suffix": (lambda n: "a" + " " * n + "x", names.split_rank, 2000),
    # a run of "=" that both ends of a banner could take
    "dl4j_banner": (lambda n: "=" * n + "x", _dl4j.banner, 2000),
    # a long name with no separator after it, tried from each of its letters by findall
    "paddle_pairs": (lambda n: "epoch: 0, batch_id: 1, " + "a" * n + ": x",
                     lambda s: tf.parse_paddle_tutorial(s, State()), 2000),
    "mace_errors": (lambda n: "Epoch 1: loss=1.0," + "a" * n + "=x",
                    lambda s: _mace_console.parse_mace_console(s, State()), 2000),
    # a KotlinDL EvaluationResult whose metrics map holds one long name and no "=" (after an epoch line)
    "kotlindl_eval": (lambda n: "EvaluationResult(lossValue=0.1, metrics={" + "a" * n + "})",
                      lambda s: _kotlindl_after_epoch(s), 2000),
    # a LightGBM round line with a long run of spaces where a cell could start (the cell split's lookahead)
    "lightgbm_cells": (lambda n: "[10] " + " " * n + ")", lambda s: _lightgbm_eval.parse_lightgbm(s, State()), 2000),
    "smp_pairs": (lambda n: "a" * n + " - 1b - 2", lambda s: _smp_epoch_runner._PAIR.findall(s), 2000),
    "onmt_tf_pairs": (lambda n: "Step = 1 ;" + "a" * n + "=x", lambda s: tf.parse_opennmt(s, State()), 2000),
    "modded_pairs": (lambda n: "step:1/2 " + "a" * n + ":x", lambda s: tf.parse_modded_nanogpt(s, State()), 2000),
    "timm_pairs": (lambda n: "Train: 3 [ 1/5 ( 20%)]  " + "a" * n + ":x", lambda s: tf.parse_timm(s, State()), 2000),
    # Markdown strong emphasis opened on a long token and never closed
    "md_strong": (lambda n: "**" + "a" * n + "*", lambda s: tf._MD_STRONG.sub(r"\1", s), 2000),
    # the text reader's own-print rules (issue 8, mixed formats): a save note's head, an epoch-glued counter name
    "save_note": (lambda n: " " * n + "sav", lambda s: text_log._SAVE_NOTE.match(s), 2000),
    "in_epoch_counter": (lambda n: "epoch" + "_" * n + "iter", lambda s: tf._IN_EPOCH_COUNTER.match(s), 2000),
    "imagenet_meters": (lambda n: "Epoch: [0][2/10]\t" + "a" * n + " x",
                        lambda s: tf.parse_imagenet_example(s, State()), 2000),
    # the fallback's named-value records, "<set>-<metric>" names, an arrow after "is" and a bar's count: a long name,
    # a run of spaces or of bar characters where the rest of the shape never comes
    "named_value_letters": (lambda n: "a" * n + ': {"value": x', lambda s: tf._named_value(s), 2000),
    "named_value_dicts": (lambda n: "a: {" * n + '"value": 1', lambda s: tf._NAME_BEFORE_DICT.search(s), 2000),
    "named_value_spaces": (lambda n: '{"key"' + " " * n + ': "loss", "value": x, "step": 1}',
                           lambda s: tf.parse_generic(s, State()), 2000),
    "set_hyphen": (lambda n: "[1] train-" + "a" * n + ":1 x", lambda s: tf.parse_generic(s, State()), 2000),
    "is_arrow_spaces": (lambda n: "loss is" + " " * n + "==> x", lambda s: tf._IS_PHRASE.search(s), 2000),
    "bar_count": (lambda n: "1/2 [" + "=" * n + "x", lambda s: tf._BAR_COUNT.match(s), 2000),
    # a line that opens with "Error" and a value, then a long name or a long run of spaces with no separator after it;
    # a count before a unit that never comes; a pipe before a value after a long run of words
    "error_head_name": (lambda n: "Error: 1 " + "a" * n + " x", lambda s: tf._GEN_SKIP.search(s), 2000),
    "error_head_spaces": (lambda n: "Error: 1" + " " * n + "x", lambda s: tf._GEN_SKIP.search(s), 2000),
    "fraction_unit_spaces": (lambda n: "1/2" + " " * n + "x", lambda s: list(tf._FRACTION_UNIT_AFTER.finditer(s)),
                             2000),
    "fraction_unit_digits": (lambda n: "1/" * n + "x", lambda s: list(tf._FRACTION_UNIT_AFTER.finditer(s)), 2000),
    "qualified_name_spaces": (lambda n: "a" + " " * n + "(batch)=x", lambda s: tf._QUALIFIED_NAME.sub("", s), 2000),
    "qualified_name_letters": (lambda n: "a(" * n + "batch) x", lambda s: tf._QUALIFIED_NAME.sub("", s), 2000),
    "pipe_value": (lambda n: "Step 1: " + "a " * n + "| x", lambda s: tf.parse_generic(s, State()), 200),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_line_that_does_not_fit_is_rejected_in_linear_time(case: str) -> None:
    make, match, n = CASES[case]
    if case == "mace_pairs":
        # exponential backtracking shows in the absolute count of pairs, not a ratio: 20 and 80 pairs must come back
        # at all (the old pattern did not, within minutes); the pairs are read one by one
        for pairs in (20, 80):
            rec = _mace_console.parse_mace_console(make(pairs), State())
            assert rec is not None and rec.metrics["eval_loss"] == 1.0 and rec.metrics["eval_abcdefgh"] == 1.0
        return
    # a pattern that backtracks super-linearly gives >= 16x on every try; a spike of the machine's load gives one
    # high ratio now and then (36 cases in one run; set_hyphen read 8.7 on three tries in a row with eight sessions
    # sharing two cores): the lowest of up to five tries is the pattern's own
    ratio = float("inf")
    for _ in range(5):
        ratio = min(ratio, _ratio(make, match, n))
        if ratio < RATIO:
            break
    assert ratio < RATIO


def test_the_rule_check_reads_what_the_pattern_read() -> None:
    for line in ("---", "|---|---|", "+===+", "--=", "-=+|=-=", "---\n"):
        assert _kv_rule(line), line
    for line in ("--", "-+-+-", "|=|=|", "--- x", "", "x---"):
        assert not _kv_rule(line), line
    st = State()
    assert parse_kv_table("-" * 4000 + "x", st) is None


def test_the_rewritten_patterns_read_their_real_lines() -> None:
    # Rich's wrapped metrics: a number, a name, both, or name and number; two numbers need a space between them now
    for line in ("1.492 val_loss:", "1.428", "val_acc: 0.5", "0.5 train_loss_epoch: 1.2", "v_num:", "12 34"):
        assert tf._RICH_PART.match(line), line
    for line in ("loss: 1 x", "1-2", "a b"):
        assert not tf._RICH_PART.match(line), line
    assert [m.groups() for m in tf._GEN_PAIR.finditer("Epoch: 0005 cost = 0.123 lr 1e-3")] == [
        ("Epoch", "0005"), ("cost", "0.123"), ("lr", "1e-3")]
    rec = tf.parse_paddle_tutorial("epoch: 0, batch_id: 5, loss is: [2.3025851], acc is: [0.1]", State())
    assert rec is not None and rec.metrics == {"loss": 2.3025851, "acc": 0.1}
    rec = _mace_console.parse_mace_console("Epoch 4: loss=0.0123, RMSE_E_per_atom= 12.3 meV, RMSE_F= 45.6 meV",
                                           State())
    assert rec is not None and rec.metrics["eval_loss"] == 0.0123
    assert tf.parse_opennmt("Step = 435100 ; steps/s = 2.97, source words/s = 12176 ; Learning rate = 1.202480 ; "
                            "Loss = 185912.781250", State()).metrics == {"lr": 1.20248, "loss": 185912.78125}
    assert _smp_epoch_runner._PAIR.findall("dice_loss - 0.2156, iou_score - 0.6585") == [
        ("dice_loss", "0.2156"), ("iou_score", "0.6585")]
    assert _dl4j.banner("========================Evaluation Metrics========================") == "eval"
    assert _dl4j.banner("=" * 10) == "other" and _dl4j.banner("=" * 9) is None
    m = hf_model_card._OPTIMIZER.match("Adam with betas=(0.9,0.999) and epsilon=1e-08 and optimizer_args=No args")
    assert m is not None and m.groups() == ("Adam", "0.9", "0.999", "1e-08")
    assert names.split_rank("loss_rank1") == ("loss", 1) and names.split_rank("loss (rank 2)") == ("loss", 2)
    header = "Box(P  R  mAP50  mAP50-95): 100% 5/5 [00:01<00:00]"
    assert _yolo_console._BAR.sub("", header) == "Box(P  R  mAP50  mAP50-95)"
    bar = tf._TABLE_BAR.search("  1/500  2.44G  1.093  640: 100%|##| 63/63")
    assert bar is not None and bar.group(0) == ": 100%|"
    for tok in ("-1e-3", "-.5", "-1.", "3"):
        assert _command_line._NUMBER.match(tok), tok
    assert _julia_symbol_tuple._JULIA_F32.match("0.135f0").groups() == ("0.135", "0")
