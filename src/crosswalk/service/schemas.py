"""The service's request and response bodies (they are its OpenAPI schema)."""

from __future__ import annotations

from datetime import date
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list: ``items`` from ``offset``, at most ``limit``, of ``total``."""

    items: list[T]
    offset: int
    limit: int
    total: int


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SignIn(Body):
    username: str = Field(max_length=64, examples=["ana"])
    password: str = Field(max_length=1024)


class NewToken(BaseModel):
    """A token, shown this once: keep it; the service keeps only its hash."""

    token: str = Field(examples=["cwt_1a2b3c4d5e6f_…"])
    token_id: str
    username: str
    scopes: list[str]
    expires_at: str


class TokenOut(BaseModel):
    token_id: str
    username: str
    scopes: list[str]
    label: str
    created_at: str
    expires_at: str
    revoked_at: str | None


class TokenRequest(Body):
    scopes: list[str] | None = Field(None, examples=[["data"]])
    days: int = Field(30, ge=1, le=365)
    label: str = Field("", max_length=128)


class AccountOut(BaseModel):
    username: str
    agency: str
    full_name: str
    roles: list[str]
    created_at: str
    disabled: bool
    has_password: bool


class NewAccount(Body):
    username: str = Field(max_length=64, examples=["ana"])
    agency: str = Field(max_length=32, examples=["fcs"])
    roles: list[str] = Field(max_length=16, examples=[["caseworker"]])
    full_name: str = Field("", max_length=128)
    password: str | None = Field(None, max_length=1024)


class RoleGrant(Body):
    role: str = Field(max_length=32, examples=["steward"])


class Me(BaseModel):
    username: str
    agency: str
    roles: list[str]
    scopes: list[str]
    purposes: dict[str, list[str]] = Field(
        description="For each role held, the purposes a clause in force covers."
    )


class PartyOut(BaseModel):
    code: str
    name: str
    withdrawn_on: date | None


class ClauseOut(BaseModel):
    clause: str
    title: str
    recipients: list[str]
    roles: list[str]
    purposes: list[str]
    classes: list[str]
    level: str
    requires_consent: bool
    by_request: bool = Field(False, description="Used only under an approved data request.")


class AgreementOut(BaseModel):
    name: str
    version: int
    effective_from: date
    min_cell: int
    purposes: dict[str, str]
    by_request: list[str] = Field(
        default_factory=list, description="Purposes used only under an approved data request."
    )
    roles: dict[str, str]
    clauses: list[ClauseOut]


class PersonOut(BaseModel):
    person: str = Field(description="The enterprise id, or a per-purpose pseudonym.")
    records: list[dict[str, Any]]
    events: list[dict[str, Any]]
    notices: list[str]
    clauses: list[str]


class Filters(Body):
    start: date | None = None
    end: date | None = None
    programs: list[str] = Field(default_factory=list, max_length=64)
    counties: list[str] = Field(default_factory=list, max_length=256)
    age_groups: list[str] = Field(default_factory=list, max_length=16)
    sexes: list[str] = Field(default_factory=list, max_length=3)


class Ask(Body):
    """Who asks is the token's account; the request names only why (and, if the account
    holds several roles, in which role)."""

    purpose: str = Field(max_length=64, examples=["program_evaluation"])
    role: str | None = Field(None, max_length=32)
    filters: Filters = Field(default_factory=Filters)


class AskOverlap(Ask):
    unit: Literal["person", "household"] = "person"


class AskPathways(Ask):
    program: str = Field(max_length=64, examples=["TANF"])


class AskLifetime(Ask):
    by: Literal["age_group", "sex", "county", "all"] = "all"
    unit: Literal["person", "household"] = "person"


class AskCohort(Ask):
    program: str = Field(max_length=64, examples=["FOSTER_CARE"])
    event: Literal["entry", "exit"] = "exit"
    cohort_start: date = date(2015, 1, 1)
    cohort_end: date = date(2018, 12, 31)
    years: int = Field(5, ge=1, le=30)
    outcomes: list[str] = Field(default_factory=list, max_length=32)


class AskTrends(Ask):
    by_county: bool = True


class AskHeavyUsers(Ask):
    limit: int = Field(100, ge=1, le=1000)
    level: Literal["identified", "pseudonymised"] = "pseudonymised"


class AnswerOut(BaseModel):
    question: str
    columns: list[str]
    rows: list[dict[str, Any]]
    protection: dict[str, Any] | None = Field(
        None, description="Disclosure control applied (aggregates): k and hidden counts."
    )


class BatchOut(BaseModel):
    batch_id: str
    agency: str
    status: str
    loaded_at: str | None
    loaded_by: str | None
    replaces: str | None
    files: int
    read: int
    accepted: int
    quarantined: int


class ConsentIn(Body):
    enterprise_id: str = Field(max_length=32)
    discloser: str | None = Field(None, max_length=32, description="Default: your agency.")
    recipient: str = Field(max_length=32)
    purpose: str = Field(max_length=64)
    information: str = Field(max_length=256)
    signed_on: date
    expires_on: date


class ConsentOut(BaseModel):
    consent_id: str
    enterprise_id: str
    discloser: str
    recipient: str
    purpose: str
    information: str
    signed_on: date
    expires_on: date
    revoked_on: date | None


class AuditEntryOut(BaseModel):
    seq: int
    at: str
    action: str
    user: str
    agency: str | None
    purpose: str | None
    outcome: str
    body: dict[str, Any]


class VerificationOut(BaseModel):
    ok: bool
    entries: int
    first_bad: int | None
    problem: str | None
    checkpoints: int
    key: str | None
    last_checkpoint_at: str | None = Field(
        None, description="When the newest checkpoint was signed (ISO 8601)."
    )
    since_checkpoint: int | None = Field(
        None,
        description="Entries after the newest checkpoint: a deleted tail of up to this many "
        "entries would not be caught.",
    )


class CheckpointOut(BaseModel):
    count: int
    head: str
    at: str
    signature: str


class QuarantinedRow(BaseModel):
    file: str
    source_row: int
    field: str | None
    value: str | None
    rule: str
