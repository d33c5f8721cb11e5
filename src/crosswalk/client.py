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

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, path, headers=self._headers, **kwargs)
        if response.status_code >= 400:
            raise _error(response)
        return None if response.status_code == 204 else response.json()


def _error(response: httpx.Response) -> errors.CrosswalkError:
    """The Crosswalk error a problem+json body names, with its message and problems."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    name = str(body.get("type", "")).rpartition(":")[2]
    kind = getattr(errors, name, None)
    if not (isinstance(kind, type) and issubclass(kind, errors.CrosswalkError)):
        kind = errors.CrosswalkError
    detail = str(body.get("detail") or f"the service answered {response.status_code}")
    problems = [errors.Problem(**p) for p in body.get("problems", []) if isinstance(p, dict)]
    if kind is errors.AccessDenied:
        return errors.AccessDenied(detail, body.get("decision"))
    if issubclass(kind, errors.HubBusy):
        return errors.HubBusy(detail)
    return kind(detail, problems)
