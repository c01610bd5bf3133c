"""Kaldi nnet3 training diagnostics: the `compute_prob_{train,valid}.<iter>.log` files its training scripts write
every few iterations, and the `grep` of them that people post.

Kaldi's nnet3 trainers (steps/nnet3/train_*.py, steps/nnet3/chain/train.py) run `nnet3-compute-prob` (or
`nnet3-chain-compute-prob`) on a train and a valid subset and log, per output of the network,

    LOG (nnet3-chain-compute-prob[5.5]:PrintTotalStats():nnet-chain-diagnostics.cc:194) Overall log-probability
        for 'output' is -0.146977 + -0.0159528 = -0.16293 per frame, over 20000 frames.

(one line; for a chain model the objective plus its l2 term equals the total, which is last; the CTC tool puts the
total first and its parts after a trailing `=`). The iteration and the split are only in the file name, so a
folder of these files is read one point per file (the run merges them by step), and a grep of them keeps the name
in its `path:` prefix. `Overall accuracy for 'output'` lines give the frame accuracy.

Names: the log-probability per frame of the network's main output is what training maximises, so its negation is
the loss the detectors reason about (`loss` from the train subset, `eval_loss` from the valid one); the
cross-entropy regulariser output of chain models (`output-xent`) becomes `xent_loss` / `eval_xent_loss`. The
value is negated and nothing else changed; `raw_name` says what was logged. A grep of the objective values of
discriminative training (`objf_valid.0.log:LOG 0.974206`, as posted in kaldi-asr/kaldi#1468) reads the same way.
`final` / `combined` files carry no iteration: they are counted in a warning and not placed on the step axis.
"""

from __future__ import annotations

import re
from pathlib import Path

from traindoc.ingest import budget
from traindoc.ingest.model import Run, Source
from traindoc.ingest.readers._structured import Columns, LineStats, is_text, line_blocks, to_float
from traindoc.ingest.registry import Reader, ReadError

_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?nan|[-+]?inf"
# the diagnostics file a line came from: its split and iteration; its folder (one experiment) is the text before it
# back to the last space or colon. The folder is not part of the pattern: a lazy `[^\s:]*?` before the name is tried
# from every start position, quadratic on a long token (a 64 KiB line of digits took ~50 s to sniff).
_FILE = re.compile(r"(?:compute_prob|compute_objf|objf|prob)_(?P<split>train|valid)\.(?P<iter>\d+|final|combined)\.log")
_OVERALL = re.compile(r"Overall (?P<what>log-probability|accuracy|objective function|objf) for '(?P<out>[^']+)' is "
                      rf"(?:(?:{_NUM}) \+ (?:{_NUM}) = )?(?P<value>{_NUM}) per frame")
# a grep of bare objective values: "objf_valid.0.log:LOG 0.974206"
_BARE = re.compile(rf":LOG\s+(?P<value>{_NUM})\s*$")


def _split_iter(path: Path) -> tuple[str, str] | None:
    m = _FILE.fullmatch(path.name)
    return (m.group("split"), m.group("iter")) if m else None


def _file_in(text: str) -> tuple[re.Match[str], str] | None:
    """The first diagnostics file name in `text` and the folder written before it (linear in len(text))."""
    m = _FILE.search(text)
    if m is None:
        return None
    start = max(text.rfind(" ", 0, m.start()), text.rfind("\t", 0, m.start()), text.rfind(":", 0, m.start())) + 1
    return m, text[start:m.start()]


def sniff(path: Path, head: bytes) -> float:
    if not head or not is_text(head):
        return 0.0
    text = head.decode("utf-8", errors="replace")
    if _split_iter(path) is not None and _OVERALL.search(text):
        return 0.9  # a compute_prob file itself: above the text-log reader (0.8), which cannot see its name
    grep_lines = sum(1 for line in text.splitlines()[:400]
                     if (fm := _file_in(line)) and line[fm[0].end():fm[0].end() + 1] == ":"
                     and (_OVERALL.search(line) or _BARE.search(line)))
    return 0.9 if grep_lines >= 2 else 0.0


def _name(what: str, out: str, split: str) -> tuple[str, float] | None:
    """(canonical name, sign) for one diagnostic; None for outputs and measures we do not read."""
    held_out = split == "valid"
    if out == "output":
        if what == "accuracy":
            return ("eval_accuracy" if held_out else "accuracy"), 1.0
        return ("eval_loss" if held_out else "loss"), -1.0
    if out == "output-xent" and what == "log-probability":
        return ("eval_xent_loss" if held_out else "xent_loss"), -1.0
    return None


def read(path: Path, run: Run) -> Source:
    source = Source(str(path), "kaldi_nnet3")
    own = _split_iter(path)
    cols = Columns()
    stats = LineStats()
    unplaced = 0
    chosen_dir: str | None = None
    other_dirs: set[str] = set()
    try:
        f = budget.open_input(path)
    except OSError as e:
        raise ReadError(f"cannot open ({e.strerror})") from None
    with f:
        for block in line_blocks(f, stats, text=True, keep_going=budget.kept_meter(cols.nbytes)):
            for line in block:
                m = _OVERALL.search(line)
                bare = None if m else _BARE.search(line)
                if m is None and bare is None:
                    continue
                found = _file_in(line[: (m or bare).start()])  # type: ignore[union-attr]
                if found is not None:
                    fm, folder = found
                    split, it = fm.group("split"), fm.group("iter")
                    if chosen_dir is None:
                        chosen_dir = folder
                    elif folder != chosen_dir:  # a grep over several experiments: the first one is the run
                        other_dirs.add(folder or ".")
                        continue
                elif own is not None and m is not None:
                    split, it = own
                else:
                    continue
                if not it.isdigit():
                    unplaced += 1
                    continue
                named = _name(m.group("what"), m.group("out"), split) if m else (
                    ("eval_loss" if split == "valid" else "loss"), -1.0)
                value = to_float((m or bare).group("value"))  # type: ignore[union-attr]
                if named is None or value is None:
                    continue
                name, sign = named
                raw = f"{m.group('what')} for '{m.group('out')}'" if m else "objf"
                cols.add(name, int(it), sign * value if value == value else value, f"{split}: {raw}")
                source.records += 1
    source.metrics = cols.flush(run, str(path))
    if not source.records:
        raise ReadError(f"{path.name}: no Kaldi 'Overall ... per frame' diagnostics with an iteration found")
    if unplaced:
        source.warnings.append(f"{unplaced} diagnostic(s) of the final/combined model have no iteration; not placed")
    if other_dirs:
        shown = ", ".join(sorted(other_dirs)[:3])
        source.warnings.append(f"lines of {len(other_dirs) + 1} experiments; read {chosen_dir or '.'} "
                               f"(others: {shown})")
    return source


READERS = [Reader("kaldi_nnet3", sniff, read)]
