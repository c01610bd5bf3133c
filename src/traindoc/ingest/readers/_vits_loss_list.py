"""VITS-family trainers' loss print: a `Train Epoch` header, then the losses as a bare Python list with the global
step and the learning rate at its end (jaywalnut310/vits `train.py`, and the trainers copied from it: so-vits-svc,
Bert-VITS2, ...).

    2023-02-18 17:38:38,439	32k	INFO	Train Epoch: 1 [0%]
    2023-02-18 17:38:38,439	32k	INFO	[2.6858417987823486, 2.8425562381744385, 5.799555778503418, ..., 0, 0.0001]
    2023-07-22 21:56:12,356	44k	INFO	损失：[2.7237..., 2.7280..., ..., 3.6099...]，步数：0，学习率：0.0001

(values cut short here)
The trainer logs `[x.item() for x in losses] + [global_step, lr]` every `log_interval` steps. The losses are, in
order, the discriminator's adversarial loss, the generator's, the feature-matching loss, the mel-spectrogram L1
(already weighted by `c_mel`), VITS's duration loss (absent from so-vits-svc, which has no text alignment) and the KL
term: six values in VITS and Bert-VITS2, five in so-vits-svc; read as `disc_loss`, `gen_loss`, `fm_loss`,
`mel_loss`, (`dur_loss`,) `kl_loss`, with `lr`, at the printed global step. A translated so-vits-svc (the Chinese
fork above) prints the step and the rate as labelled fields after the list. An adversarial pair logs no total loss
(evidence/context.py reads each player on its own). The generic rules read nothing here (issue 8, session 31:
tests/corpus/realworld/so-vits-svc-dodo-32k-401-epochs, unreadable blind): a bare list has no names.

Guards: a list is read only on the line after a `Train Epoch: N [p%]` header, only with five or six losses, an
integer step and a positive learning rate; anything else is left to the other readers. A step that goes back is the
run resumed from a saved checkpoint (`Loaded checkpoint ... G_11000.pth`, as in the log above): read on, the later
value of a step wins (ingest/model.py).

RVC (Retrieval-based-Voice-Conversion-WebUI `infer/modules/train/train.py`, a VITS trainer) logs the same step in
three lines: the header, `[global_step, lr]` as a two-element list, then the losses by name, each `name=value` pair
named `loss_*` (Python logging's default `LEVEL:logger:` prefix kept):

    INFO:Kamyk-12M:Train Epoch: 2 [47%]
    INFO:Kamyk-12M:[200, 9.99875e-05]
    INFO:Kamyk-12M:loss_disc=3.728, loss_gen=3.328, loss_fm=5.902,loss_mel=23.647, loss_kl=2.332

The losses are read under their printed names at the list's step, the rate as `lr`; forks that print the losses
over two lines (a second `loss_mel=..., loss_kl=...` line) are read at the same step. The generic rules read the
named losses but not the list, so the step was the line order and the rate was lost (issue 8, session 33:
tests/corpus/realworld/g3s33-rvc-webui-kamyk-12m-20ep-readme). Guards: the list is read only on the line after a
header, as an integer step and a positive rate; a loss line only on the lines right after such a list, and only when
every pair on it is a `loss_*` name with a number.
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, parse_number

_HEADER = re.compile(r"(?:^|[\s:])Train Epoch: (\d+) \[\d+%\]$")
_LIST = re.compile(rf"(?:^|[\s:])(?:损失：)?\[((?:{NUM}, )+{NUM})\](?:，步数：(\d+)，学习率：({NUM}))?$")
# the RVC losses line: the whole message is `loss_<name>=<number>` pairs, ", " or "," between them, after Python
# logging's default `LEVEL:logger:` prefix when the line has one
_NAMED = re.compile(rf"^(?:[A-Z]+:[\w.-]*:)?(loss_\w+={NUM}(?:, ?loss_\w+={NUM})+)$")
_PAIR = re.compile(rf"(loss_\w+)=({NUM})")
_NAMES = {5: ("disc_loss", "gen_loss", "fm_loss", "mel_loss", "kl_loss"),
          6: ("disc_loss", "gen_loss", "fm_loss", "mel_loss", "dur_loss", "kl_loss")}


def parse_vits_loss_list(line: str, st: State) -> Record | None:
    """The loss list after a `Train Epoch` header (module docstring), or None for any other line."""
    text = line.strip()
    h = _HEADER.search(text)
    if h is not None:
        st.extra["vits_epoch"] = int(h.group(1))
        return None
    pending = st.extra.pop("rvc_step", None)
    if pending is not None:
        named = _NAMED.search(text)
        if named is not None:
            metrics = {k: v for k, raw in _PAIR.findall(named.group(1)) if (v := parse_number(raw)) is not None}
            if metrics:
                st.extra["rvc_step"] = pending  # a fork's second losses line belongs to the same step
                return Record(pending[0], metrics, epoch=pending[1])
    epoch = st.extra.pop("vits_epoch", None)
    m = _LIST.search(text) if epoch is not None else None
    if m is None:
        return None
    values = [parse_number(v) for v in m.group(1).split(", ")]
    if m.group(2) is not None:
        values += [float(m.group(2)), parse_number(m.group(3))]
    if len(values) == 2:  # RVC: `[global_step, lr]`, the losses on the next line
        step, lr = values
        if step is None or lr is None or step != int(step) or step < 0 or lr <= 0:
            return None
        st.extra["rvc_step"] = (int(step), epoch)
        return Record(int(step), {"lr": lr}, epoch=epoch)
    names = _NAMES.get(len(values) - 2)
    step, lr = values[-2], values[-1]
    if names is None or step is None or lr is None or step != int(step) or lr <= 0:
        return None
    metrics = {n: v for n, v in zip(names, values[:-2], strict=True) if v is not None}
    metrics["lr"] = lr
    return Record(int(step), metrics, epoch=epoch)
