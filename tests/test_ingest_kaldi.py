"""Kaldi nnet3 `compute_prob_{train,valid}.<iter>.log` diagnostics (readers/kaldi_nnet3.py). The fixtures are exact
excerpts of public sources (tests/data/ingest/kaldi/README.md): Kaldi itself cannot be installed here."""

from __future__ import annotations

from pathlib import Path

import pytest

from traindoc.ingest.loader import load_run
from traindoc.ingest.readers import kaldi_nnet3, text_log

KALDI = Path(__file__).parent / "data" / "ingest" / "kaldi"


def test_a_grep_of_compute_prob_logs_reads_train_and_valid_at_the_iteration() -> None:
    run = load_run([KALDI / "grep_compute_prob.txt"])
    assert run.sources[0].format == "kaldi_nnet3"
    # the grep covers two experiments (tdnn_5o and tdnn_5u): the first is read, the other named in a warning
    assert any("2 experiments" in w and "tdnn_5u_sp" in w for w in run.warnings), run.warnings
    loss, ev = run.series("loss"), run.series("eval_loss")
    assert loss is not None and ev is not None
    assert list(loss.steps) == list(ev.steps) == [84]
    # the total after "=" (objective + l2 term), negated: the per-frame loss
    assert loss.values.tolist() == [0.163207] and ev.values.tolist() == [0.16293]


def test_one_compute_prob_file_gets_its_split_and_iteration_from_its_name(tmp_path: Path) -> None:
    path = KALDI / "compute_prob_valid.1000.log"
    run = load_run([path])
    assert run.sources[0].format == "kaldi_nnet3"
    assert run.series("eval_loss").values.tolist() == [0.238675]
    assert run.series("eval_xent_loss").values.tolist() == [2.14993]
    assert list(run.series("eval_loss").steps) == [1000]
    assert run.series("loss") is None  # the valid subset is not training loss
    # under another name the iteration and split are unknown: the Kaldi reader does not claim it
    other = tmp_path / "diagnostics.log"
    other.write_bytes(path.read_bytes())
    assert kaldi_nnet3.sniff(other, other.read_bytes()) == 0.0
    assert kaldi_nnet3.sniff(path, path.read_bytes()) > text_log.sniff(path, path.read_bytes())


def test_final_and_combined_diagnostics_are_not_placed(tmp_path: Path) -> None:
    line = (KALDI / "grep_compute_prob.txt").read_text().splitlines()[1]
    f = tmp_path / "grep.txt"
    f.write_text(line + "\n" + line.replace(".84.log", ".final.log") + "\n")
    run = load_run([f])
    assert list(run.series("eval_loss").steps) == [84]
    assert any("final/combined" in w for w in run.warnings)


@pytest.mark.parametrize("text", ["iter 1: loss 2.0\niter 2: loss 1.9\n",
                                  "compute_prob_valid.1.log is where Kaldi writes it\n"])
def test_other_text_is_not_claimed(tmp_path: Path, text: str) -> None:
    f = tmp_path / "train.log"
    f.write_text(text)
    assert kaldi_nnet3.sniff(f, f.read_bytes()) == 0.0


def test_sniff_is_linear_in_a_long_token(tmp_path: Path) -> None:
    # a hostile head (one 64 KiB token of digits, as tests/adversarial.py's huge_line writes) must not cost more
    # than linear time: time at 4n vs n, best of 3, under 8x (a quadratic scan is 16x; it took ~50 s at 64 KiB)
    import time

    def best(n: int) -> float:
        path = tmp_path / f"train{n}.log"
        head = b"{" + b"1" * n + b"\nprob_train.3.log:LOG 0.5\n"
        path.write_bytes(head)
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            kaldi_nnet3.sniff(path, head)
            times.append(time.perf_counter() - t0)
        return min(times)

    small, large = best(16 << 10), best(64 << 10)
    assert large < 8 * max(small, 1e-4)
