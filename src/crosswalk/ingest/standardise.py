"""Standardisation and validation as SQL over a raw extract table.

Each common-model field is one SQL expression over the agency's raw text columns. Raw
values stay beside standardised ones. An optional value that fails a rule is nulled and
its rule added to ``flags`` (the person's services still count); a row whose required
field fails is quarantined with the field, value and rule. The few values that need a
Python library (unusual phone numbers, addresses the SQL pattern cannot split) are done
once per distinct value, never once per row.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Iterable
from functools import cache

import duckdb
import phonenumbers
import pyarrow as pa
import usaddress

from crosswalk import clock
from crosswalk.ingest.mapping import ClientSpec, ColumnRef, EventSpec
from crosswalk.ingest.postcodes import NANP, POSTCODES
from crosswalk.model import PROGRAMS

SUFFIXES = ("JR", "SR", "II", "III", "IV")
# Range checks on events: a start before 1900 or more than a year ahead is refused (the
# row is quarantined); an end outside 1900-2100 (9999-12-31 "open") or an amount below
# zero or above ten million is nulled and flagged.
MIN_DATE = "1900-01-01"
MAX_START_AHEAD = "'1 year'"
MAX_END_DATE = "2100-12-31"
MAX_AMOUNT = 10_000_000
PLACEHOLDER_SSNS = (
    "123456789",
    "111111111",
    "222222222",
    "333333333",
    "444444444",
    "555555555",
    "777777777",
    "888888888",
    "078051120",
    "219099999",
)

_MACROS = f"""
CREATE OR REPLACE TEMP MACRO cw_name(x) AS nullif(trim(regexp_replace(regexp_replace(
    upper(strip_accents(x)), '[^A-Z \\-]', '', 'g'), '[\\s\\-]+', ' ', 'g')), '');
CREATE OR REPLACE TEMP MACRO cw_suffix(x) AS CASE WHEN len(string_split(x, ' ')) > 1
    AND string_split(x, ' ')[-1] IN {SUFFIXES} THEN string_split(x, ' ')[-1] END;
CREATE OR REPLACE TEMP MACRO cw_unsuffixed(x) AS CASE WHEN cw_suffix(x) IS NOT NULL
    THEN array_to_string(list_slice(string_split(x, ' '), 1, -2), ' ') ELSE x END;
CREATE OR REPLACE TEMP MACRO cw_tokens(x) AS string_split(cw_unsuffixed(cw_name(x)), ' ');
CREATE OR REPLACE TEMP MACRO cw_alnum(x) AS nullif(regexp_replace(upper(strip_accents(x)), '[^A-Z0-9]', '', 'g'), '');
CREATE OR REPLACE TEMP MACRO cw_placeholder(x) AS x IS NOT NULL AND replace(x, left(x, 1), '') = '';
CREATE OR REPLACE TEMP MACRO cw_digits(x) AS nullif(regexp_replace(x, '[^0-9]', '', 'g'), '');
CREATE OR REPLACE TEMP MACRO cw_ssn_valid(d) AS length(d) = 9 AND substr(d, 1, 3) NOT IN ('000', '666')
    AND substr(d, 1, 1) <> '9' AND substr(d, 4, 2) <> '00' AND substr(d, 6, 4) <> '0000'
    AND d NOT IN {PLACEHOLDER_SSNS};
CREATE OR REPLACE TEMP MACRO cw_street(x) AS nullif(trim(regexp_replace(regexp_replace(regexp_replace(
    regexp_replace(regexp_replace(upper(strip_accents(x)), '[.,]', '', 'g'),
    '\\b(APARTMENT|UNIT|#) ?', 'APT ', 'g'),
    '\\bSTREET\\b', 'ST', 'g'), '\\bAVENUE\\b', 'AVE', 'g'), '\\s+', ' ', 'g')), '');
