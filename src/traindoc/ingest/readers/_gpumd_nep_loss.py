"""GPUMD's NEP training loss file (`loss.out` of the `nep` executable, neuroevolution machine-learned potentials).

Every 100 generations of its separable natural evolution strategy, `nep` appends one row of numbers with no header.
For a potential the ten columns are, by GPUMD's documentation of `loss.out`:

    gen L_t L_1 L_2 L_e_train L_f_train L_v_train L_e_test L_f_test L_v_test
    100     0.95930    0.00924    0.01130    0.19357      0.59372      0.72047      0.11414      0.39436      0.36893

`L_t` is the total loss the evolution minimises (the energy, force and virial RMSEs of the training set plus the
two regularisation terms; Fan et al. 2021, "Neuroevolution machine learning potentials", Phys. Rev. B 104, 104309,
section II C), read as `loss`; `L_1` / `L_2` are its l1 and l2 regularisation terms (`l1_reg`, `l2_reg`), which grow as
the weights leave zero; the RMSEs of the training and test sets keep their quantity (`rmse_energy`, `test_rmse_force`).
A dipole or polarizability model writes six columns, `gen L_t L_1 L_2` and the training and test RMSE of that
quantity. The file has no header to tell its rows from any other table of numbers, so a row is read only when it
has six or ten fields, a generation that is a multiple of 100 and 100 past the previous row's, and non-negative
decimals in every other column (losses and RMSEs). The generic reader took nothing from this file.
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import Record, State

_STRIDE = 100  # nep writes loss.out every 100 generations (GPUMD's documentation)
_DECIMAL = re.compile(r"^\d+\.\d+(?:[eE][-+]?\d+)?$")
_POTENTIAL = ("loss", "l1_reg", "l2_reg", "rmse_energy", "rmse_force", "rmse_virial",
              "test_rmse_energy", "test_rmse_force", "test_rmse_virial")
_TENSOR = ("loss", "l1_reg", "l2_reg", "rmse", "test_rmse")
_LAST = "gpumd_nep_last_gen"


def parse_gpumd_nep_loss(line: str, st: State) -> Record | None:
    """A loss.out row (module docstring), or None for any other line."""
    fields = line.split()
    if len(fields) == 10:
        names = _POTENTIAL
    elif len(fields) == 6:
        names = _TENSOR
    else:
        return None
    if not fields[0].isdigit() or not all(_DECIMAL.match(f) for f in fields[1:]):
        return None
    gen = int(fields[0])
    last = st.extra.get(_LAST)
    if gen % _STRIDE or gen == 0 or (last is not None and gen != last + _STRIDE) or (last is None and gen != _STRIDE):
        return None
    st.extra[_LAST] = gen
    return Record(gen, {name: float(raw) for name, raw in zip(names, fields[1:], strict=True)})
