import duckdb
import pytest
from tests.ingest.conftest import MAPPING, write

from crosswalk.ingest import ingest, parse_mapping

HEADER = "id,name,dob,sex,ssn,phone\n"


def load(tmp_path, rows, header=HEADER):
    path = write(tmp_path / "clients.csv", header + rows)
    hub = tmp_path / "hub.duckdb"
    result = ingest("fcs", [path], hub=hub, mapping=parse_mapping(MAPPING, "fcs.yaml"))
    con = duckdb.connect(str(hub), read_only=True)
    out = con.execute("SELECT * FROM person_record ORDER BY source_row").fetchall()
    cols = [d[0] for d in con.description]
    q = con.execute(
        "SELECT source_row, field, value, rule FROM quarantine ORDER BY source_row"
    ).fetchall()
    con.close()
    return result, [dict(zip(cols, r, strict=True)) for r in out], q


def name_read(tmp_path, raw):
    """The standardised record of one client whose full name is ``raw``."""
    _, rows, _ = load(tmp_path, f"1,{raw},01/02/1990,M,,\n")
    return rows[0]


@pytest.mark.parametrize(
    ("raw", "first", "middle", "last", "suffix", "canonical"),
    [
        ('"SMITH, WILLIAM J"', "WILLIAM", "J", "SMITH", None, "WILLIAM"),
        ('"Smith Jr, Bill"', "BILL", None, "SMITH", "JR", None),
        ('"García-López, José"', "JOSE", None, "GARCIA LOPEZ", None, "JOSE"),
        ('"O\'Brien, Mary Ann"', "MARY", "ANN", "OBRIEN", None, "MARY"),
        ('"JØRGENSEN, ŁUKASZ"', "LUKASZ", None, "JORGENSEN", None, None),
        ('"Straße, Æsa Ðóra"', "AESA", "DORA", "STRASSE", None, None),
        ('"DUPONT, Jean-Pierre Marie"', "JEAN PIERRE", "MARIE", "DUPONT", None, None),
    ],
)
def test_names(tmp_path, raw, first, middle, last, suffix, canonical):
    r = name_read(tmp_path, raw)
    assert (r["first_name"], r["middle_name"], r["last_name"], r["name_suffix"]) == (
        first,
        middle,
        last,
        suffix,
    )
    if canonical:
        assert r["first_name_canonical"] == canonical
    assert r["first_name_raw"] == raw.strip('"')


@pytest.mark.parametrize(
    ("raw", "first", "middle", "last", "suffix"),
    [
        ("NGUYEN VAN AN", "VAN", "AN", "NGUYEN", None),
        ("DE LA CRUZ JUAN C", "JUAN", "C", "DE LA CRUZ", None),
        ("van der Berg Jan Pieter", "JAN", "PIETER", "VAN DER BERG", None),
        ("GARCIA-LOPEZ MARIA JOSE", "MARIA", "JOSE", "GARCIA LOPEZ", None),
        ("SMITH JOHN JR", "JOHN", None, "SMITH", "JR"),
        ("OKAFOR", None, None, "OKAFOR", None),
        ("LE MINH", "MINH", None, "LE", None),
        ("DU WEI", "WEI", None, "DU", None),
    ],
)
def test_family_name_first_without_a_comma(tmp_path, raw, first, middle, last, suffix):
    """A "LAST, FIRST" mapping given names with no comma (family name first, as many
    systems write them): the first word, with its particles, is the surname, the next
    the first name, the rest the middle name; not one surname of every word."""
    r = name_read(tmp_path, raw)
    assert (r["first_name"], r["middle_name"], r["last_name"], r["name_suffix"]) == (
        first,
        middle,
        last,
        suffix,
    )


