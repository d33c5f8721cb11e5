"""Extracts written with conventions unlike the synthetic state's, built here (not by
crosswalk.synth): a clinic with one "SURNAME, First Middle" field, dd/mm/yyyy dates and
emails in capitals; an outreach service with a compound given name in its first-name
column, only a year of birth and emails in lower case; relatives at one address with no
DOB. They must link through mappings, ingest and linkage alone."""

import csv
import random

from crosswalk.identity import link
from crosswalk.ingest import ingest, parse_mapping

FIRST = [
    "ANNA",
    "BRUNO",
    "CARLA",
    "DMITRI",
    "ELENA",
    "FARID",
    "GRACE",
    "HUGO",
    "IRENE",
    "JONAS",
    "KEIKO",
    "LIAM",
    "MARTA",
    "NIKO",
    "OLGA",
    "PABLO",
    "QUINN",
    "ROSA",
    "SAMIR",
    "TARA",
    "ULLA",
    "VIKTOR",
    "WANDA",
    "XAVI",
    "YARA",
    "ZORAN",
    "AMIR",
    "BEATRIZ",
    "CHIOMA",
    "DARIO",
]
LAST = [
    "ABARA",
    "BELLINI",
    "CORDOVA",
    "DUBOIS",
    "EKWUEME",
    "FONSECA",
    "GALLO",
    "HALVORSEN",
    "IBARRA",
    "JANSSEN",
    "KOVAC",
    "LINDQVIST",
    "MORENO",
    "NAKAMURA",
    "OKONJO",
    "PETRENKO",
    "QUISPE",
    "ROSSI",
    "SILVA",
    "TAKAHASHI",
    "URIBE",
    "VOLKOV",
    "WALCZAK",
    "XIMENEZ",
    "YILDIZ",
    "ZAMORA",
    "ACHEBE",
    "BRANDT",
    "CASTELLO",
    "DIALLO",
    "ESPOSITO",
    "FARKAS",
]

CLINIC = """\
agency: idph
version: 1
clients:
  format: csv
  delimiter: ";"
  ssn_form: absent
  name_format: last_first
  date_formats: ["%d/%m/%Y"]
  columns: {source_record_id: "Patient No", full_name: "FULL NAME", dob: "D.O.B.",
            zip: "Post Code", email: "E-mail"}
"""
OUTREACH = """\
agency: mh
version: 1
clients:
  format: csv
  ssn_form: absent
  columns: {source_record_id: "id", first_name: "Given names", last_name: "Surname",
            birth_year: "Born", zip: "Zip", email: "Mail"}
"""


def outside_extracts(folder, people=160, seed=3):
    """Write the two agencies' CSV files and the truth (agency, source_record_id,
    entity_id); return their paths."""
    rng = random.Random(seed)
    clinic, outreach, truth = [], [], []
    for i in range(people):
        first, middle, last = rng.choice(FIRST), rng.choice(FIRST), rng.choice(LAST)
        year, zip_ = rng.randint(1950, 2005), f"6{rng.randint(1000, 1099)}"
        dob = f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{year}"
        email = f"{first}.{last}{i}@example.org"
        clinic.append(
            [f"C{i}", f"{last}, {first.title()} {middle.title()}", dob, zip_, email.upper()]
        )
        outreach.append([f"O{i}", f"{first} {middle}", last, year, zip_, f" {email.lower()} "])
        truth += [("idph", f"C{i}", i), ("mh", f"O{i}", i)]
        if i % 8 == 0:  # a relative at the same address: another first name, no DOB
            other = rng.choice([f for f in FIRST if f not in (first, middle)])
            clinic.append([f"C{i}r", f"{last}, {other.title()}", "", zip_, ""])
            truth.append(("idph", f"C{i}r", f"{i}r"))
    files = {}
    for name, header, rows, delimiter in (
        ("clinic", ["Patient No", "FULL NAME", "D.O.B.", "Post Code", "E-mail"], clinic, ";"),
        ("outreach", ["id", "Given names", "Surname", "Born", "Zip", "Mail"], outreach, ","),
        ("truth", ["agency", "source_record_id", "entity_id"], truth, ","),
    ):
        files[name] = folder / f"{name}.csv"
        with files[name].open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh, delimiter=delimiter)
            writer.writerow(header)
            writer.writerows(rows)
    return files