"""


def install(con: duckdb.DuckDBPyConnection) -> None:
    """Create the macros and the nickname lookup on this connection (temporary objects)."""
    for statement in _MACROS.split(";"):
        if statement.strip():
            con.execute(statement)
    con.register("_nick_arrow", _nickname_table())
    con.execute("CREATE OR REPLACE TEMP TABLE cw_nickname AS SELECT * FROM _nick_arrow")
    con.unregister("_nick_arrow")


@cache
def _nickname_table() -> pa.Table:
    """Name -> canonical formal name, from the ``nicknames`` list and census frequencies.

    A nickname with several formal names (AL: ALBERT, ALAN, ALFRED) maps to the most
    frequent of them in the census tables, so the mapping is deterministic.
    """
    import csv

    freq: dict[str, float] = {}
    for table in ("dist.male.first", "dist.female.first"):
        text = importlib.resources.files("names").joinpath(table).read_text(encoding="ascii")
        for line in text.splitlines():
            parts = line.split()
            if len(parts) >= 2:
                freq[parts[0]] = max(freq.get(parts[0], 0.0), float(parts[1]))
    formals: dict[str, set[str]] = {}
    path = importlib.resources.files("nicknames").joinpath("names.csv")
    with path.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["relationship"] == "has_nickname":
                formals.setdefault(row["name2"].upper(), set()).add(row["name1"].upper())
    # A name that is common in its own right (JAMES) stays itself even where the list also
    # has it as a nickname (of JAMIE); a rare one (BILL) maps to its most frequent formal name.
    best = {
        name: max({name, *options}, key=lambda o: (freq.get(o, 0.0), o == name, o))
        for name, options in formals.items()
    }
    names = sorted(best)
    return pa.table({"name": names, "canonical": [best[n] for n in names]})


class Binds:
    """Values from a mapping, bound as query parameters (``$p0``, ``$p1``...), never pasted.

    Code values, date formats, labels, the agency and the batch id all reach DuckDB as
    parameters; only column names enter the SQL text, as quoted identifiers.
    """

    def __init__(self) -> None:
        self.values: dict[str, object] = {}

    def __call__(self, value: object) -> str:
        for name, bound in self.values.items():
            if type(bound) is type(value) and bound == value:
                return f"${name}"
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f"${name}"


def _ident(name: str) -> str:
    """A source column as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _ref(ref: ColumnRef) -> str:
    """One source column as a quoted identifier; several joined with a space, blanks skipped."""
    if isinstance(ref, str):
        return _ident(ref)
    parts = ", ".join(f"nullif(trim({_ident(c)}), '')" for c in ref)
    return f"nullif(concat_ws(' ', {parts}), '')"


def _label(ref: ColumnRef) -> str:
    """How a mapped field's source column(s) are named in quarantine and messages."""
    return ref if isinstance(ref, str) else " + ".join(ref)


def label(ref: ColumnRef) -> str:
    """How a mapped field's source column(s) are named in quarantine and messages."""
    return _label(ref)


def _col(columns: dict[str, ColumnRef], field: str) -> str:
    """The raw value of a field as SQL over quoted identifiers, or NULL when not mapped."""
    ref = columns.get(field)
    return "NULL::VARCHAR" if ref is None else _ref(ref)


OTHER_IDS_TYPE = "STRUCT(kind VARCHAR, value VARCHAR)[]"


def _other_ids(spec: ClientSpec, b: Binds) -> tuple[str, str]:
    """(other_ids, placeholder flag) expressions: every typed identifier, standardised.

    A Medicaid id mapped as ``columns.medicaid_id`` is also an identifier of kind
    medicaid_id, so linkage finds every typed identifier in one place.
    """
    ids = dict(spec.identifiers)
    if "medicaid_id" in spec.columns and "medicaid_id" not in ids:
        ids["medicaid_id"] = spec.columns["medicaid_id"]
    if not ids:
        return f"NULL::{OTHER_IDS_TYPE}", "NULL::VARCHAR"
    values = {kind: f"cw_alnum({_ref(ref)})" for kind, ref in sorted(ids.items())}
    entries = ", ".join(
        f"{{'kind': {b(kind)}::VARCHAR, 'value': CASE WHEN NOT cw_placeholder({v}) THEN {v} END}}"
        for kind, v in values.items()
    )
    kept = f"list_filter([{entries}], lambda _cw_x: _cw_x.value IS NOT NULL)"
    flag = " OR ".join(f"cw_placeholder({v})" for v in values.values())
    return (
        f"CASE WHEN len({kept}) > 0 THEN {kept} END",
        f"CASE WHEN {flag} THEN 'identifier_placeholder' END",
    )


