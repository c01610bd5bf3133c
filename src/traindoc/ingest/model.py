"""The in-memory picture of one training run: what every reader produces and every detector consumes.

Readers fill a `Run`; they never interpret. Metric names are canonicalised (see `CANONICAL_METRICS`) so that a
detector asks for "grad_norm" whether the run logged `train/gradient_norm`, `grad_norm` or `total_norm`; the name
the run itself used is kept in `Series.raw_name` so evidence can quote it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# Canonical metric names. Readers map their own names onto these (ingest/names.py); anything unmapped is kept
# under its raw name. Per-group learning rates are "lr/<group>" (e.g. "lr/muon", "lr/adam"); per-rank series are
# "<name>@rank<k>" (e.g. "loss@rank1").
CANONICAL_METRICS = {
    "loss": "training loss (per step, or per logging interval)",
    "eval_loss": "validation / held-out loss",
    "grad_norm": "global gradient norm, before clipping when the run logs both",
    "grad_norm_clipped": "global gradient norm after clipping",
    "lr": "learning rate of the main (or only) parameter group",
    "epoch": "epoch index (float allowed) at each step",
    "accuracy": "training accuracy",
    "eval_accuracy": "validation accuracy",
    "act_halt_mean": "ACT halting probability, mean over tokens",
    "act_halt_var": "ACT halting probability, variance over tokens",
    "act_steps_mean": "ACT refinement steps used, mean over tokens",
    "tokens_per_s": "throughput",
    "loss_scale": "fp16 dynamic loss scale",
    "param_norm": "global parameter norm",
    "update_ratio": "update norm / parameter norm",
    "max_attn_logit": "largest attention logit",
    "output_logit_mean": "mean output logit (or log-partition z)",
}


@dataclass
class Series:
    """One scalar metric over steps. NaN and +/-Inf are kept as they were logged: they are evidence."""

    name: str  # canonical name, or the raw one when no mapping exists
    steps: np.ndarray  # int64, ascending after Run.finalize()
    values: np.ndarray  # float64, same length as steps
    source: str = ""  # path of the file it came from
    raw_name: str = ""  # the name as the run logged it
    # finite()'s answer with the two arrays it was computed from: the detectors ask for it ~100 times a run, and on
    # a million-point series each answer costs ~3 ms (bench/bench_diagnose.py)
    _finite: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = field(default=None, init=False,
                                                                                repr=False, compare=False)

    def __post_init__(self) -> None:
        self.steps = np.asarray(self.steps, dtype=np.int64)
        self.values = np.asarray(self.values, dtype=np.float64)
        if not self.raw_name:
            self.raw_name = self.name

    def __len__(self) -> int:
        return int(self.steps.shape[0])

    def finite(self) -> tuple[np.ndarray, np.ndarray]:
        """Steps and values where the value is finite. Read-only arrays, shared by every caller (copy to change
        them); recomputed when `steps` or `values` is replaced."""
        c = self._finite
        if c is None or c[0] is not self.steps or c[1] is not self.values:
            ok = np.isfinite(self.values)
            # all finite (the common case): read-only views of the series' own arrays, no copy to keep alive
            st, v = (self.steps.view(), self.values.view()) if ok.all() else (self.steps[ok], self.values[ok])
            st.flags.writeable = False
            v.flags.writeable = False
            c = self._finite = (self.steps, self.values, st, v)
        return c[2], c[3]

    def value_at(self, step: int) -> float | None:
        """Value at the last logged step <= `step`, or None before the first."""
        i = int(np.searchsorted(self.steps, step, side="right")) - 1
        return float(self.values[i]) if i >= 0 else None


@dataclass
class Source:
    """A file or folder that was read (or tried), with its detected format."""

    path: str
    format: str  # e.g. "phase1_jsonl", "hf_trainer_state", "tensorboard", "text_log:nanogpt", "yaml_config"
    metrics: list[str] = field(default_factory=list)  # canonical names this source contributed
    records: int = 0
    warnings: list[str] = field(default_factory=list)


@dataclass
class LogEvent:
    """A warning, error or notable line from a log, with the step it belongs to when that is known.

    `tag` is a catalogue id (ingest/catalogue.py), e.g. "var_dof", "grad_overflow", "nan_loss",
    "scheduler_before_optimizer", "oom", "nccl_error", "stage_change"; `None` for uncatalogued lines.
    """

    kind: str  # "warning" | "error" | "info" | "stage_change" | "eval"
    message: str
    step: int | None = None
    tag: str | None = None
    source: str = ""
    line: int | None = None  # 1-based line in `source`
    count: int = 1  # identical consecutive repeats are folded
    # the source line Python's warnings module echoes (indented) under a warning ("  x = r.std(dim=1)"): what the
    # warning was raised on, so a detector can tell one computation from another (evidence/dof_warning.py)
    detail: str = ""


@dataclass
class ConfigValue:
    """A configuration value and exactly where it is written, so a fix can name file:line or the key."""

    key: str  # dotted key, e.g. "optim.muon_lr", "training_args.learning_rate", "GPTConfig.n_layer"
    value: Any
    file: str = ""
    line: int | None = None  # 1-based
    # "yaml" | "json" | "python_assign" | "dataclass_default" | "argparse_default" | "hparams" | "meta"
    kind: str = "yaml"
    text: str = ""  # the exact source text of the value as written ("1e-2"), when known


@dataclass
class ParamCounts:
    """Parameter counts by role, from a checkpoint, a model probe or the run's own meta record."""

    total: int
    embedding: int = 0  # token (+ position) embeddings
    unembedding: int = 0  # output head, 0 when tied
    blocks: int = 0  # transformer / recurrent blocks
    other: int = 0
    trainable: int | None = None
    tied: bool | None = None
    by_group: dict[str, int] = field(default_factory=dict)
    source: str = ""

    @property
    def embedding_share(self) -> float:
        return (self.embedding + self.unembedding) / self.total if self.total else 0.0


