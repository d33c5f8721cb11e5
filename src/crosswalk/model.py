"""The hub's common model: what every agency extract becomes.

This module is the contract between ingest (which writes these tables), identity (which
links person records) and analytics (which counts service events). Columns are data, so
the schema DDL, the docs and the mapping validator are all generated from here.

Standardised values sit beside the raw values they came from (``*_raw``), so a steward can
always see what the agency sent.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # DuckDB / ANSI type name
    description: str
    required: bool = False


# The 13 agencies of the synthetic state, by code. The agreement (parties), the synthetic
# generator (extracts) and the ingest mappings all use these codes.
AGENCIES: dict[str, str] = {
    "hfs": "Healthcare and Family Services (Medicaid)",
    "fcs": "Human Services - Family and Community Services (SNAP, TANF)",
    "sud": "Human Services - Substance Use Prevention and Recovery",
    "mh": "Human Services - Mental Health",
    "dd": "Human Services - Developmental Disabilities",
    "dcfs": "Children and Family Services (child welfare, foster care)",
    "aging": "Department on Aging",
    "idph": "Public Health (vital records, WIC, immunisation)",
    "doc": "Corrections",
    "djj": "Juvenile Justice",
    "ides": "Employment Security (unemployment insurance, wages)",
    "dva": "Veterans' Affairs",
    "housing": "Housing and homelessness services",
}

# The common program list: every agency's own program codes map to these (in the ingest
# mappings). Program -> the agency that runs it.
PROGRAMS: dict[str, str] = {
    "MEDICAID": "hfs",
    "SNAP": "fcs",
    "TANF": "fcs",
    "SUD_TREATMENT": "sud",
    "MENTAL_HEALTH": "mh",
    "DD_SERVICES": "dd",
    "CHILD_PROTECTIVE": "dcfs",
    "FOSTER_CARE": "dcfs",
    "AGING_IN_HOME": "aging",
    "ADULT_PROTECTIVE": "aging",
    "BIRTH_RECORD": "idph",
    "DEATH_RECORD": "idph",
    "WIC": "idph",
    "INCARCERATION": "doc",
    "PAROLE": "doc",
    "JUVENILE_DETENTION": "djj",
    "JUVENILE_PROBATION": "djj",
    "UI_CLAIM": "ides",
    "WAGE_RECORD": "ides",
    "VETERAN_BENEFITS": "dva",
    "HOMELESS_SERVICES": "housing",
    "HOUSING_ASSISTANCE": "housing",
}

# Kinds of typed identifier beyond SSN (``person_record.other_ids``). A mapping declares
# them as ``identifiers: {<kind>: <column>}``; besides these, ``agency_<code>`` is the id an
# agency gives a person that another agency also records, and ``x_<name>`` is a custom kind.
IDENTIFIER_KINDS: dict[str, str] = {
    "medicaid_id": "Medicaid recipient id.",
    "state_id": "State identification card number.",
    "drivers_licence": "Driver's licence number.",
    "foreign_national_id": "National id number issued by another country.",
    "passport": "Passport number.",
    "tribal_id": "Tribal enrollment number.",
}
IDENTIFIER_KIND_PATTERN = r"^(agency_[a-z][a-z0-9_]{0,31}|x_[a-z][a-z0-9_]{0,31})$"

PERSON_RECORD: tuple[Column, ...] = (
    Column("record_key", "VARCHAR", "Hub-wide record key: '<agency>:<source_record_id>'.", True),
    Column("agency", "VARCHAR", "Agency code (see AGENCIES).", True),
    Column("source_record_id", "VARCHAR", "The agency's own client id.", True),
    Column("batch_id", "VARCHAR", "Batch that loaded this row.", True),
    Column("source_row", "BIGINT", "Row number in the source file (1 = first data row).", True),
    Column("first_name", "VARCHAR", "First name, standardised (upper case, ASCII)."),
    Column("middle_name", "VARCHAR", "Middle name or initial, standardised."),
    Column("last_name", "VARCHAR", "Last name, standardised; hyphens become spaces."),
    Column("name_suffix", "VARCHAR", "Generational suffix (JR, SR, II, III, IV)."),
    Column("first_name_canonical", "VARCHAR", "Nickname-canonical first name (BILL -> WILLIAM)."),
    Column("first_name_raw", "VARCHAR", "First name as sent (or the whole name field)."),
    Column("last_name_raw", "VARCHAR", "Last name as sent."),
    Column("dob", "DATE", "Date of birth; NULL when missing, unparseable or implausible."),
    Column("dob_raw", "VARCHAR", "Date of birth as sent."),
    Column("sex", "VARCHAR", "M, F or U (unknown / not recorded)."),
    Column("sex_raw", "VARCHAR", "Sex code as sent."),
    Column("ssn", "VARCHAR", "Nine-digit SSN valid under SSA rules; NULL otherwise."),
    Column("ssn_last4", "VARCHAR", "Last four SSN digits (from a full or a partial SSN)."),
    Column("ssn_raw", "VARCHAR", "SSN as sent."),
    Column("address_line", "VARCHAR", "Street address, normalised."),
    Column("city", "VARCHAR", "City, upper case."),
    Column("state", "VARCHAR", "Two-letter state code."),
    Column(
        "zip",
        "VARCHAR",
        "Postal code: five-digit ZIP in the US; elsewhere the country's postcode, upper-case"
        " letters and digits without spaces.",
    ),
    Column("county", "VARCHAR", "County name, upper case."),
    Column("address_raw", "VARCHAR", "Address as sent (all address fields joined)."),
    Column("phone", "VARCHAR", "Phone in E.164 form."),
    Column("phone_raw", "VARCHAR", "Phone as sent."),
    Column("case_id", "VARCHAR", "The agency's case id (several clients can share one)."),
    Column("household_id", "VARCHAR", "The agency's household id, where it keeps one."),
    Column("medicaid_id", "VARCHAR", "Medicaid recipient id, where the agency records it."),
    Column(
        "other_ids",
        "STRUCT(kind VARCHAR, value VARCHAR)[]",
        "Typed identifiers beyond SSN (kind: medicaid_id, state_id, drivers_licence, ...;"
        " value upper case, letters and digits only); NULL when the record has none.",
    ),
    Column("country", "VARCHAR", "ISO 3166-1 alpha-2 country of the address (the mapping's)."),
    Column("flags", "VARCHAR[]", "Rules an optional value failed (value kept raw, nulled here)."),
    Column(
        "birth_year",
        "INTEGER",
        "Year of birth: the DOB's, or the year an extract gives alone (a year of birth, or an"
        " age on a date); NULL when unknown.",
    ),
    Column(
        "email",
        "VARCHAR",
        "Email address, trimmed and lower case; NULL when missing or not an address.",
    ),
    Column(
        "mother_first_name",
        "VARCHAR",
        "The mother's first name as the record gives it (a birth certificate), standardised.",
    ),
    Column(
        "mother_last_name",
        "VARCHAR",
        "The mother's maiden (birth) last name as the record gives it, standardised.",
    ),
    Column("mother_dob", "DATE", "The mother's date of birth as the record gives it."),
)

SERVICE_EVENT: tuple[Column, ...] = (
    Column("event_key", "VARCHAR", "Hub-wide event key: '<agency>:<source_event_id>'.", True),
    Column("agency", "VARCHAR", "Agency code.", True),
    Column("source_event_id", "VARCHAR", "The agency's own id of the service event.", True),
    Column("record_key", "VARCHAR", "Person record the event belongs to.", True),
    Column("batch_id", "VARCHAR", "Batch that loaded this row.", True),
    Column("source_row", "BIGINT", "Row number in the source file.", True),
    Column("program", "VARCHAR", "Program code in the common list (e.g. MEDICAID, SNAP).", True),
    Column("service_type", "VARCHAR", "Service type within the program."),
    Column("start_date", "DATE", "Start of the service or enrolment.", True),
    Column("end_date", "DATE", "End; NULL while open."),
    Column("amount", "DECIMAL(12,2)", "Amount paid or benefit value, where it applies."),
    Column("county", "VARCHAR", "County where the service was given."),
    Column("flags", "VARCHAR[]", "Rules an optional value failed."),
    Column(
        "household_id",
        "VARCHAR",
        "The agency's id of the household the service placed the person in (a foster home"
        " of a placement), in the same numbering as its clients' household ids.",
    ),
)


PERSON_INDEX: tuple[Column, ...] = (
    Column("record_key", "VARCHAR", "Person record (one row per ingested record).", True),
    Column("agency", "VARCHAR", "Agency code.", True),
    Column("source_record_id", "VARCHAR", "The agency's own client id.", True),
    Column("enterprise_id", "VARCHAR", "Enterprise person id, stable across runs.", True),
    Column("link_run_id", "VARCHAR", "Linkage run that assigned it.", True),
    Column("match_probability", "DOUBLE", "Weakest accepted link into the cluster (1 if alone)."),
)

# The analytic tables: the hub's records and events with the enterprise person each
# belongs to, rewritten by every linkage run (``crosswalk.identity.linked``). They hold
# no direct identifiers: analytics count people, they never need names or numbers.
_PERSON = (
    Column("person", "BIGINT", "Enterprise person number (the digits of the enterprise id).", True),
    Column("enterprise_id", "VARCHAR", "Enterprise person id.", True),
)
_RECORD_KEPT = (
    "record_key",
    "agency",
    "batch_id",
    "dob",
    "sex",
    "county",
    "case_id",
    "household_id",
)
_EVENT_KEPT = (
    "event_key", "record_key", "agency", "batch_id", "program", "service_type",
    "start_date", "end_date", "amount", "county",
)  # fmt: skip
LINKED_RECORD: tuple[Column, ...] = _PERSON + tuple(
    c for c in PERSON_RECORD if c.name in _RECORD_KEPT
)
LINKED_EVENT: tuple[Column, ...] = _PERSON + tuple(
    c for c in SERVICE_EVENT if c.name in _EVENT_KEPT
)


# Enterprise households (``crosswalk.identity.households``): persons grouped across
# agencies, with the dates of each membership. The analytic table holds household and
# person numbers and dates only; ``agency`` is the agency whose data placed the person in
# the household, so a reader sees a membership only where that agency's data is granted.
HOUSEHOLD_MEMBER: tuple[Column, ...] = (
    Column("household_id", "VARCHAR", "Enterprise household id, stable across runs.", True),
    Column("enterprise_id", "VARCHAR", "Enterprise person id of the member.", True),
    Column("agency", "VARCHAR", "Agency whose data placed the person in the household.", True),
    Column("valid_from", "DATE", "First day of the membership; NULL: since before any record."),
    Column("valid_to", "DATE", "Last day of the membership; NULL: still a member."),
    Column(
        "basis",
        "VARCHAR",
        "What placed the person there: case, relation, address or placement.",
        True,
    ),
    Column("link_run_id", "VARCHAR", "Linkage run that built it.", True),
)
LINKED_HOUSEHOLD: tuple[Column, ...] = (
    Column("household", "BIGINT", "Enterprise household number (the digits of its id).", True),
    Column("household_id", "VARCHAR", "Enterprise household id.", True),
    *_PERSON,
    Column("agency", "VARCHAR", "Agency whose data placed the person in the household.", True),
    Column("valid_from", "DATE", "First day of the membership; NULL: since before any record."),
    Column("valid_to", "DATE", "Last day of the membership; NULL: still a member."),
)


def ddl(table: str, columns: tuple[Column, ...]) -> str:
    """CREATE TABLE statement for one of the common-model tables."""
    body = ",\n  ".join(f"{c.name} {c.type}{' NOT NULL' if c.required else ''}" for c in columns)
    return f"CREATE TABLE IF NOT EXISTS {table} (\n  {body}\n)"
