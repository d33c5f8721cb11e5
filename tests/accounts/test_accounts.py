"""Accounts: created, granted, disabled by an administrator of their agency; every act
audited, a refused one too."""

import pytest
import sqlalchemy as sa
from tests.accounts.conftest import OPERATOR, actions

from crosswalk import migrations
from crosswalk.accounts import Accounts, Actor
from crosswalk.errors import AccessDenied, AlreadyExists, ConfigError, StoreUnavailable


def admin_of(accounts: Accounts, agency: str, name: str) -> Actor:
    accounts.add(OPERATOR, name, agency, ["administrator"])
    _, secret = accounts.create_token(OPERATOR, name)
    return accounts.authenticate(secret).actor


def test_the_operator_creates_an_account_with_roles_and_it_is_audited(accounts):
    a = accounts.add(OPERATOR, "ana", "fcs", ["caseworker", "steward"], "Ana Diaz")
    assert (a.agency, a.roles, a.disabled, a.has_password) == (
        "fcs",
        ("caseworker", "steward"),
        False,
        False,
    )
    assert actions(accounts) == [("account.change", "operator:test", "ok")]


def test_an_administrator_manages_only_their_own_agency(accounts):
    admin = admin_of(accounts, "fcs", "fran")
    accounts.add(admin, "ana", "fcs", ["caseworker"])
    with pytest.raises(AccessDenied, match="may not administer the accounts of hfs"):
        accounts.add(admin, "hal", "hfs", ["analyst"])
    accounts.add(OPERATOR, "hal", "hfs", ["analyst"])
    with pytest.raises(AccessDenied):
        accounts.set_disabled(admin, "hal")
    with pytest.raises(AccessDenied):
        accounts.grant(admin, "hal", "steward")
    listed, total = accounts.list_accounts(admin)
    assert [a.username for a in listed] == ["ana", "fran"] and total == 2
    with pytest.raises(AccessDenied):
        accounts.list_accounts(admin, agency="hfs")
    denied = [a for a in actions(accounts) if a[2] == "denied"]
    assert [a[1] for a in denied] == ["fran", "fran", "fran"]


def test_an_account_without_the_administrator_role_administers_nothing(accounts):
    accounts.add(OPERATOR, "ana", "fcs", ["caseworker"])
    _, secret = accounts.create_token(OPERATOR, "ana")
    ana = accounts.authenticate(secret).actor
    with pytest.raises(AccessDenied):
        accounts.add(ana, "bob", "fcs", ["caseworker"])
    with pytest.raises(AccessDenied):
        accounts.grant(ana, "ana", "administrator")


def test_names_agencies_and_roles_are_checked_together(accounts):
    with pytest.raises(ConfigError) as e:
        accounts.add(OPERATOR, "Robert'); DROP TABLE account;--", "nowhere", ["king"])
    text = str(e.value)
    assert (
        "username" in text and "'nowhere' is not a party" in text and "unknown role 'king'" in text
    )
    assert accounts.list_accounts(OPERATOR)[1] == 0


def test_a_username_is_taken_once(accounts):
    accounts.add(OPERATOR, "ana", "fcs", ["caseworker"])
    with pytest.raises(AlreadyExists):
        accounts.add(OPERATOR, "ana", "hfs", ["analyst"])


def test_roles_granted_and_revoked(accounts):
    accounts.add(OPERATOR, "ana", "fcs", ["caseworker"])
    assert accounts.grant(OPERATOR, "ana", "steward").roles == ("caseworker", "steward")
    assert accounts.revoke_role(OPERATOR, "ana", "caseworker").roles == ("steward",)
    with pytest.raises(AlreadyExists):
        accounts.grant(OPERATOR, "ana", "steward")


def test_a_control_plane_behind_the_newest_revision_is_refused(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path}/old.db")
    with pytest.raises(StoreUnavailable, match="crosswalk control migrate"):
        Accounts(engine, None)  # type: ignore[arg-type]
    assert migrations.revision(engine) is None
    migrations.upgrade(engine)
    assert migrations.revision(engine) == migrations.head()
    migrations.upgrade(engine)  # again: nothing to do


def test_a_control_plane_made_by_earlier_versions_is_adopted(tmp_path):
    from crosswalk.agreement.consent import ConsentRegistry
    from crosswalk.audit import AuditLog, DataRead

    url = f"sqlite:///{tmp_path}/old.db"
    log = AuditLog(url, secrets=tmp_path / "s", checkpoint_every=0)
    log.record(DataRead("ana", "fcs", "caseworker", "care_coordination"))
    ConsentRegistry(url)
    migrations.upgrade(log.engine)
    assert log.verify().ok and log.verify().entries == 1


def test_a_name_the_agreement_gives_to_another_agency_is_refused(accounts):
    # the agreement names sud.steward a steward of sud: an fcs account of that name would
    # act as sud's steward wherever the agreement's names decide
    with pytest.raises(ConfigError, match="must belong to that agency"):
        accounts.add(OPERATOR, "sud.steward", "fcs", ["steward"])
    assert accounts.add(OPERATOR, "sud.steward", "sud", ["steward"]).agency == "sud"


def test_an_administrator_grants_no_role_to_themself(accounts):
    admin = admin_of(accounts, "fcs", "fran")
    with pytest.raises(AccessDenied, match="may not grant a role to themself"):
        accounts.grant(admin, "fran", "steward")
    assert accounts.get("fran").roles == ("administrator",)
    assert ("account.change", "fran", "denied") in actions(accounts)
    accounts.add(admin, "ana", "fcs", ["caseworker"])
    assert "steward" in accounts.grant(admin, "ana", "steward").roles