def _date(
    columns: dict[str, ColumnRef],
    field: str,
    formats: Iterable[str],
    b: Binds,
    typed: frozenset[str],
) -> str:
    """A date from the mapping's formats; a column the file types as a date is used as it is."""
    expr = _col(columns, field)
    tries = [f"try_strptime({expr}, {b(f)}::VARCHAR)" for f in formats]
    ref = columns.get(field)
    if isinstance(ref, str) and ref in typed:
        tries.insert(0, f"TRY_CAST({expr} AS TIMESTAMP)")
    return f"CAST(coalesce({', '.join(tries)}) AS DATE)"


def _codes(expr: str, codes: dict[str, str], b: Binds) -> str:
    if not codes:
        return expr
    whens = " ".join(f"WHEN {b(k)}::VARCHAR THEN {b(v)}::VARCHAR" for k, v in codes.items())
    return f"CASE trim({expr}) {whens} END"


def _own_program(expr: str, agency: str, b: Binds) -> str:
    """The program, only where it is one of ``agency``'s own in the common list: a value
    sent as is (a mapping without program codes) may not file events under another
    agency's program (e.g. Part 2 treatment), nor under a program outside the list."""
    own = [p for p, owner in PROGRAMS.items() if owner == agency]
    if not own:
        return "NULL::VARCHAR"
    allowed = ", ".join(f"{b(p)}::VARCHAR" for p in own)
    return f"CASE WHEN trim({expr}) IN ({allowed}) THEN trim({expr}) END"


