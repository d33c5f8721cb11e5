"""Background jobs: uploads of an agency's extract (ingest), linkage runs, and polling.

The service owns the hub: an upload or a linkage run is queued as a job and runs on the
one worker that writes the hub, while reads go on. Who may start one is the gate's
decision (``Gate.ingest_allowed``, ``Gate.link_allowed``: the stewards the agreement in
force names), made and audited before anything is queued; the job then calls the library
function of the same name (``Gate.ingest``, ``Gate.link``). A job is its owner's: another
account asking for it by id gets the same 404 as for a job that does not exist.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile

from crosswalk import clock, settings
from crosswalk.access import Gate, lineage
from crosswalk.accounts import STEWARD, Caller
from crosswalk.agreement import agreement_in_force
from crosswalk.errors import CrosswalkError, InvalidRequest, NotFound, Problem
from crosswalk.hub import DuckDBEngine
from crosswalk.ingest.batch import preflight
from crosswalk.jobs import Job, Jobs
from crosswalk.service import auth
from crosswalk.service.auth import Authenticated, HubDep, needs
from crosswalk.service.paging import Offset
from crosswalk.service.schemas import BatchOut, Page
from crosswalk.service.schemas_jobs import (
    BatchIssueOut,
    FileSummary,
    IngestSummary,
    JobOut,
    LinkRunIn,
    LinkSummary,
    PersonIndexRow,
    ProblemItem,
    ProblemOut,
    ReviewDecisionIn,
    ReviewDecisionOut,
)

if TYPE_CHECKING:
    from crosswalk.identity.link import LinkResult
    from crosswalk.ingest.batch import IngestResult

router = APIRouter()
LINKAGE_STEWARD = "linkage_steward"
Data = Annotated[Caller, Depends(needs(scope="data"))]
Steward = Annotated[Caller, Depends(needs(STEWARD, scope="data"))]
Linker = Annotated[Caller, Depends(needs(LINKAGE_STEWARD, STEWARD, scope="data"))]
Limit = Annotated[int, Query(ge=1, le=500)]
MAX_FILES = 8
SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".xlsx")
_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_BATCH_ID = r"^B[0-9a-f]{12}$"


def jobs(request: Request) -> Jobs:
    return request.app.state.jobs


def _gate(request: Request) -> Gate:
    return request.app.state.gate


JobsDep = Annotated[Jobs, Depends(jobs)]
GateDep = Annotated[Gate, Depends(_gate)]


def upload_folder(hub: Any) -> Path:
    """Where uploads wait for their job: ``$CROSSWALK_SERVICE_UPLOADS``, or a folder beside
    the hub (it holds agency data as the hub does; readable by the service's user only)."""
    configured = settings.SERVICE_UPLOADS.value()
    if configured:
        return Path(configured)
    path = hub.engine.path if isinstance(hub.engine, DuckDBEngine) else "hub"
    return Path(f"{path}.uploads")


def job_out(job: Job) -> JobOut:
    return JobOut(
        job_id=job.job_id,
        kind=job.kind,
        owner=job.owner,
        agency=job.agency,
        status=job.status,
        step=job.step,
        progress=job.progress,
        params=job.params,
        result=job.result,
        problem=None if job.problem is None else ProblemOut(**job.problem),
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )


def _accepted(response: Response, job: Job) -> JobOut:
    response.headers["Location"] = f"/jobs/{job.job_id}"
    return job_out(job)


def _name(upload: UploadFile) -> str:
    """The upload's own file name, if it is a plain one of a format ingest reads."""
    name = Path(upload.filename or "").name
    if not _FILE_NAME.fullmatch(name) or not name.lower().endswith(SUFFIXES):
        raise InvalidRequest(
            "an uploaded file needs a plain name (letters, digits, . _ -) ending in "
            + ", ".join(SUFFIXES),
            [Problem("not a name an extract can have", file=name[:128] or None, field="files")],
        )
    return name


def _renamed(error: CrosswalkError, folder: Path) -> CrosswalkError:
    """The error as the uploader sees it: files named as uploaded, not where they wait."""
    prefix = f"{folder}/"

    def plain(text: str | None) -> str | None:
        return None if text is None else text.replace(prefix, "")

    error.message = plain(error.message) or ""
    error.args = (error.message,)
    error.problems = [
        dataclasses.replace(p, message=plain(p.message) or "", file=plain(p.file))
        for p in error.problems
    ]
    return error


def ingest_summary(result: IngestResult) -> dict[str, Any]:
    return IngestSummary(
        batch_id=result.batch_id,
        agency=result.agency,
        replaced=result.replaced,
        files=[
            FileSummary(
                file=f.file,
                kind=f.kind,
                read=f.rows_read,
                accepted=f.rows_accepted,
                quarantined=f.rows_quarantined,
                already_loaded_in=f.already_loaded_in,
            )
            for f in result.files
        ],
        read=result.rows_read,
        accepted=result.rows_accepted,
        quarantined=result.rows_quarantined,
        warnings=[ProblemItem(**w.to_dict()) for w in result.warnings],
    ).model_dump()


def link_summary(result: LinkResult) -> dict[str, Any]:
    return LinkSummary(
        run_id=result.run_id,
        records=result.records,
        candidate_pairs=result.candidate_pairs,
        clusters=result.clusters,
        split_components=result.split_components,
        review_pairs=result.review_pairs,
        model_version=result.model_version,
        threshold_weight=float(result.threshold.weight),
        persons_by_agency=result.persons_by_agency,
    ).model_dump()


@router.post(
    "/uploads",
    status_code=202,
    response_model=JobOut,
    tags=["ingest"],
    responses={
        413: {"description": "Over the upload limit; nothing was stored"},
        422: {"description": "A file that cannot be read or does not match the mapping"},
    },
)
def upload(
    request: Request,
    response: Response,
    who: Steward,
    hub: HubDep,
    gate: GateDep,
    queue: JobsDep,
    files: Annotated[
        list[UploadFile],
        File(description="The extract's files (CSV, Parquet, Excel): clients, events or both."),
    ],
    kinds: Annotated[
        list[Literal["clients", "events"]] | None,
        Form(description="The kind of each file, in order (default: told by its name)."),
    ] = None,
    replace: Annotated[
        str | None,
        Form(pattern=_BATCH_ID, description="A loaded batch this one corrects (replaces)."),
    ] = None,
    updates: Annotated[
        bool,
        Form(
            description="An update batch (a weekly extract): a row the hub holds is a new"
            " version of it (`crosswalk ingest --updates`)."
        ),
    ] = False,
) -> JobOut:
    """Upload a batch of your agency's extract; it is loaded by a background job (poll
    the ``Location``). The files are read and their columns checked against your agency's
    mapping first: a file that cannot be read or does not match gets a 4xx naming file,
    row and field, and nothing is stored."""
    agency = who.account.agency
    if not files or len(files) > MAX_FILES:
        raise InvalidRequest(f"upload 1 to {MAX_FILES} files", [Problem("", field="files")])
    names = [_name(f) for f in files]
    if len(set(names)) != len(names):
        raise InvalidRequest("two uploaded files have one name", [Problem("", field="files")])
    if kinds is not None and len(kinds) != len(files):
        raise InvalidRequest("give one kind per file, or none", [Problem("", field="kinds")])
    gate.ingest_allowed(who.account.username, agency, names)
    root: Path = request.app.state.upload_folder
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    folder = root / uuid.uuid4().hex
    folder.mkdir(mode=0o700)
    try:
        paths = []
        for f, name in zip(files, names, strict=True):
            path = folder / name
            with path.open("wb") as out:
                shutil.copyfileobj(f.file, out, 1 << 20)
            paths.append(str(path))
        try:
            preflight(agency, paths, kinds=kinds, names=names)
        except CrosswalkError as e:
            raise _renamed(e, folder) from None
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    user = who.account.username

    def work(progress: Any) -> dict[str, Any]:
        try:
            result = gate.ingest(
                user,
                agency,
                list(paths),
                kinds=list(kinds) if kinds else None,
                replace=replace,
                updates=updates,
                progress=progress,
                names=names,
            )
        except CrosswalkError as e:
            raise _renamed(e, folder) from None
        return ingest_summary(result)

    params = {"files": names, "kinds": kinds, "replace": replace, "updates": updates}
    job = queue.submit(
        "ingest", user, agency, params, work, lambda: shutil.rmtree(folder, ignore_errors=True)
    )
    return _accepted(response, job)


@router.post("/link-runs", status_code=202, response_model=JobOut, tags=["linkage"])
def start_link_run(
    response: Response,
    who: Linker,
    gate: GateDep,
    queue: JobsDep,
    body: LinkRunIn | None = None,
) -> JobOut:
    """Start a linkage run (the hub operator's stewards): a background job that rewrites
    the person index, the analytic tables and the review queue; reads go on meanwhile and
    see the previous run until it commits."""
    user = who.account.username
    gate.link_allowed(user)
    asked = body or LinkRunIn()
    seed, full = asked.seed, asked.full

    def work(progress: Any) -> dict[str, Any]:
        return link_summary(gate.link(user, seed=seed, full=full, progress=progress))

    job = queue.submit("link", user, who.account.agency, {"seed": seed, "full": full}, work)
    return _accepted(response, job)


@router.get("/jobs", response_model=Page[JobOut], tags=["jobs"])
def list_jobs(
    who: Authenticated,
    queue: JobsDep,
    kind: Literal["ingest", "link"] | None = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> Page[JobOut]:
    """Your jobs, newest first."""
    found, total = queue.list(who.account.username, kind=kind, offset=offset, limit=limit)
    return Page(items=[job_out(j) for j in found], offset=offset, limit=limit, total=total)


@router.get("/jobs/{job_id}", response_model=JobOut, tags=["jobs"])
def get_job(job_id: str, who: Authenticated, queue: JobsDep) -> JobOut:
    """One of your jobs: status, progress, and its result or its problem."""
    return job_out(queue.get(job_id, who.account.username))


@router.get("/batches/{batch_id}", response_model=BatchOut, tags=["ingest"])
def get_batch(
    batch_id: str,
    request: Request,
    who: Data,
    hub: HubDep,
    purpose: Annotated[str, Query(max_length=64, examples=["operations"])] = "operations",
    role: Annotated[str | None, Query(max_length=32)] = None,
) -> BatchOut:
    """One batch of your agency with its status and row counts (read = accepted +
    quarantined); its quarantined rows are ``/batches/{batch_id}/quarantine``. Another
    agency's batch is not there (404), as a batch that does not exist."""
    agreement = agreement_in_force(clock.today(), hub.control)
    principal = auth.principal(request, who, agreement, purpose, role)
    rows, _ = lineage.batches(hub, principal, purpose, principal.agency, 0, 1, batch_id=batch_id)
    if not rows:
        raise NotFound(f"no batch {batch_id!r}")
    return BatchOut(**rows[0])


@router.get("/batches/{batch_id}/issues", response_model=Page[BatchIssueOut], tags=["ingest"])
def get_batch_issues(
    batch_id: str,
    request: Request,
    who: Data,
    hub: HubDep,
    purpose: Annotated[str, Query(max_length=64, examples=["operations"])] = "operations",
    role: Annotated[str | None, Query(max_length=32)] = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> Page[BatchIssueOut]:
    """A batch's flagged and quarantined rows per file, field and rule, with the share of
    the file's rows (counts only; ``crosswalk batches --issues``). Another agency's batch
    has none."""
    agreement = agreement_in_force(clock.today(), hub.control)
    principal = auth.principal(request, who, agreement, purpose, role)
    found = lineage.batch_issues(hub, principal, purpose, principal.agency, batch_id)
    items = [BatchIssueOut(**r) for r in found[offset : offset + limit]]
    return Page(items=items, offset=offset, limit=limit, total=len(found))


@router.get("/person-index", response_model=Page[PersonIndexRow], tags=["linkage"])
def person_index(
    request: Request,
    who: Data,
    hub: HubDep,
    gate: GateDep,
    purpose: Annotated[str, Query(max_length=64)] = "linkage_review",
    role: Annotated[str | None, Query(max_length=32)] = None,
    offset: Offset = 0,
    limit: Limit = 500,
) -> Page[PersonIndexRow]:
    """The person index: each record's enterprise person (``crosswalk export
    person-index``), for the hub operator's linkage stewards; Part 2 records left out.
    Every page is an audited read."""
    agreement = agreement_in_force(clock.today(), hub.control)
    principal = auth.principal(request, who, agreement, purpose, role)
    table = gate.person_index(principal, purpose)
    rows = table.slice(offset, limit).to_pylist()
    return Page(
        items=[PersonIndexRow(**r) for r in rows], offset=offset, limit=limit, total=table.num_rows
    )


@router.post(
    "/review/decisions", response_model=ReviewDecisionOut, status_code=201, tags=["review"]
)
def review_decide(body: ReviewDecisionIn, who: Linker, gate: GateDep) -> ReviewDecisionOut:
    """Decide a clerical-review pair (the hub operator's stewards); the next linkage run
    honours it. A record the review queue would not show you is refused as if it did
    not exist (404). Waits a few seconds for a running job's writes, else 503."""
    user = who.account.username
    gate.review_decide(user, body.record_a, body.record_b, body.decision, body.note)
    return ReviewDecisionOut(
        record_keys=sorted((body.record_a, body.record_b)), decision=body.decision, decided_by=user
    )
