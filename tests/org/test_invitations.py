"""Inviting people and resetting passwords: real messages through a real SMTP server on
loopback, whose one-time links are followed as the person would."""

from datetime import timedelta
from urllib.parse import urlsplit

import time_machine
from django.test import Client
from django.utils import timezone

from salesplan.core.models import AuditEntry
from salesplan.org.models import AccessLink, Role, User

from ..api.conftest import assert_problem
from ..factories import PASSWORD

NEW_PASSWORD = "a-fresh-and-long-passphrase-42"


def _path(link: str) -> str:
    return urlsplit(link).path


def _set_password(client: Client, link: str, password: str = NEW_PASSWORD):
    return client.post(_path(link), {"password": password, "password_again": password})


def test_invited_person_sets_a_password_through_the_emailed_link_and_logs_in(
        org, api_as, smtp_server):
    response = api_as(org.admin).post("/people", {
        "email": "new.rep@example.com", "first_name": "Nora", "last_name": "Newman",
        "role": "rep", "team_id": org.west.pk})
    assert response.status_code == 201, response.content
    person = User.objects.get(email="new.rep@example.com")
    assert response.data["invited"] is True and response.data["manager_id"] == org.west_manager.pk
    assert not person.has_usable_password() and person.role == Role.REP

    message = smtp_server.wait_for("new.rep@example.com")
    assert message["Subject"] == "You are invited to Salesplan"
    link = smtp_server.link_in(message)
    assert f"Your username is {person.username}" in smtp_server.body(message)

    browser = Client()
    page = browser.get(_path(link))
    assert page.status_code == 200 and b"Welcome, Nora Newman" in page.content
    assert _set_password(browser, link).status_code == 302
    assert browser.login(username="new.rep@example.com", password=NEW_PASSWORD)
    assert browser.get("/").status_code == 200
    # The link worked once.
    assert Client().get(_path(link)).status_code == 410
    assert _set_password(Client(), link, "another-long-passphrase-99").status_code == 410
    assert AuditEntry.objects.filter(record_type="user", record_id=person.pk,
                                     action="create", changed_by=org.admin).exists()


def test_a_resent_invitation_replaces_the_first_and_a_withdrawn_one_opens_nothing(
        org, api_as, smtp_server):
    api = api_as(org.admin)
    person_id = api.post("/people", {"email": "pat@example.com"}).data["id"]
    first = smtp_server.link_in(smtp_server.wait_for("pat@example.com"))
    assert api.post(f"/people/{person_id}/invitation").status_code == 204
    second = smtp_server.link_in(smtp_server.wait_for("pat@example.com", count=2))
    assert first != second
    assert Client().get(_path(first)).status_code == 410
    assert Client().get(_path(second)).status_code == 200
    assert api.delete(f"/people/{person_id}/invitation").status_code == 204
    assert Client().get(_path(second)).status_code == 410
    assert_problem(api.delete(f"/people/{person_id}/invitation"), 422, "user")


def test_an_invitation_expires_after_seven_days(org, api_as, smtp_server):
    api_as(org.admin).post("/people", {"email": "late@example.com"})
    link = smtp_server.link_in(smtp_server.wait_for("late@example.com"))
    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1)):
        assert Client().get(_path(link)).status_code == 410
    assert Client().get(_path(link)).status_code == 200


def test_bad_invitations_name_the_field_and_write_nothing(org, api_as, smtp_server):
    api = api_as(org.admin)
    assert_problem(api.post("/people", {"email": org.west_rep.email}), 422, "email")
    assert_problem(api.post("/people", {"email": "not-an-address"}), 422, "email")
    assert_problem(api.post("/people", {"email": "x@example.com", "team_id": 999999}), 422,
                   "team_id")
    assert api_as(org.west_manager).post("/people", {"email": "y@example.com"}).status_code == 403
    assert not User.objects.filter(email__in=["x@example.com", "y@example.com"]).exists()
    assert smtp_server.messages == []


def test_when_the_mail_server_is_down_nobody_is_invited(org, api_as, settings):
    from salesplan.config.settings import mailer_from_url

    from ..smtp_server import _free_port

    settings.MAILERS = {"default": mailer_from_url(f"smtp://127.0.0.1:{_free_port()}")}
    response = api_as(org.admin).post("/people", {"email": "lost@example.com"})
    body = assert_problem(response, 422, "email")
    assert "could not be sent" in str(body["errors"]["email"])
    assert not User.objects.filter(email="lost@example.com").exists()
    assert not AccessLink.objects.exists()


def test_password_reset_by_email_changes_the_password_once(org, smtp_server):
    page = Client().post("/password-reset/", {"email": org.west_rep.email})
    assert page.status_code == 200 and b"Check your email" in page.content
    link = smtp_server.link_in(smtp_server.wait_for(org.west_rep.email))
    assert _set_password(Client(), link).status_code == 302
    assert not Client().login(username="westrep", password=PASSWORD)
    assert Client().login(username="westrep", password=NEW_PASSWORD)
    assert Client().get(_path(link)).status_code == 410


def test_password_reset_for_an_unknown_address_answers_the_same_and_sends_nothing(
        org, smtp_server):
    page = Client().post("/password-reset/", {"email": "nobody@example.com"})
    assert page.status_code == 200 and b"Check your email" in page.content
    org.east_rep.is_active = False
    org.east_rep.save()
    Client().post("/password-reset/", {"email": org.east_rep.email})
    assert smtp_server.messages == []


def test_an_admin_sends_a_reset_link_and_a_weak_password_is_refused(org, api_as, smtp_server):
    assert api_as(org.admin).post(f"/people/{org.east_rep.pk}/password-reset").status_code == 204
    link = smtp_server.link_in(smtp_server.wait_for(org.east_rep.email))
    refused = _set_password(Client(), link, "123")
    assert refused.status_code == 400
    # A refused password does not spend the link.
    assert _set_password(Client(), link).status_code == 302
    assert api_as(org.west_rep).post(f"/people/{org.east_rep.pk}/password-reset"
                                     ).status_code == 403


def test_the_reset_form_cannot_flood_a_mailbox(org, smtp_server):
    for _ in range(7):
        page = Client().post("/password-reset/", {"email": org.west_rep.email})
        assert page.status_code == 200 and b"Check your email" in page.content
    smtp_server.wait_for(org.west_rep.email, count=5)
    assert len(smtp_server.messages) == 5
