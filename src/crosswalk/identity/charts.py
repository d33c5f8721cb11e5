"""Charts of a trained model, written as files (PNG and self-contained HTML) for stewards
and, later, the web UI. Rendering needs no internet: vl-convert embeds what it needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import vl_convert as vlc
from splink import Linker

# Splink's charts tell the reader to zoom with the mouse wheel: true of the HTML, not of
# a picture.
ZOOM_HINT = "Use mousewheel to zoom"


def without_zoom_hint(spec: Any) -> Any:
    """The spec with Splink's zoom hint taken out of every title's subtitle."""
    if isinstance(spec, list):
        return [without_zoom_hint(s) for s in spec]
    if not isinstance(spec, dict):
        return spec
    out = {k: without_zoom_hint(v) for k, v in spec.items()}
    title = out.get("title")
    if isinstance(title, dict) and "subtitle" in title:
        sub = title["subtitle"]
        kept = [s for s in sub if s != ZOOM_HINT] if isinstance(sub, list) else sub
        if kept == ZOOM_HINT or kept == []:
            out["title"] = {k: v for k, v in title.items() if k != "subtitle"}
        else:
            out["title"] = {**title, "subtitle": kept}
    return out


def _write(chart: Any, folder: Path, name: str) -> list[Path]:
    spec = chart.chart_dict
    png = folder / f"{name}.png"
    html = folder / f"{name}.html"
    png.write_bytes(vlc.vegalite_to_png(without_zoom_hint(spec), scale=1.5))
    html.write_text(vlc.vegalite_to_html(spec, bundle=True))
    return [png, html]


def write_charts(linker: Linker, folder: str | Path) -> list[Path]:
    """The match-weights chart and the m/u parameters chart of the trained model."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    files = _write(linker.visualisations.match_weights_chart(), out, "match_weights")
    files += _write(linker.visualisations.m_u_parameters_chart(), out, "m_u_parameters")
    return files
