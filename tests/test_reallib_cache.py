"""The labelled-run cache: labels are real cause ids, unknown names are refused, and concurrent requests for one run
train it once and share the folder (what pytest-xdist workers and other helpers rely on)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from reallib import FAULTS, LABELS, LIBS, VARIANT_LABELS, VARIANTS, code_version, reallib_run, variant_run

ROOT = Path(__file__).resolve().parents[1]


def test_labels_cover_every_run_and_are_cause_ids():
    schema = json.loads((ROOT / "schemas" / "diagnosis.schema.json").read_text())
    causes = set(schema["$defs"]["cause"]["enum"])
    assert set(LABELS) == {(lib, fault) for lib in LIBS for fault in FAULTS}
    for (_, fault), label in LABELS.items():
        assert label is None if fault == "healthy" else label in causes, (fault, label)
    for key, (fault, overrides) in VARIANTS.items():
        assert key[0] in LIBS and fault in FAULTS and overrides, key
        assert VARIANT_LABELS[key] == LABELS[(key[0], fault)]


def test_unknown_names_are_refused():
    with pytest.raises(ValueError, match="unknown library"):
        reallib_run("keras", "healthy")
    with pytest.raises(ValueError, match="unknown fault"):
        reallib_run("hf", "cosmic_rays")
    with pytest.raises(ValueError, match="unknown variant"):
        variant_run("lightning", "healthy-cosine")  # an HF variant


def test_code_version_is_stable_and_short():
    assert code_version("hf") == code_version("hf") != code_version("lightning")
    assert re.fullmatch(r"[0-9a-f]{12}", code_version("lightning"))


@pytest.mark.slow
def test_concurrent_requests_generate_once(tmp_path):
    """Two processes ask for the same (cheapest, ~5 s) run at once in an empty cache: both get the same complete
    folder, and no temporary folder is left. Without the lock the second rename would fail on a non-empty folder."""
    env = dict(os.environ, TRAINDOC_REALLIB_CACHE=str(tmp_path))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "tests"), env.get("PYTHONPATH", "")) if p)
    script = "from reallib import reallib_run; print(reallib_run('lightning', 'frozen_params'))"
    procs = [
        subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err.decode()[-800:] for _, err in outs]
    paths = {out.decode().strip() for out, _ in outs}
    assert len(paths) == 1
    run = Path(paths.pop())
    assert (run / "lightning_logs" / "version_0" / "metrics.csv").is_file()
    assert (run / "train.log").read_text(errors="replace").count("Trainable params") == 1
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]


def test_stale_versions_are_pruned_but_not_temporary_folders(tmp_path):
    from reallib import _prune_stale

    keep = "hf-nan_inf-0123456789ab"
    for name in (keep, "hf-nan_inf-ba9876543210", ".tmp-hf-nan_inf-ba9876543210-77", "hf-nan_inf_x-ba9876543210"):
        (tmp_path / name).mkdir()
    for name in (f"{keep}.json", f"{keep}.lock", "hf-nan_inf-ba9876543210.json", "hf-nan_inf-ba9876543210.lock"):
        (tmp_path / name).write_text("{}")
    _prune_stale(tmp_path, "hf", "nan_inf", keep=keep)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [keep, f"{keep}.json", f"{keep}.lock", ".tmp-hf-nan_inf-ba9876543210-77", "hf-nan_inf_x-ba9876543210"]
    )
