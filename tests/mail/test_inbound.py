"""Reading a real IMAP server (a private Dovecot on loopback): replies thread back to the
deal they answer, known addresses land on their contact or lead, unknown senders wait for
triage, bounces mark the contact, and fetching twice logs nothing twice."""

from datetime import timedelta
from email.message import EmailMessage as Mime
from email.utils import format_datetime, make_msgid

import pytest
from django.utils import timezone

from salesplan.activities.models import Activity
from salesplan.activities.selectors import timeline
from salesplan.customers.models import Lead
from salesplan.mail import inbound, selectors, services
from salesplan.mail.models import Bounce, EmailMessage, Triage
from tests.factories import make_contact, make_lead

pytestmark = pytest.mark.django_db


def mail(sender: str, to: str, subject: str, body: str, **headers) -> bytes:
    message = Mime()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    # Written a minute after whatever the test sent (Date has whole seconds only).
    message["Date"] = format_datetime(timezone.now() + timedelta(minutes=1))
    message["Message-ID"] = headers.pop("message_id", make_msgid(domain="acme.example"))
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message.as_bytes()


@pytest.fixture
def shared(org, imap_server):
    return services.create_mailbox(by=org.admin, data=imap_server.mailbox_data())


def activities_of(user, record) -> list[Activity]:
    return [e["activity"] for e in timeline(user, record) if e["kind"] == "activity"]


def test_a_reply_threads_to_the_deal_and_fetching_twice_logs_once(
        org, deal, smtp_server, imap_server, shared):
    # Sent to someone whose address no record has: only the thread can place the reply.
    sent = services.send_email(deal, by=org.west_rep, to="buyer@elsewhere.example",
                               subject="Offer", body="Here it is.")
    imap_server.append(mail("Buyer <buyer@elsewhere.example>", "westrep@example.com",
                            "Re: Offer", "Looks good, send the contract.",
                            In_Reply_To=sent.message_id, References=sent.message_id))
    first = inbound.fetch_mailbox(shared)
    assert (first.read, first.logged, first.errors) == (1, 1, [])
    reply = EmailMessage.objects.get(direction="in")
    assert (reply.opportunity, reply.account, reply.in_reply_to) == (
        deal, deal.account, sent.message_id)
    subjects = [a.subject for a in activities_of(org.west_rep, deal)]
    assert subjects == ["Re: Offer", "Offer"]
    assert Activity.objects.get(pk=reply.activity_id).owner == org.west_rep  # deal's owner

    second = inbound.fetch_mailbox(shared)
    assert (second.read, second.logged) == (0, 0)
    # A new UIDVALIDITY (the server rebuilt the folder) reads everything again: the
    # Message-ID keeps it from being logged twice.
    shared.refresh_from_db()
    type(shared).objects.filter(pk=shared.pk).update(uid_validity=1)
    again = inbound.fetch_mailbox(type(shared).objects.get(pk=shared.pk))
    assert (again.read, again.skipped, again.logged) == (1, 1, 0)
    assert EmailMessage.objects.filter(direction="in").count() == 1
    assert Activity.objects.filter(subject="Re: Offer").count() == 1


def test_messages_are_matched_by_address(org, deal, imap_server, shared):
    lead = make_lead(org.west_rep2, email="lee@prospect.example")
    imap_server.append(mail("Dana <DANA@acme.example>", "sales@ours.example", "Question",
                            "Can we talk?"))
    imap_server.append(mail("lee@prospect.example", "sales@ours.example", "Pricing?",
                            "How much?"))
    result = inbound.fetch_mailbox(shared)
    assert result.logged == 2
    # Dana's only open deal gets it too, with her contact and account.
    assert [a.subject for a in activities_of(org.west_rep, deal.contact)] == ["Question"]
    assert [a.subject for a in activities_of(org.west_rep, deal)] == ["Question"]
    assert [a.subject for a in activities_of(org.west_rep2, lead)] == ["Pricing?"]


def test_a_copy_of_a_reps_own_mail_is_about_its_recipient(org, deal, imap_server, shared):
    imap_server.append(mail("westrep@example.com", "dana@acme.example", "Agenda",
                            "See you Tuesday."))
    inbound.fetch_mailbox(shared)
    assert [a.subject for a in activities_of(org.west_rep, deal.contact)] == ["Agenda"]


def test_unknown_senders_wait_for_triage(org, imap_server, shared):
    imap_server.append(mail("Sam Stranger <sam@newco.example>", "sales@ours.example",
                            "Interested", "Tell me more."))
    imap_server.append(mail("spam@junk.example", "sales@ours.example", "Win", "Now"))
    result = inbound.fetch_mailbox(shared)
    assert (result.waiting, result.logged) == (2, 0)
    waiting = list(selectors.waiting_for_triage(org.marketer))
    assert [m.from_address for m in waiting] == ["spam@junk.example", "sam@newco.example"]
    assert list(selectors.waiting_for_triage(org.west_rep)) == []  # not the rep's mailbox

    services.ignore_sender(waiting[0], by=org.marketer)
    services.lead_from_sender(waiting[1], by=org.marketer)
    lead = Lead.objects.get(email="sam@newco.example")
    assert (lead.first_name, lead.last_name, lead.company) == ("Sam", "Stranger", "Newco")
    assert [a.subject for a in activities_of(org.marketer, lead)] == ["Interested"]
    assert list(selectors.waiting_for_triage(org.marketer)) == []


