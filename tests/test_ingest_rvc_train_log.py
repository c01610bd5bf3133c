"""RVC's (Retrieval-based-Voice-Conversion-WebUI, a VITS trainer) train log: a `Train Epoch` header, the step and the
learning rate as `[global_step, lr]`, then the losses by name on the next line (_vits_loss_list.py). Read blind (issue
8, session 33), the generic rules read the named losses at line-order steps 1..14 and no learning rate; the reader
reads them at the printed global step. It claims no look-alike line, nor a line of another family."""

from __future__ import annotations

from pathlib import Path

import pytest

from textlog_support import points, read_text
from traindoc.ingest.loader import load_run
from traindoc.ingest.readers._vits_loss_list import parse_vits_loss_list
from traindoc.ingest.readers.textlog_formats import State

REALWORLD = Path(__file__).parent / "corpus" / "realworld"
ENTRY = "g3s33-rvc-webui-kamyk-12m-20ep-readme"

# the corpus entry's first three logged steps, lines as the README shows them
RVC = """\
INFO:Kamyk-12M:Train Epoch: 1 [0%]
INFO:Kamyk-12M:[0, 0.0001]
INFO:Kamyk-12M:loss_disc=4.107, loss_gen=4.434, loss_fm=10.796,loss_mel=26.703, loss_kl=9.000
DEBUG:matplotlib:matplotlib data path: X:\\miniconda3\\envs\\voice-ai-38\\lib\\site-packages\\matplotlib\\mpl-data
DEBUG:matplotlib:CONFIGDIR=C:\\Users\\kamil\\.matplotlib
DEBUG:matplotlib:interactive is False
DEBUG:matplotlib:platform is win32
INFO:Kamyk-12M:====> Epoch: 1 [2024-06-13 02:20:09] | (0:12:58.170309)
INFO:Kamyk-12M:Train Epoch: 2 [47%]
INFO:Kamyk-12M:[200, 9.99875e-05]
INFO:Kamyk-12M:loss_disc=3.728, loss_gen=3.328, loss_fm=5.902,loss_mel=23.647, loss_kl=2.332
INFO:Kamyk-12M:====> Epoch: 2 [2024-06-13 02:33:38] | (0:13:28.865716)
INFO:Kamyk-12M:Train Epoch: 3 [94%]
INFO:Kamyk-12M:[400, 9.99750015625e-05]
INFO:Kamyk-12M:loss_disc=3.762, loss_gen=3.529, loss_fm=9.578,loss_mel=22.949, loss_kl=2.516
INFO:Kamyk-12M:====> Epoch: 3 [2024-06-13 02:46:11] | (0:12:32.941089)
"""


def test_losses_and_rate_at_the_printed_global_step(tmp_path):
    run = read_text(tmp_path, RVC)
    assert points(run, "loss_mel") == [(0, 26.703), (200, 23.647), (400, 22.949)]
    assert points(run, "loss_disc") == [(0, 4.107), (200, 3.728), (400, 3.762)]
    assert points(run, "lr", 10) == [(0, 0.0001), (200, 9.99875e-05), (400, 9.9975e-05)]
    assert "loss" not in run.metrics  # an adversarial pair: no total is logged


def test_the_corpus_entry_reads_every_logged_step():
    run = load_run([REALWORLD / ENTRY / "run"])
    mel = run.series("loss_mel")
    assert mel is not None and len(mel) == 14
    assert int(mel.steps[0]) == 0 and int(mel.steps[-1]) == 2600
    assert run.series("lr") is not None and len(run.series("lr")) == 14


def test_a_fork_second_losses_line_is_read_at_the_same_step():
    st = State()
    assert parse_vits_loss_list("INFO:exp:Train Epoch: 4 [10%]", st) is None
    rec = parse_vits_loss_list("INFO:exp:[600, 0.0001]", st)
    assert rec is not None and rec.step == 600 and rec.metrics == {"lr": 0.0001} and rec.epoch == 4
    rec = parse_vits_loss_list("INFO:exp:loss_disc=3.1, loss_gen=2.9, loss_fm=8.0", st)
    assert rec is not None and rec.step == 600 and rec.metrics["loss_fm"] == 8.0
    rec = parse_vits_loss_list("INFO:exp:loss_mel=20.5, loss_kl=1.9, loss_dur=0.3", st)
    assert rec is not None and rec.step == 600 and rec.metrics["loss_dur"] == 0.3
    assert parse_vits_loss_list("INFO:exp:====> Epoch: 4", st) is None
    # the step is used up: a later losses line with no list before it is not read
    assert parse_vits_loss_list("INFO:exp:loss_disc=3.0, loss_gen=2.8", st) is None


@pytest.mark.parametrize("lines", [
    ["[200, 9.99875e-05]", "loss_disc=3.728, loss_gen=3.328"],  # no header before the list
    ["Train Epoch: 2 [47%]", "[200.5, 9.99875e-05]", "loss_disc=3.728, loss_gen=3.328"],  # step not an integer
    ["Train Epoch: 2 [47%]", "[200, 0]", "loss_disc=3.728, loss_gen=3.328"],  # no positive rate
    ["Train Epoch: 2 [47%]", "[200, 9.99875e-05]", "loss_disc=3.728, acc=0.5"],  # a pair that is not a loss
    ["Train Epoch: 2 [47%]", "[200, 9.99875e-05]", "loss_disc=3.728"],  # a single pair: no losses line
])
def test_guards(lines):
    st = State()
    recs = [parse_vits_loss_list(line, st) for line in lines]
    assert recs[-1] is None


OTHER_LINES = [
    "Epoch: 1, step: 200, loss_disc=3.7, loss_gen=3.3",  # another print that names the step itself
    "[Epoch 1 (47%) | Step 200] loss_disc=3.728 | loss_gen=3.328 LR=0.0001",  # a VITS fork's one-line print
    "loss_D=0.69, loss_G=2.31",
    "INFO:root:Saving model and optimizer state at epoch 5 to ./logs\\Kamyk-12M\\G_680.pth",
    "Steps : 200, Gen Loss Total : 45.123, Mel-Spec. Error : 0.512, s/b : 0.320",
    "2023-02-18 17:39:24,741	32k	INFO	====> Epoch: 1",
]


def test_claims_no_other_line():
    st = State()
    parse_vits_loss_list("INFO:exp:Train Epoch: 2 [47%]", st)
    parse_vits_loss_list("INFO:exp:[200, 9.99875e-05]", st)
    for line in OTHER_LINES:
        assert parse_vits_loss_list(line, st) is None, line
