"""Every error the service returns, as one RFC 9457 problem+json body.

The body is ``crosswalk.errors.CrosswalkError.to_dict()`` — ``type``, ``title``,
``status``, ``detail``, and ``problems`` (each with message and field) where the input was
wrong — for Crosswalk's own errors, for requests of the wrong form, for unknown paths and
methods, and for failures of the service itself, whose traceback goes to the operator's
log and never into a response.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from crosswalk import redact
from crosswalk.errors import (
    CrosswalkError,
    InternalError,
    InvalidRequest,
    MethodNotAllowed,
    Problem,
    RouteNotFound,
    Unauthenticated,
)

log = redact.logger("crosswalk.service")
MEDIA_TYPE = "application/problem+json"

WHEN = {
    400: "Refused as given (a value the operation cannot use; the detail says which)",
    401: "Not signed in (no token, or a malformed, forged, expired or revoked one)",
    403: "Denied (the role, the token's scope or the agreement does not allow it; audited)",
    404: "No such object, or none you may see",
    409: "Conflicts with what is stored (already exists, or the audit log failed a check)",
    413: "The request body is over the service's limit",
    422: "The request does not have the form this operation takes",
    429: "Too many attempts: try again later",
    500: "The service failed; the operator's log has the details",
    503: "A store is unavailable, or the read took longer than allowed",
}
EVERY_OPERATION = (400, 401, 403, 404, 413, 422, 500, 503)
"""What any operation may answer: a request the library refuses, one that is not signed
in or not allowed, an object that is not there (or not the caller's to see), a body over
the limit or of the wrong form, a failure of the service or of a store."""


_TEXT = {"type": "string"}
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An RFC 9457 problem details body: every error of the service.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "examples": ["urn:crosswalk:error:AccessDenied"]},
        "title": _TEXT,
        "status": {"type": "integer"},
        "detail": _TEXT,
        "problems": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["message"],
                "properties": {
                    "message": _TEXT,
                    "file": _TEXT,
                    "row": {"type": "integer"},
                    "field": _TEXT,
                    "value": _TEXT,
                    "rule": _TEXT,
                },
            },
        },
        "decision": {"type": "object", "description": "The policy decision and its reasons."},
        "holder": _TEXT,
        "holder_pid": {"type": "integer"},
    },
}


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of these statuses, each a problem+json body."""
    return {
        code: {
            "description": WHEN[code],
            "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for code in statuses
    }


def problem_response(error: CrosswalkError) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Bearer realm="crosswalk"'} if error.status == 401 else None
    return JSONResponse(
        error.to_dict(), status_code=error.status, media_type=MEDIA_TYPE, headers=headers
    )


def _invalid(exc: RequestValidationError) -> InvalidRequest:
    problems = []
    for err in exc.errors():
        where = [str(x) for x in err.get("loc", ())]
        # The input itself is not echoed back: it may be a password or a token.
        problems.append(Problem(str(err.get("msg", "invalid")), field=".".join(where) or None))
    return InvalidRequest("the request does not have the form this operation takes", problems)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into a problem+json body, and put the
    body's schema (``Problem``) in the OpenAPI schema."""
    made = app.openapi

    def openapi() -> dict[str, Any]:
        schema = made()
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        return schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.exception_handler(CrosswalkError)
    async def _crosswalk(request: Request, exc: CrosswalkError) -> JSONResponse:
        return problem_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(_invalid(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        error: CrosswalkError
        # Fixed words: the path and the method are the sender's (a link to
        # /Your-session-has-ended-call-555-0100 would put them on a page of the hub's).
        if exc.status_code == 404:
            error = RouteNotFound("no operation at this path: the operations are in /openapi.json")
        elif exc.status_code == 405:
            error = MethodNotAllowed("this method is not an operation of this path")
        elif exc.status_code == 401:
            error = Unauthenticated("sign in: send Authorization: Bearer <token>")
        else:
            kind = type(
                "HTTPError", (CrosswalkError,), {"status": exc.status_code, "title": "Error"}
            )
            error = kind(str(exc.detail))
        return problem_response(error)

    @app.exception_handler(Exception)
    async def _failure(request: Request, exc: Exception) -> JSONResponse:
        log.exception("%s %s failed", request.method, request.url.path)
        return failure_response()


def failure_response() -> JSONResponse:
    """The answer to a failure of the service itself: no detail of it."""
    return problem_response(
        InternalError("the service failed to answer; the operator's log has the details")
    )
