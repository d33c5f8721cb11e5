"""Agency mappings: one YAML file per agency, validated with Pydantic.

A mapping says how an agency's extract becomes the common model: which of its columns
feed which common fields, how its names and dates are written, what its codes mean. Every
problem in a mapping is reported together, each with the file, line and key.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from crosswalk import yamlfile
from crosswalk.errors import MappingError
from crosswalk.ingest.postcodes import POSTCODES
from crosswalk.model import IDENTIFIER_KIND_PATTERN, IDENTIFIER_KINDS, PROGRAMS

# A common field comes from one source column, or from several joined with a space
# (blank parts skipped): ``address_line: ["Street No", "Street"]``.
ColumnRef = str | list[str]


def source_columns(ref: ColumnRef) -> list[str]:
    """The source columns a mapped field reads."""
    return [ref] if isinstance(ref, str) else list(ref)


CLIENT_FIELDS = (
    "source_record_id",
    "first_name",
    "middle_name",
    "last_name",
    "name_suffix",
    "full_name",
    "dob",
    "sex",
    "ssn",
    "address_line",
    "full_address",
    "city",
    "state",
    "zip",
    "county",
    "phone",
    "case_id",
    "household_id",
    "medicaid_id",
)
EVENT_FIELDS = (
    "source_event_id",
    "source_record_id",
    "program",
    "service_type",
    "start_date",
    "end_date",
    "amount",
    "county",
)


class FileSpec(BaseModel):
    """How one extract file is read and what its columns mean."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["csv", "parquet", "xlsx", "sql"]
    delimiter: str = ","
    quote: str = '"'
    encoding: Literal["utf-8", "utf-8-sig", "latin-1", "detect"] = "detect"
    sheet: str | None = None
    query: str | None = Field(None, description="For format sql: a table name or SELECT.")
    columns: dict[str, ColumnRef]
    ignore_columns: list[str] = []
    date_formats: list[str] = ["%Y-%m-%d"]
    codes: dict[str, dict[str, str]] = {}

    @field_validator("delimiter", "quote")
    @classmethod
    def _one_char(cls, value: str) -> str:
        if len(value) != 1:
            raise ValueError(f"must be one character, not {value!r}")
        return value

    @field_validator("columns")
    @classmethod
    def _column_lists(cls, value: dict[str, ColumnRef]) -> dict[str, ColumnRef]:
        for field_name, ref in value.items():
            if isinstance(ref, list) and not ref:
                raise ValueError(f"{field_name}: a list of columns needs at least one column")
        return value

    def mapped_columns(self) -> list[str]:
        """Every source column the mapping reads, in mapping order, once each."""
        seen: dict[str, None] = {}
        for ref in self.columns.values():
            seen.update(dict.fromkeys(source_columns(ref)))
        return list(seen)


class ClientSpec(FileSpec):
    name_format: Literal["last_first", "first_last"] | None = None
    ssn_form: Literal["full", "last4", "absent"] = "full"
    identifiers: dict[str, ColumnRef] = Field(
        {}, description="Typed identifiers beyond SSN: kind -> column (person_record.other_ids)."
    )
    country: str = Field("US", description="ISO 3166-1 alpha-2 country: its postcode rule.")

    @field_validator("identifiers")
    @classmethod
    def _kinds(cls, value: dict[str, ColumnRef]) -> dict[str, ColumnRef]:
        pattern = re.compile(IDENTIFIER_KIND_PATTERN)
        bad = sorted(k for k in value if k not in IDENTIFIER_KINDS and not pattern.match(k))
        if bad:
            raise ValueError(
                f"unknown identifier kinds {bad}; known: {sorted(IDENTIFIER_KINDS)},"
                " or agency_<code> (another agency's id) or x_<name> (a custom kind)"
            )
        for kind, ref in value.items():
            if isinstance(ref, list) and not ref:
                raise ValueError(f"{kind}: a list of columns needs at least one column")
        return value

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        if value not in POSTCODES:
            raise ValueError(f"no postcode rule for country {value!r}; known: {sorted(POSTCODES)}")
        return value

    def mapped_columns(self) -> list[str]:
        seen = dict.fromkeys(super().mapped_columns())
        for ref in self.identifiers.values():
            seen.update(dict.fromkeys(source_columns(ref)))
        return list(seen)

    @model_validator(mode="after")
    def _fields(self) -> ClientSpec:
        unknown = sorted(set(self.columns) - set(CLIENT_FIELDS))
        if unknown:
            raise ValueError(f"unknown common-model fields {unknown}; known: {list(CLIENT_FIELDS)}")
        if "source_record_id" not in self.columns:
            raise ValueError("columns must map source_record_id")
        if "full_name" in self.columns and self.name_format is None:
            raise ValueError("full_name needs name_format (last_first or first_last)")
        if "full_name" not in self.columns and not {"first_name", "last_name"} <= set(self.columns):
            raise ValueError("map either full_name or both first_name and last_name")
        return self


class EventSpec(FileSpec):
    @model_validator(mode="after")
    def _fields(self) -> EventSpec:
        unknown = sorted(set(self.columns) - set(EVENT_FIELDS))
        if unknown:
            raise ValueError(f"unknown common-model fields {unknown}; known: {list(EVENT_FIELDS)}")
        missing = sorted(
            {"source_event_id", "source_record_id", "program", "start_date"} - set(self.columns)
        )
        if missing:
            raise ValueError(f"columns must map {missing}")
        bad = sorted(set(self.codes.get("program", {}).values()) - set(PROGRAMS))
        if bad:
            raise ValueError(f"program codes map to unknown programs {bad}")
        return self


class Mapping(BaseModel):
    """One agency's mapping to the common model."""

    model_config = ConfigDict(extra="forbid")

    agency: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$", description="Agency code.")
    version: int = Field(ge=1)
    clients: ClientSpec
    events: EventSpec | None = None
    source: str = Field("", exclude=True)
    digest: str = Field("", exclude=True)


def parse_mapping(text: str, source: str) -> Mapping:
    """Validate mapping text; raise MappingError listing every problem with its line."""
    mapping = yamlfile.parse(text, source, Mapping, MappingError)
    digest = hashlib.sha256(text.encode()).hexdigest()
    return mapping.model_copy(update={"source": source, "digest": digest})


def load_mapping(agency_or_path: str | Path) -> Mapping:
    """A shipped agency mapping by agency code, or a mapping file by path."""
    path = Path(agency_or_path)
    if path.suffix in {".yaml", ".yml"}:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            raise MappingError(f"cannot read mapping {path}: {e.strerror}") from None
        return parse_mapping(text, str(path))
    shipped = importlib.resources.files("crosswalk.ingest").joinpath(
        "mappings", f"{agency_or_path}.yaml"
    )
    if not shipped.is_file():
        raise MappingError(f"no mapping shipped for agency {agency_or_path!r}; pass --mapping FILE")
    return parse_mapping(shipped.read_text(encoding="utf-8"), f"mappings/{agency_or_path}.yaml")
