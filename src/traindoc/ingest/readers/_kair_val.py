"""KAIR's validation line: `<epoch:  7, iter:  20,000, Average PSNR : 28.51dB` (or without the iteration).

KAIR (cszn/KAIR, the image restoration toolbox of DnCNN, USRNet, SwinIR's first release) and the scripts written after
it log training as `<epoch:  0, iter:     200, lr:1.000e-04> G_loss: 1.2e-01 ` (read by the BasicSR/mmsr rules of
textlog_formats.parse_basicsr) and, after each test pass, the mean PSNR over the test images as
`<epoch:{:3d}, iter:{:8,d}, Average PSNR : {:<.2f}dB`. That line has no closing `>`, a space before the colon and the
unit glued to the number, so neither the BasicSR rules nor the generic `key: value` rules read it. Scripts that count
only epochs print the same line without the iteration (`<epoch: 10, Average PSNR : 18.33dB`).

It is read as the held-out `val_psnr` (higher is better) at the iteration, else at the epoch, which is then the step
the same script's training lines carry. First met in a real-world healthy log (issue 8, session 34:
tests/corpus/realworld/usrnet-pytorch-div2k-558ep-slurm-timeout), where the training loss was read blind and the 55
PSNR points were not.

Guards: after the logger's prefix (KAIR's `22-01-01 10:00:01.000 : `) the line must open with `<epoch:` and hold
only the counters and `Average PSNR : x dB` (an SSIM or another average in the same shape is read under its own name,
lower-cased); the value is a bare number.
"""

from __future__ import annotations

import re

from traindoc.ingest.readers.textlog_formats import NUM, Record, State, parse_number

_LINE = re.compile(
    rf"(?:^|\s)<epoch:\s*(\d+),\s*(?:iter:\s*([\d,]+),\s*)?Average\s+(PSNR|SSIM|PSNRB|LPIPS)\s*:\s*({NUM})\s*(?:dB)?\s*$",
    re.I,
)


def parse_kair_val(line: str, st: State) -> Record | None:
    """The test pass's mean score as `val_<name>` at the iteration (else the epoch); None for any other line."""
    m = _LINE.search(line.strip())
    if m is None:
        return None
    value = parse_number(m.group(4))
    if value is None:
        return None
    epoch = int(m.group(1))
    name = f"val_{m.group(3).lower()}"
    if m.group(2) is not None:
        return Record(int(m.group(2).replace(",", "")), {name: value}, eval=True, epoch=epoch)
    return Record(epoch, {name: value}, eval=True, epoch=epoch, from_epoch=True)
