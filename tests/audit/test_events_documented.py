from pathlib import Path

from crosswalk.audit import EVENT_KINDS

DOCS = Path(__file__).parents[2] / "docs" / "audit.md"


def test_every_event_kind_is_documented():
    text = DOCS.read_text()
    for kind in EVENT_KINDS:
        assert f"`{kind.action}`" in text, kind.action
