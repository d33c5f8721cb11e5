"""Mappings are code, not SQL: no value from a mapping file ever becomes SQL text.

Each mapping value is a bound parameter, a quoted identifier or a value of a closed
grammar (date formats, codes, kinds, countries), checked when the file is loaded. The
attacks below read a canary table or drop it; none may succeed: the mapping is refused
with a clear error, or the hostile string is stored as the literal it is.
"""

from __future__ import annotations

import copy
import csv
import io
import itertools

import duckdb
import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from crosswalk.errors import CrosswalkError, MappingError
from crosswalk.ingest import ingest, parse_mapping

SECRET = "CANARY-SECRET-42"
TABLES = {
    "canary",
    "person_record",
    "person_record_version",
    "service_event",
    "service_event_version",
    "batch",
    "batch_file",
    "batch_issue",
    "quarantine",
}

BASE = {
    "agency": "fcs",
    "version": 1,
    "clients": {
        "format": "csv",
        "delimiter": ",",
        "quote": '"',
        "encoding": "utf-8",
        "name_format": "last_first",
        "ssn_form": "full",
        "country": "US",
        "date_formats": ["%m/%d/%Y"],
        "columns": {
            "source_record_id": "id",
            "full_name": "name",
            "dob": "dob",
            "sex": "sex",
            "zip": "zip",
        },
        "identifiers": {"state_id": "sid"},
        "ignore_columns": ["note"],
        "codes": {"sex": {"1": "M", "2": "F"}},
    },
    "events": {
        "format": "csv",
        "date_formats": ["%m/%d/%Y"],
        "columns": {
            "source_event_id": "event",
            "source_record_id": "id",
            "program": "program",
            "start_date": "start",
        },
        "codes": {"program": {"FS": "SNAP"}},
    },
}

# Where a hostile string goes: (path in the mapping, what it is).
FIELDS = [
    (("agency",), "value"),
    (("clients", "columns", "full_name"), "column"),
    (("clients", "columns", "source_record_id"), "column"),
    (("clients", "identifiers", "state_id"), "column"),
    (("clients", "ignore_columns", 0), "column"),
    (("clients", "date_formats", 0), "value"),
    (("clients", "codes", "sex", "1"), "value"),
    (("clients", "codes", "sex"), "code"),
    (("clients", "country"), "value"),
    (("clients", "identifiers"), "kind"),
    (("clients", "delimiter"), "value"),
    (("clients", "quote"), "value"),
    (("clients", "name_format"), "value"),
    (("clients", "encoding"), "value"),
    (("events", "columns", "program"), "column"),
    (("events", "date_formats", 0), "value"),
    (("events", "codes", "program"), "code"),
    (("events", "codes", "program", "FS"), "value"),
]

ATTACKS = [
    "1' || (SELECT string_agg(secret, ',') FROM canary) || '",
    "M' || (SELECT secret FROM canary) || '",
    "%m/%d/%Y') || (SELECT secret FROM canary) || ('",
    "%m/%d/%Y'), (SELECT secret FROM canary",
    'name", (SELECT secret FROM canary) AS "x',
    "'; DROP TABLE canary; --",
    '"; DROP TABLE canary; --',
    "1'; DROP TABLE canary; SELECT '",
    "$1",
    "?",
    "$p0",
    "SNAP' END, (SELECT secret FROM canary) AS x, CASE WHEN 1 THEN '",
    "FS\\' OR 1=1 --",
    "x\x00y",
    "\u202egnp.exe",
]
hostile = st.one_of(
    st.sampled_from(ATTACKS),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30),
    st.tuples(st.sampled_from(ATTACKS), st.text(max_size=8)).map("".join),
)
_serial = itertools.count(1)


def _canary_hub(path) -> None:
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE canary (secret VARCHAR)")
    con.execute("INSERT INTO canary VALUES (?)", [SECRET])
    con.close()


def _set(mapping: dict, path: tuple, kind: str, value: str) -> None:
    *parents, last = path
    node = mapping
    for key in parents:
        node = node[key]
    if kind == "code":  # a hostile agency code, meaning the first common code
        first = next(iter(node[last].values()))
        node[last] = {value: first}
    elif kind == "kind":
        node[last] = {value: "sid"}
    else:
        node[last] = value


def _csv(rows: list[list[str]], delimiter: str = ",", quote: str = '"') -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, quotechar=quote, quoting=csv.QUOTE_ALL).writerows(rows)
    return out.getvalue()


def _files(m: dict, tmp, serial: int) -> tuple[str, str]:
    """A clients and an events file that match mapping ``m`` (whatever its column names)."""
    c = m["clients"]
    cols = c["columns"]
    sex_key = next(iter(c["codes"]["sex"]))
    values = {
        cols["source_record_id"]: f"C{serial}",
        cols["full_name"]: "DOE, JO",
        cols["dob"]: "01/02/1990",
        cols["sex"]: sex_key,
        cols["zip"]: "62701",
        c["identifiers"][next(iter(c["identifiers"]))]: "S-1",
        c["ignore_columns"][0]: "note",
    }
    clients = tmp / f"clients{serial}.csv"
    clients.write_text(
        _csv([list(values), list(values.values())], c["delimiter"], c["quote"]), encoding="utf-8"
    )
    e = m["events"]["columns"]
    program_key = next(iter(m["events"]["codes"]["program"]))
    event_values = {
        e["source_event_id"]: f"E{serial}",
        e["source_record_id"]: f"C{serial}",
        e["program"]: program_key,
        e["start_date"]: "01/01/2020",
    }
    events = tmp / f"events{serial}.csv"
    events.write_text(_csv([list(event_values), list(event_values.values())]), encoding="utf-8")
    return str(clients), str(events)


