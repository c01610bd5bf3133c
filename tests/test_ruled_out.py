"""The code rules a cause out (evidence/ruled_out.py): zero_grad_missing is not confirmed from the log's shape when
the run's one training loop clears its gradients every step, and is left to the log whenever the code is not that
plain."""

from __future__ import annotations

from pathlib import Path

from traindoc.diagnosis.ranking import RULED_OUT_CAP, rank_causes
from traindoc.evidence import code_sites
from traindoc.evidence.finding import Finding
from traindoc.evidence.ruled_out import code_clears_gradients, code_does_not_accumulate, ruled_out
from traindoc.ingest.model import Run

HEAD = "import torch\nmodel = torch.nn.Linear(2, 1)\noptimizer = torch.optim.SGD(model.parameters(), lr=0.1)\n"

CLEARS = HEAD + """
for step, (x, y) in enumerate(loader):
    optimizer.zero_grad(set_to_none=True)
    loss = ((model(x) - y) ** 2).mean()
    loss.backward()
    optimizer.step()
"""

# gradient accumulation done right: the clear sits under the same `% N` gate as the step
ACCUM_CLEARS = HEAD + """
for i, (x, y) in enumerate(loader):
    loss = ((model(x) - y) ** 2).mean() / 4
    loss.backward()
    if (i + 1) % 4 == 0:
        optimizer.step()
        optimizer.zero_grad()
"""

BY_HAND = HEAD + """
while True:
    loss = model(next(it)).sum()
    loss.backward()
    optimizer.step()
    for p in model.parameters():
        p.grad = None
"""

NO_CLEAR = HEAD + """
for x, y in loader:
    loss = ((model(x) - y) ** 2).mean()
    loss.backward()
    optimizer.step()
"""

# the clear runs every 4th micro-batch while the step runs on every one: gradients pile up between clears
STALE = HEAD + """
for i, (x, y) in enumerate(loader):
    loss = ((model(x) - y) ** 2).mean()
    loss.backward()
    optimizer.step()
    if i % 4 == 0:
        optimizer.zero_grad()
"""

HF = """from transformers import Trainer, TrainingArguments
trainer = Trainer(model=model, args=TrainingArguments("out"), train_dataset=ds)
trainer.train()
"""

LIGHTNING = """import lightning as L
class Net(L.LightningModule):
    def training_step(self, batch, batch_idx):
        return self.model(batch).sum()
"""

MANUAL_LIGHTNING = LIGHTNING + """
    def __init__(self):
        super().__init__()
        self.automatic_optimization = False
"""


def _read(*texts: str) -> list[str] | None:
    sources = [code_sites.parsed_source(f"train{i}.py", t) for i, t in enumerate(texts)]
    return code_clears_gradients([s for s in sources if s is not None])


def test_fires_on_one_loop_that_clears_every_step():
    ev = _read(CLEARS)
    assert ev and "optimizer.zero_grad(set_to_none=True)" in ev[0] and "train0.py:6" in ev[0]
    assert _read(ACCUM_CLEARS) and _read(BY_HAND)
    assert "the HF Trainer's loop" in _read(HF)[0]  # type: ignore[index]
    assert "Lightning" in _read(LIGHTNING)[0]  # type: ignore[index]


def test_silent_where_the_code_does_not_settle_it():
    assert _read(NO_CLEAR) is None
    assert _read(STALE) is None  # the clear is gated, the step is not
    assert _read(CLEARS, NO_CLEAR) is None  # two loops: which one ran is not the code's to say
    assert _read(MANUAL_LIGHTNING) is None  # manual optimisation: the code steps, not the framework
    assert _read("x = 1\n") is None


# accumulation by an inner loop: backward on each micro-batch, one step after them
INNER_ACCUM = HEAD + """
for batch in loader:
    for x, y in batch:
        (((model(x) - y) ** 2).mean() / len(batch)).backward()
    optimizer.step()
    optimizer.zero_grad()
"""


def test_grad_accum_bug_ruled_out_only_by_a_loop_that_does_not_accumulate():
    sources = [code_sites.parsed_source("a.py", t) for t in (CLEARS, BY_HAND)]
    assert all(code_does_not_accumulate([s]) for s in sources if s is not None)  # step + clear on every micro-batch
    for text in (ACCUM_CLEARS, INNER_ACCUM, NO_CLEAR, STALE, HF, LIGHTNING):
        src = code_sites.parsed_source("b.py", text)
        assert src is not None and code_does_not_accumulate([src]) is None, text
    inner = code_sites.parsed_source("c.py", INNER_ACCUM)
    assert inner is not None and code_clears_gradients([inner])  # zero_grad after the step: cleared every step


def _finding() -> Finding:
    return Finding("detect_zero_grad_missing", "zero_grad_missing", 0.95, "grad norm grows linearly")


def test_cap_applies_only_with_code_that_rules_the_cause_out(tmp_path: Path):
    table = {"method": "platt", "shared": {"a": 1.0, "b": 0.0}, "per_cause": {}}
    assert rank_causes([_finding()], Run(), table)[0].confidence > 0.9  # no code: the log decides
    (tmp_path / "train.py").write_text(CLEARS, encoding="utf-8")
    run = Run(code_files=[str(tmp_path / "train.py")])
    top = rank_causes([_finding()], run, table)[0]
    assert top.confidence == RULED_OUT_CAP and "train.py:6" in top.ruled_out[0]
    from traindoc.diagnosis.build import diagnose

    root = diagnose(run, findings=[_finding()])["root_causes"][0]  # the shipped calibration: listed, never confirmed
    assert root["cause"] == "zero_grad_missing" and root["confidence"] <= RULED_OUT_CAP
    assert any(e.startswith("(not confirmed: the code clears the gradients") for e in root["evidence"])
    (tmp_path / "train.py").write_text(NO_CLEAR, encoding="utf-8")
    assert ruled_out(Run(code_files=[str(tmp_path / "train.py")])) == {}


def test_every_ruled_out_reader_named_in_the_registry_exists():
    from traindoc.causes import CAUSES
    from traindoc.evidence.ruled_out import READERS

    named = {name for c in CAUSES.values() for name in c.ruled_out_by}
    assert named and named <= set(READERS)
