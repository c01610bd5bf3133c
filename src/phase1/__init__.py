"""phase1: the bundled Phase 1 trainer (ACT halting head, MuGrokfast optimiser, offline curriculum).

Run it with `python src/phase1/train_phase1.py --model reasoning --test` or the `phase1-train` console script.
Modules: config (one dataclass tree), model, optim, data, train_phase1 (the loop); see docs/phase1.md.
"""

__version__ = "0.1.0"
