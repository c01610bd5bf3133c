"""Architecture / model-behaviour detectors: parameter imbalance, ACT halting collapse, logit growth,
mode collapse."""

from __future__ import annotations

import re

import numpy as np

from traindoc.causes.keys import KEYS
from traindoc.evidence import stats
from traindoc.evidence.context import (
    cite_config,
    cite_series,
    cite_source,
    config_bool,
    config_number,
    fix_site,
    progress,
    sample_report,
)
from traindoc.evidence.dof_warning import dof_reading
from traindoc.evidence.finding import Finding
from traindoc.evidence.stats import fmt
from traindoc.ingest.model import Run


def _embedding_share(run: Run) -> tuple[float | None, str, dict]:
    p = run.params
    if p is not None and p.total:
        return p.embedding_share, f"[{p.source or 'param counts'}]", {
            "embedding": p.embedding, "unembedding": p.unembedding, "total": p.total}
    # estimate from the config: vocab x d (x2 untied) vs 12 d^2 per layer (docs/causes.md)
    vocab, _ = config_number(run, *KEYS["vocab_size"])
    d, _ = config_number(run, *KEYS["d_model"])
    layers, _ = config_number(run, *KEYS["n_layers"])
    if not (vocab and d and layers):
        return None, "", {}
    tied, _ = config_bool(run, *KEYS["tie_embeddings"])
    emb = vocab * d * (1 if tied else 2)
    blocks = 12 * d * d * layers
    return emb / (emb + blocks), "[config estimate: vocab x d_model vs 12 x d_model^2 x layers]", {
        "vocab": vocab, "d_model": d, "layers": layers, "tied": tied}


def detect_param_imbalance(run: Run) -> list[Finding]:
    """Embedding + unembedding hold >= 50 % of the parameters (docs/causes.md), leaving the blocks little capacity.

    The share is a design choice before it is a fault: multilingual and speech models (mT5, NLLB, Whisper) put most
    of their parameters in large vocabularies on purpose, and a run that fine-tunes such a published checkpoint
    cannot change it. Fine-tuning a published checkpoint (config `_name_or_path` & co., or a transformers
    `model_type`) is therefore context (weak); the share is a cause for a model designed in the project, more so
    when its loss plateaus (< 10 % decrease).
    """
    share, where, nums = _embedding_share(run)
    if share is None or share < 0.5:
        return []
    ev = [f"embeddings hold {share:.0%} of the parameters {where}"]
    sites = []
    tied, tcv = config_bool(run, *KEYS["tie_embeddings"])
    if tied is False and tcv is not None:
        ev.append(f"{tcv.key}={tcv.text or tcv.value}: input and output embeddings are separate {cite_config(tcv)}")
        sites.append(fix_site(tcv, "true" if (tcv.text or "x").islower() else "True"))
    _, vcv = config_number(run, *KEYS["vocab_size"])
    if vcv is not None:
        ev.append(f"{vcv.key}={vcv.text or vcv.value} {cite_config(vcv)}")
    strength = min(1.0, 0.5 + (share - 0.5) * 1.5)
    # a published checkpoint, or else the library architecture family a transformers config.json instantiates
    ckpt = run.config_value(*KEYS["pretrained_checkpoint"]) or run.config_value(*KEYS["model_family_id"])
    published = ckpt is not None and isinstance(ckpt.value, str) and bool(ckpt.value.strip())
    prog = progress(run, "loss")
    if published:
        # a fine-tune that plateaus is not explained by the checkpoint's design: it starts near its floor anyway
        kind = "checkpoint" if ckpt.key.endswith("path") else "architecture"
        ev.append(f"the model is the published {kind} {ckpt.value} {cite_config(ckpt)}: a large "
                  "vocabulary by design that fine-tuning cannot change; context, not a cause")
        strength = 0.25
    elif prog is not None and prog < 0.1:
        ev.append(f"loss decreased only {max(prog, 0):.1%} over the run: the small blocks may be what limits it")
        strength = min(1.0, strength + 0.1)
    return [Finding("detect_param_imbalance", "param_imbalance", strength,
                    "parameters sit mostly in the embeddings", ev, None,
                    {"embedding_share": share, "pretrained": published, "loss_progress": prog, **nums}, sites)]


_VAR_DOF = re.compile(r"degrees of freedom is <= ?0", re.I)


