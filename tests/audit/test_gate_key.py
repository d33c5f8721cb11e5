"""The gate signs its audit entries with the key in the secrets folder it was given."""

import pytest

from crosswalk.access import Gate
from crosswalk.agreement import Principal
from crosswalk.audit import AuditLog
from crosswalk.errors import AccessDenied


def test_gate_signs_with_the_key_in_its_own_secrets(tmp_path, monkeypatch):
    monkeypatch.setenv("CROSSWALK_SECRETS", str(tmp_path / "default-secrets"))
    control = f"sqlite:///{tmp_path}/control.db"
    gate = Gate(hub=tmp_path / "hub.duckdb", control=control, secrets=tmp_path / "gate-secrets")
    with pytest.raises(AccessDenied):
        gate.person(Principal("nobody", "fcs", "janitor"), "care_coordination", "P0000000001")
    assert (tmp_path / "gate-secrets" / "audit-signing.key").exists()
    assert not (tmp_path / "default-secrets" / "audit-signing.key").exists()
    log = AuditLog(control, secrets=tmp_path / "gate-secrets")
    assert log.entries()[-1]["outcome"] == "denied" and log.verify().ok
