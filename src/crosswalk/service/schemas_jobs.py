"""Request and response bodies of background jobs, uploads, linkage runs and review
decisions (part of the service's OpenAPI schema)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ProblemItem(BaseModel):
    """One thing wrong with an input: where (file, row, field) and what."""

    message: str
    file: str | None = None
    row: int | None = None
    field: str | None = None
    value: str | None = None
    rule: str | None = None


class ProblemOut(BaseModel):
    """An RFC 9457 problem+json body, as every error of the service has."""

    type: str = Field(examples=["urn:crosswalk:error:MappingError"])
    title: str
    status: int
    detail: str
    problems: list[ProblemItem] = Field(default_factory=list)


class FileSummary(BaseModel):
    file: str = Field(examples=["clients.csv"])
    kind: Literal["clients", "events"]
    read: int
    accepted: int
    quarantined: int
    already_loaded_in: str | None = Field(
        None, description="The batch that already holds this very file (not loaded again)."
    )


class IngestSummary(BaseModel):
    """What an ingest job loaded (read = accepted + quarantined for every file)."""

    kind: Literal["ingest"] = "ingest"
    batch_id: str | None = Field(
        description="The new batch (none when every file was already loaded).",
        examples=["B1234abcd5678"],
    )
    agency: str
    replaced: str | None
    files: list[FileSummary]
    read: int
    accepted: int
    quarantined: int
    warnings: list[ProblemItem] = Field(
        description="The quality gate's findings it did not refuse the batch on."
    )


class LinkSummary(BaseModel):
    """What a linkage run wrote."""

    kind: Literal["link"] = "link"
    run_id: str = Field(examples=["L1234abcd5678"])
    records: int
    candidate_pairs: int
    clusters: int = Field(description="Persons in the index after the run.")
    split_components: int
    review_pairs: int = Field(description="Pairs now awaiting clerical review.")
    model_version: int
    threshold_weight: float
    persons_by_agency: dict[str, int]


class JobOut(BaseModel):
    """A background job, as its owner polls it (``GET /jobs/{job_id}``)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "job_id": "J5c2e8f0a9b1d",
                    "kind": "ingest",
                    "owner": "fcs.steward",
                    "agency": "fcs",
                    "status": "running",
                    "step": "loaded clients.csv",
                    "progress": 0.75,
                    "params": {"files": ["clients.csv", "events.csv"]},
                    "result": None,
                    "problem": None,
                    "created_at": "2025-06-01T09:00:00+00:00",
                    "started_at": "2025-06-01T09:00:01+00:00",
                    "finished_at": None,
                }
            ]
        }
    )

    job_id: str
    kind: Literal["ingest", "link"]
    owner: str
    agency: str
    status: Literal["queued", "running", "done", "failed"]
    step: str = Field(description="The step the job reports, as the CLI's progress bar does.")
    progress: float = Field(ge=0, le=1, description="The share done, 0 to 1.")
    params: dict[str, Any]
    result: IngestSummary | LinkSummary | None = Field(None, discriminator="kind")
    problem: ProblemOut | None = Field(
        None, description="Why it failed: the error's problem+json body (file, row, field)."
    )
    created_at: str
    started_at: str | None
    finished_at: str | None


class LinkRunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seed: int = Field(1, ge=0, le=2**31 - 1, description="Seed of the model's random sampling.")
    full: bool = Field(
        False,
        description="Retrain the model and recluster every record (a full re-link); otherwise "
        "only records new or changed since the last run are linked, with the saved model.",
    )


class ReviewDecisionIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "record_a": "fcs:FC00000340",
                    "record_b": "hfs:R000001875",
                    "decision": "no-match",
                    "note": "different mothers on the birth records",
                }
            ]
        },
    )

    record_a: str = Field(max_length=64)
    record_b: str = Field(max_length=64)
    decision: Literal["match", "no-match"]
    note: str | None = Field(None, max_length=1000)


class ReviewDecisionOut(BaseModel):
    record_keys: list[str]
    decision: Literal["match", "no-match"]
    decided_by: str


class BatchIssueOut(BaseModel):
    """Rows of one file flagged or quarantined by one rule of one field (counts only)."""

    batch_id: str
    agency: str
    file: str
    field: str | None
    rule: str
    rows: int
    share: float = Field(description="Of the file's rows read.")
    outcome: Literal["flagged", "quarantined"]


class PersonIndexRow(BaseModel):
    agency: str
    source_record_id: str
    enterprise_id: str
    match_probability: float | None
    link_run_id: str | None