def detect_act_variance_collapse(run: Run) -> list[Finding]:
    """The ACT halting head gives every token the same decision.

    - act_halt_var below 1e-6 over the second half of the run (a sigmoid halting head with any per-token signal
      has variance >= 1e-3; 1e-6 is float noise around a constant);
    - 'var(): degrees of freedom is <= 0' warnings (variance over a size-1 dim: computed as NaN/0): ACT evidence
      where the run logs halting metrics or the warning's echoed source line names a halting computation; a
      warning raised on another computation is the NaN's op instead (evidence/dof_warning.py, detect_nan_inf);
    - act_steps_mean identical at every logged step.
    """
    ev: list[str] = []
    strength = 0.0
    step = None
    s = run.series("act_halt_var")
    if s is not None and len(s) >= 4:
        v = s.values
        half = v[len(v) // 2:]
        fin = half[np.isfinite(half)]
        nonfin = int((~np.isfinite(half)).sum())
        med = float(np.median(fin)) if fin.size else None
        # an all-NaN variance is not counted here: it follows a NaN loss (nan_inf) as often as a size-1 var()
        _ = nonfin
        if med is not None and med < 1e-6:
            step = int(s.steps[len(v) // 2])
            ev.append(f"act_halt_var is {fmt(med) if med is not None else 'nan'} over the second half of the run "
                      f"(steps {int(s.steps[len(v) // 2])}..{int(s.steps[-1])}) {cite_series(s)}")
            strength = 0.7
    dof = dof_reading(run)
    warns = [e for e in dof.warnings if e.tag == "var_dof" or _VAR_DOF.search(e.message or "")] if dof else []
    if warns and dof is not None:
        n = sum(e.count for e in warns)
        w = warns[0]
        ev.append(f"Warning: {w.message.strip()[:80]} ({n}x, first at step {w.step}) "
                  f"[{cite_source(w.source)}{':' + str(w.line) if w.line else ''}]")
        if strength:
            strength += 0.25
        elif dof.act_context:
            strength = 0.6
        elif dof.elsewhere:
            # the warning's own source line is not a halting variance (evidence/dof_warning.py): a std over one
            # element somewhere else, which is the NaN's op (detect_nan_inf), not an ACT head
            ev.append(f"the warning was raised on `{dof.source_line[:100]}`: not a halting variance, and the run "
                      f"logs no halting metric")
            strength = 0.1
        else:
            # no halting metric and no source line: a variance over one element, the ACT head one reading of it
            ev.append("the run logs no halting metric (act_halt_var, act_steps_mean): the warning alone says only "
                      "that a variance was taken over one element")
            strength = 0.3
        step = step if step is not None else w.step
    sm = run.series("act_steps_mean")
    if sm is not None and len(sm) >= 10 and ev:
        _, v = sm.finite()
        if v.size >= 10 and float(np.ptp(v[v.size // 2:])) == 0:
            ev.append(f"act_steps_mean is exactly {fmt(float(v[-1]))} at every step: every token uses the same "
                      f"number of steps {cite_series(sm)}")
            strength += 0.05
    if not ev:
        return []
    return [Finding("detect_act_variance_collapse", "act_variance_collapse", float(min(1.0, strength)),
                    "the ACT halting head outputs the same decision for every token", ev, step, {})]


def _growth(run: Run, name: str) -> tuple[float, float, float, object] | None:
    s = run.series(name)
    if s is None or len(s) < 10:
        return None
    st, v = s.finite()
    if v.size < 10:
        return None
    k = max(2, v.size // 10)
    return float(np.median(np.abs(v[:k]))), float(np.median(np.abs(v[-k:]))), float(np.abs(v).max()), s


def detect_attention_logit_growth(run: Run) -> list[Finding]:
    """Max attention logit grows >= 3x over the run and ends above 50 (Wortsman et al. 2023: stable runs stay
    in the tens, diverging ones grow to 1e3+), or attention entropy falls to < 25 % of its start."""
    ev: list[str] = []
    strength = 0.0
    g = _growth(run, "max_attn_logit")
    if g is not None:
        early, late, mx, s = g
        if early > 0 and late / early >= 3 and late > 50:
            ev.append(f"max attention logit grew from {fmt(early)} to {fmt(late)} (max {fmt(mx)}) {cite_series(s)}")
            strength = 0.55 + min(0.35, 0.1 * np.log2(late / early / 3 + 1))
    for name in ("attn_entropy", "attention_entropy"):
        e = _growth(run, name)
        if e is not None and e[0] > 0 and e[1] < 0.25 * e[0]:
            ev.append(f"attention entropy fell from {fmt(e[0])} to {fmt(e[1])} {cite_series(e[3])}")
            strength = max(strength, 0.5) + 0.15
    if not ev:
        return []
    return [Finding("detect_attention_logit_growth", "attention_logit_growth", float(min(1.0, strength)),
                    "attention logits grow until attention collapses", ev, None, {})]


def detect_output_logit_divergence(run: Run) -> list[Finding]:
    """Output logit mean / log-partition z drifts away from zero: |late| >= max(10, 3 |early|)."""
    g = _growth(run, "output_logit_mean")
    if g is None:
        return []
    early, late, mx, s = g
    if late < max(10.0, 3 * early):
        return []
    strength = 0.55 + min(0.35, 0.1 * np.log2(late / max(early, 1.0)))
    return [Finding("detect_output_logit_divergence", "output_logit_divergence", float(min(1.0, strength)),
                    "output logits drift away from zero",
                    [f"|output logit mean| drifted from {fmt(early)} to {fmt(late)} {cite_series(s)}"], None,
                    {"early": early, "late": late})]


def detect_mode_collapse(run: Run) -> list[Finding]:
    """Generation degenerates to one token or a short loop (see context.text_degenerate for the rules).

    Its strength is the degenerate share of the latest samples; the ranking lowers it when another cause
    (divergence, leakage, NaN) explains the degenerate samples (docs/causes.md: 'with no other cause found').
    """
    rep = sample_report(run)
    if rep is None or rep.late_share < 0.5 or len(run.samples) < 3:
        return []
    ev = [f"{rep.late_share:.0%} of the latest {rep.late_count} samples are degenerate, e.g. {rep.example!r} "
          f"at step {rep.example_step} [{rep.source}]"]
    if rep.early_share < rep.late_share:
        ev.append(f"earlier samples were not ({rep.early_share:.0%} degenerate)")
    # few samples are weak evidence: full weight from 6 late samples on
    strength = 0.45 + 0.35 * rep.late_share * min(1.0, rep.late_count / 6)
    return [Finding("detect_mode_collapse", "mode_collapse", float(min(1.0, strength)),
                    "generation degenerates to a repeated token", ev, rep.example_step,
                    {"late_degenerate_share": rep.late_share, "early_degenerate_share": rep.early_share,
                     "first_degenerate_step": rep.first_step})]


DETECTORS = [detect_param_imbalance, detect_act_variance_collapse, detect_attention_logit_growth,
             detect_output_logit_divergence, detect_mode_collapse]

_ = stats  # shared helpers are imported for detectors added later