def test_unknown_names_and_mononyms(tmp_path):
    """FNU (first name unknown) and its kin are no name, flagged; a person with one name
    has it as the surname whichever column holds it."""
    mapping = MAPPING.replace("full_name: name", "first_name: first\n    last_name: last")
    rows = ["1,FNU,Nawal", "2,Nawal,", "3,,NAWAL", "4,Ana,UNKNOWN", "5,Ana,Ruiz"]
    path = write(tmp_path / "clients.csv", "id,first,last,dob,sex,ssn,phone\n"
                 + "".join(f"{r},01/02/1990,F,,\n" for r in rows))  # fmt: skip
    hub = tmp_path / "hub.duckdb"
    ingest("fcs", [path], hub=hub, mapping=parse_mapping(mapping, "fcs.yaml"))
    con = duckdb.connect(str(hub), read_only=True)
    got = con.execute(
        "SELECT first_name, last_name, flags FROM person_record ORDER BY source_row"
    ).fetchall()
    con.close()
    assert got == [
        (None, "NAWAL", ["first_name_placeholder"]),
        (None, "NAWAL", []),
        (None, "NAWAL", []),
        ("ANA", None, ["last_name_placeholder"]),
        ("ANA", "RUIZ", []),
    ]


def test_nickname_canonical(tmp_path):
    _, rows, _ = load(tmp_path, '1,"DOE, MIKE",01/02/1990,M,,\n2,"DOE, PEGGY",01/02/1990,F,,\n')
    assert [r["first_name_canonical"] for r in rows] == ["MICHAEL", "MARGARET"]


def test_nickname_canonical_beyond_english(tmp_path):
    """Spanish hypocorisms and romanisations of Arabic and Somali names, from the
    project's own list, read as their formal name; MOHAMMED, which the census ranks above
    MOHAMED, still reads as the name the list gives."""
    body = "".join(
        f'{i},"DOE, {name}",01/02/1990,M,,\n'
        for i, name in enumerate(["PACO", "PEPE", "LUPE", "CHUY", "MUHAMMAD", "MOHAMMED", "XASAN"])
    )
    _, rows, _ = load(tmp_path, body)
    assert [r["first_name_canonical"] for r in rows] == [
        "FRANCISCO", "JOSE", "GUADALUPE", "JESUS", "MOHAMED", "MOHAMED", "HASSAN",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("ssn", "std", "last4", "flag"),
    [
        ("123-45-6780", "123456780", "6780", None),
        ("000-12-3456", None, None, "ssn_invalid"),
        ("666-12-3456", None, None, "ssn_invalid"),
        ("912-12-3456", None, None, "ssn_invalid"),
        ("123-00-3456", None, None, "ssn_invalid"),
        ("123-45-0000", None, None, "ssn_invalid"),
        ("123-45-6789", None, None, "ssn_placeholder"),
        ("000-00-0000", None, None, "ssn_placeholder"),
        ("999999999", None, None, "ssn_placeholder"),
    ],
)
def test_ssn_rules(tmp_path, ssn, std, last4, flag):
    _, rows, q = load(tmp_path, f'1,"DOE, JO",01/02/1990,M,{ssn},\n')
    assert not q, "an invalid SSN never quarantines the row"
    r = rows[0]
    assert (r["ssn"], r["ssn_last4"], r["ssn_raw"]) == (std, last4, ssn)
    assert r["flags"] == ([flag] if flag else [])


@pytest.mark.parametrize(
    ("dob", "expected", "flag"),
    [
        ("03/04/1985", "1985-03-04", None),
        ("1985-03-04", "1985-03-04", None),
        ("01/01/1900", None, "dob_default"),
        ("13/45/1990", None, "dob_unparseable"),
        ("01/01/2999", None, "dob_implausible"),
    ],
)
def test_dates(tmp_path, dob, expected, flag):
    _, rows, q = load(tmp_path, f'1,"DOE, JO",{dob},M,,\n')
    assert not q
    assert (str(rows[0]["dob"]) if rows[0]["dob"] else None) == expected
    assert rows[0]["dob_raw"] == dob
    assert rows[0]["flags"] == ([flag] if flag else [])