def client_sql(
    spec: ClientSpec,
    agency: str,
    batch_id: str,
    raw: str,
    b: Binds,
    typed_dates: frozenset[str] = frozenset(),
) -> str:
    """SELECT producing person_record columns plus quarantine columns from a raw table.

    Values from the mapping are bound through ``b``; execute with ``b.values``.
    """
    c = spec.columns
    col = lambda f: _col(c, f)  # noqa: E731
    if "full_name" in c:
        whole = col("full_name")
        if spec.name_format == "last_first":
            last_part = f"cw_name(split_part({whole}, ',', 1))"
            rest = f"string_split(cw_name(nullif(substr({whole}, strpos({whole}, ',') + 1), {whole})), ' ')"
            names = {
                "last": f"cw_unsuffixed({last_part})",
                "suffix": f"cw_suffix({last_part})",
                "first": f"{rest}[1]",
                "middle": f"nullif(array_to_string(list_slice({rest}, 2, -1), ' '), '')",
            }
        else:
            t = f"cw_tokens({whole})"
            names = {
                "first": f"{t}[1]",
                "middle": f"CASE WHEN len({t}) >= 3 THEN {t}[2] END",
                "last": f"CASE WHEN len({t}) >= 3 AND length({t}[2]) = 1 THEN array_to_string(list_slice({t}, 3, -1), ' ')"
                f" WHEN len({t}) >= 2 THEN {t}[-1] END",
                "suffix": f"cw_suffix(cw_name({whole}))",
            }
        first_raw, last_raw = whole, "NULL::VARCHAR"
    else:
        last_clean = f"cw_name({col('last_name')})"
        names = {
            "first": f"cw_name({col('first_name')})",
            "middle": f"cw_name({col('middle_name')})",
            "last": f"cw_unsuffixed({last_clean})",
            "suffix": f"coalesce(cw_name({col('name_suffix')}), cw_suffix({last_clean}))",
        }
        first_raw, last_raw = col("first_name"), col("last_name")
    ssn_digits = f"cw_digits({col('ssn')})"
    if spec.ssn_form == "last4":
        ssn = "NULL::VARCHAR"
        last4 = (
            f"CASE WHEN length({ssn_digits}) = 4 AND {ssn_digits} <> '0000' THEN {ssn_digits} END"
        )
        ssn_flag = f"CASE WHEN {col('ssn')} IS NOT NULL AND {last4} IS NULL THEN 'ssn_invalid' END"
    else:
        ssn = f"CASE WHEN cw_ssn_valid({ssn_digits}) THEN {ssn_digits} END"
        last4 = f"right({ssn}, 4)"
        ssn_flag = (
            f"CASE WHEN {ssn_digits} IN {PLACEHOLDER_SSNS} OR {ssn_digits} IN ('000000000', '999999999') THEN 'ssn_placeholder'"
            f" WHEN {col('ssn')} IS NOT NULL AND {ssn} IS NULL THEN 'ssn_invalid' END"
        )
    dob = _date(c, "dob", spec.date_formats, b, typed_dates)
    sex = _codes(col("sex"), spec.codes.get("sex", {}), b)
    if "full_address" in c:
        addr = col("full_address")
        pattern = "'^(.*), *([^,]*), *([A-Za-z]{2}) +([0-9]{5})'"
        line = f"regexp_extract({addr}, {pattern}, 1)"
        city, state, zip_ = (
            f"nullif(regexp_extract({addr}, {pattern}, {i}), '')" for i in (2, 3, 4)
        )
        street = f"cw_street(nullif({line}, ''))"
        address_raw = addr
    else:
        street = f"cw_street({col('address_line')})"
        city, state, zip_ = col("city"), col("state"), col("zip")
        address_raw = f"nullif(concat_ws(', ', {col('address_line')}, {col('city')}, {col('state')}, {col('zip')}), '')"
    if spec.country == "US":
        zip5 = f"CASE WHEN regexp_matches(left(cw_digits({zip_}), 5), '^[0-9]{{5}}$') THEN left(cw_digits({zip_}), 5) END"
    else:
        code = f"cw_alnum({zip_})"
        zip5 = f"CASE WHEN regexp_matches({code}, {b(POSTCODES[spec.country])}::VARCHAR) THEN {code} END"
    phone_d = f"cw_digits({col('phone')})"
    if spec.country in NANP:
        phone = (
            f"CASE WHEN length({phone_d}) = 10 AND substr({phone_d}, 1, 1) NOT IN ('0', '1') THEN '+1' || {phone_d}"
            f" WHEN length({phone_d}) = 11 AND substr({phone_d}, 1, 1) = '1' THEN '+' || {phone_d} END"
        )
    else:
        phone = "NULL::VARCHAR"  # parsed once per distinct value with the country's rules
    other_ids, id_flag = _other_ids(spec, b)
    src_id = f"nullif(trim({col('source_record_id')}), '')"
    today = (
        f"{b(clock.today())}::DATE"  # bound, never the keyword: a column may be named CURRENT_DATE
    )
    flags = [
        f"CASE WHEN {col('dob')} IS NOT NULL AND {dob} IS NULL THEN 'dob_unparseable' END",
        f"CASE WHEN {dob} = DATE '1900-01-01' THEN 'dob_default' END",
        f"CASE WHEN {dob} < DATE '1900-01-01' OR {dob} > {today} THEN 'dob_implausible' END",
        ssn_flag,
        f"CASE WHEN {col('sex')} IS NOT NULL AND {sex} IS NULL THEN 'sex_unknown_code' END",
        f"CASE WHEN {zip_} IS NOT NULL AND {zip5} IS NULL THEN 'zip_invalid' END",
        f"CASE WHEN {col('phone')} IS NOT NULL AND {phone} IS NULL THEN 'phone_nonstandard' END",
        id_flag,
    ]
    dob_ok = f"CASE WHEN {dob} > DATE '1900-01-01' AND {dob} <= {today} THEN {dob} END"
    return f"""
    SELECT
      {b(agency + ":")}::VARCHAR || {src_id} AS record_key, {b(agency)}::VARCHAR AS agency,
      {src_id} AS source_record_id, {b(batch_id)}::VARCHAR AS batch_id, _row AS source_row,
      ({names["first"]}) AS first_name, ({names["middle"]}) AS middle_name,
      nullif({names["last"]}, '') AS last_name, ({names["suffix"]}) AS name_suffix,
      NULL::VARCHAR AS first_name_canonical,
      {first_raw} AS first_name_raw, {last_raw} AS last_name_raw,
      {dob_ok} AS dob, {col("dob")} AS dob_raw,
      coalesce({sex}, 'U') AS sex, {col("sex")} AS sex_raw,
      {ssn} AS ssn, {last4} AS ssn_last4, {col("ssn")} AS ssn_raw,
      {street} AS address_line, nullif(upper(trim({city})), '') AS city,
      nullif(upper(trim({state})), '') AS state, {zip5} AS zip,
      nullif(upper(trim({col("county")})), '') AS county, {address_raw} AS address_raw,
      {phone} AS phone, {col("phone")} AS phone_raw,
      nullif(trim({col("case_id")}), '') AS case_id, nullif(trim({col("household_id")}), '') AS household_id,
      nullif(trim({col("medicaid_id")}), '') AS medicaid_id,
      {other_ids} AS other_ids, {b(spec.country)}::VARCHAR AS country,
      list_filter([{", ".join(flags)}], lambda _cw_f: _cw_f IS NOT NULL) AS flags,
      CASE WHEN {src_id} IS NULL THEN 'required'
           WHEN row_number() OVER (PARTITION BY {src_id} ORDER BY _row) > 1 THEN 'duplicate_source_id' END AS q_rule,
      {b(_label(c["source_record_id"]))}::VARCHAR AS q_field, {col("source_record_id")} AS q_value,
      'source_record_id' AS q_common,
      to_json(_cw_raw) AS q_raw
    FROM {raw} AS _cw_raw
    """