@dataclass
class Sample:
    """A generated text sample."""

    text: str
    step: int | None = None
    prompt: str | None = None
    source: str = ""


@dataclass
class Run:
    """Everything read from one run. Readers append; `finalize()` sorts and merges."""

    metrics: dict[str, Series] = field(default_factory=dict)
    events: list[LogEvent] = field(default_factory=list)
    config: dict[str, ConfigValue] = field(default_factory=dict)
    # Every place a key was found (a project config and the copy a run saved beside its logs, say); `config` holds
    # the one a fix should edit (see finalize). Readers add values through put_config().
    config_sites: dict[str, list[ConfigValue]] = field(default_factory=dict)
    params: ParamCounts | None = None
    samples: list[Sample] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    code_files: list[str] = field(default_factory=list)  # .py files found with the run (for locating fixes)
    # Stage / curriculum boundaries: (first step of the stage, stage name). Epoch boundaries: first step of each.
    stages: list[tuple[int, str]] = field(default_factory=list)
    epoch_starts: list[tuple[int, int]] = field(default_factory=list)  # (first step, epoch index)
    meta: dict[str, Any] = field(default_factory=dict)  # optimizer family, precision, world_size, seed, versions ...
    warnings: list[str] = field(default_factory=list)  # problems met while reading; never fatal
    # Series of one name from several files, merged by finalize() (add_series).
    _parts: dict[str, list[Series]] = field(default_factory=dict, repr=False)

    def add_series(self, series: Series) -> None:
        """Add a series. Parts of one name from one file are concatenated as logged; parts from other files are
        kept apart until finalize() merges them by a rule that does not depend on which file was read first."""
        parts = self._parts.setdefault(series.name, [])
        same = next((i for i, p in enumerate(parts) if p.source == series.source), None)
        if same is None:
            parts.append(series)
        else:
            old = parts[same]
            parts[same] = Series(series.name, np.concatenate([old.steps, series.steps]),
                                 np.concatenate([old.values, series.values]), old.source, old.raw_name)
        self.metrics[series.name] = parts[0] if len(parts) == 1 else _richest(parts)

    def put_config(self, cv: ConfigValue) -> None:
        """Record a config value; finalize() picks the effective one among the sites (see _pick_config_sites)."""
        self.config_sites.setdefault(cv.key, []).append(cv)
        self.config[cv.key] = cv

    def _output_dirs(self) -> set[str]:
        """Folders that hold the run's outputs (metrics, checkpoints): a config there is the copy the run saved."""
        return {
            os.path.dirname(os.path.abspath(s.path))
            for s in self.sources
            if s.metrics or "checkpoint" in s.format
        }

    def _merge_series(self) -> None:
        """One series per name from every file that logged it (trainer_state.json and the console log, CSV and
        TensorBoard, two resumed logs). Steps only one file has are all kept; at a step several files have, the
        value of the richest file wins (most finite points, then most points, then path: never reading order),
        and within one file the last value logged wins (as after a resume)."""
        for name, parts in self._parts.items():
            if len(parts) < 2:
                continue
            parts = sorted(parts, key=_richness)  # the richest last: its value survives a duplicate step
            best = parts[-1]
            self.metrics[name] = Series(name, np.concatenate([p.steps for p in parts]),
                                        np.concatenate([p.values for p in parts]), best.source, best.raw_name)
        self._parts.clear()

    def _test_split_as_heldout(self) -> None:
        """A run that logs a test split and no validation split at all monitors its held-out data on the test set
        (the Flax and PyTorch MNIST examples evaluate on `test_ds` after every epoch): its `test_*` metrics are then
        the held-out curves every detector reads as `eval_*` (the raw name stays `test_...` for quoting). With any
        `eval_*` metric present the test split stays apart, and so does a test metric of fewer than
        MONITORED_POINTS evaluations: a final test score is no curve the run was watched by."""
        if any(name.startswith("eval_") for name in self.metrics):
            return
        for name in sorted(n for n in self.metrics if n.startswith("test_") and "@rank" not in n):
            if int(np.isfinite(self.metrics[name].values).sum()) < MONITORED_POINTS:
                continue
            s = self.metrics.pop(name)
            heldout = "eval_" + name[len("test_"):]
            self.metrics[heldout] = Series(heldout, s.steps, s.values, s.source, s.raw_name)

    def _pick_config_sites(self) -> None:
        """Choose, for each key written in several files, the effective value and the site a fix should edit.

        The effective value must not depend on which file was read first. Where the sites disagree, the copy the
        run saved beside its outputs wins (the run was launched with that value, e.g. after a command-line
        override), then an explicit config over a default in code (a dataclass or argparse default is what a
        config overrides), then the later path. Editing that saved copy changes nothing the next training reads,
        so among the sites that agree with the effective value `config` points at a file outside every output
        folder, then the shallowest path.
        """
        output_dirs = self._output_dirs()

        def inside_outputs(cv: ConfigValue) -> bool:
            path = os.path.abspath(cv.file)
            return any(path.startswith(d + os.sep) for d in output_dirs)

        def authority(cv: ConfigValue) -> tuple[int, int, str, int]:
            return (1 if inside_outputs(cv) else 0, 0 if cv.kind in _CODE_DEFAULTS else 1, cv.file, cv.line or 0)

        def editable(cv: ConfigValue) -> tuple[int, int, str, int]:
            return (1 if inside_outputs(cv) else 0, os.path.abspath(cv.file).count(os.sep), cv.file, cv.line or 0)

        for key, sites in self.config_sites.items():
            if len(sites) < 2:
                continue
            effective = max(sites, key=authority)
            self.config[key] = effective
            same = [cv for cv in sites if cv.file and cv.line and _same_value(cv.value, effective.value)]
            if same:
                self.config[key] = min(same, key=editable)

    def finalize(self) -> Run:
        """Merge and sort every series by step, dropping duplicate steps (see _merge_series); order what readers
        appended (sources, events, samples, code files) so that nothing depends on the order files were read."""
        self._merge_series()
        self._test_split_as_heldout()
        self._pick_config_sites()
        self.sources.sort(key=lambda s: (s.path, s.format))
        self.events.sort(key=lambda e: e.source)  # stable: each file's events stay in their logged order
        self.samples.sort(key=lambda x: x.source)
        self.code_files.sort()
        for name, s in list(self.metrics.items()):
            if len(s) == 0:
                del self.metrics[name]
                continue
            if len(s) < 2 or bool(np.all(s.steps[1:] > s.steps[:-1])):
                continue  # the common case: already sorted and unique; copying would double peak memory
            order = np.argsort(s.steps, kind="stable")
            steps, values = s.steps[order], s.values[order]
            keep = np.ones(len(steps), dtype=bool)
            keep[:-1] = steps[1:] != steps[:-1]
            s.steps, s.values = steps[keep], values[keep]
        self.stages.sort()
        self.epoch_starts.sort()
        return self

    def series(self, name: str) -> Series | None:
        s = self.metrics.get(name)
        return s if s is not None and len(s) else None

    def config_value(self, *names: str) -> ConfigValue | None:
        """First config value whose full key, or last dotted component, matches one of `names` (in order)."""
        for want in names:
            if want in self.config:
                return self.config[want]
            for key, cv in self.config.items():
                if key.rsplit(".", 1)[-1] == want:
                    return cv
        return None


# Config kinds that are defaults written in code: any explicit config file overrides them.
_CODE_DEFAULTS = {"dataclass_default", "argparse_default"}


# Evaluations a test metric needs to be a held-out curve (Run._test_split_as_heldout): the fewest that show a
# direction (first, middle, last), what the held-out detectors ask for (evidence/detectors/transfer.py: >= 3).
MONITORED_POINTS = 3


def _richness(s: Series) -> tuple[int, int, str, str]:
    """How much a file tells about one metric: finite points, then points, then its path and name (a fixed order
    for a tie, so that the winner never depends on which file was read first)."""
    return (int(np.isfinite(s.values).sum()), len(s), s.source, s.raw_name)


def _richest(parts: list[Series]) -> Series:
    return max(parts, key=_richness)


def _same_value(a: Any, b: Any) -> bool:
    """Config values equal across notations (1e-2 in YAML and 0.01 in a JSON dump)."""
    if a == b:
        return True
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return str(a) == str(b)
