"""Who gets in, and what a signed-in user cannot sneak past the rules."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from salesplan.customers.models import Account, Contact
from salesplan.customers.services import create_account, create_contact, update_contact
from salesplan.org.models import ApiToken
from tests.factories import make_account, make_contact

from .matrix import PLURAL, RESOURCES, snapshot


def _json(client, method, url, body):
    return getattr(client, method)(url, data=json.dumps(body), content_type="application/json")


# --- Authentication -----------------------------------------------------------------


@pytest.mark.parametrize("resource", RESOURCES)
def test_api_without_credentials_answers_401(client, org, resource):
    record = make_account(org.west_rep)
    base = f"/api/v1/{PLURAL[resource]}"
    for response in (client.get(base), client.get(f"{base}/{record.pk}"),
                     _json(client, "post", base, {"name": "Anonymous"}),
                     _json(client, "patch", f"{base}/{record.pk}", {"version": 1}),
                     client.delete(f"{base}/{record.pk}")):
        assert response.status_code == 401, response.content
        assert response["Content-Type"] == "application/problem+json"
        assert record.name not in response.content.decode()
    assert snapshot(record) is not None


def test_api_token_works_and_revoked_token_answers_401(client, org):
    key = ApiToken.new_key()
    token = ApiToken.objects.create(user=org.west_rep, name="script", prefix=key[:8],
                                    key_hash=ApiToken.hash_key(key))
    mine = make_account(org.west_rep, name="Token Visible Inc")
    response = client.get("/api/v1/accounts", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 200
    assert [a["name"] for a in response.json()["items"]] == [mine.name]

    ApiToken.objects.filter(pk=token.pk).update(revoked_at="2026-01-01T00:00:00Z")
    response = client.get("/api/v1/accounts", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 401
    assert client.get("/api/v1/accounts", HTTP_AUTHORIZATION="Bearer sp_guess").status_code == 401


def test_pages_send_anonymous_visitors_to_the_login_page(client, org):
    account = make_account(org.west_rep)
    response = client.get(f"/accounts/{account.pk}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


# --- CSRF -----------------------------------------------------------------------------


def test_session_api_changes_need_the_csrf_token(org):
    client = Client(enforce_csrf_checks=True)
    client.force_login(org.west_rep)
    before = Account.objects.count()
    response = _json(client, "post", "/api/v1/accounts", {"name": "Forged Corp"})
    assert response.status_code == 403
    assert Account.objects.count() == before

    client.get("/accounts/")  # any page sets the csrftoken cookie
    token = client.cookies["csrftoken"].value
    response = client.post("/api/v1/accounts", data=json.dumps({"name": "Real Corp"}),
                           content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201, response.content
    assert Account.objects.filter(name="Real Corp", owner=org.west_rep).exists()


def test_session_api_reads_need_no_csrf_token(org):
    client = Client(enforce_csrf_checks=True)
    client.force_login(org.west_rep)
    assert client.get("/api/v1/accounts").status_code == 200


# --- Passwords and logging in ----------------------------------------------------------


def test_passwords_are_hashed_with_argon2_outside_tests():
    # The test settings swap in a fast hasher; the real settings must not.
    from salesplan.config import settings as real_settings

    assert real_settings.PASSWORD_HASHERS[0] == (
        "django.contrib.auth.hashers.Argon2PasswordHasher")


def _log_in(client, login, password, address="10.0.0.1"):
    return client.post("/login/", {"username": login, "password": password},
                       REMOTE_ADDR=address)


def test_login_accepts_username_or_email(client, org):
    response = _log_in(client, org.west_rep.email.upper(), org.password)
    assert response.status_code == 302
    assert client.get("/accounts/").status_code == 200


def test_repeated_failed_logins_lock_the_account_for_a_while(client, org, settings):
    for _ in range(settings.LOGIN_MAX_FAILURES):
        response = _log_in(client, "westrep", "wrong-password")
        assert response.status_code == 200
    # Now even the right password is refused, from this address or any other.
    for address in ("10.0.0.1", "192.0.2.77"):
        response = _log_in(client, "westrep", org.password, address)
        assert response.status_code == 429
        assert "Too many failed attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Other people can still log in from elsewhere.
    assert _log_in(Client(), "eastrep", org.password, "198.51.100.5").status_code == 302


def test_many_failures_from_one_address_lock_that_address(client, org, settings):
    for n in range(settings.LOGIN_MAX_FAILURES):
        _log_in(client, f"nobody{n}", "guess", "203.0.113.9")
    assert _log_in(client, "westrep", org.password, "203.0.113.9").status_code == 429


# --- Reaching other teams' people and records -----------------------------------------


def test_rep_cannot_assign_a_record_to_another_teams_rep(client, org):
    with pytest.raises(ValidationError) as error:
        create_account(by=org.west_rep, data={"name": "Poached", "owner": org.east_rep.pk})
    assert "owner" in error.value.message_dict
    assert not Account.objects.filter(name="Poached").exists()

    client.force_login(org.west_rep)
    response = _json(client, "post", "/api/v1/accounts",
                     {"name": "Poached", "owner_id": org.east_rep.pk})
    assert response.status_code == 422
    assert "owner_id" in response.json()["errors"]
    assert not Account.objects.filter(name="Poached").exists()

    account = make_account(org.west_rep)
    row = snapshot(account)
    response = _json(client, "patch", f"/api/v1/accounts/{account.pk}",
                     {"owner_id": org.east_rep.pk, "version": account.version})
    assert response.status_code == 422
    assert "owner_id" in response.json()["errors"]
    assert snapshot(account) == row


def test_manager_assigns_within_their_teams_only(org):
    account = create_account(by=org.west_manager,
                             data={"name": "Handed over", "owner": org.west_rep2.pk})
    assert account.owner == org.west_rep2
    with pytest.raises(ValidationError) as error:
        create_account(by=org.west_manager, data={"name": "Across", "owner": org.east_rep.pk})
    assert "owner" in error.value.message_dict


def test_rep_cannot_attach_a_contact_to_an_account_they_cannot_see(client, org):
    theirs = make_account(org.east_rep, name="East Only Ltd")
    with pytest.raises(ValidationError) as error:
        create_contact(by=org.west_rep, data={"first_name": "A", "last_name": "B",
                                              "account": theirs.pk})
    assert "account" in error.value.message_dict

    client.force_login(org.west_rep)
    before = Contact.objects.count()
    response = _json(client, "post", "/api/v1/contacts",
                     {"first_name": "Sneaky", "last_name": "Link", "account_id": theirs.pk})
    assert response.status_code == 422
    assert "account_id" in response.json()["errors"]
    assert "East Only Ltd" not in response.content.decode()
    assert Contact.objects.count() == before

    contact = make_contact(org.west_rep, account=make_account(org.west_rep))
    row = snapshot(contact)
    with pytest.raises(ValidationError):
        update_contact(contact, by=org.west_rep, data={"account": theirs.pk})
    response = _json(client, "patch", f"/api/v1/contacts/{contact.pk}",
                     {"account_id": theirs.pk, "version": contact.version})
    assert response.status_code == 422
    assert "account_id" in response.json()["errors"]
    assert snapshot(contact) == row
