"""Charts as inline SVG, drawn on the server from the Vega-Lite specs the CLI writes.

The same specs (``crosswalk.analytics.chart``, ``crosswalk.identity.charts``) that make
the CLI's PNG and HTML files are rendered here by vl-convert to SVG, so no chart library
runs in the browser and the page's Content-Security-Policy needs no exception. The SVG
has no script, no style attribute and no external reference; it gets an accessible name.
"""

from __future__ import annotations

import re
from typing import Any
from xml.etree import ElementTree

from markupsafe import Markup, escape

_NAMESPACES = re.compile(r'\s+xmlns(?::xlink)?="[^"]*"')
_FORBIDDEN_ELEMENTS = frozenset({"script", "foreignobject", "style", "iframe", "object", "embed"})


def _forbidden(drawn: str) -> bool:
    """Whether the SVG's markup (its elements and attributes, not its text) holds a script,
    a style attribute, an event handler or a link out of the chart.

    The markup is parsed, not searched as text: a county or a name from an agency's
    extract is the chart's text (escaped, and repeated in the marks' ``aria-label``), and
    one such as ``CENTRAL ONLOAD=1`` must neither pass for markup nor stop the page."""
    for element in ElementTree.fromstring(drawn).iter():
        if str(element.tag).rsplit("}", 1)[-1].lower() in _FORBIDDEN_ELEMENTS:
            return True
        for name, value in element.attrib.items():
            local = name.rsplit("}", 1)[-1].lower()
            if local == "style" or local.startswith("on"):
                return True
            if local == "href" and not value.startswith("#"):
                return True
    return False


def svg(spec: Any, label: str) -> Markup:
    """A Vega-Lite spec (a dict, or an Altair chart) as SVG to put in a page, named by
    ``label`` for screen readers (the table beside each chart has every figure)."""
    import vl_convert as vlc

    as_dict = spec.to_dict() if hasattr(spec, "to_dict") else spec
    drawn = vlc.vegalite_to_svg(as_dict)
    try:
        forbidden = _forbidden(drawn)
    except ElementTree.ParseError:
        forbidden = True
    if forbidden:
        raise ValueError("the chart's SVG carries markup a page may not show")
    # Inline SVG in HTML needs no namespace declarations (the only URLs it carries).
    drawn = _NAMESPACES.sub("", drawn, count=2)
    start = drawn.index("<svg") + len("<svg")
    return Markup(
        f'{drawn[:start]} role="img" aria-label="{escape(label)}" focusable="false"{drawn[start:]}'
    )
