"""Uploading an extract from the browser, and following its job.

The upload is the service's own (``crosswalk.service.routes_jobs.upload``: the gate's
``ingest_allowed`` decides and audits, the files are checked against the agency's
mapping before anything is stored, and a background job loads them); this page adds
only the session and its CSRF check. The job's page follows its progress (htmx polls
it every second) and, once loaded, shows the accepted and quarantined counts and leads
to the batch's quarantine.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, cast

from fastapi import APIRouter, Depends, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from crosswalk.accounts import STEWARD
from crosswalk.errors import InvalidRequest
from crosswalk.service import auth, routes_jobs
from crosswalk.web.pages import JOB_ID, WebRoute, object_id, render
from crosswalk.web.session import Session, check_csrf, current

router = APIRouter(route_class=WebRoute)
SignedIn = Annotated[Session, Depends(current)]


async def multipart(request: Request) -> FormData:
    """The upload form (multipart): at most the service's files and a few fields."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "multipart/form-data":
        raise InvalidRequest("an upload is sent as multipart/form-data")
    return await request.form(max_files=routes_jobs.MAX_FILES, max_fields=20)


Upload = Annotated[FormData, Depends(multipart)]


@router.post("/ui/batches/upload")
def upload(request: Request, s: SignedIn, form: Upload) -> Response:
    csrf = form.get("csrf")
    check_csrf(request, {"csrf": [csrf if isinstance(csrf, str) else ""]}, s.csrf)
    if not s.caller.has(STEWARD) or "data" not in s.caller.token.scopes:
        raise auth.refuse(request, s.caller, "uploads are for the agency's stewards")
    files = [f for f in form.getlist("files") if not isinstance(f, str) and f.filename]
    replace = form.get("replace")
    job = routes_jobs.upload(
        request,
        Response(),
        s.caller,
        request.app.state.hub,
        request.app.state.gate,
        request.app.state.jobs,
        cast(list[UploadFile], files),
        None,
        replace.strip() if isinstance(replace, str) and replace.strip() else None,
    )
    return RedirectResponse(f"/ui/jobs/{job.job_id}", status_code=303)


@router.get("/ui/jobs/{job_id}", response_class=HTMLResponse)
def job(request: Request, s: SignedIn, job_id: str) -> Response:
    """A job of the signed-in account (another's is not there)."""
    found = request.app.state.jobs.get(object_id(job_id, JOB_ID, "job"), s.username)
    done: Literal[True, False] = found.status in ("done", "failed")
    result: dict[str, Any] = found.result or {}
    return render(request, "job.html", s, job=found, done=done, result=result)
