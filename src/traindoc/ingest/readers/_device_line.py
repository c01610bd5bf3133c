"""The accelerator a PyTorch Lightning Trainer reports using, read into run.meta["lightning_devices"].

Lightning prints one line per accelerator kind when the Trainer starts: "GPU available: True (cuda), used: True",
"TPU available: False, using: 0 TPU cores", and in 1.x also "IPU available: False, using: 0 IPUs" and
"HPU available: False, using: 0 HPUs". What was used matters for the precision: Lightning runs no float16
autocast on a CPU (precision "16-mixed" with accelerator "cpu" is replaced by "bf16-mixed", with a warning; 1.x
before that raised an error), so a CPU run is float16 only with "16-true", whose model summary sizes the weights at
2 bytes each (evidence/precision.py reads both facts together). Each kind is recorded as used or not; a later line
of the same kind (a second Trainer in the same log) replaces the earlier one.
"""

from __future__ import annotations

import re

from traindoc.ingest.model import Run

_GPU = re.compile(r"\bGPU available: (?:True|False)\b[^,]*, used: (True|False)\b")
_OTHER = re.compile(r"\b(TPU|IPU|HPU) available: (?:True|False), using: (\d+) ")


def device_line(text: str, run: Run) -> bool:
    """Record which accelerators a Lightning Trainer reports using; True when the line was one of its lines."""
    if "available:" not in text:
        return False
    m = _GPU.search(text)
    if m:
        run.meta.setdefault("lightning_devices", {})["GPU"] = m.group(1) == "True"
        return True
    m = _OTHER.search(text)
    if m:
        run.meta.setdefault("lightning_devices", {})[m.group(1)] = int(m.group(2)) > 0
        return True
    return False
