"""The Crosswalk service: a FastAPI application over one hub object.

``create_app(hub)`` builds it; ``crosswalk serve`` runs it with uvicorn. Every operation
is a thin shell over a library function; the principal of every request is the account
its bearer token authenticates. Cross-origin requests are refused unless origins are
configured; request bodies are limited in size (uploads to one limit, every other body to
a much smaller one); a read of the hub that runs too long is interrupted; security headers
go on every response; every error is a problem+json body; while it runs, the service
checkpoints the audit log on a schedule whenever entries were added.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crosswalk import __version__, settings, stores, web
from crosswalk.access import Gate
from crosswalk.accounts import Accounts
from crosswalk.errors import ConfigError, CrosswalkError, PayloadTooLarge
from crosswalk.hub import DuckDBEngine, Hub
from crosswalk.jobs import Jobs
from crosswalk.service import (
    problems,
    routes_accounts,
    routes_audit,
    routes_data,
    routes_jobs,
    routes_oversight,
    routes_requests,
)

MB = 1024 * 1024


KB = 1024
UPLOAD_TYPES = (b"multipart/form-data", b"application/octet-stream")
"""Bodies that may be as large as an upload; any other body (JSON) has the smaller limit."""
UPLOAD_PATHS = ("/uploads", "/ui/batches/upload")
"""The only operations that take an upload: a large body sent anywhere else is refused
at the smaller limit, whatever its type says (a client chooses its content type)."""


class BodyLimit:
    """Refuse a request whose body is over its limit (413), whether it says its length or
    streams it, before the operation sees any of it: ``limit`` bytes for an upload (a POST
    of ``UPLOAD_TYPES`` to ``UPLOAD_PATHS``), ``json_limit`` for any other body."""

    def __init__(self, app: ASGIApp, limit: int, json_limit: int | None = None) -> None:
        self.app = app
        self.upload_limit = limit
        self.json_limit = limit if json_limit is None else min(json_limit, limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        kind = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        upload = (
            kind in UPLOAD_TYPES
            and scope.get("method") == "POST"
            and scope.get("path", "").rstrip("/") in UPLOAD_PATHS
        )
        limit = self.upload_limit if upload else self.json_limit
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self._refuse(scope, receive, send, upload)
            return
        # Read the body up to the limit before the operation runs (so an oversized one
        # streamed without a length is refused whole), then hand it on as it came. The
        # parts are joined once at the end: adding each to the last would copy the body
        # so far for every part (quadratic: minutes of the event loop for one upload).
        parts: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            part = message.get("body", b"")
            parts.append(part)
            size += len(part)
            if size > limit:
                await self._refuse(scope, receive, send, upload)
                return
            if not message.get("more_body", False):
                break
        body = b"".join(parts)
        handed = False

        async def replay() -> Message:
            nonlocal handed
            if not handed:
                handed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def _message(self, upload: bool) -> str:
        if upload:
            return f"the upload is over the service's limit of {_size(self.upload_limit)}"
        return f"the request body is over the service's limit of {_size(self.json_limit)}"

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, upload: bool) -> None:
        response = problems.problem_response(PayloadTooLarge(self._message(upload)))
        await response(scope, receive, send)


def _size(n: int) -> str:
    return f"{n // MB} MB" if n >= MB and n % MB == 0 else f"{n // KB} KB"


class SecurityHeaders:
    """Headers on every response: no sniffing, no framing (also by CSP), no caching of
    answers, no referrer, no powerful browser features. They replace any of the same name
    that an operation set."""

    HEADERS = (
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"content-security-policy", b"frame-ancestors 'none'"),
        (b"cache-control", b"no-store"),
        (b"referrer-policy", b"no-referrer"),
        (b"cross-origin-resource-policy", b"same-origin"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    )
    NAMES = frozenset(name for name, _ in HEADERS)

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [h for h in message.get("headers", []) if h[0].lower() not in self.NAMES]
                message["headers"] = [*kept, *self.HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers if scope["type"] == "http" else send)


class Failures:
    """A failure of an operation becomes the one 500 problem body, its traceback logged for
    the operator only. Inside the other middleware, so the 500 carries the security
    headers too (Starlette's own last-resort handler sits outside every middleware)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            problems.log.exception("%s %s failed", scope.get("method"), scope.get("path"))
            if started:
                raise  # the status line is out: only closing the connection is left
            await problems.failure_response()(scope, receive, send)


def _whole(setting: settings.Setting, explicit: int | float | None, unit: str) -> float:
    value = setting.value(None if explicit is None else str(explicit))
    try:
        number = float(value)
    except ValueError:
        number = -1
    if number < 0 or number != number:
        raise ConfigError(f"{setting.env} must be a number of {unit}, 0 or more, not {value!r}")
    return number


def checkpoint_schedule(hub: Hub, seconds: float) -> threading.Event:
    """Checkpoint the audit log every ``seconds`` while entries are being added (in a
    daemon thread); set the returned event to stop it."""
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(seconds):
            try:
                hub.audit.checkpoint_if_moved()
            except CrosswalkError:
                problems.log.exception("the scheduled audit checkpoint failed")

    threading.Thread(target=run, name="audit-checkpoints", daemon=True).start()
    return stop


def create_app(
    hub: Hub,
    *,
    cors_origins: list[str] | None = None,
    max_body_mb: int | None = None,
    max_json_kb: int | None = None,
    read_timeout: float | None = None,
    address: str | None = None,
) -> FastAPI:
    """The service over ``hub`` (its control plane migrated to the newest revision).

    Args:
        hub: the process's hub object; the service reads only through its gate.
        cors_origins: origins allowed cross-origin (default ``$CROSSWALK_SERVICE_CORS_ORIGINS``;
            none: the browser refuses every cross-origin call).
        max_body_mb: the largest upload (default ``$CROSSWALK_SERVICE_MAX_BODY_MB``).
        max_json_kb: the largest other request body (default
            ``$CROSSWALK_SERVICE_MAX_JSON_KB``).
        read_timeout: seconds one read of the hub may take (default
            ``$CROSSWALK_SERVICE_READ_TIMEOUT``; 0: no limit).
        address: where the service listens (``crosswalk serve``): while it runs, a note
            beside the hub names it, for a CLI command that meets the hub's lock.

    Uploads and linkage runs are background jobs (``crosswalk.jobs``) that write through
    the hub's writer: they need a hub opened with ``writable=True`` (``crosswalk serve``
    opens it so); over a read-only hub they are refused. The worker finishes its job
    when the service stops.
    """
    origins = (
        cors_origins
        if cors_origins is not None
        else [o.strip() for o in settings.SERVICE_CORS_ORIGINS.value().split(",") if o.strip()]
    )
    limit = settings.SERVICE_MAX_BODY_MB.value(None if max_body_mb is None else str(max_body_mb))
    if not limit.isdigit() or int(limit) < 1:
        raise ConfigError(f"{settings.SERVICE_MAX_BODY_MB.env} must be a whole number of MB")
    json_kb = settings.SERVICE_MAX_JSON_KB.value(None if max_json_kb is None else str(max_json_kb))
    if not json_kb.isdigit() or int(json_kb) < 1:
        raise ConfigError(f"{settings.SERVICE_MAX_JSON_KB.env} must be a whole number of KB")
    hub.limit_reads(_whole(settings.SERVICE_READ_TIMEOUT, read_timeout, "seconds"))
    every = _whole(settings.AUDIT_CHECKPOINT_SECONDS, None, "seconds")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = checkpoint_schedule(hub, every) if every > 0 else None
        note = (
            stores.service_note(hub.engine.path, address)
            if address is not None and isinstance(hub.engine, DuckDBEngine)
            else nullcontext()
        )
        try:
            with note:
                yield
        finally:
            if stop is not None:
                stop.set()
            app.state.jobs.close()
            try:
                hub.audit.checkpoint_if_moved()  # the last entries, as the service stops
            except CrosswalkError:
                problems.log.exception("the audit checkpoint at shutdown failed")

    app = FastAPI(
        lifespan=lifespan,
        title="Crosswalk",
        version=__version__,
        description=(
            "Interagency data-sharing hub: every read through the policy gate, as the "
            "account the bearer token authenticates, audited. Errors are RFC 9457 "
            "problem+json."
        ),
        debug=False,
        responses=problems.documented(*problems.EVERY_OPERATION),
        # FastAPI's own documentation pages load Swagger UI and ReDoc (and a font) from a
        # content delivery network: a script of another site, with no policy around it,
        # on the hub's own origin, where it could read any page with the visitor's
        # session and the token pasted into its form. The schema stays at /openapi.json.
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    app.state.hub = hub
    app.state.accounts = Accounts(hub.control, hub.audit)
    app.state.gate = Gate(hub)
    app.state.jobs = Jobs(hub.control)
    app.state.upload_folder = routes_jobs.upload_folder(hub)
    problems.install(app)
    for part in (
        routes_accounts,
        routes_data,
        routes_jobs,
        routes_oversight,
        routes_requests,
        routes_audit,
    ):
        app.include_router(part.router)
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(Failures)
    app.add_middleware(BodyLimit, limit=int(limit) * MB, json_limit=int(json_kb) * KB)
    app.add_middleware(SecurityHeaders)
    web.mount(app)
    return app
