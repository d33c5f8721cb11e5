"""The web UI mounted on the service: pages under ``/ui``, their assets under ``/ui/static``.

Every asset (CSS, htmx, the UI's own script) ships inside the package: nothing is
fetched from another site, and the pages' Content-Security-Policy allows nothing else.
Charts are SVG drawn on the server from the same Vega-Lite specs the CLI writes, so no
chart library runs in the browser.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crosswalk.web import (
    routes_audit,
    routes_batches,
    routes_dashboard,
    routes_home,
    routes_linkage,
    routes_person,
    routes_requests,
    routes_uploads,
)
from crosswalk.web.pages import HERE
from crosswalk.web.releases import Releases

# No inline script or style (not even a style attribute): scripts, styles, images and
# fonts from this origin only; no framing; forms post only here.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
PAGE_HEADERS = (
    (b"content-security-policy", CSP.encode()),
    (b"strict-transport-security", b"max-age=31536000; includeSubDomains"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
)
# The service's own headers, as the UI's pages need them: a referrer only within the
# UI (with none at all, a browser sends a form's Origin as "null", and the UI refuses
# forms whose origin it cannot see to be its own).
SERVICE_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)


class PageHeaders:
    """The UI's security headers on every response under ``/ui`` (a page's own CSP
    replaces any other)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not (path == "/" or path == "/ui" or path.startswith("/ui/")):
            await self.app(scope, receive, send)
            return
        ours = {name for name, _ in PAGE_HEADERS + SERVICE_HEADERS}

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in ours]
                message["headers"] = [*kept, *PAGE_HEADERS, *SERVICE_HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers)


def mount(app: FastAPI) -> None:
    """Add the UI to the service: its pages, its assets, ``/`` leading to it."""
    app.state.releases = Releases()
    for part in (
        routes_home,
        routes_dashboard,
        routes_person,
        routes_requests,
        routes_linkage,
        routes_batches,
        routes_audit,
        routes_uploads,
    ):
        app.include_router(part.router, include_in_schema=False)
    app.mount("/ui/static", StaticFiles(directory=HERE / "static"), name="ui-static")

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/ui/", status_code=307)

    app.add_middleware(PageHeaders)
