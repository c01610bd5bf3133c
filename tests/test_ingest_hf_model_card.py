"""Hugging Face model cards (README.md written by the Trainer): the Training results table and the Training
hyperparameters list (ingest/readers/hf_model_card.py), and the Markdown-table parser's Step column and `No log`
cells (textlog_formats.parse_md_table). Excerpts are from real cards in tests/corpus/realworld/hfcard-*."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from traindoc.ingest.loader import load_run
from traindoc.ingest.model import Run
from traindoc.ingest.readers import hf_model_card, text_log

CORPUS = Path(__file__).parent / "corpus" / "realworld"

# models/Aleksandar/bert-srb-ner-setimes/README.md (tests/corpus/realworld/hfcard-bert-srb-ner-setimes-f1): the
# training procedure, the first six of its 20 result rows (the other 14 left out) and the first framework line
NER_CARD = """\
## Training procedure

### Training hyperparameters

The following hyperparameters were used during training:
- learning_rate: 2e-05
- train_batch_size: 32
- eval_batch_size: 8
- seed: 42
- optimizer: Adam with betas=(0.9,0.999) and epsilon=1e-08
- lr_scheduler_type: linear
- num_epochs: 20

### Training results

| Training Loss | Epoch | Step | Validation Loss | Precision | Recall | F1     | Accuracy |
|:-------------:|:-----:|:----:|:---------------:|:---------:|:------:|:------:|:--------:|
| No log        | 1.0   | 104  | 0.2281          | 0.6589    | 0.7001 | 0.6789 | 0.9350   |
| No log        | 2.0   | 208  | 0.1833          | 0.7105    | 0.7694 | 0.7388 | 0.9470   |
| No log        | 3.0   | 312  | 0.1573          | 0.7461    | 0.7778 | 0.7616 | 0.9525   |
| No log        | 4.0   | 416  | 0.1489          | 0.7665    | 0.8091 | 0.7872 | 0.9557   |
| 0.1898        | 5.0   | 520  | 0.1445          | 0.7881    | 0.8327 | 0.8098 | 0.9587   |
| 0.1898        | 6.0   | 624  | 0.1473          | 0.7913    | 0.8316 | 0.8109 | 0.9601   |


### Framework versions

