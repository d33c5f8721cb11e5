"""Charts as inline SVG, drawn on the server from the Vega-Lite specs the CLI writes.

The same specs (``crosswalk.analytics.chart``, ``crosswalk.identity.charts``) that make
the CLI's PNG and HTML files are rendered here by vl-convert to SVG, so no chart library
runs in the browser and the page's Content-Security-Policy needs no exception. The SVG
has no script, no style attribute and no external reference; it gets an accessible name.
"""

from __future__ import annotations

import re
from typing import Any

from markupsafe import Markup, escape

_NAMESPACES = re.compile(r'\s+xmlns(?::xlink)?="[^"]*"')
_FORBIDDEN = re.compile(r"<script|\sstyle=|\son[a-z]+=|<foreignObject|href=\"(?!#)", re.I)


def svg(spec: Any, label: str) -> Markup:
    """A Vega-Lite spec (a dict, or an Altair chart) as SVG to put in a page, named by
    ``label`` for screen readers (the table beside each chart has every figure)."""
    import vl_convert as vlc

    as_dict = spec.to_dict() if hasattr(spec, "to_dict") else spec
    drawn = vlc.vegalite_to_svg(as_dict)
    # Inline SVG in HTML needs no namespace declarations (the only URLs it carries).
    drawn = _NAMESPACES.sub("", drawn, count=2)
    if _FORBIDDEN.search(drawn):
        raise ValueError("the chart's SVG carries markup a page may not show")
    start = drawn.index("<svg") + len("<svg")
    return Markup(
        f'{drawn[:start]} role="img" aria-label="{escape(label)}" focusable="false"{drawn[start:]}'
    )
