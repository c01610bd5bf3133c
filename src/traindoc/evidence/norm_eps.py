"""A normalisation configured with an epsilon of 0: the unguarded op of a NaN, located by the config (issue 8;
docs/diagnose.md, "A normalisation epsilon of 0").

Every normalisation divides by a spread it measures on the data: LayerNorm and BatchNorm by sqrt(var + eps),
RMSNorm by sqrt(mean(x^2) + eps), a per-sample scaling by a norm, max or std plus eps. The epsilon is there only to
keep that denominator away from 0 (Ba et al. 2016, Ioffe & Szegedy 2015; PyTorch's LayerNorm/BatchNorm default
1e-5, Hugging Face BERT's layer_norm_eps 1e-12, Llama's rms_norm_eps 1e-5/1e-6). With eps = 0 any input whose spread
is 0 (a constant or all-zero row, a blank image, a padded sequence) gives 0/0 = NaN in the forward pass and an
infinite gradient in the backward pass. So a run whose loss goes non-finite while its config states a
normalisation epsilon of exactly 0 has the op an engineer would point at first, named by the run itself: the same
standing as an op located in the code or named by autograd's anomaly mode.

Only an exact 0 counts: a small positive epsilon (1e-12) is a guard, and whether it suffices in float16 is the
precision's question (fp16_overflow), not this one. A configured 0 with finite losses throughout is no finding:
many datasets never present a zero-spread input.
"""

from __future__ import annotations

from traindoc.causes.keys import KEYS
from traindoc.evidence.context import cite_config, config_number
from traindoc.ingest.model import ConfigValue, Run


def zero_norm_eps(run: Run) -> ConfigValue | None:
    """The config value that sets a normalisation epsilon to exactly 0, or None."""
    value, cv = config_number(run, *KEYS["norm_eps"])
    if value is None or cv is None or value != 0.0:
        return None
    return cv


def zero_norm_eps_evidence(cv: ConfigValue) -> str:
    return (f"the config sets the normalisation epsilon `{cv.key}` to 0 {cite_config(cv)}: a zero-spread input "
            f"(an all-zero or constant row, a blank image) divides 0 by 0 there")
