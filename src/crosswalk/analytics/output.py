"""Answers to files: tables (CSV, Parquet, JSON) and charts (PNG, self-contained HTML).

Charts are Vega-Lite specs built with Altair from the released table only, rendered by
vl-convert with the Vega libraries bundled into the HTML, so they open without internet.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from crosswalk import csvfile, privatefile
from crosswalk.errors import ConfigError

FORMATS = ("csv", "parquet", "json")


def write_table(table: pa.Table, path: str | Path) -> Path:
    """Write ``table`` in the format its suffix names (.csv, .parquet, .json)."""
    p = Path(path)
    fmt = p.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise ConfigError(f"{p}: unknown table format; use one of {', '.join(FORMATS)}")
    p.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        return csvfile.write_table_csv(table, p)
    # An extract is person-level: the file is its owner's only (``privatefile``).
    if fmt == "parquet":
        return privatefile.write(p, lambda q: pq.write_table(table, q))
    text = json.dumps(table.to_pylist(), default=str, indent=1) + "\n"
    return privatefile.write(p, lambda q: q.write_text(text))


def chart(name: str, table: pa.Table, title: str, about: str | None = None) -> Any:
    """The chart for a question's answer (an Altair chart; see ``analytics.charts``).

    Imported on use: Altair is only needed by those who draw."""
    from crosswalk.analytics import charts

    return charts.chart(name, table, title, about)


def write_chart(spec: Any, path: str | Path) -> Path:
    """PNG or self-contained HTML (the Vega libraries inline), by the path's suffix."""
    import vl_convert as vlc

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    vl = spec.to_dict()
    if p.suffix.lower() == ".png":
        p.write_bytes(vlc.vegalite_to_png(vl, scale=1.5))
    elif p.suffix.lower() == ".html":
        p.write_text(vlc.vegalite_to_html(vl, bundle=True))
    else:
        raise ConfigError(f"{p}: charts are written as .png or .html")
    return p
