"""The shape of a cause: everything the project knows about one root cause, in one record.

A `Cause` is plain data. It names its detectors and code locators (functions in `traindoc.evidence`) by function
name instead of importing them, so this package sits before every stage and any stage may import it (a test
checks the names resolve, and that no detector or locator is left out). Prose fields are what the vocabulary
(docs/causes.md), the failure-mode guide and the diagnosis's issue/fix sentences are generated from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Level = Literal["low", "medium", "high", "critical"]


@dataclass(frozen=True)
class Remedy:
    """What the diagnosis says about the cause: the issue sentence, the fix, its impact/effort/risk, quick wins,
    and changes to propose when no detector located a concrete site."""

    issue: str
    fix: str
    impact: Level
    effort: Level
    risk: Level
    quick_wins: tuple[str, ...] = ()
    default_changes: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class ExplainedBy:
    """`by` explains this cause's evidence: when `by` scores >= 0.5 this cause's score is multiplied by `factor`.
    `when` restricts the rule to runs whose configured LR is above its reference range ("lr_above") or not
    ("lr_in_range"); see diagnosis/ranking.py."""

    by: str
    factor: float
    when: Literal["always", "lr_above", "lr_in_range"] = "always"


@dataclass(frozen=True)
class MetricOutcome:
    """A predicate `verify` checks on the next run, emitted only when the run logs `metric`.

    `metric` "lr*" means the first of lr, lr/muon, lr/adam the run logs. `window` "boundary" starts the window at
    the stage boundary the finding reported (and says so in the description, through `{where}`)."""

    metric: str
    description: str
    stat: str
    op: str
    value: float
    window: dict[str, Any] | Literal["boundary"] | None = None


@dataclass(frozen=True)
class NoWarning:
    """A predicate: the next run's logs hold no event with this catalogue tag (ingest/catalogue.py)."""

    tag: str
    description: str


# ---------------------------------------------------------------------------------------- what `traindoc plan` does
@dataclass(frozen=True)
class SetKey:
    """Set the first key of alias group `keys` (causes/keys.py) found in the project's config to `value`.
    `value` is a literal, or the name of a rule plan/strategies.py computes ("warmup_5pct", "patience_or_2")."""

    keys: str
    value: Any
    why: str
    computed: bool = False


@dataclass(frozen=True)
class ScaleKey:
    """Multiply the first positive number among the alias group `keys` by `factor`."""

    keys: str
    factor: float
    why: str


@dataclass(frozen=True)
class FixCode:
    """Render the cause's code templates at the sites its locators find (all of them, or the best one)."""

    first_only: bool = False


@dataclass(frozen=True)
class Strategy:
    """A fixer that needs more than one key: implemented by name in plan/strategies.py ("tie_and_balance",
    "raise_train_cap")."""

    name: str


@dataclass(frozen=True)
class Manual:
    """No automatic edit: the plan says what to do by hand."""

    advice: str


Step = SetKey | ScaleKey | FixCode | Strategy | Manual


@dataclass(frozen=True)
class PlanPolicy:
    """How `traindoc plan` fixes the cause when the diagnosis's own changes cannot be realised.

    mode "first": the steps are tried in order until one edits something; "all": every step runs.
    `fix_all_sites`: every remaining code site of the cause is a bug on its own (its locators go silent once fixed),
    so they are all fixed even after the diagnosis's own change. `complete`: steps run after the diagnosis's own
    changes too (the diagnosis may cite one fix of several). `at_least`: (alias group, computed rule) pairs; a value
    the diagnosis proposes for a key of that group is raised to the rule's value when below it (a warmup of a
    handful of steps damps nothing)."""

    steps: tuple[Step, ...]
    mode: Literal["first", "all"] = "first"
    fix_all_sites: bool = False
    complete: tuple[Step, ...] = ()
    at_least: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Cause:
    id: str
    group: str  # a heading of the vocabulary (causes/__init__.py: VOCABULARY)
    what: str  # what it is (one clause)
    evidence: str  # typical evidence
    typical_fix: str
    remedy: Remedy
    plan: PlanPolicy
    detectors: tuple[str, ...] = ()  # detect_* functions in evidence/detectors/ that report this cause
    locators: tuple[str, ...] = ()  # locate_* functions in evidence/code_sites.py that find where its fix goes
    templates: tuple[str, ...] = ()  # fix templates (templates/fixes/<id>.py.j2), most encompassing first
    tell_apart: str = ""  # what separates it from look-alikes that share its symptoms
    explained_by: tuple[ExplainedBy, ...] = ()  # in order: the first that applies is the one the diagnosis names
    outcomes: tuple[MetricOutcome | NoWarning, ...] = field(default_factory=tuple)  # before "cause absent"
    # readers in evidence/ruled_out.py (READERS) that tell, from the run's parsed code, that the code rules this
    # cause out (the one training loop clears its gradients every step...): the diagnosis then caps the cause below
    # the report threshold, whatever the log's shape says (diagnosis/ranking.py, RULED_OUT_CAP)
    ruled_out_by: tuple[str, ...] = ()
