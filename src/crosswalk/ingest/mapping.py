"""Agency mappings: one YAML file per agency, validated with Pydantic.

A mapping says how an agency's extract becomes the common model: which of its columns
feed which common fields, how its names and dates are written, what its codes mean. Every
problem in a mapping is reported together, each with the file, line and key.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import re
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

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


# Date formats are a closed grammar: these strptime directives and these separators only.
DATE_DIRECTIVES = ("%Y", "%y", "%m", "%-m", "%d", "%-d", "%b", "%B", "%j", "%H", "%-H", "%I",
                   "%M", "%S", "%p", "%f")  # fmt: skip
DATE_SEPARATORS = " /-.,:T"
_DATE_TOKEN = re.compile("|".join(re.escape(d) for d in sorted(DATE_DIRECTIVES, key=len)[::-1]))
# The common codes a mapping may translate an agency's codes into, per field.
SEX_CODES = ("M", "F", "U")
# Names the standardising SQL gives its own row number, row and lambda parameters: a
# source column of the same name would be read in their place.
RESERVED_COLUMNS = ("_row", "_cw_raw", "_cw_x", "_cw_f")
TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}(\.[A-Za-z_][A-Za-z0-9_]{0,127})?$")


# Values legacy systems and spreadsheets write for "no value": read as missing, never
# as a name, a code or an invalid value. Not "NA": it is a surname.
NULL_VALUES = ("NULL", "N/A", "#N/A", "NONE", "-", "--", "?", ".")


# A date written as a spreadsheet's day number (the 1900 date system: 32386 is
# 1988-08-31), as a CSV saved from a spreadsheet whose date column lost its format holds it.
EXCEL_SERIAL = "excel_serial"


def check_date_format(value: str) -> str:
    """A date format made only of allowed directives and separators, with year, month, day
    (or ``excel_serial``: a spreadsheet's day number)."""
    if value == EXCEL_SERIAL:
        return value
    rest = _DATE_TOKEN.sub("", value)
    bad = sorted(set(rest) - set(DATE_SEPARATORS))
    if bad or not value:
        raise ValueError(
            f"date format {value!r} may use only the directives {' '.join(DATE_DIRECTIVES)}"
            f" and the separators {DATE_SEPARATORS!r}"
        )
    found = set(_DATE_TOKEN.findall(value))
    if not found & {"%Y", "%y"} or not (
        (found & {"%m", "%-m", "%b", "%B"} and found & {"%d", "%-d"}) or "%j" in found
    ):
        raise ValueError(f"date format {value!r} needs a year, a month and a day")
    return value


def check_column_name(value: str) -> str:
    if not value.strip():
        raise ValueError("a column name cannot be empty")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValueError(f"column name {value!r} contains a control character")
    if value in RESERVED_COLUMNS:
        raise ValueError(f"column name {value!r} is reserved by the reader")
    return value


def check_source_query(value: str) -> str:
    """A table name, or one read-only SELECT (checked by parsing it, not by pattern)."""
    if TABLE_NAME.match(value):
        return value
    import sqlglot
    from sqlglot import exp

    try:
        statements = [s for s in sqlglot.parse(value) if s is not None]
    except sqlglot.errors.SqlglotError as e:
        raise ValueError(f"query is neither a table name nor a valid SELECT: {e}") from None
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise ValueError("query must be a table name or exactly one SELECT statement")
    writes = (exp.DML, exp.DDL, exp.Into, exp.Command)
    if any(isinstance(node, writes) for node in statements[0].walk()):
        raise ValueError("query must only read (no INTO, DML, DDL or commands)")
    return value


CLIENT_FIELDS = (
    "source_record_id",
    "first_name",
    "middle_name",
    "last_name",
    "name_suffix",
    "full_name",
    "dob",
    "birth_year",
    "age",
    "sex",
    "ssn",
    "address_line",
    "full_address",
    "city",
    "state",
    "zip",
    "county",
    "phone",
    "email",
    "case_id",
    "household_id",
    "medicaid_id",
    "mother_first_name",
    "mother_last_name",
    "mother_dob",
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
    "household_id",
)


def _check_refs(value: dict[str, ColumnRef]) -> dict[str, ColumnRef]:
    for field_name, ref in value.items():
        if isinstance(ref, list) and not ref:
            raise ValueError(f"{field_name}: a list of columns needs at least one column")
        for column in source_columns(ref):
            check_column_name(column)
    return value


def _known_fields(columns: dict[str, ColumnRef], known: tuple[str, ...]) -> None:
    """Refuse a ``columns`` key that is no common field, each at its own key and line."""
    unknown = [
        InitErrorDetails(
            type=PydanticCustomError(
                "unknown_field",
                "{why}",
                {"why": f"{name!r} is no common-model field; known: {', '.join(known)}"},
            ),
            loc=("columns", name),
            input=name,
        )
        for name in columns
        if name not in known
    ]
    if unknown:
        raise ValidationError.from_exception_data("Mapping", unknown)


class FileSpec(BaseModel):
    """How one extract file is read and what its columns mean."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["csv", "parquet", "xlsx", "sql"]
    delimiter: str = ","
    quote: str = '"'
    encoding: Literal["utf-8", "utf-8-sig", "utf-16", "windows-1252", "latin-1", "detect"] = (
        "detect"
    )
    sheet: str | None = None
    header_row: int = Field(
        1,
        ge=1,
        le=1000,
        description="The line (CSV) or row (Excel) that holds the header; those above it"
        " (a report's title, a run date) are not read.",
    )
    query: str | None = Field(None, description="For format sql: a table name or SELECT.")
    columns: dict[str, ColumnRef]
    ignore_columns: list[Annotated[str, AfterValidator(check_column_name)]] = []
    date_formats: list[Annotated[str, AfterValidator(check_date_format)]] = ["%Y-%m-%d"]
    codes: dict[str, dict[str, str]] = {}
    null_values: list[str] = Field(
        list(NULL_VALUES),
        description="Values that mean no value (compared trimmed, ignoring case).",
    )

    @field_validator("null_values")
    @classmethod
    def _null_values(cls, value: list[str]) -> list[str]:
        for token in value:
            if not token.strip():
                raise ValueError("a null value cannot be blank (blank values are always null)")
            if any(ord(ch) < 32 or ord(ch) == 127 for ch in token):
                raise ValueError(f"null value {token!r} contains a control character")
        return value

    @field_validator("delimiter", "quote")
    @classmethod
    def _one_char(cls, value: str) -> str:
        if len(value) != 1:
            raise ValueError(f"must be one character, not {value!r}")
        if value in "\r\n\x00":
            raise ValueError(f"cannot be a line break or NUL, not {value!r}")
        return value

    @field_validator("columns")
    @classmethod
    def _column_lists(cls, value: dict[str, ColumnRef]) -> dict[str, ColumnRef]:
        return _check_refs(value)

    @field_validator("date_formats")
    @classmethod
    def _date_formats(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("give at least one date format")
        return value

    @field_validator("query")
    @classmethod
    def _query(cls, value: str | None) -> str | None:
        return None if value is None else check_source_query(value)

    @model_validator(mode="after")
    def _delimiter_is_not_quote(self) -> FileSpec:
        if self.delimiter == self.quote:
            raise ValueError("delimiter and quote must differ")
        if self.header_row != 1 and self.format not in ("csv", "xlsx"):
            raise ValueError(f"header_row is for csv and xlsx files, not {self.format}")
        return self

    def _check_codes(self, allowed: dict[str, tuple[str, ...]]) -> None:
        for field_name, codes in self.codes.items():
            if field_name not in allowed:
                raise ValueError(
                    f"codes for {field_name!r}: only {sorted(allowed)} take codes in this file"
                )
            bad = sorted(set(codes.values()) - set(allowed[field_name]))
            if bad:
                raise ValueError(
                    f"{field_name} codes map to unknown {field_name} values {bad};"
                    f" known: {list(allowed[field_name])}"
                )

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
    identifier_digits_only: list[str] = Field(
        [],
        description="Identifier kinds whose values keep only their digits (a version code or"
        " check letters that agencies write differently are dropped).",
    )
    country: str = Field("US", description="ISO 3166-1 alpha-2 country: its postcode rule.")
    ages_on: date | None = Field(
        None, description="The date an age column was computed on (default: the load date)."
    )

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
        return _check_refs(value)

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
        _known_fields(self.columns, CLIENT_FIELDS)
        if "source_record_id" not in self.columns:
            raise ValueError("columns must map source_record_id")
        if "full_name" in self.columns and self.name_format is None:
            raise ValueError("full_name needs name_format (last_first or first_last)")
        if "full_name" not in self.columns and not {"first_name", "last_name"} <= set(self.columns):
            raise ValueError("map either full_name or both first_name and last_name")
        unmapped = sorted(
            set(self.identifier_digits_only) - set(self.identifiers) - {"medicaid_id"}
        )
        if unmapped or (
            "medicaid_id" in self.identifier_digits_only
            and "medicaid_id" not in {*self.identifiers, *self.columns}
        ):
            raise ValueError(
                f"identifier_digits_only names kinds the mapping does not map:"
                f" {unmapped or ['medicaid_id']}; mapped: {sorted(self.identifiers)}"
            )
        if self.ages_on is not None and "age" not in self.columns:
            raise ValueError("ages_on is the date of an age column: map age too")
        self._check_codes({"sex": SEX_CODES})
        return self


class EventSpec(FileSpec):
    @model_validator(mode="after")
    def _fields(self) -> EventSpec:
        _known_fields(self.columns, EVENT_FIELDS)
        missing = sorted(
            {"source_event_id", "source_record_id", "program", "start_date"} - set(self.columns)
        )
        if missing:
            raise ValueError(f"columns must map {missing}")
        if set(self.codes.get("program", {}).values()) - set(PROGRAMS):
            bad = sorted(set(self.codes["program"].values()) - set(PROGRAMS))
            raise ValueError(f"program codes map to unknown programs {bad}")
        self._check_codes({"program": tuple(PROGRAMS)})
        return self


# Common fields a quality rule can name: the mapped ones, typed identifiers, and "row" for a
# row that could not be split into the header's fields.
GATE_FIELDS = (*CLIENT_FIELDS, *EVENT_FIELDS, "other_ids", "row")


class QualityGate(BaseModel):
    """What a batch may hold before it is refused (or warned about) as a whole.

    A field's share is the rows of a file flagged or quarantined for that field, over the
    rows read. A mapped field with no value in any row of a file is "empty".
    """

    model_config = ConfigDict(extra="forbid")

    max_flagged_share: float = Field(0.05, ge=0, le=1, description="For every field.")
    fields: dict[str, Annotated[float, Field(ge=0, le=1)]] = Field(
        {}, description="Per-field maximum share, overriding max_flagged_share."
    )
    on_breach: Literal["warn", "refuse"] = "warn"
    empty_field: Literal["warn", "refuse", "ignore"] = "warn"

    @field_validator("fields")
    @classmethod
    def _known(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(GATE_FIELDS))
        if unknown:
            raise ValueError(f"unknown fields {unknown}; known: {list(GATE_FIELDS)}")
        return value

    def limit(self, field_name: str) -> float:
        return self.fields.get(field_name, self.max_flagged_share)


class Mapping(BaseModel):
    """One agency's mapping to the common model."""

    model_config = ConfigDict(extra="forbid")

    agency: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$", description="Agency code.")
    version: int = Field(ge=1)
    clients: ClientSpec
    events: EventSpec | None = None
    quality: QualityGate = QualityGate()
    source: str = Field("", exclude=True)
    digest: str = Field("", exclude=True)

    @field_validator("events")
    @classmethod
    def _own_programs(cls, value: EventSpec | None, info: ValidationInfo) -> EventSpec | None:
        """An agency's events map only to its own programs: a program's label decides who
        may see an event (substance-use treatment needs Part 2 consent), so one agency
        cannot file its events under another's program."""
        agency = info.data.get("agency")
        if value is None or agency is None:
            return value
        foreign = [
            InitErrorDetails(
                type=PydanticCustomError(
                    "foreign_program",
                    "{why}",
                    {
                        "why": f"code {code!r} maps to {program}, a program of"
                        f" {PROGRAMS[program]}; {agency}'s events map only to its own"
                        f" programs {sorted(p for p, a in PROGRAMS.items() if a == agency)}"
                    },
                ),
                loc=("codes", "program", code),
                input=program,
            )
            for code, program in value.codes.get("program", {}).items()
            if PROGRAMS.get(program) != agency
        ]
        if foreign:
            raise ValidationError.from_exception_data("Mapping", foreign)
        return value


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
            if path.stat().st_size > yamlfile.MAX_CHARS * 4:
                raise MappingError(f"{path} is too large for a mapping file")
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
