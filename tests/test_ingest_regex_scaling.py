"""Line patterns that backtracked super-linearly on a line they do not fit (the threat model: no input makes us hang).

Not a timed test: only the ratio time(4n) / time(n) for one line of each shape, as in tests/test_ingest_text_scaling.py.
Linear matching gives ~4x; 8x leaves room for a loaded machine; the old patterns gave ~16x (a lazy `(.*?)\\s*$` over a
run of spaces), ~64x (the rule-line pattern `^[-=+|]*[-=]{3,}[-=+|]*$` over a run of dashes) and exponential time
(MACE's error pairs: ten `name=1 word` pairs then `=` took over a minute, so n is kept at 5 pairs there).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from traindoc.ingest.readers import _mace_console, _mllog, hf_model_card
from traindoc.ingest.readers.textlog_formats import (
    _BAR_DASH_PAIR,
    _BRACED_NAME,
    _EPOCH_BRACKETS,
    State,
    _kv_rule,
    parse_kv_table,
)

RATIO = 8.0


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
    assert _ratio(make, match, n) < RATIO


def test_the_rule_check_reads_what_the_pattern_read() -> None:
    for line in ("---", "|---|---|", "+===+", "--=", "-=+|=-=", "---\n"):
        assert _kv_rule(line), line
    for line in ("--", "-+-+-", "|=|=|", "--- x", "", "x---"):
        assert not _kv_rule(line), line
    st = State()
    assert parse_kv_table("-" * 4000 + "x", st) is None
