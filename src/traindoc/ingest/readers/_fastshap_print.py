"""FastSHAP's verbose training print: an epoch banner, the validation loss, a "new best" echo of it.

The FastSHAP explainer and its surrogate (the fastshap package of Jethani et al. 2022, "FastSHAP: Real-Time Shapley
Value Estimation", ICLR; scvi-tools ships a port as scvi.utils.FastSHAP / Surrogate) print with `verbose=True`

    ----- Epoch = 4 -----
    Val loss = 0.076193

    New best epoch, loss = 0.076193

and `Stopping early at epoch = 63` when the validation loss stops improving. No training loss is printed: the
"New best epoch" line repeats the validation loss of a new minimum. Read blind (issue 8, session 33:
tests/corpus/realworld/scvi-tools-fastshap-explainer-64ep), the generic rules stepped both lines by line order and
took the "new best" echo for a training loss `loss` (42 points) that "fell to 0.05 by 10 % of the run":
label_leakage 0.68 on a healthy run. Here the banner's epoch is the step and `Val loss` the held-out `eval_loss`; the
echo and the early-stop line are claimed (Record.claimed) so that no other family reads them.

Guards: a `Val loss` line is read only after a banner and once per banner (one value per epoch); the echo is
claimed only after a banner too; an epoch that goes back (the surrogate's training and the explainer's printed into
one file) ends the reading, as other loops' readers keep the first run.
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, epoch_banner, parse_number

_BANNER = re.compile(r"^-{3,}\s*Epoch\s*=\s*(\d+)\s*-{3,}$")
_VAL = re.compile(rf"^Val loss\s*=\s*({NUM})$")
# the "new best" echo of the validation loss and the early-stop notice: this family's, no point
_OWN = re.compile(rf"^(?:New best epoch, loss\s*=\s*{NUM}|Stopping early at epoch\s*=\s*\d+)$")


def parse_fastshap(line: str, st: State) -> Record | None:
    """The banner (remembered, claimed), the epoch's validation loss, the echo or early stop (claimed); else None."""
    text = line.strip()
    if not text or text[0] not in "-VNS":
        return None  # every line above opens with "---", "Val", "New" or "Stopping"
    if epoch_banner(text, _BANNER, st.extra, "fastshap_epoch"):
        st.extra["fastshap_read"] = False
        return Record(None, {}, claimed=True)
    epoch = st.extra.get("fastshap_epoch")
    if not isinstance(epoch, int) or st.extra.get("fastshap_epoch_done"):
        return None
    val = _VAL.match(text)
    if val is not None:
        value = parse_number(val.group(1))
        if value is None or st.extra.get("fastshap_read"):
            return None
        st.extra["fastshap_read"] = True
        st.epoch = epoch
        return Record(epoch, {"eval_loss": value}, epoch=epoch, from_epoch=True)
    if _OWN.match(text):
        return Record(None, {}, claimed=True)
    return None
