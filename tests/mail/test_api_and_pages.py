"""The email API and pages: templates with versions, preview and send from a record,
the compose panel on a deal page, the triage page."""

import pytest

from salesplan.mail.models import EmailMessage, EmailTemplate
from tests.api.conftest import assert_problem
from tests.mail_servers import body_of

pytestmark = pytest.mark.django_db


def test_templates_over_the_api_carry_their_version(org, api_as):
    marketer, rep = api_as(org.marketer), api_as(org.west_rep)
    created = marketer.post("/mail/templates", {"name": "Intro", "subject": "Hi",
                                                "body": "Hi {{ contact.first_name }}"})
    assert created.status_code == 201, created.data
    tid = created.data["id"]
    assert rep.post("/mail/templates", {"name": "x", "subject": "y", "body": "z"}
                    ).status_code == 403
    assert marketer.patch(f"/mail/templates/{tid}", {"body": "b"}).status_code == 428
    changed = marketer.patch(f"/mail/templates/{tid}", {"body": "Hello", "version": 1})
    assert (changed.status_code, changed.data["version"]) == (200, 2)
    assert marketer.patch(f"/mail/templates/{tid}", {"body": "c", "version": 1}
                          ).status_code == 409
    assert_problem(marketer.post("/mail/templates", {
        "name": "Bad", "subject": "{{ nope }}", "body": "b"}), 422, "subject")
    assert [t["name"] for t in rep.get("/mail/templates").data] == ["Intro"]


def test_preview_then_send_over_the_api(org, deal, template, api_as, smtp_server):
    rep = api_as(org.west_rep)
    body = {"record": "opportunity", "record_id": deal.pk, "template_id": template.pk}
    preview = rep.post("/mail/preview", body)
    assert preview.status_code == 200, preview.data
    assert preview.data["to"] == "dana@acme.example"  # the deal's contact
    assert preview.data["subject"] == "Acme rollout: next steps"
    sent = rep.post("/mail/send", body)
    assert sent.status_code == 201, sent.data
    [received] = smtp_server.wait_for(1)
    assert received["Message-ID"] == sent.data["message_id"]
    assert body_of(received) == preview.data["body"]
    assert (sent.data["opportunity_id"], sent.data["contact_id"], sent.data["account_id"]) == (
        deal.pk, deal.contact_id, deal.account_id)
    logged = rep.get("/mail/messages", record="account", record_id=deal.account_id)
    assert [m["message_id"] for m in logged.data] == [sent.data["message_id"]]
    # Another team's rep does not see the deal: 404, as for a missing one.
    assert api_as(org.east_rep).post("/mail/send", body).status_code == 404
    assert_problem(rep.post("/mail/send", {**body, "template_id": None,
                                           "subject": "x", "body": "{{ deal.margin }}"}),
                   422, "body")
    assert EmailMessage.objects.count() == 1


def test_compose_panel_previews_and_sends_from_a_deal_page(org, deal, template, client,
                                                           smtp_server):
    client.force_login(org.west_rep)
    url = f"/mail/opportunity/{deal.pk}/compose/"
    filled = client.post(url, {"action": "template", "template": template.pk},
                         headers={"HX-Request": "true"}).content.decode()
    assert "{{ deal.name }}: next steps" in filled
    form = {"template": template.pk, "to": "dana@acme.example",
            "subject": template.subject, "body": template.body}
    preview = client.post(url, {**form, "action": "preview"},
                          headers={"HX-Request": "true"}).content.decode()
    assert "Acme rollout: next steps" in preview and "EUR 12,500.00" in preview
    sent = client.post(url, {**form, "action": "send"}, headers={"HX-Request": "true"})
    assert "Sent to dana@acme.example" in sent.content.decode()
    assert smtp_server.wait_for(1)[0]["Subject"] == "Acme rollout: next steps"
    panel = client.get(f"/mail/opportunities/{deal.pk}/").content.decode()
    assert "Acme rollout: next steps" in panel and "Follow-up v1" in panel
    # The executive reads the emails but gets no compose form.
    client.force_login(org.executive)
    panel = client.get(f"/mail/opportunities/{deal.pk}/").content.decode()
    assert "Acme rollout: next steps" in panel and "Preview" not in panel
    assert client.post(url, {**form, "action": "send"}).status_code == 403


def test_template_pages(org, client):
    client.force_login(org.marketer)
    response = client.post("/mail/templates/", {"name": "Thanks", "subject": "Thank you",
                                                "body": "Thanks {{ contact.first_name }}",
                                                "active": "on"})
    assert response.status_code == 302
    template = EmailTemplate.objects.get(name="Thanks")
    stale = client.post(f"/mail/templates/{template.pk}/", {
        "name": "Thanks", "subject": "Thanks!", "body": "b", "active": "on", "version": "9"})
    assert stale.status_code == 200 and EmailTemplate.objects.get().subject == "Thank you"
    client.post(f"/mail/templates/{template.pk}/", {
        "name": "Thanks", "subject": "Thanks!", "body": "b", "active": "on", "version": "1"})
    assert EmailTemplate.objects.get().version == 2
    client.force_login(org.west_rep)
    assert client.post("/mail/templates/", {"name": "x", "subject": "y",
                                            "body": "z"}).status_code == 403


def _waiting(address: str, subject: str) -> EmailMessage:
    from django.utils import timezone

    return EmailMessage.objects.create(
        direction="in", message_id=f"<{subject}@x.example>", from_address=address,
        subject=subject, body="Hello", at=timezone.now(), triage="waiting")


def test_triage_page_links_and_ignores(org, client, api_as):
    from tests.factories import make_contact

    contact = make_contact(org.west_rep, first_name="Kim")
    first, second = _waiting("kim@home.example", "first"), _waiting("x@junk.example", "second")
    client.force_login(org.marketer)
    page = client.get("/mail/triage/").content.decode()
    assert "kim@home.example" in page and "x@junk.example" in page
    client.post(f"/mail/triage/{first.pk}/link/", {"record": "contact",
                                                   "record_id": contact.pk})
    client.post(f"/mail/triage/{second.pk}/ignore/")
    assert client.get("/mail/triage/").content.decode().count("Create a lead") == 0
    first.refresh_from_db()
    assert (first.triage, first.contact) == ("logged", contact)
    # A rep does not triage the shared mailbox: its messages are not theirs to see.
    third = _waiting("y@junk.example", "third")
    rep = api_as(org.west_rep)
    assert rep.get("/mail/triage").data == []
    assert rep.post(f"/mail/triage/{third.pk}/ignore").status_code == 404
    assert api_as(org.west_manager).post(f"/mail/triage/{third.pk}/ignore").data[
        "triage"] == "ignored"


def test_mailbox_page_and_signature(org, client):
    client.force_login(org.west_rep)
    client.post("/mail/mailboxes/", {"name": "Mine", "host": "imap.example.com", "port": 993,
                                     "use_ssl": "on", "username": "w", "password": "p",
                                     "folder": "INBOX", "shared": "1"})
    page = client.get("/mail/mailboxes/").content.decode()
    assert "w@imap.example.com:993" in page and "Shared (BCC)" not in page  # reps: own only
    client.post("/mail/signature/", {"text": "Wes, West team"})
    client.post("/mail/signature/", {"text": "Stale", "version": "7"})
    from salesplan.mail.models import Signature

    assert Signature.objects.get(user=org.west_rep).text == "Wes, West team"
    client.post("/mail/signature/", {"text": "Wes Tern", "version": "1"})
    assert Signature.objects.get(user=org.west_rep).text == "Wes Tern"
