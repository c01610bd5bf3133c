"""What a detector returns. A Finding is evidence for one cause; the diagnosis stage weighs and ranks them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Finding:
    detector: str  # the detector function's name, e.g. "detect_grad_norm_spike"
    cause: str  # a cause id: src/traindoc/causes/, docs/causes.md
    strength: float  # 0..1, how strongly the raw statistic deviates; NOT the calibrated confidence
    summary: str  # one sentence
    evidence: list[str] = field(default_factory=list)  # cite steps, values and sources
    step: int | None = None  # first step where it fires, when it has one
    numbers: dict[str, Any] = field(default_factory=dict)  # raw figures (json-serialisable)
    # Where a fix would go, when the detector knows: {"key": "optim.muon_lr", "file": "...", "line": 12,
    # "before": "1e-2", "after": "5e-3"} or {"file": "...", "line": 88, "template": "clip_grad_norm"}.
    fix_sites: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