def _nothing_leaked(hub) -> None:
    con = duckdb.connect(str(hub), read_only=True)
    try:
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        assert tables <= TABLES | {"schema_migration"}, f"tables appeared: {tables - TABLES}"
        assert con.execute("SELECT * FROM canary").fetchall() == [(SECRET,)]
        for table in TABLES - {"canary"}:
            if table not in tables:
                continue
            hits = con.execute(
                f"SELECT count(*) FROM {table} AS t WHERE strpos(CAST(to_json(t) AS VARCHAR), ?) > 0",
                [SECRET],
            ).fetchall()[0][0]
            assert hits == 0, f"the canary's secret reached {table}"
    finally:
        con.close()


_IDS = [".".join(map(str, p)) for p, _ in FIELDS]
_QUIET = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


@pytest.mark.parametrize(("path", "kind"), FIELDS, ids=_IDS)
@settings(max_examples=8, deadline=None, suppress_health_check=_QUIET)
@given(value=hostile)
# A source column named like a SQL keyword must stay a column, never the keyword's value.
@example(value="CURRENT_DATE")
@example(value="current_user")
@example(value="X")  # a lambda parameter's name
@example(value="f")
def test_hostile_mapping_values_never_run_as_sql(tmp_path, path, kind, value):
    _attack(tmp_path, path, kind, value)


@pytest.mark.slow
@pytest.mark.parametrize(("path", "kind"), FIELDS, ids=_IDS)
@settings(max_examples=40, deadline=None, suppress_health_check=_QUIET)
@given(value=hostile)
def test_many_hostile_mapping_values_never_run_as_sql(tmp_path, path, kind, value):
    _attack(tmp_path, path, kind, value)


def _attack(tmp_path, path, kind, value):
    hub = tmp_path / "hub.duckdb"
    if not hub.exists():
        _canary_hub(hub)
    m = copy.deepcopy(BASE)
    _set(m, path, kind, value)
    text = yaml.safe_dump(m, allow_unicode=True)
    try:
        mapping = parse_mapping(text, "hostile.yaml")
    except MappingError as e:
        assert e.problems and all(p.file == "hostile.yaml" for p in e.problems)
        return
    serial = next(_serial)
    try:
        files = _files(m, tmp_path, serial)
    except (UnicodeEncodeError, csv.Error):
        return  # the value cannot even be written as a CSV file
    try:
        result = ingest(mapping.agency, files, hub=hub, mapping=mapping)
    except CrosswalkError as e:
        assert any(f in str(e) for f in files) or "mapping" in str(e)
        _nothing_leaked(hub)
        return
    _nothing_leaked(hub)
    assert result.rows_read == result.rows_accepted + result.rows_quarantined
    con = duckdb.connect(str(hub), read_only=True)
    stored = con.execute(
        "SELECT sex_raw, first_name_raw, other_ids FROM person_record WHERE source_record_id = ?",
        [f"C{serial}"],
    ).fetchall()
    con.close()
    if stored:  # the literal values arrived as they were sent
        sex_key = next(iter(m["clients"]["codes"]["sex"]))
        assert stored[0][0] == sex_key and stored[0][1] == "DOE, JO"


def test_a_sex_code_that_is_a_subquery_is_refused(tmp_path):
    """The attack from the issue: a code value that reads another agency's clients."""
    m = copy.deepcopy(BASE)
    m["clients"]["codes"]["sex"]["1"] = "M' || (SELECT string_agg(secret, ',') FROM canary) || '"
    with pytest.raises(MappingError) as err:
        parse_mapping(yaml.safe_dump(m), "evil.yaml")
    (problem,) = err.value.problems
    assert problem.field == "clients" and "unknown sex values" in problem.message
    assert problem.row == 3


@pytest.mark.parametrize(
    "fmt", ["%m/%d/%Y') || (SELECT secret FROM canary) || ('", "%Y-%m-%d'", "%s", "%m/%d", "%Q"]
)
def test_date_formats_are_a_closed_grammar(fmt):
    m = copy.deepcopy(BASE)
    m["events"]["date_formats"] = [fmt]
    with pytest.raises(MappingError) as err:
        parse_mapping(yaml.safe_dump(m), "evil.yaml")
    assert [p.field for p in err.value.problems] == ["events.date_formats.0"]


def test_code_keys_and_column_names_are_stored_as_literals(tmp_path):
    hub = tmp_path / "hub.duckdb"
    _canary_hub(hub)
    m = copy.deepcopy(BASE)
    key = "1' || (SELECT secret FROM canary) || '"
    column = 'full "name", (SELECT secret FROM canary) AS x --'
    m["clients"]["codes"]["sex"] = {key: "F"}
    m["clients"]["columns"]["full_name"] = column
    mapping = parse_mapping(yaml.safe_dump(m), "odd.yaml")
    ingest("fcs", _files(m, tmp_path, 1), hub=hub, mapping=mapping)
    _nothing_leaked(hub)
    con = duckdb.connect(str(hub), read_only=True)
    assert con.execute("SELECT sex, sex_raw, last_name FROM person_record").fetchall() == [
        ("F", key, "DOE")
    ]


@pytest.mark.parametrize(
    "query",
    [
        "clients; DROP TABLE clients",
        "SELECT * FROM clients; DELETE FROM clients",
        "SELECT * INTO copy FROM clients",
        "DELETE FROM clients",
        "clients WHERE 1=1",
    ],
)
def test_a_source_query_is_a_table_name_or_one_select(query):
    m = copy.deepcopy(BASE)
    m["clients"]["format"] = "sql"
    m["clients"]["query"] = query
    with pytest.raises(MappingError) as err:
        parse_mapping(yaml.safe_dump(m), "evil.yaml")
    assert [p.field for p in err.value.problems] == ["clients.query"]
