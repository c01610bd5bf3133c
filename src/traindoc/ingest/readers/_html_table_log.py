"""HTML tables in a text log: the live progress table of the Hugging Face Trainer's notebook callback (and of
fastai's fastprogress) as a notebook's Markdown or HTML export writes it, one tag per line:

    <table border="1" class="dataframe">
      <thead>
     <tr style="text-align: left;">
          <th>Step</th>
          <th>Training Loss</th>
        </tr>
      </thead>
      <tbody>
        <tr>
          <td>1</td>
          <td>0.774000</td>
        </tr>

In a `.ipynb` the notebook reader turns such a table into Markdown rows (readers/notebook.py); exported, the same
table reached the text-log reader as bare tags and nothing was read (a blind healthy Unsloth log, session 28, g31).
Each `<tr>` row is put back into the Markdown row the notebook reader would make (`| Step | Training Loss |`, the
header followed by its separator) and read by the Markdown-table parser, so an exported table reads as the notebook
does: the same names, steps and evaluation columns. A row ends at its `</tr>`; several rows on one line give the
last one only (the exports seen put each cell on its own line).
"""

from __future__ import annotations

import html
import re

from traindoc.ingest.readers.textlog_formats import Record, State, parse_md_table

_TOKEN = re.compile(r"<tr\b|</tr\s*>|<(t[hd])\b[^>]*>(.*?)</t[hd]\s*>|</table\s*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]{0,2000}>")
_KEY = "html_row"


def parse_html_table(line: str, st: State) -> Record | None:
    """The record of a table row that ends on this line (module docstring), or None."""
    if "<t" not in line and "</t" not in line and "<T" not in line:
        return None
    rec: Record | None = None
    for tok in _TOKEN.finditer(line):
        text = tok.group(0).lower()
        if text.startswith("<tr"):
            st.extra[_KEY] = {"cells": [], "head": False}
        elif text.startswith("</table"):
            st.extra.pop(_KEY, None)
            st.extra.pop("html_header", None)
            parse_md_table("end of table", st)  # a non-row line closes the Markdown parser's table too
        elif text.startswith("</tr"):
            row = st.extra.pop(_KEY, None)
            if not row or not row["cells"]:
                continue
            md = "| " + " | ".join(c.replace("|", "/") for c in row["cells"]) + " |"
            if row["head"] and "html_header" not in st.extra:
                st.extra["html_header"] = True
                parse_md_table(md, st)
                parse_md_table("|" + "---|" * len(row["cells"]), st)
            else:
                rec = parse_md_table(md, st) or rec
        elif _KEY in st.extra:
            cell = html.unescape(_TAG.sub("", tok.group(2) or "")).strip()
            st.extra[_KEY]["cells"].append(cell)
            st.extra[_KEY]["head"] |= tok.group(1).lower() == "th"
    return rec