def test_extracts_with_other_conventions_link(tmp_path):
    from tests.evaluation import evaluate_index

    files = outside_extracts(tmp_path)
    hub = tmp_path / "hub.duckdb"
    control = f"sqlite:///{tmp_path}/control.db"
    ingest("idph", [files["clinic"]], hub=hub, mapping=parse_mapping(CLINIC, "clinic.yaml"),
           kinds=["clients"], control=control)  # fmt: skip
    ingest("mh", [files["outreach"]], hub=hub, mapping=parse_mapping(OUTREACH, "outreach.yaml"),
           kinds=["clients"], control=control)  # fmt: skip
    result = link(hub, control=control)
    assert "email" in result.coverage["share"] and result.coverage["share"]["email"] > 0.9
    e = evaluate_index(files["truth"], hub, control)
    # Every person's two records joined (compound given name against first + middle,
    # emails in other cases), no relative joined to them.
    assert e.pairwise_precision == 1.0 and e.pairwise_recall >= 0.99, e


# A benefits agency writes a Hispanic double surname whole ("GARCIA LOPEZ", or
# hyphenated) with the DOB and a postcode; a housing agency writes one of its parts alone,
# the postcode and no DOB; an outreach service one part and only a year of birth.
BENEFITS = """\
agency: fcs
version: 1
clients:
  format: csv
  ssn_form: absent
  date_formats: ["%Y-%m-%d"]
  columns: {source_record_id: "id", first_name: "first", last_name: "last", dob: "dob",
            zip: "zip"}
"""
HOUSING_NO_DOB = """\
agency: housing
version: 1
clients:
  format: csv
  ssn_form: absent
  columns: {source_record_id: "id", first_name: "first", last_name: "last", zip: "zip"}
"""
OUTREACH_YEAR = """\
agency: mh
version: 1
clients:
  format: csv
  ssn_form: absent
  columns: {source_record_id: "id", first_name: "first", last_name: "last", birth_year: "yob"}
"""


def _write(path, header, rows):
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _link_three(tmp_path, benefits, housing, outreach, truth):
    from tests.evaluation import evaluate_index

    hub, control = tmp_path / "hub.duckdb", f"sqlite:///{tmp_path}/control.db"
    for agency, text, rows, header in (
        ("fcs", BENEFITS, benefits, ["id", "first", "last", "dob", "zip"]),
        ("housing", HOUSING_NO_DOB, housing, ["id", "first", "last", "zip"]),
        ("mh", OUTREACH_YEAR, outreach, ["id", "first", "last", "yob"]),
    ):
        path = _write(tmp_path / f"{agency}.csv", header, rows)
        ingest(agency, [path], hub=hub, mapping=parse_mapping(text, f"{agency}.yaml"),
               kinds=["clients"], control=control)  # fmt: skip
    link(hub, control=control)
    truth_file = _write(tmp_path / "truth.csv", ["agency", "source_record_id", "entity_id"], truth)
    return evaluate_index(truth_file, hub, control)


# Surnames made of two syllables: enough of them that a shared part is evidence.
SURNAMES = [a + b for a in ("BAR", "CAS", "DEL", "ES", "FER", "GAL", "IBA", "LOR", "MEN", "NAV",
                            "OR", "PAL", "QUE", "RIV", "SAL", "TOR", "UR", "VAL", "ZAM", "AR")
            for b in ("ADA", "ENA", "ILLO", "OSA", "URA", "EDO", "ANO", "ERA", "IZ", "ONA")]  # fmt: skip


def test_double_surnames_against_either_part_alone(tmp_path):
    rng = random.Random(5)
    benefits, housing, outreach, truth = [], [], [], []
    for i in range(400):
        first, pat, mat = rng.choice(FIRST), rng.choice(SURNAMES), rng.choice(SURNAMES)
        while mat == pat:
            mat = rng.choice(SURNAMES)
        year, zip_ = rng.randint(1950, 2005), f"87{rng.randint(100, 119)}"
        whole = f"{pat}-{mat}" if i % 2 else f"{pat} {mat}"
        dob = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        benefits.append([f"B{i}", first, whole, dob, zip_])
        if i % 4 == 0:  # the agency's duplicate record, the paternal surname alone
            benefits.append([f"B{i}d", first, pat, dob, zip_])
            truth.append(("fcs", f"B{i}d", i))
        housing.append([f"H{i}", first, pat if i % 3 else mat, zip_])
        outreach.append([f"O{i}", first, mat if i % 3 else pat, year])
        truth += [("fcs", f"B{i}", i), ("housing", f"H{i}", i), ("mh", f"O{i}", i)]
    e = _link_three(tmp_path, benefits, housing, outreach, truth)
    # Each part written alone meets the whole surname, so every person's three records
    # join (housing's and outreach's through benefits' when they wrote different parts).
    assert e.pairwise_recall >= 0.97 and e.pairwise_precision >= 0.93, e