def event_sql(
    spec: EventSpec,
    agency: str,
    batch_id: str,
    raw: str,
    b: Binds,
    typed_dates: frozenset[str] = frozenset(),
) -> str:
    """SELECT producing service_event columns plus quarantine columns from a raw table.

    Events refer to the agency's clients in ``person_record`` (the hub's and this batch's,
    which are inserted first). Values from the mapping are bound through ``b``.
    """
    c = spec.columns
    col = lambda f: _col(c, f)  # noqa: E731
    src_id = f"nullif(trim({col('source_event_id')}), '')"
    client = f"nullif(trim({col('source_record_id')}), '')"
    program = _own_program(_codes(col("program"), spec.codes.get("program", {}), b), agency, b)
    start = _date(c, "start_date", spec.date_formats, b, typed_dates)
    end = _date(c, "end_date", spec.date_formats, b, typed_dates)
    amount_any = f"TRY_CAST(replace(replace({col('amount')}, '$', ''), ',', '') AS DECIMAL(18,2))"
    amount_ok = f"{amount_any} BETWEEN 0 AND {MAX_AMOUNT}"
    amount = f"CASE WHEN {amount_ok} THEN CAST({amount_any} AS DECIMAL(12,2)) END"
    start_ok = f"{start} BETWEEN DATE '{MIN_DATE}' AND {b(clock.today())}::DATE + INTERVAL {MAX_START_AHEAD}"
    end_ok = f"{end} BETWEEN DATE '{MIN_DATE}' AND DATE '{MAX_END_DATE}'"
    checks = [
        (src_id + " IS NULL", "required", "source_event_id"),
        (client + " IS NULL", "required", "source_record_id"),
        (f"{col('program')} IS NULL", "required", "program"),
        (f"{program} IS NULL", "unknown_code", "program"),
        (f"{col('start_date')} IS NULL", "required", "start_date"),
        (f"{start} IS NULL", "unparseable_date", "start_date"),
        (f"NOT ({start_ok})", "date_out_of_range", "start_date"),
        ("k.source_record_id IS NULL", "unknown_client", "source_record_id"),
        (
            f"row_number() OVER (PARTITION BY {src_id} ORDER BY _row) > 1",
            "duplicate_source_id",
            "source_event_id",
        ),
    ]
    rule = "CASE " + " ".join(f"WHEN {cond} THEN '{r}'" for cond, r, _ in checks) + " END"
    field = (
        "CASE "
        + " ".join(f"WHEN {cond} THEN {b(_label(c.get(f, f)))}::VARCHAR" for cond, _, f in checks)
        + " END"
    )
    value = (
        "CASE "
        + " ".join(f"WHEN {cond} THEN {col(f) if f in c else 'NULL'}" for cond, _, f in checks)
        + " END"
    )
    flags = [
        f"CASE WHEN {col('end_date')} IS NOT NULL AND {end} IS NULL THEN 'end_date_unparseable' END",
        f"CASE WHEN {end} IS NOT NULL AND NOT ({end_ok}) THEN 'end_date_out_of_range' END",
        f"CASE WHEN {end_ok} AND {end} < {start} THEN 'end_before_start' END",
        f"CASE WHEN {col('amount')} IS NOT NULL AND {amount_any} IS NULL THEN 'amount_not_numeric' END",
        f"CASE WHEN {amount_any} IS NOT NULL AND NOT ({amount_ok}) THEN 'amount_out_of_range' END",
    ]
    common = "CASE " + " ".join(f"WHEN {cond} THEN '{f}'" for cond, _, f in checks) + " END"
    return f"""
    SELECT
      {b(agency + ":")}::VARCHAR || {src_id} AS event_key, {b(agency)}::VARCHAR AS agency,
      {src_id} AS source_event_id, {b(agency + ":")}::VARCHAR || {client} AS record_key,
      {b(batch_id)}::VARCHAR AS batch_id, _row AS source_row,
      {program} AS program, nullif(upper(trim({col("service_type")})), '') AS service_type,
      {start} AS start_date, CASE WHEN {end_ok} THEN {end} END AS end_date, {amount} AS amount,
      nullif(upper(trim({col("county")})), '') AS county,
      list_filter([{", ".join(flags)}], lambda _cw_f: _cw_f IS NOT NULL) AS flags,
      {rule} AS q_rule, {field} AS q_field, {value} AS q_value, {common} AS q_common,
      to_json(_cw_raw) AS q_raw
    FROM {raw} AS _cw_raw
    LEFT JOIN (SELECT source_record_id FROM person_record WHERE agency = {b(agency)}::VARCHAR) AS k
      ON k.source_record_id = {client}
    """


