"""The diagnosis outputs as the skills ask for them: one pass for every format, exit codes 0/2/3, absolute paths
named on stderr, and an HTML report that draws any value (1e308, NaN, Inf) without an exception or a warning on
stderr, with axes that have ticks, a log scale only over decades, marks at the steps the evidence cites, and
advice that fits the run."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from skills_support import ROOT, write_seed_like_run
from traindoc.cli import main
from traindoc.diagnosis import svgplot
from traindoc.diagnosis.render import evidence_marks, fitting_advice, to_html
from traindoc.ingest.model import Run, Series


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "traindoc", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300, env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"})


def test_every_output_in_one_pass(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys):
    write_seed_like_run(tmp_path / "run")
    import traindoc.ingest.loader as loader

    calls = []
    real = loader.load_run
    monkeypatch.setattr(loader, "load_run", lambda *a, **k: calls.append(a) or real(*a, **k))
    monkeypatch.chdir(tmp_path)
    rc = main(["diagnose", "run", "--md", "--html", "out/report.html", "--json", "-o", "out/diagnosis.json"])
    out = capsys.readouterr()
    assert rc == 0 and len(calls) == 1
    assert out.out.startswith("## Diagnosis Complete")
    assert json.loads((tmp_path / "out/diagnosis.json").read_text())["verdict"] == "problems_found"
    assert "<svg" in (tmp_path / "out/report.html").read_text()
    for name in ("report.html", "diagnosis.json"):  # absolute paths, so the user can open them from anywhere
        assert f"wrote {tmp_path / 'out' / name}\n" in out.err


def test_output_combinations_refused_before_reading(tmp_path: Path, capsys):
    write_seed_like_run(tmp_path / "run")
    assert main(["diagnose", str(tmp_path / "run"), "--md", "--json"]) == 2
    assert "add -o FILE" in capsys.readouterr().err
    same = str(tmp_path / "x")
    assert main(["diagnose", str(tmp_path / "run"), "--html", same, "-o", same]) == 2
    metrics = str(tmp_path / "run" / "metrics.jsonl")
    assert main(["diagnose", metrics, "-o", metrics]) == 2
    assert (tmp_path / "run" / "metrics.jsonl").read_text().startswith('{"type": "meta"')


def test_exit_codes_bad_input_and_insufficient_data(tmp_path: Path):
    assert _cli("diagnose", "missing", cwd=tmp_path).returncode == 2
    (tmp_path / "short").mkdir()
    (tmp_path / "short" / "metrics.jsonl").write_text(
        "".join(json.dumps({"step": s, "loss": 2.0 - 0.1 * s}) + "\n" for s in range(2)))
    p = _cli("diagnose", "short", "--json", "--html", "r.html", cwd=tmp_path)
    assert p.returncode == 3, p.stderr
    assert json.loads(p.stdout)["verdict"] == "insufficient_data"
    assert (tmp_path / "r.html").exists() and "Traceback" not in p.stderr


def _run(**series: np.ndarray) -> Run:
    run = Run()
    for name, values in series.items():
        run.add_series(Series(name, np.arange(values.size), np.asarray(values, dtype=float)))
    run.finalize()
    return run


EXTREMES = [1e308, -1e308, 1.7976931348623157e308, -1.7976931348623157e308, 5e-324, 0.0, np.nan, np.inf, -np.inf]


@pytest.mark.parametrize("case", ["mixed", "huge", "all_nan", "tiny", "one_finite"])
def test_html_draws_any_value_without_warnings(case: str):
    values = {"mixed": np.array(EXTREMES * 5), "huge": np.array([1e308, 1.5e308, 1.79e308] * 10),
              "all_nan": np.full(20, np.nan), "tiny": np.array([5e-324, 1e-320, 2e-310] * 10),
              "one_finite": np.array([np.nan] * 10 + [3.0] + [np.inf] * 10)}[case]
    run = _run(loss=values, grad_norm=values[::-1].copy(), lr=np.abs(values))
    doc = {"verdict": "insufficient_data", "confidence": 0.0, "summary": "s", "root_causes": [], "run": {"sources": []}}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning here would reach the user's terminal
        html = to_html(doc, run)
    assert "<html" in html and "OverflowError" not in html
    for svg in re.findall(r"<svg.*?</svg>", html, re.S):
        assert "nan," not in svg and ",nan" not in svg and "inf," not in svg  # no non-finite coordinates
    if case == "mixed":
        assert 'class="nonfinite"' in html and "NaN" in html


def test_html_cli_near_1e308_has_clean_stderr(tmp_path: Path):
    (tmp_path / "run").mkdir()
    lines = [json.dumps({"step": s, "loss": 1.7e308 * (1 if s % 2 else -1), "grad_norm": 1e308 / (s + 1)})
             for s in range(60)]
    (tmp_path / "run" / "metrics.jsonl").write_text("\n".join(lines) + "\n")
    p = _cli("diagnose", "run", "--html", "r.html", cwd=tmp_path)
    assert p.returncode in (0, 3), p.stderr
    assert "Warning" not in p.stderr and "Traceback" not in p.stderr and "internal error" not in p.stderr
    assert "<svg" in (tmp_path / "r.html").read_text()


def _yticks(svg: str) -> list[str]:
    return re.findall(r'class="ytick"[^>]*>([^<]+)<', svg)


def test_axes_ticks_and_log_only_over_decades():
    steps = np.arange(100)
    const = svgplot.render(svgplot.Plot("lr", [svgplot.Line(steps, np.full(100, 0.01), "lr")]))
    ticks = [float(t) for t in _yticks(const)]
    assert len(ticks) >= 3 and min(ticks) >= 0.008 and max(ticks) <= 0.012  # around the value, not 0.05-1.05
    assert "log scale" not in const
    xt = re.findall(r'class="xtick"[^>]*>([^<]+)<', const)
    assert len(xt) >= 4 and xt[0] == "0"
    narrow = svgplot.render(svgplot.Plot("loss", [svgplot.Line(steps, np.linspace(1, 3, 100), "loss")]))
    assert "log scale" not in narrow
    wide = svgplot.render(svgplot.Plot("loss", [svgplot.Line(steps, np.geomspace(1000, 0.5, 100), "loss")]))
    assert "(log scale)" in wide and {"1", "10", "100", "1000"} <= set(_yticks(wide))


def test_marks_land_at_the_cited_steps_with_readable_labels(tmp_path: Path):
    write_seed_like_run(tmp_path / "run")
    from traindoc.diagnosis.build import diagnose
    from traindoc.ingest.loader import load_run

    run = load_run([str(tmp_path / "run")])
    doc = diagnose(run, [str(tmp_path / "run")])
    html = to_html(doc, run)
    grad = next(s for s in re.findall(r"<svg.*?</svg>", html, re.S) if 'aria-label="grad_norm' in s)
    cited = [ln for rc in doc["root_causes"] for ln in rc["evidence"] if ln.startswith("grad_norm spiked")]
    step = int(re.search(r"at step (\d+)", cited[0]).group(1))
    assert f'class="mark" data-step="{step}"' in grad  # the spike, not the stage switch before it
    labels = re.findall(r'class="mark-label"[^>]*><title>[^<]*</title>([^<]+)<', html)
    assert labels and all(len(lb) <= 40 for lb in labels) and any("spiked to 45.2" in lb for lb in labels)
    assert "seed" not in html.lower().replace("seed:", "").replace("train.seed", "")


def test_evidence_marks_skip_remarks_and_possible_causes():
    doc = {"root_causes": [
        {"rank": 1, "cause": "a", "confidence": 0.9, "evidence": ["grad_norm spiked to 9 at step 12 [m.jsonl]",
                                                                 "(confidence lowered: b explains step 3)"]},
        {"rank": 2, "cause": "b", "confidence": 0.2, "evidence": ["loss rose at step 40"]}]}
    marks = evidence_marks(doc, {"loss", "grad_norm"})
    assert [(m.step, m.label) for m in marks["grad_norm"]] == [(12, "#1 grad_norm spiked to 9")]
    assert "loss" not in marks


def test_advice_fits_the_run():
    doc = {"quick_wins": ["Reduce learning rates by 50%", "Enable early stopping on validation loss"]}
    assert fitting_advice(doc, _run(loss=np.linspace(3, 1, 50))) == ["Reduce learning rates by 50%"]
    with_val = _run(loss=np.linspace(3, 1, 50), eval_loss=np.linspace(3, 1.2, 50))
    assert fitting_advice(doc, with_val) == doc["quick_wins"]


def test_backend_messages_name_the_launcher_the_user_has(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys):
    """Through a skill, `traindoc` is not on PATH: the plan's approval line names the launcher that ran it."""
    write_seed_like_run(tmp_path / "run")
    # the config a person edits (the run's own copy is never a fix target), so the plan has a change to approve
    (tmp_path / "config.yaml").write_text((tmp_path / "run" / "config.yaml").read_text())
    monkeypatch.chdir(tmp_path)
    assert main(["diagnose", "run", "--json", "-o", "d.json"]) == 0
    launcher = "/home/u/.claude/skills/ml-expert/scripts/traindoc"
    monkeypatch.setenv("TRAINDOC_PROG", launcher)
    capsys.readouterr()
    assert main(["plan", "d.json", "-o", "plan.json"]) == 0
    out = capsys.readouterr().out
    assert f"Approve with: `{launcher} apply plan.json --approve " in out
    assert "`traindoc apply" not in out
    monkeypatch.delenv("TRAINDOC_PROG")
    assert main(["plan", "d.json"]) == 0
    assert "Approve with: `traindoc apply" in capsys.readouterr().out