@pytest.mark.parametrize(
    ("dob", "expected", "flag"),
    [
        ("32386", "1988-08-31", None),  # a spreadsheet's day number
        ("32386.0", "1988-08-31", None),
        ("61", "1900-03-01", None),
        ("60", None, "dob_unparseable"),  # 29 February 1900, which never was
        ("12.5", None, "dob_unparseable"),
        ("-5", None, "dob_unparseable"),
        ("123456", None, "dob_unparseable"),
        ("03/04/1985", "1985-03-04", None),  # the mapping's other format still applies
    ],
)
def test_excel_serial_dates(tmp_path, dob, expected, flag):
    """A date column saved from a spreadsheet as day numbers reads with the
    ``excel_serial`` format; anything that is not a whole number of days is no date."""
    mapping = MAPPING.replace('["%m/%d/%Y", "%Y-%m-%d"]', '["excel_serial", "%m/%d/%Y"]', 1)
    path = write(tmp_path / "clients.csv", HEADER + f'1,"DOE, JO",{dob},M,,\n')
    hub = tmp_path / "hub.duckdb"
    ingest("fcs", [path], hub=hub, mapping=parse_mapping(mapping, "fcs.yaml"))
    con = duckdb.connect(str(hub), read_only=True)
    got, flags = con.execute("SELECT dob, flags FROM person_record").fetchone()
    con.close()
    assert (str(got) if got else None, flags) == (expected, [flag] if flag else [])


@pytest.mark.parametrize(
    ("phone", "e164"),
    [
        ("(217) 555-0134", "+12175550134"),
        ("1-217-555-0134", "+12175550134"),
        ("217.555.0134", "+12175550134"),
        ("555", None),
    ],
)
def test_phones(tmp_path, phone, e164):
    _, rows, _ = load(tmp_path, f'1,"DOE, JO",01/02/1990,M,,{phone}\n')
    assert rows[0]["phone"] == e164
    assert rows[0]["phone_raw"] == phone


def test_unknown_sex_code_is_flagged_not_lost(tmp_path):
    _, rows, q = load(tmp_path, '1,"DOE, JO",01/02/1990,Q,,\n')
    assert not q
    assert (
        rows[0]["sex"] == "U"
        and rows[0]["sex_raw"] == "Q"
        and rows[0]["flags"] == ["sex_unknown_code"]
    )


@pytest.mark.parametrize(
    ("raw", "first", "middle", "last"),
    [
        ("Mary Ann Smith", "MARY", "ANN", "SMITH"),
        ("Piotr Wiśniewski-O'Brien", "PIOTR", None, "WISNIEWSKI OBRIEN"),
        ("Ana María García - López", "ANA", "MARIA", "GARCIA LOPEZ"),
        ("Jan Pieter van der Berg", "JAN", "PIETER", "VAN DER BERG"),
        ("MARIA DE LA CRUZ", "MARIA", None, "DE LA CRUZ"),
        ("Luc St Pierre", "LUC", None, "ST PIERRE"),
        ("Jean-Luc Côté", "JEAN LUC", None, "COTE"),
        ("Scott R Garcia Lopez", "SCOTT", "R", "GARCIA LOPEZ"),
        ("Oliver James Henry Jørgensen", "OLIVER", "JAMES HENRY", "JORGENSEN"),
        ("Madonna", None, None, "MADONNA"),
    ],
)
def test_first_last_names_keep_compound_surnames(tmp_path, raw, first, middle, last):
    """A whole name written first name first: the surname is its last word with its
    hyphenated parts and particles; the words between are the middle name."""
    mapping = MAPPING.replace("name_format: last_first", "name_format: first_last")
    path = write(tmp_path / "clients.csv", HEADER + f'1,"{raw}",01/02/1990,M,,\n')
    hub = tmp_path / "hub.duckdb"
    ingest("fcs", [path], hub=hub, mapping=parse_mapping(mapping, "fcs.yaml"))
    con = duckdb.connect(str(hub), read_only=True)
    row = con.execute("SELECT first_name, middle_name, last_name FROM person_record").fetchone()
    con.close()
    assert row == (first, middle, last)
