"""Stan's ADVI progress table (CmdStan `variational`, printed through cmdstanr, CmdStanPy, RStan's `vb()`).

After the step-size adaptation, ADVI's stochastic gradient ascent prints a row every `eval_elbo` iterations (100 by
default) under a header of its own:

    Begin stochastic gradient ascent.
      iter             ELBO   delta_ELBO_mean   delta_ELBO_med   notes
       100        -4217.949             1.000            1.000
      1100          -62.939             0.764            0.314   MAY BE DIVERGING... INSPECT ELBO
      2400          -50.887             0.011            0.009   MEDIAN ELBO CONVERGED

ELBO is the evidence lower bound ADVI maximises (Kucukelbir et al. 2017, "Automatic Differentiation Variational
Inference", JMLR 18(14), section 2.3), estimated by Monte Carlo at each row; its negative is the objective the
optimiser descends, read as the training `loss` (as EESEN's log-likelihood is read as its negative). The two
relative-change columns are ADVI's own convergence test, read as `delta_elbo_mean` / `delta_elbo_med`; the notes
are not metrics. Outputs knitted by R Markdown or pkgdown carry `#> ` or `## ` before each line, and RStan prefixes
`Chain 1: `; both are kept off here. A row is read only under the header, which the rows' four numbers alone could
not tell from any other table. The generic reader took nothing from this table (no `key: value` pair).
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, parse_number

_PREFIX = r"^(?:#>\s*|##\s*)?(?:Chain \d+:\s*)?"
_HEADER = re.compile(_PREFIX + r"iter\s+ELBO\s+delta_ELBO_mean\s+delta_ELBO_med\s+notes\s*$")
_ROW = re.compile(_PREFIX + rf"(\d+)\s+({NUM})\s+({NUM})\s+({NUM})(?:\s+[A-Z][A-Z .!]*)?\s*$")
_IN_TABLE = "stan_advi_table"


def parse_stan_advi(line: str, st: State) -> Record | None:
    """An ADVI progress row under its header (module docstring), or None for any other line."""
    text = line.strip()
    if _HEADER.match(text) is not None:
        st.extra[_IN_TABLE] = True
        return Record(None, {}, claimed=True)
    if not st.extra.get(_IN_TABLE):
        return None
    m = _ROW.match(text)
    if m is None:
        if text and not text.startswith(("#>", "##")) or "Drawing a sample" in text or "COMPLETED" in text:
            st.extra.pop(_IN_TABLE, None)
        return None
    elbo = parse_number(m.group(2))
    if elbo is None:
        return None
    metrics = {"loss": -elbo}
    for key, raw in (("delta_elbo_mean", m.group(3)), ("delta_elbo_med", m.group(4))):
        v = parse_number(raw)
        if v is not None:
            metrics[key] = v
    return Record(int(m.group(1)), metrics)
