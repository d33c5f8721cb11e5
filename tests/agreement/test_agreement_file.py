import importlib.resources

import pytest

from crosswalk.agreement import check_agreement, load_agreement
from crosswalk.errors import AgreementError
from crosswalk.model import AGENCIES

SHIPPED = importlib.resources.files("crosswalk.agreement").joinpath("emou.yaml")


def test_shipped_agreement_covers_the_13_agencies():
    a = load_agreement()
    assert set(AGENCIES) <= {p.code for p in a.parties}
    kinds = (".clients", ".events", ".quarantine")
    assert {d.party for d in a.datasets if d.id.endswith(kinds)} == set(AGENCIES)
    assert all(c == "substance_use" for c in a.dataset("sud.clients").elements.values())


def test_errors_name_line_and_key(tmp_path):
    text = SHIPPED.read_text()
    bad = text.replace("min_cell: 11", "min_cell: 0", 1).replace(
        "retention_years: 6", "retention_yeers: 6", 1
    )
    path = tmp_path / "bad.yaml"
    path.write_text(bad)
    with pytest.raises(AgreementError) as err:
        check_agreement(path)
    found = {p.field: p.row for p in err.value.problems}
    assert found["min_cell"] == 7
    assert found["retention_yeers"] == 8


def test_unknown_references_are_refused(tmp_path):
    text = SHIPPED.read_text()
    path = tmp_path / "bad.yaml"
    path.write_text(text.replace("purposes: [care_coordination]", "purposes: [curiosity]", 1))
    with pytest.raises(AgreementError, match="unknown purpose 'curiosity'"):
        check_agreement(path)
