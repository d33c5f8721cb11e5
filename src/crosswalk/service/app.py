"""The Crosswalk service: a FastAPI application over one hub object.

``create_app(hub)`` builds it; ``crosswalk serve`` runs it with uvicorn. Every operation
is a thin shell over a library function; the principal of every request is the account
its bearer token authenticates. Cross-origin requests are refused unless origins are
configured; request bodies are limited in size; every error is a problem+json body.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crosswalk import __version__, settings
from crosswalk.access import Gate
from crosswalk.accounts import Accounts
from crosswalk.errors import ConfigError, PayloadTooLarge
from crosswalk.hub import Hub
from crosswalk.service import problems, routes_accounts, routes_audit, routes_data

MB = 1024 * 1024


class BodyLimit:
    """Refuse a request whose body is over ``limit`` bytes (413), whether it says its
    length or streams it, before the operation sees any of it."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await self._refuse(scope, receive, send)
            return
        # Read the body up to the limit before the operation runs (so an oversized one
        # streamed without a length is refused whole), then hand it on as it came.
        body = b""
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            if len(body) > self.limit:
                await self._refuse(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        handed = False

        async def replay() -> Message:
            nonlocal handed
            if not handed:
                handed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def _message(self) -> str:
        return f"the request body is over the service's limit of {self.limit // MB} MB"

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problems.problem_response(PayloadTooLarge(self._message()))
        await response(scope, receive, send)


class SecurityHeaders:
    """Headers on every response: no sniffing, no framing, no caching of answers."""

    HEADERS = (
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"cache-control", b"no-store"),
        (b"referrer-policy", b"no-referrer"),
    )

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self.HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers if scope["type"] == "http" else send)


def create_app(
    hub: Hub,
    *,
    cors_origins: list[str] | None = None,
    max_body_mb: int | None = None,
) -> FastAPI:
    """The service over ``hub`` (its control plane migrated to the newest revision).

    Args:
        hub: the process's hub object; the service reads only through its gate.
        cors_origins: origins allowed cross-origin (default ``$CROSSWALK_SERVICE_CORS_ORIGINS``;
            none: the browser refuses every cross-origin call).
        max_body_mb: the largest request body (default ``$CROSSWALK_SERVICE_MAX_BODY_MB``).
    """
    origins = (
        cors_origins
        if cors_origins is not None
        else [o.strip() for o in settings.SERVICE_CORS_ORIGINS.value().split(",") if o.strip()]
    )
    limit = settings.SERVICE_MAX_BODY_MB.value(None if max_body_mb is None else str(max_body_mb))
    if not limit.isdigit() or int(limit) < 1:
        raise ConfigError(f"{settings.SERVICE_MAX_BODY_MB.env} must be a whole number of MB")
    app = FastAPI(
        title="Crosswalk",
        version=__version__,
        description=(
            "Interagency data-sharing hub: every read through the policy gate, as the "
            "account the bearer token authenticates, audited. Errors are RFC 9457 "
            "problem+json."
        ),
        debug=False,
        responses={
            401: {"description": "Not signed in", "content": {problems.MEDIA_TYPE: {}}},
            403: {"description": "Denied", "content": {problems.MEDIA_TYPE: {}}},
            422: {"description": "Invalid request", "content": {problems.MEDIA_TYPE: {}}},
        },
    )
    app.state.hub = hub
    app.state.accounts = Accounts(hub.control, hub.audit)
    app.state.gate = Gate(hub)
    problems.install(app)
    for part in (routes_accounts, routes_data, routes_audit):
        app.include_router(part.router)
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(BodyLimit, limit=int(limit) * MB)
    app.add_middleware(SecurityHeaders)
    return app
