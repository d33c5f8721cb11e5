"""A Python client of the Crosswalk service, for notebooks.

Example:
    >>> from crosswalk.client import Client  # doctest: +SKIP
    >>> cw = Client("https://crosswalk.example.gov", token=os.environ["CROSSWALK_TOKEN"])
    >>> cw.ask("overlap", purpose="program_evaluation", start="2019-01-01").to_pandas()

Answers come back as Arrow tables (``.to_pandas()`` where pandas is installed); an error
the service returns is raised as the Crosswalk error it names (``AccessDenied``,
``NotFound`` ...), with the service's message.
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa

from crosswalk import errors

_FILTERS = ("start", "end", "programs", "counties", "age_groups", "sexes")


class Client:
    """The service at ``base_url``, as the account of ``token``.

    ``http`` is an ``httpx.Client`` to use instead of a new one (its own base URL then).
    """

    def __init__(
        self,
        base_url: str = "",
        token: str | None = None,
        *,
        http: httpx.Client | None = None,
        timeout: float = 60.0,
    ) -> None:
        if http is None:
            _check_transport(base_url)
        self._http = http or httpx.Client(base_url=base_url, timeout=timeout)
        self._headers = {} if token is None else {"Authorization": f"Bearer {token}"}

    def sign_in(self, username: str, password: str) -> None:
        """Sign in with a password; later calls use the token it gives (12 hours)."""
        body = self._call(
            "POST", "/auth/sign-in", json={"username": username, "password": password}
        )
        self._headers = {"Authorization": f"Bearer {body['token']}"}

    def me(self) -> dict[str, Any]:
        """The account, its roles, the token's scopes and the purposes each role may use."""
        return self._call("GET", "/me")

    def person(
        self, enterprise_id: str, purpose: str, level: str = "identified", role: str | None = None
    ) -> dict[str, Any]:
        """One person's view: ``records`` and ``events`` as the agreement allows."""
        params = {"purpose": purpose, "level": level, **({"role": role} if role else {})}
        return self._call("GET", f"/persons/{enterprise_id}", params=params)

    def ask(self, question: str, purpose: str, role: str | None = None, **options: Any) -> pa.Table:
        """Ask an analytic question (``overlap``, ``combinations``, ``pathways``,
        ``lifetime``, ``cohort``, ``trends``, ``heavy-users``); filters (``start``,
        ``end``, ``programs`` ...) and the question's own options as keywords."""
        filters = {k: options.pop(k) for k in _FILTERS if k in options}
        body = {
            "purpose": purpose,
            "filters": filters,
            **options,
            **({"role": role} if role else {}),
        }
        answer = self._call("POST", f"/analytics/{question}", json=body)
        columns = answer["columns"]
        return (
            pa.Table.from_pylist(answer["rows"])
            if answer["rows"]
            else pa.table({c: [] for c in columns})
        )

    def request_data(
        self,
        purpose: str,
        elements: list[str],
        level: str,
        ends_on: str,
        justification: str,
        starts_on: str | None = None,
        role: str | None = None,
    ) -> dict[str, Any]:
        """Ask for data elements (``"hfs.events.program"``: dataset and element) at a
        level until ``ends_on`` (from ``starts_on``, default today); the stewards of every
        agency named then answer it. The request, with its ``request_id``."""
        refs = []
        for e in elements:
            dataset, _, element = e.rpartition(".")
            refs.append({"dataset": dataset, "element": element})
        body: dict[str, Any] = {
            "purpose": purpose,
            "elements": refs,
            "level": level,
            "ends_on": ends_on,
            "justification": justification,
            **({"starts_on": starts_on} if starts_on else {}),
            **({"role": role} if role else {}),
        }
        return self._call("POST", "/requests", json=body)

    def list_requests(self, state: str | None = None) -> list[dict[str, Any]]:
        """The data requests this account may see (every page), oldest first."""
        rows: list[dict[str, Any]] = []
        while True:
            params: dict[str, Any] = {"offset": len(rows), "limit": 500}
            if state:
                params["state"] = state
            page = self._call("GET", "/requests", params=params)
            rows += page["items"]
            if not page["items"] or len(rows) >= page["total"]:
                return rows

    def show_request(self, request_id: str) -> dict[str, Any]:
        """One data request with every agency's answer."""
        return self._call("GET", f"/requests/{request_id}")

    def approve_request(self, request_id: str, reason: str = "") -> dict[str, Any]:
        """Approve for the agency this account stewards."""
        return self._call("POST", f"/requests/{request_id}/approve", json={"reason": reason})

    def deny_request(self, request_id: str, reason: str) -> dict[str, Any]:
        """Deny for the agency this account stewards (the request is then denied)."""
        return self._call("POST", f"/requests/{request_id}/deny", json={"reason": reason})

    def revoke_grant(self, request_id: str, reason: str) -> dict[str, Any]:
        """Revoke a grant: it counts for nothing from the very next request."""
        return self._call("POST", f"/requests/{request_id}/revoke", json={"reason": reason})

    def audit(self, **filters: Any) -> pa.Table:
        """Audit entries (privacy officers), every page, as a table."""
        rows, offset = [], 0
        while True:
            page = self._call(
                "GET", "/audit/entries", params={**filters, "offset": offset, "limit": 500}
            )
            rows += [{k: v for k, v in e.items() if k != "body"} for e in page["items"]]
            offset += len(page["items"])
            if not page["items"] or offset >= page["total"]:
                return pa.Table.from_pylist(rows)

    # -- ingest: uploads run as background jobs ------------------------------------------

    def upload(
        self,
        *files: str | Path,
        kinds: list[str] | None = None,
        replace: str | None = None,
        updates: bool = False,
        wait: bool = True,
        timeout: float = 3600.0,
        every: float = 1.0,
    ) -> dict[str, Any]:
        """Upload a batch of your agency's extract files (CSV, Parquet, Excel); with
        ``updates``, an update batch (a weekly extract of new and changed rows). With
        ``wait`` (default), poll its job until it ends and return it (``result`` holds
        the batch id and its accepted and quarantined counts); a failed job raises the
        error it failed with. Without, return the queued job at once."""
        data: dict[str, Any] = {}
        if kinds:
            data["kinds"] = kinds
        if replace:
            data["replace"] = replace
        if updates:
            data["updates"] = "true"
        with ExitStack() as stack:
            parts = [
                ("files", (Path(f).name, stack.enter_context(Path(f).open("rb")))) for f in files
            ]
            job = self._call("POST", "/uploads", files=parts, data=data)
        return self.wait(job["job_id"], timeout, every) if wait else job

    def link_run(
        self,
        seed: int = 1,
        wait: bool = True,
        timeout: float = 3600.0,
        every: float = 1.0,
        full: bool = False,
    ) -> dict[str, Any]:
        """Start a linkage run (the hub operator's stewards): incremental on an indexed hub,
        or a full re-link with ``full``; as ``upload`` for ``wait``."""
        job = self._call("POST", "/link-runs", json={"seed": seed, "full": full})
        return self.wait(job["job_id"], timeout, every) if wait else job

    def job(self, job_id: str) -> dict[str, Any]:
        """One of your jobs: status, step, progress, and its result or problem."""
        return self._call("GET", f"/jobs/{job_id}")

    def jobs(self, kind: str | None = None) -> pa.Table:
        """Your jobs, newest first, every page, as a table."""
        return self._table("/jobs", {"kind": kind} if kind else {}, drop=("params",))

    def wait(self, job_id: str, timeout: float = 3600.0, every: float = 1.0) -> dict[str, Any]:
        """Poll a job until it is done (return it) or failed (raise its error)."""
        deadline = time.monotonic() + timeout
        while True:
            job = self.job(job_id)
            if job["status"] == "done":
                return job
            if job["status"] == "failed":
                raise _error_of(job.get("problem") or {}, 500)
            if time.monotonic() > deadline:
                raise errors.CrosswalkError(
                    f"job {job_id} is still {job['status']} ({job['step']}) after {timeout:.0f} s"
                )
            time.sleep(every)

    def batches(self, purpose: str = "operations", role: str | None = None) -> pa.Table:
        """Your agency's batches with their row counts (its stewards), as a table."""
        return self._table("/batches", {"purpose": purpose, **({"role": role} if role else {})})

    def batch(self, batch_id: str, purpose: str = "operations") -> dict[str, Any]:
        """One batch of your agency: status, lineage, read/accepted/quarantined."""
        return self._call("GET", f"/batches/{batch_id}", params={"purpose": purpose})

    def quarantine(self, batch_id: str, purpose: str = "operations") -> pa.Table:
        """A batch's quarantined rows (file, row, field, value, rule), as a table."""
        return self._table(f"/batches/{batch_id}/quarantine", {"purpose": purpose})

    def batch_issues(self, batch_id: str, purpose: str = "operations") -> pa.Table:
        """A batch's flagged and quarantined rows per file, field and rule (counts)."""
        return self._table(f"/batches/{batch_id}/issues", {"purpose": purpose})

    def person_index(self, purpose: str = "linkage_review") -> pa.Table:
        """The person index (linkage stewards), every page, as a table."""
        return self._table("/person-index", {"purpose": purpose})

    # -- clerical review, consents, the audit log ----------------------------------------

    def review(self, purpose: str = "linkage_review") -> list[dict[str, Any]]:
        """Pairs awaiting clerical review, each with both records (linkage stewards)."""
        return self._items("/review", {"purpose": purpose})

    def review_decide(
        self, record_a: str, record_b: str, decision: str, note: str | None = None
    ) -> dict[str, Any]:
        """Decide a review pair (``match`` or ``no-match``); the next linkage run honours it."""
        body = {"record_a": record_a, "record_b": record_b, "decision": decision, "note": note}
        return self._call("POST", "/review/decisions", json=body)

    def consents(self, purpose: str = "oversight") -> pa.Table:
        """The consent registry (the hub operator's privacy officers), as a table."""
        return self._table("/consents", {"purpose": purpose})

    def consent_add(self, **consent: Any) -> dict[str, Any]:
        """Record a consent: ``enterprise_id``, ``recipient``, ``purpose``, ``information``,
        ``signed_on``, ``expires_on`` (and ``discloser``, default your agency)."""
        body = {k: str(v) if k.endswith("_on") else v for k, v in consent.items()}
        return self._call("POST", "/consents", json=body)

    def consent_revoke(self, consent_id: str) -> None:
        """Revoke a consent from today."""
        self._call("POST", f"/consents/{consent_id}/revoke")

    def review_show(self, record_key: str) -> list[dict[str, Any]]:
        """One record's pairs under review, with what each decision would do."""
        return self._items(f"/review/{record_key}", {})

    def who_accessed(self, enterprise_id: str) -> pa.Table:
        """Every audited request for one person's data (privacy officers)."""
        return self._table(f"/audit/who-accessed/{enterprise_id}", {})

    def audit_purposes(self) -> pa.Table:
        """Data reads per purpose (privacy officers)."""
        return self._table("/audit/purposes", {})

    def audit_denials(self) -> pa.Table:
        """Denials per day (privacy officers)."""
        return self._table("/audit/denials", {})

    def audit_verify(self) -> dict[str, Any]:
        """Check the audit log's chain, signatures and checkpoints (privacy officers)."""
        return self._call("GET", "/audit/verify")

    def audit_checkpoint(self) -> dict[str, Any]:
        """Write a signed checkpoint of the audit log now."""
        return self._call("POST", "/audit/checkpoints")

    def _items(self, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        while True:
            page = self._call("GET", path, params={**params, "offset": len(rows), "limit": 500})
            rows += page["items"]
            if not page["items"] or len(rows) >= page["total"]:
                return rows

    def _table(self, path: str, params: dict[str, Any], drop: tuple[str, ...] = ()) -> pa.Table:
        rows = [{k: v for k, v in r.items() if k not in drop} for r in self._items(path, params)]
        return pa.Table.from_pylist(rows)

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, path, headers=self._headers, **kwargs)
        if response.status_code >= 400:
            raise _error(response)
        return None if response.status_code == 204 else response.json()


