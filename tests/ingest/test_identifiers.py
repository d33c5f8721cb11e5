"""Typed identifiers beyond SSN, columns combined from several, postcodes per country."""

import duckdb
import pytest
from tests.ingest.conftest import write

from crosswalk.errors import MappingError
from crosswalk.ingest import ingest, parse_mapping

MAPPING = """\
agency: housing
version: 1
clients:
  format: csv
  date_formats: ["%Y-%m-%d"]
  country: {country}
  columns:
    source_record_id: id
    first_name: first
    last_name: last
    address_line: ["Street No", "Street"]
    zip: postcode
    phone: phone
    medicaid_id: mcd
  identifiers:
    drivers_licence: dl
    agency_dcfs: dcfs id
    x_shelter_card: card
"""
HEADER = "id,first,last,Street No,Street,postcode,phone,mcd,dl,dcfs id,card\n"


def load(tmp_path, rows, country="US", mapping=MAPPING):
    path = write(tmp_path / "clients.csv", HEADER + rows)
    hub = tmp_path / "hub.duckdb"
    m = parse_mapping(mapping.format(country=country), "housing.yaml")
    ingest("housing", [path], hub=hub, mapping=m)
    con = duckdb.connect(str(hub), read_only=True)
    out = con.execute(
        "SELECT source_record_id, address_line, zip, phone, other_ids, country, flags"
        " FROM person_record ORDER BY source_row"
    ).fetchall()
    con.close()
    return out


def test_identifiers_are_typed_and_standardised(tmp_path):
    rows = load(
        tmp_path,
        "1,JO,DOE,12,Main St,62701,,m-123,d12-345-678 ,dc 9/88,s.1\n"
        "2,AL,ROE,,,,,,,,\n"
        "3,AN,POE,,,,,,000000,--,\n",
    )
    assert rows[0][4] == [
        {"kind": "agency_dcfs", "value": "DC988"},
        {"kind": "drivers_licence", "value": "D12345678"},
        {"kind": "medicaid_id", "value": "M123"},
        {"kind": "x_shelter_card", "value": "S1"},
    ]
    assert rows[1][4] is None, "a record without identifiers has none, not empty values"
    assert rows[2][4] is None and rows[2][6] == ["identifier_placeholder"]
    assert rows[0][6] == []


def test_combined_columns_skip_blanks(tmp_path):
    rows = load(tmp_path, "1,JO,DOE,12,Main Street,,,,,,\n2,AL,ROE, ,Elm Ave,,,,,,\n")
    assert [r[1] for r in rows] == ["12 MAIN ST", "ELM AVE"]


@pytest.mark.parametrize(
    ("country", "raw", "kept", "flagged"),
    [
        ("US", "62701-1234", "62701", False),
        ("US", "2000", "02000", False),  # a ZIP that lost its leading zero
        ("US", "200", None, True),
        ("AU", "2000", "2000", False),
        ("AU", "62701", None, True),
        ("GB", "sw1a 1aa", "SW1A1AA", False),
        ("CA", "K1A 0B1", "K1A0B1", False),
        ("NL", "1012 ab", "1012AB", False),
    ],
)
def test_postcode_rule_per_country(tmp_path, country, raw, kept, flagged):
    rows = load(tmp_path, f"1,JO,DOE,,,{raw},,,,,\n", country)
    assert rows[0][2] == kept
    assert rows[0][5] == country
    assert ("zip_invalid" in rows[0][6]) is flagged


def test_phones_follow_the_country(tmp_path):
    rows = load(tmp_path, "1,JO,DOE,,,2000,(02) 9374 4000,,,,\n", "AU")
    assert rows[0][3] == "+61293744000" and rows[0][6] == []


def test_unknown_identifier_kind_and_country_are_refused():
    bad = MAPPING.format(country="XX").replace("drivers_licence: dl", "licence: dl")
    with pytest.raises(MappingError) as err:
        parse_mapping(bad, "housing.yaml")
    problems = {p.field: p for p in err.value.problems}
    assert problems["clients.identifiers"].row == 16
    assert "licence" in problems["clients.identifiers"].message
    assert problems["clients.country"].row == 6 and "XX" in problems["clients.country"].message


def test_a_hub_from_before_typed_identifiers_is_migrated(tmp_path):
    from crosswalk.ingest.hub import MIGRATIONS, PART
    from crosswalk.stores import apply_migrations

    hub = tmp_path / "hub.duckdb"
    con = duckdb.connect(str(hub))
    apply_migrations(con, PART, MIGRATIONS[:1])
    con.execute(
        "INSERT INTO person_record (record_key, agency, source_record_id, batch_id, source_row)"
        " VALUES ('housing:0', 'housing', '0', 'B0', 0)"
    )
    con.close()
    rows = load(tmp_path, "1,JO,DOE,,,,,,d1,,\n")
    assert rows[1][4] == [{"kind": "drivers_licence", "value": "D1"}]
    con = duckdb.connect(str(hub), read_only=True)
    assert con.execute(
        "SELECT other_ids, country FROM person_record WHERE record_key = 'housing:0'"
    ).fetchall() == [(None, None)]
    con.close()


def test_identifier_digits_only_drops_version_codes(tmp_path):
    """A health card written with its version code by one agency and without by another
    ("1234-567-890-AB", "1234 567 890") is one value once only its digits are kept."""
    mapping = MAPPING.replace(
        "  identifiers:", "  identifier_digits_only: [x_shelter_card]\n  identifiers:"
    )
    rows = load(
        tmp_path,
        "1,JO,DOE,,,,,,d-1,,1234-567-890-AB\n2,JO,DOE,,,,,,,,1234 567 890\n3,AL,ROE,,,,,,,,XY\n",
        mapping=mapping,
    )
    cards = [[i["value"] for i in (r[4] or []) if i["kind"] == "x_shelter_card"] for r in rows]
    assert cards == [["1234567890"], ["1234567890"], []]
    assert rows[0][4][0] == {"kind": "drivers_licence", "value": "D1"}, "other kinds keep letters"


def test_identifier_digits_only_must_name_a_mapped_kind():
    bad = MAPPING.format(country="US").replace(
        "  identifiers:", "  identifier_digits_only: [passport]\n  identifiers:"
    )
    with pytest.raises(
        MappingError, match="identifier_digits_only names kinds the mapping does not map"
    ):
        parse_mapping(bad, "housing.yaml")


def test_street_lines_written_many_ways_agree(tmp_path):
    """Units (Apt, Apartment, Unit, #, APT #), post-office boxes (P.O. Box, P O Box, Post
    Office Box) and street suffixes written out or abbreviated are one street line."""
    streets = [
        ("4837", "Alameda Drive, Unit 6C"),
        ("4837", "ALAMEDA DR # 6C"),
        ("4837", "Alameda Dr. #6C"),
        ("4837", "alameda drive apartment 6c"),
        ("4837", "Alameda Dr Apt #6C"),
        ("", "P.O. Box 2891"),
        ("", "P O Box 2891"),
        ("", "Post Office Box 2891"),
        ("", "POBOX 2891"),
        ("12", "Rio Grande Boulevard"),
        ("12", "RIO GRANDE BLVD"),
    ]
    rows = load(
        tmp_path, "".join(f'{i},JO,DOE,{n},"{s}",,,,,,\n' for i, (n, s) in enumerate(streets))
    )
    lines = [r[1] for r in rows]
    assert (
        lines == ["4837 ALAMEDA DR APT 6C"] * 5 + ["PO BOX 2891"] * 4 + ["12 RIO GRANDE BLVD"] * 2
    )
