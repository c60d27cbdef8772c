"""Login throttling counts the account, whichever of its names is typed; refusals on
records that exist are written to the security log."""

import logging

import pytest
from django.test import Client

from salesplan.org.services import create_api_token
from tests.factories import make_account


def attempt(login: str, password: str, address: str = "198.51.100.1"):
    return Client().post("/login/", {"username": login, "password": password},
                         REMOTE_ADDR=address)


@pytest.mark.parametrize("names", [
    ["westrep"] * 5,
    ["westrep@example.com"] * 5,
    ["westrep", "WESTREP@example.com", "westrep", " westrep@example.com ", "WestRep"],
])
def test_failures_under_any_of_the_accounts_names_lock_all_of_them(org, names):
    for name in names:
        assert attempt(name, "wrong").status_code == 200
    for name in ("westrep", "westrep@example.com"):
        response = attempt(name, org.password)
        assert response.status_code == 429, name
        assert "Too many failed attempts" in response.content.decode()


def test_the_account_is_locked_whichever_address_the_guesses_come_from(org):
    for n in range(5):
        attempt("westrep" if n % 2 else "westrep@example.com", "wrong", f"198.51.100.{n}")
    assert attempt("westrep", org.password, "203.0.113.99").status_code == 429


def test_another_account_is_not_locked_by_guesses_at_one(org):
    for n in range(5):
        attempt("westrep@example.com", "wrong", f"198.51.100.{n}")
    assert attempt("eastrep@example.com", org.password, "203.0.113.99").status_code == 302


def test_guesses_at_a_name_nobody_has_are_throttled_too(org):
    for n in range(5):
        attempt("nobody@example.com", "wrong", f"198.51.100.{n}")
    assert attempt("nobody@example.com", "wrong", "203.0.113.99").status_code == 429


# --- The security log ------------------------------------------------------------------


def token_client(user) -> tuple[Client, dict]:
    _, key = create_api_token(user, "tests")
    return Client(), {"Authorization": f"Bearer {key}"}


def refusals(caplog) -> list[dict]:
    return [r.security for r in caplog.records if r.name == "salesplan.security"]


def test_reading_someone_elses_record_through_the_api_is_logged(org, caplog):
    account = make_account(org.east_rep)
    client, headers = token_client(org.west_rep)
    with caplog.at_level(logging.WARNING, logger="salesplan.security"):
        assert client.get(f"/api/v1/accounts/{account.pk}", headers=headers).status_code == 404
        assert client.get("/api/v1/accounts/999999", headers=headers).status_code == 404
    [event] = refusals(caplog)  # the missing record is an ordinary 404, not logged
    assert event["reason"] == "not-visible" and event["user_id"] == org.west_rep.pk
    assert event["record"] == f"customers.account:{account.pk}"
    assert event["action"] == f"GET /api/v1/accounts/{account.pk}"


def test_a_forbidden_change_through_the_api_is_logged(org, caplog):
    account = make_account(org.west_rep)
    client, headers = token_client(org.west_rep)
    with caplog.at_level(logging.WARNING, logger="salesplan.security"):
        assert client.delete(f"/api/v1/accounts/{account.pk}",
                             headers=headers).status_code == 403
    [event] = refusals(caplog)
    assert event["reason"] == "forbidden" and event["username"] == "westrep"
    assert event["action"] == f"DELETE /api/v1/accounts/{account.pk}"


def test_opening_someone_elses_record_page_is_logged(org, caplog):
    account = make_account(org.east_rep)
    client = Client()
    client.force_login(org.west_rep)
    with caplog.at_level(logging.WARNING, logger="salesplan.security"):
        assert client.get(f"/accounts/{account.pk}/").status_code == 404
    [event] = refusals(caplog)
    assert event["record"] == f"customers.account:{account.pk}"
    assert event["username"] == "westrep"
