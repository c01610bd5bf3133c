"""scikit-learn's t-SNE optimiser trace (`TSNE(verbose=2)`, also what wrappers such as KeplerMapper print).

With verbose >= 2 the gradient descent reports every 50 iterations, and the end of each of its two phases:

    [t-SNE] Iteration 50: error = 75.2772217, gradient norm = 0.1254157 (50 iterations in 0.964s)
    [t-SNE] KL divergence after 250 iterations with early exaggeration: 61.856049
    [t-SNE] Iteration 300: error = 1.0604360, gradient norm = 0.0009478 (50 iterations in 0.535s)
    [t-SNE] KL divergence after 1000 iterations: 0.749952

The `error` is the objective t-SNE descends, the Kullback-Leibler divergence between the input and the embedding
affinities (van der Maaten & Hinton 2008, "Visualizing Data using t-SNE", section 3), read as the training `loss` at
its iteration, with the gradient norm as `grad_norm`. During the first phase the input affinities are multiplied
by the early exaggeration factor (section 3.4), so the divergence printed then is that of another objective, many
times larger (61.9 before the phase ends, 1.06 fifty iterations after in scikit-learn's digits example): those
points are read as `exaggerated_kl`, not as the loss, and the line that ends the phase says which iterations they
were. Before that line is seen the phase is not known; scikit-learn always starts with it (its `early_exaggeration`
parameter, 12 by default, and 250 iterations), so an iteration line read before any phase line belongs to it. The
`(50 iterations in 0.964s)` is a timing, and the final `KL divergence after N iterations` repeats the last
iteration's error. The generic reader read these lines with `error` and a metric named `iterations in`, stepped by
line order.
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, parse_number

_ITER = re.compile(rf"^\[t-SNE\] Iteration (\d+): error = ({NUM}), gradient norm = ({NUM})(?: \(.*\))?\s*$")
_PHASE_END = re.compile(r"^\[t-SNE\] KL divergence after (\d+) iterations with early exaggeration:")
_EXAGGERATED = "tsne_exaggeration_over"  # the first phase has ended: its points are behind


def parse_tsne_verbose(line: str, st: State) -> Record | None:
    """A t-SNE iteration line (module docstring), or None for any other line."""
    text = line.strip()
    if _PHASE_END.match(text) is not None:
        st.extra[_EXAGGERATED] = True
        return Record(None, {}, claimed=True)
    m = _ITER.match(text)
    if m is None:
        return None
    kl = parse_number(m.group(2))
    grad = parse_number(m.group(3))
    if kl is None:
        return None
    name = "loss" if st.extra.get(_EXAGGERATED) else "exaggerated_kl"
    metrics = {name: kl}
    if grad is not None:
        metrics["grad_norm"] = grad
    return Record(int(m.group(1)), metrics)
