"""Linkage accuracy against a truth set in the web UI: the linkage stewards only, the
truth set named by the host operator (never a path a request gives), audited."""

import json
import re


def test_a_linkage_steward_sees_accuracy_against_the_truth_set(ui, web_hub, monkeypatch):
    monkeypatch.setenv("CROSSWALK_LINKAGE_TRUTH", str(web_hub.parent / "state" / "truth"))
    c = ui.sign_in("cdo.linkage")
    assert 'href="/ui/linkage/accuracy"' in c.get("/ui/linkage").text
    html = c.get("/ui/linkage/accuracy").text
    assert "<svg" in html and "pairwise F1" in html and "B-cubed F1" in html
    scores = dict(re.findall(r"<tr><td>([^<]+)</td><td class=\"num\">([0-9.]+)</td>", html))
    assert 0.9 < float(scores["pairwise F1"]) <= 1.0, scores
    read = [
        json.loads(e["body"])["objects"]
        for e in ui.hub.audit.entries()
        if e["action"] == "data.read" and e["user"] == "cdo.linkage"
    ]
    assert any(o.get("linkage_evaluation") == "truth" for o in read)
    # Not for an analyst; and no request names the file to read.
    assert ui.sign_in("ada").get("/ui/linkage/accuracy").status_code == 403
    other = c.get("/ui/linkage/accuracy?truth=/etc/passwd").text
    assert "passwd" not in other and "pairwise F1" in other


def test_without_a_truth_set_the_page_says_how_to_name_one(ui, monkeypatch):
    monkeypatch.delenv("CROSSWALK_LINKAGE_TRUTH", raising=False)
    c = ui.sign_in("cdo.linkage")
    assert "CROSSWALK_LINKAGE_TRUTH" in c.get("/ui/linkage").text
    html = c.get("/ui/linkage/accuracy").text
    assert "No truth set is named" in html and "<svg" not in html
