"""Charts of a trained model, written as files (PNG and self-contained HTML) for stewards
and, later, the web UI. Rendering needs no internet: vl-convert embeds what it needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import vl_convert as vlc
from splink import Linker


def _write(chart: Any, folder: Path, name: str) -> list[Path]:
    spec = chart.chart_dict
    png = folder / f"{name}.png"
    html = folder / f"{name}.html"
    png.write_bytes(vlc.vegalite_to_png(spec, scale=1.5))
    html.write_text(vlc.vegalite_to_html(spec, bundle=True))
    return [png, html]


def write_charts(linker: Linker, folder: str | Path) -> list[Path]:
    """The match-weights chart and the m/u parameters chart of the trained model."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    files = _write(linker.visualisations.match_weights_chart(), out, "match_weights")
    files += _write(linker.visualisations.m_u_parameters_chart(), out, "m_u_parameters")
    return files
