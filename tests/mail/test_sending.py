"""Sending from a record through a real SMTP server on loopback (aiosmtpd): the preview
is what is sent, the message carries the recorded Message-ID, and it is logged on the
timelines of the contact, the account and the deal."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from salesplan.activities.models import Activity
from salesplan.activities.selectors import timeline
from salesplan.mail import services
from salesplan.mail.models import EmailMessage
from tests.factories import make_lead
from tests.mail_servers import body_of

pytestmark = pytest.mark.django_db


def test_the_preview_is_exactly_what_the_server_receives(org, deal, template, smtp_server):
    org.west_rep.first_name, org.west_rep.last_name = "Wes", "Tern"
    org.west_rep.save()
    services.set_signature(by=org.west_rep, text="Wes Tern, Account Executive")
    draft = services.compose(deal, by=org.west_rep, template=template, to="dana@acme.example",
                             subject="", body="")
    assert draft.subject == "Acme rollout: next steps"
    assert "Hi Dana," in draft.body
    assert "comes to EUR 12,500.00." in draft.body
    assert draft.body.endswith("Wes Tern\nWes Tern, Account Executive")

    sent = services.send_email(deal, by=org.west_rep, template=template, to="dana@acme.example")

    [received] = smtp_server.wait_for(1)
    assert received["Message-ID"] == sent.message_id
    assert received["Subject"] == draft.subject
    assert received["To"] == "dana@acme.example"
    assert received["X-Envelope-To"] == "dana@acme.example"
    assert body_of(received) == draft.body
    assert sent.template == template and sent.template_version == template.version


def test_the_email_is_on_the_contact_account_and_deal_timelines(org, deal, template,
                                                                 smtp_server):
    sent = services.send_email(deal, by=org.west_rep, template=template, to="dana@acme.example")
    for record in (deal, deal.contact, deal.account):
        entries = [e["activity"] for e in timeline(org.west_rep, record) if e["kind"] ==
                   "activity"]
        assert [a.pk for a in entries] == [sent.activity_id], record
    activity = Activity.objects.get(pk=sent.activity_id)
    assert (activity.kind, activity.done, activity.subject) == (
        "email", True, "Acme rollout: next steps")


def test_unknown_merge_field_is_named_and_nothing_is_sent(org, deal, smtp_server):
    with pytest.raises(ValidationError) as refused:
        services.send_email(deal, by=org.west_rep, to="dana@acme.example", subject="Hello",
                            body="Dear {{ contact.nickname }}")
    assert "contact.nickname" in refused.value.message_dict["body"][0]
    assert not smtp_server.received and not EmailMessage.objects.exists()
    assert not Activity.objects.exists()


def test_a_field_the_record_lacks_is_refused(org, smtp_server):
    lead = make_lead(org.west_rep, first_name="Lee")
    with pytest.raises(ValidationError) as refused:
        services.send_email(lead, by=org.west_rep, to=lead.email, subject="Offer",
                            body="Your deal: {{ deal.amount }}")
    assert "deal.amount" in refused.value.message_dict["body"][0]
    sent = services.send_email(lead, by=org.west_rep, to=lead.email, subject="Hi",
                               body="Hello {{ lead.first_name }}")
    assert body_of(smtp_server.wait_for(1)[0]) == "Hello Lee"
    assert [e["activity"].pk for e in timeline(org.west_rep, lead)
            if e["kind"] == "activity"] == [sent.activity_id]


def test_a_template_with_an_unknown_field_is_refused(org):
    with pytest.raises(ValidationError) as refused:
        services.create_template(by=org.admin, data={"name": "Bad", "subject": "x",
                                                     "body": "{{ deal.owner.password }}"})
    assert "deal.owner.password" in refused.value.message_dict["body"][0]


def test_templates_are_kept_by_admins_managers_and_marketing_only(org):
    with pytest.raises(PermissionDenied):
        services.create_template(by=org.west_rep, data={"name": "Mine", "subject": "s",
                                                        "body": "b"})
    template = services.create_template(by=org.west_manager, data={
        "name": "Intro", "subject": "Hello", "body": "Hi"})
    services.update_template(template, by=org.marketer, data={"body": "Hi there"},
                             expected_version=1)
    template.refresh_from_db()
    assert (template.body, template.version) == ("Hi there", 2)
    # Every version's words are kept.
    assert list(template.revisions.values_list("version", "body")) == [
        (2, "Hi there"), (1, "Hi")]


def test_only_someone_who_sees_the_record_may_send(org, deal, smtp_server):
    from salesplan.core.errors import NotFound

    with pytest.raises(NotFound):
        services.send_email(deal, by=org.east_rep, to="dana@acme.example", subject="Hi",
                            body="Hi")
    with pytest.raises(PermissionDenied):
        services.send_email(deal, by=org.executive, to="dana@acme.example", subject="Hi",
                            body="Hi")
    assert not smtp_server.received


def test_a_server_that_refuses_leaves_nothing_logged(org, deal, settings):
    from tests.mail_servers import free_port

    settings.MAILERS = {"default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {"host": "127.0.0.1", "port": free_port(), "timeout": 5}}}
    with pytest.raises(ValidationError) as refused:
        services.send_email(deal, by=org.west_rep, to="dana@acme.example", subject="Hi",
                            body="Hi")
    assert "nothing was sent" in str(refused.value)
    assert not EmailMessage.objects.exists() and not Activity.objects.exists()
