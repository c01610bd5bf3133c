"""One run seen through several files gives one answer, whatever the order of the paths (issue 8); `diagnose`
never reads its own outputs.

Real multi-file runs: a transformers Trainer output folder (trainer_state.json + the captured console, both carrying
loss, grad_norm and learning_rate), a Lightning version folder (metrics.csv + TensorBoard events of the same fit +
hparams.yaml: the same metrics in float64 and float32), the bundled trainer's metrics.jsonl + config.yaml + its code,
and real-world corpus entries with several files. Every order of the files, the folder itself, and the folder named
together with some of its files must give the same diagnosis JSON byte for byte.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from traindoc.cli import main
from traindoc.diagnosis.build import diagnose
from traindoc.ingest import load_run

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data" / "ingest"
CORPUS = REPO / "tests" / "corpus" / "realworld"


def _hf(root: Path) -> Path:
    run = root / "hf"
    run.mkdir()
    shutil.copy(DATA / "hf_trainer_state_diverged.json", run / "trainer_state.json")
    shutil.copy(DATA / "hf_console_diverged.log", run / "train.log")
    return run


def _phase1(root: Path) -> Path:
    run = root / "phase1"
    shutil.copytree(DATA / "phase1_run", run)
    shutil.copy(REPO / "src" / "phase1" / "train_phase1.py", run / "train_phase1.py")
    return run


def _copy(src: Path) -> Callable[[Path], Path]:
    def make(root: Path) -> Path:
        run = root / src.parent.name
        shutil.copytree(src, run)
        return run
    return make


RUNS = {
    "hf_trainer": _hf,
    "lightning_csv_tensorboard": _copy(DATA / "lightning_tb" / "version_0"),
    "phase1": _phase1,
    "whisper_small_hi": _copy(CORPUS / "whisper-small-hi-trainer-state" / "run"),
    "mst7_two_excerpts": _copy(CORPUS / "mst-7-maintainer-log-epoch-complete" / "run"),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("runs")
    return {name: make(root) for name, make in RUNS.items()}


def _doc(paths: list[Path]) -> str:
    """The diagnosis JSON of a run read from `paths`, without the paths themselves (a folder and its files are
    named differently; the command sorts them, tested below)."""
    doc = diagnose(load_run(paths), [])
    return json.dumps(doc, indent=2, sort_keys=True, allow_nan=False)


@cache
def _baseline(folder: str) -> str:
    return _doc([Path(folder)])


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def test_the_runs_have_several_sources(runs):
    # the property below only means something when several files really feed the run, and some overlap
    for name, folder in runs.items():
        run = load_run([folder])
        assert len(run.sources) >= 2, name
    hf = load_run([runs["hf_trainer"]])
    assert {s.format for s in hf.sources} == {"hf_trainer_state", "hf_console"}
    assert set(hf.sources[0].metrics) & set(hf.sources[1].metrics) >= {"loss", "grad_norm", "lr"}
    lightning = load_run([runs["lightning_csv_tensorboard"]])
    by_format = {s.format: set(s.metrics) for s in lightning.sources}
    assert by_format["tensorboard"] & by_format["lightning_csv"] >= {"loss", "lr"}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_order_of_the_paths_gives_one_diagnosis(runs, data):
    name = data.draw(st.sampled_from(sorted(runs)), label="run")
    folder = runs[name]
    files = _files(folder)
    shape = data.draw(st.sampled_from(["files", "folder_and_files"]), label="shape")
    if shape == "files":
        paths = data.draw(st.permutations(files), label="files")
    else:
        some = data.draw(st.lists(st.sampled_from(files), unique=True, max_size=len(files)), label="some")
        paths = data.draw(st.permutations([folder, *some]), label="order")
    assert _doc(list(paths)) == _baseline(str(folder)), f"{name}: {[p.name for p in paths]}"


def test_both_orders_of_every_run_agree(runs):
    # the same as above without sampling: the first and the reversed order of every run, and the folder
    for name, folder in runs.items():
        files = _files(folder)
        assert _doc(files) == _doc(files[::-1]) == _baseline(str(folder)), name


def test_the_command_writes_the_same_bytes_for_any_order(runs, tmp_path):
    files = [str(p) for p in _files(runs["hf_trainer"])]
    outs = []
    for i, order in enumerate((files, files[::-1])):
        out = tmp_path / f"d{i}.json"
        main(["diagnose", *order, "--json", "-o", str(out)])
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]


def test_a_merged_metric_takes_the_richer_file_at_a_shared_step(runs):
    # TensorBoard stores float32, metrics.csv the float64 Lightning logged: both give `loss` at the same steps;
    # the merge keeps one value per step from the richer file, never the one read last
    run = load_run([runs["lightning_csv_tensorboard"]])
    loss = run.metrics["loss"]
    assert len(set(loss.steps.tolist())) == len(loss)
    assert loss.source.endswith("metrics.csv") or loss.source.endswith("events.out.tfevents.0.host")
    again = load_run(_files(runs["lightning_csv_tensorboard"])[::-1]).metrics["loss"]
    assert again.source == loss.source and again.values.tobytes() == loss.values.tobytes()


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    shutil.copytree(DATA / "phase1_run", project / "run")
    shutil.copy(REPO / "src" / "phase1" / "train_phase1.py", project / "train_phase1.py")
    return project


def test_diagnose_never_reads_its_own_outputs(tmp_path, monkeypatch):
    project = _project(tmp_path)
    monkeypatch.chdir(project)
    before = _doc([Path(".")])
    # an earlier session's outputs, where the skill writes them and elsewhere under other names (-o, --html)
    assert main(["diagnose", ".", "--json", "-o", ".traindoc/diagnosis.json", "--html", ".traindoc/report.html"]) == 0
    assert main(["plan", ".traindoc/diagnosis.json", "-o", ".traindoc/plan.json"]) in (0, 3)
    (project / "out").mkdir()
    shutil.copy(".traindoc/diagnosis.json", "out/result.json")
    shutil.copy(".traindoc/report.html", "out/index.html")
    shutil.copy(".traindoc/plan.json", "run/proposal.json")
    after = load_run([Path(".")])
    assert _doc([Path(".")]) == before
    assert not after.warnings, after.warnings  # skipped quietly: no "unknown file" noise either
    assert not [s.path for s in after.sources if "traindoc" in s.path or s.path.startswith("out")]
    assert "verdict" not in {k.rsplit(".", 1)[-1] for k in after.config}


def test_an_own_output_named_on_the_command_line_is_one_warning(tmp_path, monkeypatch):
    project = _project(tmp_path)
    monkeypatch.chdir(project)
    main(["diagnose", "run", "--json", "-o", "diagnosis.json"])
    run = load_run([Path("run"), Path("diagnosis.json")])
    assert [w for w in run.warnings if "diagnosis.json" in w] == [
        "diagnosis.json: a traindoc output (diagnosis, plan or report), not a run artifact; not read"]
    assert not any(s.path.endswith("diagnosis.json") for s in run.sources)


def test_a_pasted_log_saved_in_the_own_folder_is_still_read_when_named(tmp_path):
    # the skill saves pasted lines to .traindoc/pasted.log and names that file: only the walk skips the folder
    own = tmp_path / ".traindoc"
    own.mkdir()
    shutil.copy(DATA / "hf_console_diverged.log", own / "pasted.log")
    assert load_run([own / "pasted.log"]).metrics
    assert not load_run([tmp_path]).sources
