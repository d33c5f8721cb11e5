import pytest

from crosswalk.audit import AuditLog, DataRead


def read(i: int, **changes) -> DataRead:
    fields = {
        "user": f"user{i}",
        "agency": "fcs",
        "role": "caseworker",
        "purpose": "care_coordination",
        "objects": {"enterprise_ids": [f"P{i}"]},
        "rows": i,
    } | changes
    return DataRead(**fields)


@pytest.fixture
def make_log(tmp_path):
    """A log in its own control plane, secrets and checkpoint folder under tmp_path."""

    def make(name: str = "control", **options) -> AuditLog:
        return AuditLog(f"sqlite:///{tmp_path}/{name}.db", secrets=tmp_path / "secrets", **options)

    return make


@pytest.fixture
def log(make_log):
    """Six data reads; no automatic checkpoints, so only the chain is tested."""
    log = make_log(checkpoint_every=0)
    for i in range(1, 7):
        log.record(read(i))
    return log
