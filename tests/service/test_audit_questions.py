"""The CLI's oversight questions over the API: who read a person's data, reads per
purpose, denials per day (privacy officers), and one record's pairs under review."""

from crosswalk.client import Client


def test_a_privacy_officer_sees_who_read_a_person(service, sud_person):
    assert service.get(
        f"/persons/{sud_person}", "ana", params={"purpose": "care_coordination"}
    ).is_success
    assert service.get("/review", "ada").status_code == 403  # a denial, audited
    reads = service.get(f"/audit/who-accessed/{sud_person}", "cdo.privacy").json()
    assert [(r["user"], r["purpose"]) for r in reads["items"]] == [("ana", "care_coordination")]
    purposes = service.get("/audit/purposes", "cdo.privacy").json()["items"]
    assert {"purpose": "care_coordination", "reads": 1} in purposes
    denials = service.get("/audit/denials", "cdo.privacy").json()["items"]
    assert sum(d["denials"] for d in denials) >= 1
    # the officer's own questions are audited reads of the audit log
    seen = Client(token=service.tokens["cdo.privacy"], http=service.client).audit(
        user="cdo.privacy"
    )
    assert seen.num_rows >= 3
    assert service.get(f"/audit/who-accessed/{sud_person}", "sud.privacy").status_code == 403


def test_a_linkage_steward_sees_one_records_pairs_and_what_a_decision_would_do(service):
    queue = service.get("/review", "cdo.linkage", params={"limit": 1}).json()["items"]
    key = queue[0]["record_key_l"]
    pairs = service.get(f"/review/{key}", "cdo.linkage").json()["items"]
    assert pairs and all(key in (p["record_key_l"], p["record_key_r"]) for p in pairs)
    assert set(pairs[0]["if_decided"]) == {"match", "no-match"}
    missing = service.get("/review/fcs:NOPE", "cdo.linkage")
    assert missing.status_code == 404
    assert service.get(f"/review/{key}", "fcs.steward").status_code == 403
