"""Data quality of a batch: what was flagged or quarantined, per field and rule, and the
mapping's quality gate that warns about a batch or refuses it as a whole.

A wrong date format nulls every date without a single row being refused; counting the
flags per field and rule, and judging the share against the gate, is what makes such a
batch visible (or stops it) before anyone counts people with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from crosswalk.errors import Problem
from crosswalk.ingest.mapping import ClientSpec, FileSpec, QualityGate, source_columns

if TYPE_CHECKING:
    from crosswalk.engines.base import Batch

# The common field each flag is about.
FLAG_FIELDS: dict[str, str] = {
    "dob_default": "dob",
    "dob_unparseable": "dob",
    "dob_implausible": "dob",
    "birth_year_implausible": "birth_year",
    "age_implausible": "age",
    "ssn_invalid": "ssn",
    "ssn_placeholder": "ssn",
    "sex_unknown_code": "sex",
    "zip_invalid": "zip",
    "phone_nonstandard": "phone",
    "email_invalid": "email",
    "identifier_placeholder": "other_ids",
    "first_name_placeholder": "first_name",
    "middle_name_placeholder": "middle_name",
    "last_name_placeholder": "last_name",
    "end_date_unparseable": "end_date",
    "end_date_out_of_range": "end_date",
    "end_before_start": "end_date",
    "amount_not_numeric": "amount",
    "amount_out_of_range": "amount",
}


@dataclass(frozen=True)
class Issue:
    """Rows of one file with one problem in one field."""

    field: str  # common-model field ("row": the row could not be split into fields)
    rule: str
    rows: int
    quarantined: bool  # True: the rows went to quarantine; False: flagged, value nulled


def count_issues(batch: Batch, staged: str, rejected: int) -> tuple[Issue, ...]:
    """Flag and quarantine counts of a staged file, per field and rule."""
    issues = [
        Issue(FLAG_FIELDS.get(rule, rule), rule, n, False)
        for rule, n in batch.rows(
            f"""SELECT rule, count(*) FROM (SELECT unnest(flags) AS rule FROM {staged}
                WHERE q_rule IS NULL) AS flagged GROUP BY 1"""
        )
    ]
    issues += [
        Issue(field, rule, n, True)
        for field, rule, n in batch.rows(
            f"SELECT q_common, q_rule, count(*) FROM {staged} WHERE q_rule IS NOT NULL GROUP BY 1, 2"
        )
    ]
    if rejected:
        issues.append(Issue("row", "wrong_field_count", rejected, True))
    return tuple(sorted(issues, key=lambda i: (i.field, i.rule)))


def empty_fields(batch: Batch, raw: str, spec: FileSpec) -> tuple[str, ...]:
    """Mapped fields with no value in any row of the file (e.g. a column exported blank)."""
    refs = dict(spec.columns)
    if isinstance(spec, ClientSpec):
        refs.update({f"identifiers.{k}": v for k, v in spec.identifiers.items()})
    if not refs:
        return ()
    counts = ", ".join(
        "count(*) FILTER (WHERE "
        + " OR ".join(f"nullif(trim({_quoted(c)}), '') IS NOT NULL" for c in source_columns(ref))
        + ")"
        for ref in refs.values()
    )
    filled = batch.rows(f"SELECT {counts} FROM {raw}")[0]
    return tuple(name for name, n in zip(refs, filled, strict=True) if n == 0)


def _quoted(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def judge(
    gate: QualityGate, file: str, rows: int, issues: tuple[Issue, ...], empty: tuple[str, ...]
) -> tuple[list[Problem], list[Problem]]:
    """(breaches of the flagged-share limits, empty fields), each a located problem."""
    per_field: dict[str, list[Issue]] = {}
    for issue in issues:
        per_field.setdefault(issue.field, []).append(issue)
    breaches = []
    for field_name, found in sorted(per_field.items()):
        n = sum(i.rows for i in found)
        limit = gate.limit(field_name)
        if rows and n / rows > limit:
            rules = ", ".join(f"{i.rule} {i.rows:,}" for i in found)
            breaches.append(
                Problem(
                    f"{n:,} of {rows:,} rows ({n / rows:.0%}) flagged or quarantined ({rules});"
                    f" the quality gate allows {limit:.0%}",
                    file=file,
                    field=field_name,
                    rule="max_flagged_share",
                )
            )
    empties = [
        Problem(
            "no row has a value: was the column exported blank?",
            file=file,
            field=name,
            rule="empty_field",
        )
        for name in empty
    ]
    return breaches, empties
