"""Privacy-officer questions over the audit log.

Each answers only from a log that verifies (``AuditLog.verified_entries``): a report over
a tampered log raises IntegrityError instead of counting what an attacker wrote."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from crosswalk.audit.log import AuditLog


def who_accessed(log: AuditLog, enterprise_id: str) -> list[dict[str, Any]]:
    """Every read of one person's data: when, who, agency, role, purpose, outcome."""
    out = []
    for row in log.verified_entries():
        body = json.loads(row["body"])
        if enterprise_id in body.get("objects", {}).get("enterprise_ids", []):
            out.append(
                {
                    k: body.get(k)
                    for k in ("user", "agency", "role", "purpose", "action", "outcome", "rows")
                }
                | {"at": row["at"], "seq": row["seq"]}
            )
    return out


def purposes(log: AuditLog) -> dict[str, int]:
    """How many data reads were made for each purpose."""
    return dict(
        Counter(
            r["purpose"]
            for r in log.verified_entries()
            if r["action"] == "data.read" and r["purpose"]
        )
    )


def denials(log: AuditLog) -> dict[str, int]:
    """Denials per day."""
    return dict(Counter(r["at"][:10] for r in log.verified_entries() if r["outcome"] == "denied"))


def search(
    log: AuditLog,
    fields: dict[str, str | None],
    *,
    enterprise_id: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> list[dict[str, Any]]:
    """Entries whose stored ``fields`` (action, user, purpose, outcome) equal the values
    given, naming ``enterprise_id`` if given, at or after ``since`` and on or before
    ``until`` (ISO dates or times), oldest first, each with its body parsed."""
    out = []
    end = None if until is None else (until + "\uffff" if len(until) == 10 else until)
    for row in log.verified_entries():
        if any(v is not None and row[k] != v for k, v in fields.items()):
            continue
        if (since is not None and row["at"] < since) or (end is not None and row["at"] > end):
            continue
        body = json.loads(row["body"])
        if enterprise_id is not None and enterprise_id not in body.get("objects", {}).get(
            "enterprise_ids", []
        ):
            continue
        out.append({**{k: row[k] for k in row if k != "body"}, "body": body})
    return out
