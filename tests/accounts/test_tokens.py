"""API tokens and signing in: shown once, kept as hashes, scoped, expiring, revocable;
failed sign-ins rate-limited and audited."""

import pytest
import sqlalchemy as sa
from tests.accounts.conftest import OPERATOR, actions

from crosswalk.accounts import MAX_FAILURES, Accounts
from crosswalk.accounts.tables import account, api_token
from crosswalk.errors import AccessDenied, ConfigError, NotFound, RateLimited, Unauthenticated

PASSWORD = "correct horse battery staple"


@pytest.fixture
def ana(accounts: Accounts):
    accounts.add(OPERATOR, "ana", "fcs", ["caseworker"], password=PASSWORD)
    return accounts


def test_a_token_authenticates_its_account_and_only_its_hash_is_kept(ana):
    token, secret = ana.create_token(OPERATOR, "ana", days=7)
    caller = ana.authenticate(secret)
    assert (caller.account.username, caller.token.scopes) == ("ana", ("data",))
    with ana.engine.connect() as conn:
        stored = " ".join(str(v) for v in conn.execute(sa.select(api_token)).one())
        audited = " ".join(e["body"] for e in ana.audit.entries())
    assert secret not in stored and secret.split("_", 2)[2] not in stored
    assert secret.split("_", 2)[2] not in audited and token.token_id in audited


@pytest.mark.parametrize(
    "forge",
    [
        lambda s: s[:-1] + ("A" if s[-1] != "A" else "B"),  # the secret changed
        lambda s: "cwt_000000000000_" + s.split("_", 2)[2],  # another id
        lambda s: s + "x",
        lambda s: "",
        lambda s: "Bearer " + s,
        lambda s: "' OR 1=1 --",
    ],
)
def test_a_forged_token_is_refused(ana, forge):
    _, secret = ana.create_token(OPERATOR, "ana")
    with pytest.raises(Unauthenticated):
        ana.authenticate(forge(secret))


def test_an_expired_token_is_refused(ana):
    token, secret = ana.create_token(OPERATOR, "ana", days=1)
    with ana.engine.begin() as conn:
        conn.execute(
            api_token.update()
            .where(api_token.c.token_id == token.token_id)
            .values(expires_at="2020-01-01T00:00:00+00:00")
        )
    with pytest.raises(Unauthenticated):
        ana.authenticate(secret)


def test_a_revoked_token_stops_at_once_and_another_agency_cannot_revoke_it(ana):
    token, secret = ana.create_token(OPERATOR, "ana")
    ana.add(OPERATOR, "hank", "hfs", ["administrator"])
    _, hank_secret = ana.create_token(OPERATOR, "hank")
    hank = ana.authenticate(hank_secret).actor
    with pytest.raises(NotFound):
        ana.revoke_token(hank, token.token_id)
    ana.authenticate(secret)
    me = ana.authenticate(secret).actor
    assert ana.revoke_token(me, token.token_id).revoked_at is not None
    with pytest.raises(Unauthenticated):
        ana.authenticate(secret)


def test_a_disabled_account_signs_in_with_nothing(ana):
    _, secret = ana.create_token(OPERATOR, "ana")
    ana.set_disabled(OPERATOR, "ana")
    with pytest.raises(Unauthenticated):
        ana.authenticate(secret)
    with pytest.raises(Unauthenticated):
        ana.sign_in("ana", PASSWORD)
    ana.set_disabled(OPERATOR, "ana", False)
    ana.authenticate(secret)


def test_scopes_are_checked_and_a_token_cannot_widen_itself(ana):
    with pytest.raises(ConfigError, match="unknown scope 'root'"):
        ana.create_token(OPERATOR, "ana", scopes=["root"])
    with pytest.raises(ConfigError, match="1 to 365 days"):
        ana.create_token(OPERATOR, "ana", days=0)
    _, secret = ana.create_token(OPERATOR, "ana", scopes=["data"])
    me = ana.authenticate(secret).actor
    with pytest.raises(ConfigError, match="scopes its maker's token lacks"):
        ana.create_token(me, "ana", scopes=["data", "admin"])
    ana.add(OPERATOR, "bob", "fcs", ["caseworker"])
    with pytest.raises(AccessDenied):
        ana.create_token(me, "bob")


