"""Code-site locators: each fires at the known line of a user-style faulty file and stays silent on the healthy
variant of the same file. The files are written the way people write training scripts, not like our trainer."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from traindoc.evidence.code_sites import locate, locate_for_cause


def write(tmp_path: Path, name: str, code: str) -> str:
    p = tmp_path / name
    p.write_text(textwrap.dedent(code).lstrip("\n"))
    return str(p)


def lines_of(sites) -> list[int]:
    return sorted(s.line for s in sites)


CASES = {
    # cause: (faulty code, healthy code, faulty line, template)
    "label_leakage": ("""
        import torch.nn.functional as F
        def attend(q, k, v):
            return F.scaled_dot_product_attention(q, k, v, is_causal=False)
        """, """
        import torch.nn.functional as F
        def attend(q, k, v):
            return F.scaled_dot_product_attention(q, k, v, is_causal=True)
        """, 3, "causal_mask"),
    "optimizer_misconfig": ("""
        def filt(params, ema, lamb):
            for p in params:
                g = p.grad
                g.add_(g - ema[p], alpha=lamb)
        """, """
        def filt(params, ema, lamb):
            for p in params:
                g = p.grad
                g.add_(ema[p], alpha=lamb)
        """, 4, "grokfast_lowpass"),
    "scheduler_misuse": ("""
        def schedule(opt, f):
            for g in opt.param_groups:
                g["sched_lr"] = g["initial_lr"] * f
        """, """
        def schedule(opt, f):
            for g in opt.param_groups:
                g["lr"] = g["initial_lr"] * f
        """, 3, "lr_key"),
    "zero_grad_missing": ("""
        def fit(model, optimizer, loader):
            for batch in loader:
                loss = model(batch).mean()
                loss.backward()
                optimizer.step()
        """, """
        def fit(model, optimizer, loader):
            for batch in loader:
                optimizer.zero_grad()
                loss = model(batch).mean()
                loss.backward()
                optimizer.step()
        """, 4, "zero_grad"),
    "nan_inf": ("""
        import torch
        def nll(p, y):
            return -(y * torch.log(p)).sum()
        """, """
        import torch
        def nll(p, y):
            return -(y * torch.log(p.clamp_min(1e-8))).sum()
        """, 3, "nan_guard"),
    "grad_explosion": ("""
        def fit(model, opt, loader):
            for x in loader:
                opt.zero_grad()
                model(x).backward()
                opt.step()
        """, """
        import torch
        def fit(model, opt, loader):
            for x in loader:
                opt.zero_grad()
                model(x).backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                opt.step()
        """, 5, "clip_grad_norm"),
    "act_variance_collapse": ("""
        def compute_act_loss(state, cfg):
            steps = (state.halt_cum >= cfg.threshold).sum(-1).float()
            return 0.01 * steps.mean()
        """, """
        import torch
        def compute_act_loss(state, cfg):
            ponder = (state.n_updates + state.remainders).mean()
            q = state.step_weights
            diversity = q.var(dim=-1).mean()
            return 0.01 * ponder - 0.01 * diversity
        """, 1, "act_loss"),
}


@pytest.mark.parametrize("cause", sorted(CASES))
def test_locator_fires_on_fault_and_stays_silent_on_healthy(tmp_path: Path, cause: str) -> None:
    bad, good, line, template = CASES[cause]
    (tmp_path / "bad").mkdir()
    (tmp_path / "good").mkdir()
    bad_file = write(tmp_path / "bad", "train.py", bad)
    write(tmp_path / "good", "train.py", good)
    sites = locate_for_cause([str(tmp_path / "bad")], cause)
    assert lines_of(sites) == [line], sites
    site = sites[0]
    assert site.template == template and site.file == bad_file
    assert site.snippet == Path(bad_file).read_text().splitlines()[line - 1] or site.snippet.startswith("def ")
    assert locate_for_cause([str(tmp_path / "good")], cause) == []


def test_manual_attention_without_mask(tmp_path: Path) -> None:
    f = write(tmp_path, "gpt.py", """
        import torch
        def attn(q, k, v):
            att = (q @ k.transpose(-2, -1)) * 0.125
            att = torch.softmax(att, dim=-1)
            return att @ v
        """)
    sites = locate_for_cause([f], "label_leakage")
    assert [(s.line, s.template, s.params["scores"]) for s in sites] == [(4, "causal_mask_manual", "att")]
    masked = write(tmp_path, "gpt2.py", """
        import torch
        def attn(q, k, v, mask):
            att = (q @ k.transpose(-2, -1)) * 0.125
            att = att.masked_fill(mask == 0, float("-inf"))
            att = torch.softmax(att, dim=-1)
            return att @ v
        """)
    assert locate_for_cause([masked], "label_leakage") == []


def test_unread_key_is_fine_when_something_reads_it(tmp_path: Path) -> None:
    write(tmp_path, "sched.py", """
        def schedule(opt, f):
            for g in opt.param_groups:
                g["scheduled_lr"] = g["initial_lr"] * f
        """)
    write(tmp_path, "optim.py", """
        def step(groups):
            for g in groups:
                lr = g["scheduled_lr"]
        """)
    assert locate_for_cause([str(tmp_path)], "scheduler_misuse") == []


def test_gradient_accumulation_zero_grad_goes_after_the_step(tmp_path: Path) -> None:
    f = write(tmp_path, "accum.py", """
        def fit(model, opt, loader, accum):
            for i, x in enumerate(loader):
                (model(x) / accum).backward()
                if (i + 1) % accum == 0:
                    opt.step()
        """)
    (site,) = locate_for_cause([f], "zero_grad_missing")
    assert site.line == 5 and site.params["mode"] == "after" and site.params["optimizer"] == "opt"


def test_scaler_step_names_the_optimizer(tmp_path: Path) -> None:
    f = write(tmp_path, "amp.py", """
        def fit(model, optim, scaler, loader):
            for x in loader:
                scaler.scale(model(x)).backward()
                scaler.step(optim)
                scaler.update()
        """)
    (site,) = locate_for_cause([f], "grad_explosion")
    assert site.params["optimizer"] == "optim" and site.params["scaler"] == "scaler"


def test_unparsable_and_test_files_are_skipped(tmp_path: Path) -> None:
    write(tmp_path, "broken.py", "def (:\n")
    write(tmp_path, "test_x.py", "import torch\ndef f(p):\n    return torch.log(p)\n")
    assert locate([str(tmp_path)]) == []


ACT_MODEL = """
    import torch
    from dataclasses import dataclass
    from torch import nn


    @dataclass
    class PonderState:
        weights: torch.Tensor
        n_updates: torch.Tensor
        remainders: torch.Tensor


    class Ponder(nn.Module):
        def __init__(self, d):
            super().__init__()
            self.halt_head = nn.Linear(d, 1)
            nn.init.zeros_(self.halt_head.weight)

        def forward(self, h, steps):
            out = torch.zeros_like(h)
            weights = []
            for _ in range(steps):
                p = torch.sigmoid(self.halt_head(h)).squeeze(-1)
                w = p
                out = h
                weights.append(w)
            n = torch.ones_like(p) * steps
            return out, PonderState(weights=torch.stack(weights, -1), n_updates=n.detach(), remainders=1 - p)


    def ponder_loss(state, cfg):
        per_seq = state.n_updates.float().mean(dim=1, keepdim=True)
        spread = per_seq.var(dim=1).mean()
        return 0.01 * state.n_updates.float().mean() - 0.01 * spread
    """


def test_act_collapse_shapes_in_user_code(tmp_path: Path) -> None:
    f = write(tmp_path, "ponder.py", ACT_MODEL)
    got = {(s.template, s.line) for s in locate_for_cause([f], "act_variance_collapse")}
    assert got == {("drop_line", 17), ("act_weighted_output", 25), ("act_loss", 31), ("var_over_all", 33)}, got
    healthy = ACT_MODEL.replace("            nn.init.zeros_(self.halt_head.weight)\n", "").replace(
        "out = h\n", "out = out + w.unsqueeze(-1) * h\n").replace(
        "        spread = per_seq.var(dim=1).mean()\n", "        kl_div = (state.weights * state.weights.log()).sum()\n"
    ).replace("- 0.01 * spread", "+ 0.01 * (state.remainders.mean() + kl_div)")
    g = write(tmp_path, "ponder_ok.py", healthy)
    assert locate_for_cause([g], "act_variance_collapse") == []
