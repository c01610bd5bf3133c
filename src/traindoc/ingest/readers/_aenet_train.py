"""The output of aenet's `train.x` (the Atomic Energy Network package's Fortran trainer; its examples keep it as
`output/fit-NN.dat`, users as `train.out`).

After the settings, network and training-set sections, `train.x` prints one row per epoch under a header:

            |------------TRAIN-----------|  |------------TEST------------|
    epoch             MAE          <RMSE>             MAE          <RMSE>
         0    6.039819E-01    5.044585E-01    5.967030E-01    4.993762E-01 <
         1    6.039819E-01    5.044585E-01    5.967030E-01    4.993762E-01 <

the mean absolute and root-mean-square energy errors (eV/atom) over the training and the test structures; a trailing
`<` marks an epoch whose test error is the best so far. The trainer minimises the squared energy error over the
training set (Artrith & Urban 2016, Comput. Mater. Sci. 114, 135, the cost function of section 2), so the training
RMSE is read as `loss` and the test RMSE as `val_loss`, the MAEs as `mae` / `val_mae` (the convention of the DeePMD-kit
learning curve, readers/_deepmd_lcurve.py), stepped by the epoch. Rows are read only after the header (the numbers
alone could be any table) and until `Training finished.`; epoch 0 is the error of the starting weights. The generic
reader took nothing from this output, and its `.dat` name was no known log name.
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import Record, State, parse_number

_HEADER = re.compile(r"^epoch\s+MAE\s+<RMSE>\s+MAE\s+<RMSE>$")
# train.x writes the errors in Fortran's ES format (`2.150739E+00`, a NaN as `NaN`): a row of plain decimals is another
# table's
_ERR = r"(?:\d\.\d+E[-+]\d+|NaN|Infinity)"
_ROW = re.compile(rf"^(\d+)\s+({_ERR})\s+({_ERR})\s+({_ERR})\s+({_ERR})(?:\s+<)?$")
_END = "Training finished."
_IN_TABLE = "aenet_table"


def parse_aenet_train(line: str, st: State) -> Record | None:
    """One epoch row of train.x's error table (module docstring), or None for any other line."""
    text = line.strip()
    if _HEADER.match(text):
        st.extra[_IN_TABLE] = True
        return Record(None, claimed=True)
    if not st.extra.get(_IN_TABLE):
        return None
    if text == _END:
        st.extra[_IN_TABLE] = False
        return None
    m = _ROW.match(text)
    if m is None:
        return None
    metrics: dict[str, float] = {}
    for name, group in (("mae", 2), ("loss", 3), ("val_mae", 4), ("val_loss", 5)):
        v = parse_number(m.group(group))
        if v is None:
            return None
        metrics[name] = v
    epoch = int(m.group(1))
    return Record(epoch, metrics, epoch=epoch, from_epoch=True)