def test_password_sign_in_gives_a_short_token_and_is_audited(ana):
    token, secret = ana.sign_in("ana", PASSWORD, source="127.0.0.1")
    assert ana.authenticate(secret).account.username == "ana"
    assert token.label == "sign-in" and token.expires_at < token.created_at[:8] + "99"
    assert ("session.login", "ana", "ok") in actions(ana)
    with ana.engine.connect() as conn:
        stored = conn.execute(sa.select(account.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_failed_sign_ins_are_audited_then_rate_limited_even_with_the_right_password(ana):
    for _ in range(MAX_FAILURES):
        with pytest.raises(Unauthenticated):
            ana.sign_in("ana", "wrong password!!")
    with pytest.raises(RateLimited):
        ana.sign_in("ana", PASSWORD)
    failed = [a for a in actions(ana) if a[0] == "session.failed"]
    assert len(failed) == MAX_FAILURES + 1 and all(a[2] == "denied" for a in failed)


def test_an_unknown_user_and_a_wrong_password_get_the_same_answer(ana):
    with pytest.raises(Unauthenticated) as unknown:
        ana.sign_in("nobody", PASSWORD)
    with pytest.raises(Unauthenticated) as wrong:
        ana.sign_in("ana", "not the password")
    assert str(unknown.value) == str(wrong.value)


def test_a_short_password_is_refused(ana):
    with pytest.raises(ConfigError, match="at least 12"):
        ana.set_password(OPERATOR, "ana", "short")


def test_an_administrator_makes_no_token_for_another_account_and_none_wider_than_its_own(ana):
    ana.add(OPERATOR, "fran", "fcs", ["administrator"])
    ana.add(OPERATOR, "fcs.steward", "fcs", ["steward"])
    _, admin_only = ana.create_token(OPERATOR, "fran", scopes=["admin"])
    fran = ana.authenticate(admin_only).actor
    with pytest.raises(AccessDenied, match="made by its own account or by the host operator"):
        ana.create_token(fran, "fcs.steward", scopes=["data", "audit", "admin"])
    with pytest.raises(AccessDenied):
        ana.create_token(fran, "ana")
    with pytest.raises(ConfigError, match="scopes its maker's token lacks"):
        ana.create_token(fran, "fran", scopes=["admin", "data"])
    assert [t.scopes for t in ana.tokens(OPERATOR, "fcs.steward")] == []
    assert ("token.change", "fran", "denied") in actions(ana)


def test_a_token_made_with_a_session_dies_with_it(ana):
    """A stolen session cookie must not become a token that outlives the session: a token
    made with another expires no later than it, and is revoked with it (signing out)."""
    session, session_secret = ana.sign_in("ana", PASSWORD)
    maker = ana.authenticate(session_secret).actor
    child, child_secret = ana.create_token(maker, "ana", days=365)
    assert child.expires_at <= session.expires_at
    grandchild, grandchild_secret = ana.create_token(
        ana.authenticate(child_secret).actor, "ana", days=30
    )
    kept, kept_secret = ana.create_token(OPERATOR, "ana", days=30)  # made apart from it
    ana.revoke_token(maker, session.token_id)  # signing out
    for secret in (session_secret, child_secret, grandchild_secret):
        with pytest.raises(Unauthenticated):
            ana.authenticate(secret)
    assert ana.authenticate(kept_secret).token.token_id == kept.token_id
    [revoked] = [
        e for e in ana.audit.entries() if session.token_id in e["body"] and "revoked" in e["body"]
    ][:1]
    assert child.token_id in revoked["body"] and grandchild.token_id in revoked["body"]
