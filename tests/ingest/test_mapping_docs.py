"""The mapping reference a data steward writes from (docs/ingest.md) keeps up with the
mapping's model: its example is a valid mapping, and every key and common field is named."""

import re
from pathlib import Path

import pytest

from crosswalk.errors import MappingError
from crosswalk.ingest.mapping import (
    CLIENT_FIELDS,
    EVENT_FIELDS,
    ClientSpec,
    EventSpec,
    Mapping,
    parse_mapping,
)

DOC = (Path(__file__).parents[2] / "docs" / "ingest.md").read_text()
SECTION = DOC.split("## Writing a mapping for your own extract", 1)[1].split("\n## ", 1)[0]


def test_the_example_is_a_valid_mapping() -> None:
    [example] = re.findall(r"```yaml\n(.*?)```", SECTION, re.S)
    m = parse_mapping(example, "docs/ingest.md")
    assert m.agency == "fcs" and m.events is not None
    assert m.clients.columns["address_line"] == ["HouseNo", "Street"]
    assert m.events.codes["program"] == {"FS": "SNAP", "CA": "TANF"}


def test_every_key_and_common_field_is_named() -> None:
    keys = {
        name
        for model in (Mapping, ClientSpec, EventSpec)
        for name, info in model.model_fields.items()
        if not info.exclude
    }
    fields = set(CLIENT_FIELDS) | set(EVENT_FIELDS)
    missing = sorted(k for k in keys | fields if f"`{k}`" not in SECTION)
    assert not missing, f"name these in docs/ingest.md's mapping reference: {missing}"


def test_a_misspelt_common_field_is_named_at_its_own_line_and_key() -> None:
    text = (
        "agency: fcs\nversion: 1\nclients:\n  format: csv\n  columns:\n"
        "    source_record_id: PersonNo\n    frist_name: Given\n    last_name: Family\n"
        "events:\n  format: csv\n  columns:\n    source_event_id: Id\n"
        "    source_record_id: PersonNo\n    program: Prog\n    start_date: Began\n"
        "    amout: Amt\n"
    )
    with pytest.raises(MappingError) as raised:
        parse_mapping(text, "mine.yaml")
    located = {(p.row, p.field) for p in raised.value.problems}
    assert located == {(7, "clients.columns.frist_name"), (16, "events.columns.amout")}
    assert "known: source_record_id, first_name" in str(raised.value.problems[0])
