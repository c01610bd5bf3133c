"""The HTML reports in a real browser: headless Chromium (the Debian `chromium` package; `make browser` installs
it, `make test` runs that first) loads the diagnosis and verify reports of three different runs (the bundled
trainer, HF Trainer, a text log), with no script error or console error, and every evidence mark lands, in the
rendered page, at the pixel its step maps to on the plot's axis.

A probe copy of each report gets a small script that records errors and measures the marks with
getBoundingClientRect; `--dump-dom` returns the page after it ran. The report itself carries no script. A
screenshot of each report is kept in test-artifacts/ (gitignored) for people to look at.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from skills_support import ROOT

pytestmark = pytest.mark.slow

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser") if shutil.which(n)), None)
ARTIFACTS = ROOT / "test-artifacts" / "reports"
DATA = ROOT / "tests" / "data"
RUNS = {  # real files: the bundled trainer's run, HF Trainer's trainer_state.json, a text training log
    "bundled_trainer": DATA / "ingest" / "phase1_run",
    "hf_trainer": DATA / "ingest" / "hf_trainer_state_diverged.json",
    "text_log": DATA / "text_logs" / "nanogpt_diverged.log",
}
TOLERANCE_PX = 1.5

PROBE = """<script>
window.__errors = [];
window.addEventListener("error", e => window.__errors.push(String(e.message || e)));
for (const level of ["error", "warn"]) {
  const orig = console[level];
  console[level] = (...a) => { window.__errors.push(level + ": " + a.join(" ")); orig.apply(console, a); };
}
window.addEventListener("load", () => {
  const out = {errors: window.__errors, plots: []};
  for (const svg of document.querySelectorAll("svg.plot")) {
    const area = svg.querySelector(".plot-area");
    const r = area.getBoundingClientRect();
    const x0 = +area.dataset.x0, x1 = +area.dataset.x1;
    const marks = [...svg.querySelectorAll("line.mark")].map(m => {
      const step = +m.dataset.step;
      return {step, x: m.getBoundingClientRect().x, expected: r.x + (step - x0) / (x1 - x0) * r.width};
    });
    const ticks = svg.querySelectorAll("text.ytick").length + svg.querySelectorAll("text.xtick").length;
    out.plots.push({label: svg.getAttribute("aria-label"), width: r.width, marks, ticks});
  }
  const pre = document.createElement("pre");
  pre.id = "probe";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


def _chromium(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           "--no-first-run", "--disable-extensions", *args], capture_output=True, text=True,
                          timeout=120)


def _probe(html: Path) -> dict:
    probe = html.with_suffix(".probe.html")
    probe.write_text(html.read_text().replace("<head>", "<head>" + PROBE, 1))
    out = _chromium("--virtual-time-budget=2000", "--dump-dom", probe.as_uri())
    assert out.returncode == 0, out.stderr[-2000:]
    m = re.search(r'<pre id="probe">(.*?)</pre>', out.stdout, re.S)
    assert m, f"the probe did not run:\n{out.stdout[-1000:]}\n{out.stderr[-1000:]}"
    return json.loads(m.group(1).replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">"))


def _cited_steps(diagnosis: dict) -> set[int]:
    steps = set()
    for rc in diagnosis["root_causes"]:
        if rc["confidence"] >= 0.5:
            for line in rc["evidence"]:
                if not line.startswith("("):
                    steps |= {int(s) for s in re.findall(r"\bsteps? (\d+)", line)}
    return steps


def _rerun(run: Path, work: Path) -> Path:
    """A stand-in for the retrained run: the same records written again now (one trailing blank line more), since
    verify refuses the diagnosed run itself or a byte copy of it (verify/freshness.py)."""
    dest = work / ("rerun" if run.is_dir() else f"rerun-{run.name}")
    if run.is_dir():
        shutil.copytree(run, dest)
        log = next(p for p in sorted(dest.iterdir()) if p.suffix in (".jsonl", ".json", ".log"))
    else:
        shutil.copyfile(run, dest)
        log = dest
    with open(log, "a", encoding="utf-8") as fh:
        fh.write("\n")
    return dest


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, tuple[Path, Path, dict]]:
    if CHROMIUM is None:
        pytest.skip("chromium is not installed: run `make browser` (Debian/Ubuntu: apt-get install chromium)")
    out = {}
    for name, run in RUNS.items():
        work = tmp_path_factory.mktemp(name)
        env = {"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"}
        d = subprocess.run([sys.executable, "-m", "traindoc", "diagnose", str(run), "--html", "report.html",
                            "-o", "diagnosis.json"], cwd=work, env=env, capture_output=True, text=True, timeout=300)
        assert d.returncode == 0, d.stderr
        assert "Warning" not in d.stderr, d.stderr
        rerun = _rerun(run, work)
        v = subprocess.run([sys.executable, "-m", "traindoc", "verify", "diagnosis.json", str(rerun), "--html",
                            "verify.html"], cwd=work, env=env, capture_output=True, text=True, timeout=300)
        assert v.returncode in (0, 1) and "Traceback" not in v.stderr, v.stderr
        out[name] = (work / "report.html", work / "verify.html", json.loads((work / "diagnosis.json").read_text()))
    return out


@pytest.mark.parametrize("name", list(RUNS))
def test_diagnosis_report_in_chromium(reports, name: str):
    report, _verify, diagnosis = reports[name]
    probe = _probe(report)
    assert probe["errors"] == []
    assert probe["plots"], "no plot was rendered"
    for plot in probe["plots"]:
        assert plot["ticks"] >= 4, plot  # both axes carry ticks, not only min and max
        for m in plot["marks"]:
            assert abs(m["x"] - m["expected"]) <= TOLERANCE_PX, (plot["label"], m)
    drawn = {m["step"] for p in probe["plots"] for m in p["marks"]}
    cited = _cited_steps(diagnosis)
    assert drawn <= cited  # a mark never sits at a step the evidence does not cite
    if name == "bundled_trainer" or cited:
        assert drawn, f"{name}: evidence cites steps {sorted(cited)} but no mark was drawn"
    _screenshot(report, f"{name}-diagnosis.png")


@pytest.mark.parametrize("name", list(RUNS))
def test_verify_report_in_chromium(reports, name: str):
    _report, verify, _diagnosis = reports[name]
    probe = _probe(verify)
    assert probe["errors"] == []
    assert probe["plots"] and all(p["ticks"] >= 4 for p in probe["plots"])
    assert "diagnosed run" in verify.read_text() and "new run" in verify.read_text()
    _screenshot(verify, f"{name}-verify.png")


def _screenshot(html: Path, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    target = ARTIFACTS / name
    out = _chromium("--window-size=1100,1800", f"--screenshot={target}", html.as_uri())
    assert out.returncode == 0 and target.stat().st_size > 10_000, out.stderr[-1000:]
