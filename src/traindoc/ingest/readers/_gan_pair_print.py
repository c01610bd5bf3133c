"""A two-player GAN loop's bare print "step: d_loss<TAB>g_loss", the 1-D GAN tutorial's and its copies'.

AYLIEN's gan-intro (the code of the "An introduction to Generative Adversarial Networks" blog post, built on Eric
Jang's 1-D GAN tutorial) prints one line every `log_every` steps:

    print('{}: {:.4f}\\t{:.4f}'.format(step, loss_d, loss_g))

    0: 1.3862	0.6931
    10: 1.3805	0.6993

The line has no word at all, so the generic `key: value` rules read nothing and such a run was "insufficient data"
(tests/corpus/realworld/g30-gan-intro-1-minibatch-discrimination-inf-nan). The two numbers are the discriminator's
and the generator's loss, in that order (the script's format string), read as `loss_d` and `loss_g`: the names mark
them as the two players of an adversarial game (evidence/context.py), whose sum is no objective, and a non-finite
value in either is still the run's non-finite loss.

Guards against other "n: x y" lines (a numbered table, "3: 0.5 0.2" in prose): exactly two values after the counter,
each with a decimal point or non-finite (integer pairs are counts), and the counter rises strictly from line to line
(a line that breaks the order is no line of this loop).
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import Record, State

_VALUE = r"([-+]?(?:\d+\.\d*(?:[eE][-+]?\d+)?|\d+[eE][-+]?\d+|nan|NaN|inf|-inf|Inf))"
# "N | x y": normalise() strips a bare "N: " as an srun rank tag, and the reader puts it back as "N | " when the head's
# prefixes rise like a counter (Format.counter_prefix, text_log.bare_prefix_counts); "N: x y" as printed is read too
_LINE = re.compile(rf"^(\d{{1,12}})(?::| \|)\s+{_VALUE}\s+{_VALUE}$")


def parse_gan_pair(line: str, st: State) -> Record | None:
    """A "step: d_loss g_loss" line (module docstring), or None for any other line."""
    m = _LINE.match(line.strip())
    if m is None:
        return None
    step = int(m.group(1))
    last = st.extra.get("gan_pair_last")
    if last is not None and step <= last:
        return None
    st.extra["gan_pair_last"] = step
    return Record(step, {"loss_d": float(m.group(2)), "loss_g": float(m.group(3))})
