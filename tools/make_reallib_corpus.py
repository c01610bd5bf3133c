"""Generate the real-library corpus (tests/corpus/reallib/): real tiny training runs of several stacks, one per
(stack, cause, seed), each folder holding what the stack really writes plus a label.

    PYTHONPATH=src python tools/make_reallib_corpus.py --stack plain_pytorch --seeds 0-5 [--causes a,b] [--force]

Each run goes to tests/corpus/reallib/<stack>-<cause>-s<seed>/run/ with label.json beside run/. A run is built in
a temporary folder and renamed into place when complete, so parallel chunks (different --seeds or --causes) never
see half a run, and an existing run is skipped unless --force. Runs are deterministic per seed (torch and numpy
seeded; one thread); wall-clock figures the libraries print (runtime, it/s) naturally differ between runs.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "corpus" / "reallib"
STACKS = {
    "plain_pytorch": "corpusgen.plain",
    "lightning": "corpusgen.lightning_stack",
    "hf_trainer": "corpusgen.hf_stack",
    "timm_style": "corpusgen.timm_style",
    "keras": "corpusgen.keras_stack",
    "flax": "corpusgen.flax_stack",
    "skorch": "corpusgen.skorch_stack",
    "ignite": "corpusgen.ignite_stack",
    "accelerate": "corpusgen.accelerate_stack",
    "fabric": "corpusgen.fabric_stack",
    "paddle": "corpusgen.paddle_stack",
    "fastai": "corpusgen.fastai_stack",
    "sklearn": "corpusgen.sklearn_stack",
}


def seeds_arg(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out += list(range(int(lo), int(hi or lo) + 1))
    return out


def label_for(s, module) -> dict:
    return {
        "cause": s.cause,
        "family": {"source": "reallib", "stack": s.stack, "model_family": s.family, "optimizer": s.optimizer},
        "seed": s.seed,
        "generator": f"tools/make_reallib_corpus.py --stack {s.stack} --seeds {s.seed} --causes {s.cause}",
        "mechanism": s.mechanism,
        "format": module.FORMAT[s.style] if s.style in getattr(module, "FORMAT", {}) else module.FORMAT["*"],
        "confirmed_by": "constructed (the fault is the mechanism in this label, put there by the generator)",
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stack", required=True, choices=sorted(STACKS))
    ap.add_argument("--seeds", type=seeds_arg, required=True, help="e.g. 0-4 or 0,3,7")
    ap.add_argument("--causes", help="comma-separated cause ids (default: every cause the stack realises)")
    ap.add_argument("--out", type=Path, default=CORPUS)
    ap.add_argument("--force", action="store_true")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    module = importlib.import_module(STACKS[args.stack])
    causes = args.causes.split(",") if args.causes else list(module.CAUSES)
    args.out.mkdir(parents=True, exist_ok=True)
    failed = 0
    for seed in args.seeds:
        for cause in causes:
            s = module.draw(cause, seed)
            final = args.out / f"{args.stack}-{cause}-s{seed}"
            if final.exists() and not args.force:
                continue
            tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=args.out))
            t0 = time.time()
            try:
                module.run(s, tmp / "run")
            except Exception:
                failed += 1
                print(f"FAILED {final.name}\n{traceback.format_exc()}", flush=True)
                shutil.rmtree(tmp)
                continue
            (tmp / "label.json").write_text(json.dumps(label_for(s, module), indent=2) + "\n")
            if final.exists():
                shutil.rmtree(final)
            tmp.rename(final)
            print(f"{final.name}  {s.family}/{s.optimizer} lr={s.lr:.3g}  {time.time() - t0:.1f}s", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
