"""The hard profile: fewer SSNs, more DOB errors, no county, twins with different first
names and no SSN, juniors without suffixes, middle names used as first, compound names."""

import duckdb
import pytest

from crosswalk.cli import run
from crosswalk.synth import SynthConfig, hard_config, synth


@pytest.fixture(scope="module")
def hard(tmp_path_factory):
    out = tmp_path_factory.mktemp("hard")
    synth(people=3000, seed=13, out=out, config=hard_config())
    return out


def _share(con, truth, tag):
    return con.execute(
        "SELECT avg(list_contains(errors, ?)::INT) FROM read_parquet(?)", [tag, str(truth)]
    ).fetchall()[0][0]


def test_error_rates_of_the_hard_profile(hard):
    con = duckdb.connect()
    truth = hard / "truth" / "records.parquet"
    rates = hard_config().errors
    assert _share(con, truth, "county_missing") > 0.95
    assert abs(_share(con, truth, "ssn_missing") - rates.ssn_missing) < 0.06
    for tag in ("middle_as_first", "compound_given", "dob_year_off", "dob_digit_typo"):
        assert 0.005 < _share(con, truth, tag) < 0.06, tag


def test_twins_have_different_first_names_and_no_ssn(hard):
    con = duckdb.connect()
    rows = con.execute(
        """SELECT a.first_name, b.first_name, a.middle_name, b.middle_name, a.ssn, b.ssn,
                  a.dob = b.dob, a.last_name = b.last_name
        FROM read_parquet(?) l JOIN read_parquet(?) a ON a.person_id = l.person_id_a
        JOIN read_parquet(?) b ON b.person_id = l.person_id_b WHERE l.kind = 'twins'""",
        [
            str(hard / "truth" / f)
            for f in ("lookalikes.parquet", "people.parquet", "people.parquet")
        ],
    ).fetchall()
    assert len(rows) >= 5
    assert all(
        fa != fb and sa is None and sb is None and same_dob
        for fa, fb, _, _, sa, sb, same_dob, _ in rows
    )


def test_standard_profile_is_unchanged_by_the_new_settings():
    rates = SynthConfig().errors
    assert rates.middle_as_first == rates.compound_given == rates.county_missing == 0
    assert SynthConfig().lookalikes.twin_names == "similar"


def test_cli_profile(tmp_path, capsys):
    assert run(["synth", "--people", "200", "--out", str(tmp_path / "s"), "--profile", "hard"]) == 0
    assert (tmp_path / "s" / "truth" / "records.parquet").exists()
    assert run(["synth", "--people", "200", "--out", str(tmp_path / "t"), "--profile", "odd"]) == 2
    assert "unknown profile 'odd'; known: hard, standard" in capsys.readouterr().err
