"""Config editors change exactly the value's text and nothing else (comments, order, quoting, other keys).

Property tests generate config files (nested YAML with comments, JSON, Python dataclass / argparse / assignments),
edit one key, and check that every other byte is identical and that the file parses to the old data with only
that key changed."""

from __future__ import annotations

import ast
import json
import keyword
import string

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from traindoc.plan.config_edit import ConfigEditError, edit_value, find_value, format_like, read_key

names = st.text(string.ascii_lowercase + "_", min_size=1, max_size=10).filter(
    lambda s: s[0].isalpha() and not keyword.iskeyword(s)
    and s not in ("true", "false", "null", "yes", "no", "on", "off", "y", "n"))
floats = st.floats(min_value=1e-7, max_value=1e4, allow_nan=False).map(lambda x: float(f"{x:.3g}"))
scalars = st.one_of(st.integers(-10**6, 10**6), floats, st.booleans())
comments = st.one_of(st.just(""), st.text(string.ascii_letters + " .:-", max_size=20).map(lambda c: f"  # {c}"))


def yaml_scalar(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return format_like("0.1", v, "yaml")
    return str(v)


@st.composite
def yaml_files(draw):
    sections = draw(st.dictionaries(names, st.dictionaries(names, st.tuples(scalars, comments), min_size=1,
                                                           max_size=5), min_size=1, max_size=4))
    lines = ["# generated config"]
    for sec, kv in sections.items():
        lines.append(f"{sec}:{draw(comments)}")
        for k, (v, c) in kv.items():
            lines.append(f"  {k}: {yaml_scalar(v)}{c}")
        lines.append("")
    return "\n".join(lines) + "\n", {f"{s}.{k}": v for s, kv in sections.items() for k, (v, _) in kv.items()}


def check_only_span_changed(old: str, new: str, span) -> None:
    assert new[:span.start] == old[:span.start]
    assert new[len(new) - (len(old) - span.end):] == old[span.end:]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(yaml_files(), st.data(), scalars)
def test_yaml_edit_changes_only_that_value(doc, data, value) -> None:
    text, flat = doc
    key = data.draw(st.sampled_from(sorted(flat)))
    if isinstance(value, bool) != isinstance(flat[key], bool):
        value = not flat[key] if isinstance(flat[key], bool) else abs(value) + 1
    new, span = edit_value("c.yaml", text, key, value)
    check_only_span_changed(text, new, span)
    parsed = yaml.safe_load(new)
    for k, v in flat.items():
        sec, name = k.split(".")
        got = parsed[sec][name]
        if k == key:
            assert got == value or abs(float(got) - float(value)) <= 1e-6 * abs(float(value))
        else:
            assert got == yaml.safe_load(yaml_scalar(v))


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(names, st.dictionaries(names, scalars, min_size=1, max_size=4), min_size=1, max_size=3),
       st.integers(0, 2), st.data(), floats)
def test_json_edit_changes_only_that_value(obj, indent, data, value) -> None:
    text = json.dumps(obj, indent=indent or None)
    flat = {f"{s}.{k}": v for s, kv in obj.items() for k, v in kv.items()}
    key = data.draw(st.sampled_from(sorted(flat)))
    if isinstance(flat[key], bool):
        value = not flat[key]
    new, span = edit_value("c.json", text, key, value)
    check_only_span_changed(text, new, span)
    parsed = json.loads(new)
    s, n = key.split(".")
    parsed[s][n] = obj[s][n]
    assert parsed == obj


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(names, st.tuples(scalars, comments), min_size=2, max_size=6), st.data(), floats)
def test_python_dataclass_edit_changes_only_that_value(fields, data, value) -> None:
    body = "\n".join(f"    {k}: {type(v).__name__} = {v!r}{c}" for k, (v, c) in fields.items())
    text = f'"""cfg"""\nfrom dataclasses import dataclass\n\n\n@dataclass\nclass TrainConfig:\n{body}\n'
    key = data.draw(st.sampled_from(sorted(fields)))
    if isinstance(fields[key][0], bool):
        value = not fields[key][0]
    new, span = edit_value("cfg.py", text, f"train.{key}", value)
    check_only_span_changed(text, new, span)
    ast.parse(new)
    for k, (v, _) in fields.items():
        assert read_key("cfg.py", new, f"train.{k}") == (value if k == key else v) or k == key


def test_formats_keep_the_files_style() -> None:
    yml = "optim:\n  muon_lr: 1e-2   # the seed's value\n  warmup_steps: 0\nmodel:\n  tie_embeddings: false\n"
    new, _ = edit_value("c.yaml", yml, "optim.muon_lr", 5e-3)
    assert new == "optim:\n  muon_lr: 5.0e-3   # the seed's value\n  warmup_steps: 0\nmodel:\n  tie_embeddings: false\n"
    new, _ = edit_value("c.yaml", yml, "model.tie_embeddings", True)
    assert new.endswith("tie_embeddings: true\n")
    py = "import argparse\np = argparse.ArgumentParser()\np.add_argument('--grad-clip', type=float, default=0.0)\n"
    new, span = edit_value("train.py", py, "grad_clip", 1.0)
    assert span.kind == "argparse_default" and new.endswith("default=1.0)\n")
    flat = "learning_rate = 6e-4  # nanoGPT style\nmax_iters = 5000\n"
    new, span = edit_value("config/train.py", flat, "learning_rate", 3e-4)
    assert new == "learning_rate = 3e-4  # nanoGPT style\nmax_iters = 5000\n" and span.kind == "python_assign"
    dotted = "optim.muon_lr: 0.01\n"
    assert edit_value("c.yaml", dotted, "optim.muon_lr", 0.005)[0] == "optim.muon_lr: 0.005\n"


def test_missing_key_and_mismatched_before_are_errors() -> None:
    yml = "optim:\n  muon_lr: 0.01\n"
    assert find_value("c.yaml", "optim.adam_lr", yml) is None
    for key, expect in (("optim.adam_lr", None), ("optim.muon_lr", "0.02")):
        try:
            edit_value("c.yaml", yml, key, 0.005, expect_old=expect)
        except ConfigEditError:
            continue
        raise AssertionError(f"{key} should not be editable")