- Transformers 4.9.2
"""


def _load(tmp_path: Path, text: str, name: str = "README.md") -> Run:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / name).write_text(text)
    return load_run([run_dir])


def test_results_table_steps_from_step_column_and_no_log_cells(tmp_path: Path) -> None:
    run = _load(tmp_path, NER_CARD)
    assert [s.format for s in run.sources] == ["hf_model_card"]
    ev = run.metrics["eval_loss"]
    assert ev.steps.tolist() == [104, 208, 312, 416, 520, 624]  # the Step column, not the row number
    assert ev.values.tolist() == pytest.approx([0.2281, 0.1833, 0.1573, 0.1489, 0.1445, 0.1473])
    assert ev.raw_name == "Validation Loss"
    # "No log" is a missing training loss in that row only: the row's evaluation is still read
    assert run.metrics["loss"].steps.tolist() == [520, 624]
    assert run.metrics["eval_f1"].values[0] == pytest.approx(0.6789)
    assert run.metrics["eval_accuracy"].steps.tolist()[-1] == 624
    assert run.metrics["epoch"].values.tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert "Step" not in run.metrics and "step" not in run.metrics
    # the "It achieves the following results" bullets and the framework list are no config and no metric
    assert run.config_value("learning_rate").value == pytest.approx(2e-05)
    assert run.config_value("per_device_train_batch_size").value == 32
    assert run.config_value("num_train_epochs").value == 20
    assert run.config_value("optim").value == "adam"
    assert run.config_value("adam_epsilon").value == pytest.approx(1e-08)
    assert run.config_value("fp16") is None  # no mixed_precision_training line: full precision


def test_hyperparameter_list_as_training_arguments() -> None:
    # models/arampacha/wav2vec2-xls-r-1b-uk-cv/README.md: accumulation, warmup ratio, training_steps, Native AMP
    run = load_run([CORPUS / "hfcard-xlsr-1b-uk-cv-wer-cer" / "run"])
    assert [s.format for s in run.sources] == ["hf_model_card"]
    want = {"learning_rate": 8e-05, "per_device_train_batch_size": 16, "gradient_accumulation_steps": 8,
            "total_batch_size": 128, "lr_scheduler_type": "cosine", "warmup_ratio": 0.1, "max_steps": 8000,
            "fp16": True, "seed": 42}
    for key, value in want.items():
        cv = run.config_value(key)
        assert cv is not None and cv.value == value, key
        assert cv.line is not None and cv.file.endswith("README.md")
    assert run.config_value("warmup_steps") is None
    assert run.config_value("num_train_epochs") is None


@pytest.mark.parametrize("raw, want", [
    ("Native AMP", [("fp16", True)]),
    ("Apex, opt level O1", [("fp16", True), ("fp16_opt_level", "O1")]),
    ("Adam with betas=(0.9,0.999) and epsilon=1e-08",
     [("optim", "adam"), ("adam_beta1", 0.9), ("adam_beta2", 0.999), ("adam_epsilon", 1e-08)]),
])
def test_card_values(raw: str, want: list[tuple[str, object]]) -> None:
    key = "mixed_precision_training" if "AMP" in raw or "Apex" in raw else "optimizer"
    assert hf_model_card.config_values(key, raw) == want


def test_whole_corpus_cards_read() -> None:
    for entry in sorted(CORPUS.glob("hfcard-*")):
        run = load_run([entry / "run"])
        assert [s.format for s in run.sources] == ["hf_model_card"], entry.name
        loss, ev = run.metrics["loss"], run.metrics["eval_loss"]
        assert len(ev) >= 6 and np.all(np.diff(ev.steps) > 0), entry.name
        assert set(loss.steps.tolist()) <= set(ev.steps.tolist()), entry.name


def test_readme_without_card_headings_is_not_claimed(tmp_path: Path) -> None:
    """A project README's own results table (another format: an epoch table, a model comparison) is a document,
    not a card: the card reader leaves it, and the text-log reader does not read a document's tables."""
    readme = ("# My project\n\n## Results\n\n| epoch | train loss | val loss |\n|---|---|---|\n| 1 | 2.41 | 2.50 |\n"
              "| 2 | 1.90 | 2.02 |\n| 3 | 1.62 | 1.80 |\n\n| Model | Accuracy | F1 |\n|---|---|---|\n"
              "| BERT | 0.91 | 0.90 |\n")
    path = tmp_path / "README.md"
    path.write_text(readme)
    assert hf_model_card.sniff(path, readme.encode()) == 0.0
    # a "Training results" heading over a table that is not the Trainer's is not enough either
    other = "### Training results\n\n| epoch | loss |\n|---|---|\n| 1 | 2.0 |\n"
    assert hf_model_card.sniff(path, other.encode()) == 0.0
    # and a card's table under any other name than a Markdown document is left to the other readers
    assert hf_model_card.sniff(tmp_path / "train.log", NER_CARD.encode()) == 0.0


def test_card_table_pasted_into_a_log_reads_by_step_column(tmp_path: Path) -> None:
    """The same table in a console log (a pasted card): the Markdown-table parser takes the Step column as the step
    and a `No log` cell as missing in that cell only."""
    table = NER_CARD.split("### Training results\n\n", 1)[1].split("\n\n", 1)[0] + "\n"
    path = tmp_path / "train.log"
    path.write_text(table)
    run = Run()
    text_log.read(path, run)
    run.finalize()
    assert run.metrics["eval_loss"].steps.tolist() == [104, 208, 312, 416, 520, 624]
    assert run.metrics["loss"].steps.tolist() == [520, 624]