LOOPBACK = ("localhost", "127.0.0.1", "::1")


def _check_transport(base_url: str) -> None:
    """Refuse to send a token or a password, and receive records, in clear text: only
    HTTPS, or plain HTTP to this machine (a service on loopback behind a proxy)."""
    url = httpx.URL(base_url)
    if url.scheme == "https" or (url.scheme == "http" and url.host in LOOPBACK):
        return
    raise errors.ConfigError(
        f"{base_url!r}: the service is reached over https (plain http only on this machine)"
    )


def _error(response: httpx.Response) -> errors.CrosswalkError:
    """The Crosswalk error a problem+json body names, with its message and problems."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    return _error_of(body if isinstance(body, dict) else {}, response.status_code)


def _error_of(body: dict[str, Any], status: int) -> errors.CrosswalkError:
    """The Crosswalk error of a problem+json body (a response's, or a failed job's)."""
    name = str(body.get("type", "")).rpartition(":")[2]
    kind = getattr(errors, name, None)
    if not (isinstance(kind, type) and issubclass(kind, errors.CrosswalkError)):
        kind = errors.CrosswalkError
    detail = str(body.get("detail") or f"the service answered {status}")
    problems = [errors.Problem(**p) for p in body.get("problems", []) if isinstance(p, dict)]
    if kind is errors.AccessDenied:
        return errors.AccessDenied(detail, body.get("decision"))
    if issubclass(kind, errors.HubBusy):
        return errors.HubBusy(detail)
    return kind(detail, problems)