def finish_people(
    con: duckdb.DuckDBPyConnection, table: str, free_text_addresses: bool, country: str = "US"
) -> None:
    """Per-distinct-value work on a staged person table: nicknames, odd phones, odd addresses."""
    con.execute(
        f"""UPDATE {table} AS p SET first_name_canonical = coalesce(n.canonical, p.first_name)
        FROM (SELECT DISTINCT first_name FROM {table}) AS f LEFT JOIN cw_nickname AS n ON n.name = f.first_name
        WHERE p.first_name = f.first_name"""
    )
    odd_phones = [
        r[0]
        for r in con.execute(
            f"SELECT DISTINCT phone_raw FROM {table} WHERE phone IS NULL AND phone_raw IS NOT NULL"
        ).fetchall()
    ]
    if odd_phones:
        fixed = pa.table({"raw": odd_phones, "e164": [_e164(p, country) for p in odd_phones]})
        con.register("_phones", fixed)
        con.execute(
            f"""UPDATE {table} AS p SET phone = f.e164,
                flags = list_filter(p.flags, lambda x: x <> 'phone_nonstandard' OR f.e164 IS NULL)
            FROM _phones AS f WHERE p.phone_raw = f.raw"""
        )
        con.unregister("_phones")
    if not free_text_addresses:
        return
    odd_addresses = [
        r[0]
        for r in con.execute(
            f"SELECT DISTINCT address_raw FROM {table} WHERE address_line IS NULL AND address_raw IS NOT NULL"
        ).fetchall()
    ]
    if odd_addresses:
        parts = [_parse_address(a) for a in odd_addresses]
        con.register(
            "_addr",
            pa.table(
                {
                    "raw": odd_addresses,
                    "line": [p[0] for p in parts],
                    "city": [p[1] for p in parts],
                    "state": [p[2] for p in parts],
                    "zip": [p[3] for p in parts],
                }
            ),
        )
        con.execute(
            f"""UPDATE {table} AS p SET address_line = cw_street(a.line),
                city = coalesce(p.city, upper(a.city)), state = coalesce(p.state, upper(a.state)),
                zip = coalesce(p.zip, a.zip)
            FROM _addr AS a WHERE p.address_raw = a.raw"""
        )
        con.unregister("_addr")


def _e164(raw: str, country: str = "US") -> str | None:
    try:
        number = phonenumbers.parse(raw, country)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _parse_address(raw: str) -> tuple[str | None, str | None, str | None, str | None]:
    """Street line, city, state, ZIP of a free-text US address (usaddress)."""
    try:
        tagged, _ = usaddress.tag(raw)
    except usaddress.RepeatedLabelError:
        return None, None, None, None
    street_keys = [k for k in tagged if k not in ("PlaceName", "StateName", "ZipCode", "Recipient")]
    line = " ".join(tagged[k] for k in street_keys) or None
    zip_code = tagged.get("ZipCode")
    return (
        line,
        tagged.get("PlaceName"),
        tagged.get("StateName"),
        zip_code[:5] if zip_code else None,
    )
