"""Every error the service returns, as one RFC 9457 problem+json body.

The body is ``crosswalk.errors.CrosswalkError.to_dict()`` — ``type``, ``title``,
``status``, ``detail``, and ``problems`` (each with message and field) where the input was
wrong — for Crosswalk's own errors, for requests of the wrong form, for unknown paths and
methods, and for failures of the service itself, whose traceback goes to the operator's
log and never into a response.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from crosswalk.errors import (
    CrosswalkError,
    InternalError,
    InvalidRequest,
    MethodNotAllowed,
    Problem,
    RouteNotFound,
    Unauthenticated,
)

log = logging.getLogger("crosswalk.service")
MEDIA_TYPE = "application/problem+json"


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
    """Register the handlers that turn every error into a problem+json body."""

    @app.exception_handler(CrosswalkError)
    async def _crosswalk(request: Request, exc: CrosswalkError) -> JSONResponse:
        return problem_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(_invalid(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        error: CrosswalkError
        if exc.status_code == 404:
            error = RouteNotFound(f"no operation at {request.url.path}")
        elif exc.status_code == 405:
            error = MethodNotAllowed(f"{request.method} is not an operation of {request.url.path}")
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
