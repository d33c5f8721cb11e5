"""Background jobs of the process that owns the hub: one worker, one job at a time.

A job (an ingest of an uploaded extract, a linkage run) is queued with its owner and
runs on the single worker thread, so that the hub has one writer at a time; reads go on
meanwhile on their own cursors. Its status (queued, running, done, failed), its progress
(the same steps the CLI's progress bar shows) and its result or its problem are kept in
the control plane's ``job`` table, where any thread of the process polls them.

A job is its owner's: anyone else asking for it by id is told there is no such job.
"""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from crosswalk import redact
from crosswalk.errors import CrosswalkError, InternalError, NotFound
from crosswalk.jobs.tables import job as job_table

log = redact.logger("crosswalk.jobs")
Progress = Callable[[str, float], None]
Work = Callable[[Progress], dict[str, Any]]
STATUSES = ("queued", "running", "done", "failed")
PROGRESS_EVERY = 0.5  # seconds between two progress writes of one step


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Job:
    job_id: str
    kind: str
    owner: str
    agency: str
    status: str
    step: str
    progress: float
    params: dict[str, Any]
    result: dict[str, Any] | None
    problem: dict[str, Any] | None
    created_at: str
    started_at: str | None
    finished_at: str | None


def _job(row: Any) -> Job:
    m = row._mapping
    return Job(
        job_id=m["job_id"],
        kind=m["kind"],
        owner=m["owner"],
        agency=m["agency"],
        status=m["status"],
        step=m["step"],
        progress=float(m["progress"]),
        params=json.loads(m["params"]),
        result=None if m["result"] is None else json.loads(m["result"]),
        problem=None if m["problem"] is None else json.loads(m["problem"]),
        created_at=m["created_at"],
        started_at=m["started_at"],
        finished_at=m["finished_at"],
    )


class Jobs:
    """The jobs of one process, kept in the control plane ``engine``.

    Jobs that a previous process left queued or running (it stopped before they
    finished) are marked failed when this one starts: their work was rolled back with
    the batch or run they were writing.
    """

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._queue: queue.Queue[tuple[str, Work, Callable[[], None] | None] | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._starting = threading.Lock()
        with engine.begin() as conn:
            conn.execute(
                job_table.update()
                .where(job_table.c.status.in_(("queued", "running")))
                .values(
                    status="failed",
                    finished_at=_now(),
                    problem=json.dumps(
                        InternalError(
                            "the service stopped before this job finished; nothing of it "
                            "was kept: submit it again"
                        ).to_dict()
                    ),
                )
            )

    def submit(
        self,
        kind: str,
        owner: str,
        agency: str,
        params: dict[str, Any],
        work: Work,
        cleanup: Callable[[], None] | None = None,
    ) -> Job:
        """Queue ``work`` (called with a progress callback; returns the result) as a job
        of ``owner``; ``cleanup`` runs after it, whatever its outcome."""
        job_id = "J" + uuid.uuid4().hex[:12]
        with self.engine.begin() as conn:
            conn.execute(
                job_table.insert().values(
                    job_id=job_id,
                    kind=kind,
                    owner=owner,
                    agency=agency,
                    status="queued",
                    step="queued",
                    progress=0.0,
                    params=json.dumps(params, default=str),
                    created_at=_now(),
                )
            )
        self._start()
        self._queue.put((job_id, work, cleanup))
        return self._get(job_id)

    def get(self, job_id: str, owner: str) -> Job:
        """The job ``job_id`` of ``owner``; another's job is not there (NotFound)."""
        try:
            found = self._get(job_id)
        except NotFound:
            found = None
        if found is None or found.owner != owner:
            raise NotFound(f"no job {job_id!r}")
        return found

    def list(
        self, owner: str, *, kind: str | None = None, offset: int = 0, limit: int = 50
    ) -> tuple[list[Job], int]:
        """``owner``'s jobs, newest first: one page and the total."""
        where = [job_table.c.owner == owner]
        if kind is not None:
            where.append(job_table.c.kind == kind)
        with self.engine.connect() as conn:
            total = conn.execute(
                sa.select(sa.func.count()).select_from(job_table).where(*where)
            ).scalar_one()
            rows = conn.execute(
                sa.select(job_table)
                .where(*where)
                .order_by(job_table.c.created_at.desc(), job_table.c.job_id)
                .offset(offset)
                .limit(limit)
            ).all()
        return [_job(r) for r in rows], int(total)

    def close(self, timeout: float = 30.0) -> None:
        """Let the worker finish the job it is running, then stop it. Jobs still queued
        are marked failed by the next process's start."""
        worker = self._worker
        if worker is None:
            return
        self._queue.put(None)
        worker.join(timeout)
        self._worker = None

    def _get(self, job_id: str) -> Job:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(job_table).where(job_table.c.job_id == job_id)).first()
        if row is None:
            raise NotFound(f"no job {job_id!r}")
        return _job(row)

    def _set(self, job_id: str, **values: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(job_table.update().where(job_table.c.job_id == job_id).values(**values))

    def _start(self) -> None:
        with self._starting:
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(
                    target=self._work, name="crosswalk-jobs", daemon=True
                )
                self._worker.start()

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            job_id, work, cleanup = item
            try:
                self._run(job_id, work)
            finally:
                if cleanup is not None:
                    try:
                        cleanup()
                    except Exception:
                        log.exception("cleaning up after job %s failed", job_id)

    def _run(self, job_id: str, work: Work) -> None:
        self._set(job_id, status="running", step="starting", started_at=_now())
        last_step, last_at = [""], [0.0]

        def progress(step: str, done: float) -> None:
            now = time.monotonic()
            if step == last_step[0] and now - last_at[0] < PROGRESS_EVERY:
                return
            last_step[0], last_at[0] = step, now
            self._set(job_id, step=step[:256], progress=max(0.0, min(1.0, float(done))))

        try:
            result = work(progress)
        except CrosswalkError as e:
            self._set(
                job_id,
                status="failed",
                finished_at=_now(),
                problem=json.dumps(e.to_dict(), default=str),
            )
            return
        except Exception:
            log.exception("job %s failed", job_id)
            failure = InternalError("the job failed; the operator's log has the details")
            self._set(
                job_id, status="failed", finished_at=_now(), problem=json.dumps(failure.to_dict())
            )
            return
        self._set(
            job_id,
            status="done",
            step="done",
            progress=1.0,
            finished_at=_now(),
            result=json.dumps(result, default=str),
        )
