"""The offline assets every exported map inlines: Leaflet, the page's CSS and JavaScript.

Officials open the map on meeting-room machines without internet, so nothing is linked
from a CDN: Leaflet (vendored in ``planner/static``, see its README) and the map's own
``gap_map.css`` / ``gap_map.js`` are written into the page.
"""

from __future__ import annotations

import base64
import re
from functools import cache
from importlib import resources

_STATIC = resources.files("planner") / "static"


def _read(name: str) -> str:
    return (_STATIC / name).read_text(encoding="utf-8")


@cache
def leaflet_js() -> str:
    """Leaflet's script, checked to be safe inside an inline ``<script>``."""
    return _inline_script(_read("leaflet.js"), "leaflet.js")


@cache
def leaflet_css() -> str:
    """Leaflet's stylesheet with its ``images/*.png`` turned into ``data:`` URIs."""
    def data_uri(match: re.Match[str]) -> str:
        png = (_STATIC / match.group(1)).read_bytes()
        return f"url(data:image/png;base64,{base64.b64encode(png).decode('ascii')})"

    return re.sub(r"url\(images/([\w.-]+\.png)\)", data_uri, _read("leaflet.css"))


@cache
def page_js() -> str:
    """The gap map's own script (layers, panels, switches, popups)."""
    return _inline_script(_read("gap_map.js"), "gap_map.js")


@cache
def page_css() -> str:
    """The gap map's own stylesheet."""
    return _read("gap_map.css")


def _inline_script(js: str, name: str) -> str:
    if "</script" in js.lower():  # would end the inline <script> early
        msg = f"planner/static/{name} contains '</script' and cannot be inlined"
        raise RuntimeError(msg)
    return js


def external_assets(html_text: str) -> list[str]:
    """List the URLs of scripts and stylesheets ``html_text`` would fetch from a network.

    Links (``<a href>``) and basemap tile URLs inside the script are not counted: the
    page shows its data without them.
    """
    patterns = (
        r"<script\b[^>]*\bsrc\s*=\s*[\"']?((?:https?:)?//[^\"'\s>]+)",
        r"<link\b[^>]*\bhref\s*=\s*[\"']?((?:https?:)?//[^\"'\s>]+)",
        r"@import\s+(?:url\()?[\"']?((?:https?:)?//[^\"')\s]+)",
    )
    return [url for p in patterns for url in re.findall(p, html_text, flags=re.IGNORECASE)]
