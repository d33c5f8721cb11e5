"""Failed sign-ins are limited however they are sent: attempts made at once cannot all
slip under the per-username limit, and one address spraying passwords over many
usernames is refused after a while; every refusal is audited."""

import threading

import pytest
from tests.accounts.conftest import OPERATOR, actions

from crosswalk.accounts import MAX_FAILURES
from crosswalk.accounts.store import MAX_SOURCE_FAILURES
from crosswalk.errors import RateLimited, Unauthenticated

PASSWORD = "a long enough password"


@pytest.fixture
def ana(accounts):
    accounts.add(OPERATOR, "ana", "fcs", ["caseworker"], password=PASSWORD)
    return accounts


def test_attempts_made_at_once_are_limited_all_the_same(ana):
    outcomes: list[str] = []
    start = threading.Barrier(12)

    def attempt() -> None:
        start.wait()
        try:
            ana.sign_in("ana", "wrong password!!", source=f"10.0.0.{threading.get_ident() % 250}")
        except Unauthenticated:
            outcomes.append("401")
        except RateLimited:
            outcomes.append("429")

    threads = [threading.Thread(target=attempt) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Never more than the limit get their password checked (fewer, where the count of one
    # attempt already sees attempts that came after it).
    assert outcomes.count("401") <= MAX_FAILURES and len(outcomes) == 12
    with pytest.raises(RateLimited):
        ana.sign_in("ana", PASSWORD)


def test_one_address_spraying_many_usernames_is_refused(ana):
    for i in range(MAX_SOURCE_FAILURES):
        with pytest.raises(Unauthenticated):
            ana.sign_in(f"guess{i}", "Winter2026!!", source="203.0.113.9")
    with pytest.raises(RateLimited, match="this address"):
        ana.sign_in("ana", PASSWORD, source="203.0.113.9")  # even the right password
    token, _ = ana.sign_in("ana", PASSWORD, source="198.51.100.7")  # another address
    assert token.username == "ana"
    refused = [a for a in actions(ana) if a[0] == "session.failed"]
    assert len(refused) == MAX_SOURCE_FAILURES + 1
    why = [e for e in ana.audit.entries() if e["action"] == "session.failed"][-1]["body"]
    assert "too many attempts from this source" in why and "203.0.113.9" in why