def test_linking_an_unknown_sender_to_a_contact(org, imap_server, shared):
    contact = make_contact(org.west_rep, first_name="Kim")
    imap_server.append(mail("kim.private@home.example", "sales@ours.example", "From home",
                            "My other address."))
    inbound.fetch_mailbox(shared)
    message = selectors.waiting_for_triage(org.admin).get()
    services.link_sender(message, contact, by=org.admin)
    assert [a.subject for a in activities_of(org.west_rep, contact)] == ["From home"]
    assert EmailMessage.objects.get(pk=message.pk).triage == Triage.LOGGED


def dsn(failed: str, original_id: str) -> bytes:
    boundary = "dsn-boundary"
    return (
        f"From: Mail Delivery System <MAILER-DAEMON@mx.ours.example>\r\n"
        f"To: westrep@example.com\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: {make_msgid(domain='mx.ours.example')}\r\n"
        f"Date: {format_datetime(timezone.now())}\r\nMIME-Version: 1.0\r\n"
        f"Content-Type: multipart/report; report-type=delivery-status; "
        f"boundary=\"{boundary}\"\r\n\r\n"
        f"--{boundary}\r\nContent-Type: text/plain\r\n\r\nYour message could not be "
        f"delivered.\r\n"
        f"--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"
        f"Reporting-MTA: dns; mx.ours.example\r\n\r\n"
        f"Final-Recipient: rfc822; {failed}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        f"Diagnostic-Code: smtp; 550 5.1.1 User unknown\r\n\r\n"
        f"--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: {original_id}\r\nTo: {failed}\r\nSubject: Offer\r\n\r\n"
        f"--{boundary}--\r\n").encode()


def test_a_bounce_is_recorded_on_the_contact(org, deal, smtp_server, imap_server, shared,
                                             client):
    sent = services.send_email(deal, by=org.west_rep, to="dana@acme.example",
                               subject="Offer", body="Here it is.")
    imap_server.append(dsn("dana@acme.example", sent.message_id))
    result = inbound.fetch_mailbox(shared)
    assert (result.bounces, result.logged, result.waiting) == (1, 0, 0)
    bounce = Bounce.objects.get()
    assert (bounce.contact, bounce.address) == (deal.contact, "dana@acme.example")
    assert "User unknown" in bounce.reason
    client.force_login(org.west_rep)
    page = client.get(f"/mail/contacts/{deal.contact.pk}/").content.decode()
    assert "Email bounced on" in page and "dana@acme.example" in page


def test_a_server_that_cannot_be_reached_is_reported(org, deal):
    from tests.mail_servers import free_port

    mailbox = services.create_mailbox(by=org.admin, data={
        "name": "Gone", "host": "127.0.0.1", "port": free_port(), "use_ssl": False,
        "username": "x", "password": "y"})
    result = inbound.fetch_mailbox(mailbox)
    assert result.errors and "Could not read" in result.errors[0]
    mailbox.refresh_from_db()
    assert "Could not read" in mailbox.last_error


def test_a_wrong_password_is_reported(org, imap_server):
    data = {**imap_server.mailbox_data(), "password": "wrong"}
    mailbox = services.create_mailbox(by=org.admin, data=data)
    result = inbound.fetch_mailbox(mailbox)
    assert result.errors and "refused" in result.errors[0]


def test_the_command_and_the_task_fetch(org, deal, imap_server, shared):
    from io import StringIO

    from django.core.management import call_command

    from salesplan.mail.tasks import fetch_mailboxes

    imap_server.append(mail("dana@acme.example", "x@ours.example", "One", "1"))
    out = StringIO()
    call_command("mail", "fetch", stdout=out)
    assert "1 read: 1 logged" in out.getvalue()
    imap_server.append(mail("dana@acme.example", "x@ours.example", "Two", "2"))
    result = fetch_mailboxes.enqueue().return_value
    assert (result["read"], result["logged"]) == (1, 1)
    assert [a.subject for a in activities_of(org.west_rep, deal)] == ["Two", "One"]


def test_a_reps_own_mailbox_logs_as_them_only_on_records_they_see(org, deal, imap_server):
    own = services.create_mailbox(by=org.west_rep, data=imap_server.mailbox_data("Mine"))
    assert own.owner == org.west_rep
    stranger = make_contact(org.east_rep, first_name="Eve", email="eve@east.example")
    imap_server.append(mail("dana@acme.example", "westrep@example.com", "Mine", "m"))
    imap_server.append(mail("eve@east.example", "westrep@example.com", "Theirs", "t"))
    inbound.fetch_mailbox(own, by=org.west_rep)
    assert Activity.objects.get(subject="Mine").owner == org.west_rep
    # The West rep does not see East's contact: the entry is its owner's.
    assert Activity.objects.get(subject="Theirs").owner == org.east_rep
    assert activities_of(org.west_rep, stranger) == []
    assert list(selectors.waiting_for_triage(org.west_rep)) == []


def test_the_command_line(org, deal, template, smtp_server, imap_server):
    from io import StringIO

    from django.core.management import CommandError, call_command

    out = StringIO()
    call_command("mail", "send", "opportunity", str(deal.pk), "--template", "Follow-up",
                 "--as", "westrep", stdout=out)
    assert "to dana@acme.example" in out.getvalue()
    assert smtp_server.wait_for(1)[0]["Subject"] == "Acme rollout: next steps"
    call_command("mail", "add-mailbox", "Sales BCC", "--host", imap_server.host, "--port",
                 str(imap_server.port), "--no-ssl", "--username", imap_server.username,
                 "--password", imap_server.password, stdout=out)
    listing = StringIO()
    call_command("mail", "mailboxes", stdout=listing)
    assert "Sales BCC\tshared" in listing.getvalue()
    with pytest.raises(CommandError, match="No opportunity"):  # not theirs to see
        call_command("mail", "send", "opportunity", str(deal.pk), "--template",
                     "Follow-up", "--as", "eastrep")
