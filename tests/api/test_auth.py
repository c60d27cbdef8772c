"""Who may call the API: bearer tokens (hashed, revocable) and the browser session
(with CSRF on changes). Anyone else gets 401 problem details."""

import hashlib
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from salesplan.customers.models import Account
from salesplan.org.models import ApiToken
from salesplan.org.services import create_api_token, revoke_api_token

from .conftest import assert_problem


def _get(headers=None, client=None, path="/api/v1/me"):
    return (client or Client()).get(path, headers=headers or {})


def _bearer(key):
    return {"Authorization": f"Bearer {key}"}


def test_no_credentials_is_401_problem(db):
    response = _get()
    response.data = response.json()
    assert_problem(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_valid_token_acts_as_its_user_and_only_the_hash_is_stored(org):
    token, key = create_api_token(org.west_rep, "CRM sync")
    assert key.startswith("sp_") and token.prefix == key[:12]
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert not ApiToken.objects.filter(key_hash=key).exists()
    response = _get(_bearer(key))
    assert response.status_code == 200 and response.json()["username"] == "westrep"


@pytest.mark.parametrize("header", ["Bearer sp_made_up", "Bearer ", "Basic d2VzdHJlcDp4"])
def test_unknown_or_other_credentials_are_refused(org, header):
    assert _get({"Authorization": header}).status_code == 401


def test_revoked_token_is_refused_even_with_a_session(org):
    token, key = create_api_token(org.west_rep, "old script")
    revoke_api_token(token, by=org.west_rep)
    client = Client()
    client.force_login(org.west_rep)
    assert _get(_bearer(key), client).status_code == 401
    assert _get(client=client).status_code == 200  # the session alone still works


def test_token_of_deactivated_user_is_refused(org):
    _, key = create_api_token(org.west_rep, "script")
    org.west_rep.is_active = False
    org.west_rep.save()
    assert _get(_bearer(key)).status_code == 401


def test_last_use_is_recorded_at_most_once_a_minute(org):
    token, key = create_api_token(org.west_rep, "script")
    assert token.last_used_at is None
    _get(_bearer(key))
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    _get(_bearer(key))
    token.refresh_from_db()
    assert token.last_used_at == first
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - timedelta(minutes=2))
    _get(_bearer(key))
    token.refresh_from_db()
    assert token.last_used_at > first - timedelta(seconds=1)


def test_only_owner_or_admin_revokes(org):
    token, _ = create_api_token(org.west_rep, "script")
    with pytest.raises(PermissionDenied):
        revoke_api_token(token, by=org.west_manager)
    revoke_api_token(token, by=org.admin)
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_session_changes_need_the_csrf_token(org):
    client = Client(enforce_csrf_checks=True)
    client.force_login(org.west_rep)
    body = {"data": '{"name": "Acme"}', "content_type": "application/json"}
    assert client.get("/api/v1/accounts").status_code == 200
    refused = client.post("/api/v1/accounts", **body)
    assert refused.status_code == 403
    assert refused["Content-Type"] == "application/problem+json"
    assert not Account.objects.exists()
    client.get("/api/v1/docs")  # any page with a form sets the CSRF cookie
    csrf = client.cookies["csrftoken"].value
    accepted = client.post("/api/v1/accounts", headers={"X-CSRFToken": csrf}, **body)
    assert accepted.status_code == 201
    assert Account.objects.get().owner == org.west_rep


def test_token_command_creates_and_revokes(org, capsys):
    call_command("token", "create", "westrep", "--name", "Zapier")
    key = capsys.readouterr().out.strip()
    assert _get(_bearer(key)).status_code == 200
    call_command("token", "list", "westrep")
    assert "Zapier" in capsys.readouterr().out and key not in capsys.readouterr().out
    call_command("token", "revoke", key[:12])
    assert _get(_bearer(key)).status_code == 401
    assert ApiToken.objects.get().revoked_at is not None
    with pytest.raises(CommandError):
        call_command("token", "create", "nobody")
    with pytest.raises(CommandError):
        call_command("token", "revoke", "sp_nothing12")
    assert timezone.now() >= ApiToken.objects.get().revoked_at
