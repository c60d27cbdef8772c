"""Delivery preferences against a real SMTP server (aiosmtpd on loopback, started here):
"email at once" sends each item as it comes; "daily digest" sends one message grouping
the day's items by kind; "in the app only" sends nothing."""

import socket
from email import message_from_bytes
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from django.core.management import call_command

from salesplan.collab import services as collab
from salesplan.inbox import services as inbox
from salesplan.inbox.models import InboxItem, Kind

from ..factories import make_lead

pytestmark = pytest.mark.django_db


class Received:
    """An aiosmtpd handler keeping every message it is given."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    handler = Received()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.MAILERS = {"default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {"host": "127.0.0.1", "port": controller.port, "timeout": 10}}}
    try:
        yield handler
    finally:
        controller.stop()


def prefer(user, **delivery):
    found = inbox.settings_of(user)
    inbox.set_delivery(by=user, delivery=delivery, expected_version=found.version)


def text(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(message.get_content_charset() or "utf-8")


def test_email_at_once_reaches_the_smtp_server(org, smtp_server,
                                              django_capture_on_commit_callbacks):
    org.west_manager.email = "west.manager@example.com"
    org.west_manager.save()
    org.vp.email = "vp@example.com"
    org.vp.save()
    prefer(org.west_manager, mention="email")
    lead = make_lead(org.west_rep)
    with django_capture_on_commit_callbacks(execute=True):
        collab.post_comment(lead, by=org.west_rep, body="@westmgr @vp please call them")
    # The VP kept the default (in the app only): only the west manager's email arrives.
    [(to, message)] = smtp_server.messages
    assert to == ["west.manager@example.com"]
    assert "mentioned you" in message["Subject"]
    assert f"/leads/{lead.pk}/" in text(message)
    assert InboxItem.objects.get(user=org.west_manager).emailed_at is not None
    assert InboxItem.objects.get(user=org.vp).emailed_at is None


def test_the_daily_digest_groups_items_by_kind_and_sends_each_once(org, smtp_server, capsys):
    org.west_rep.email = "west.rep@example.com"
    org.west_rep.save()
    prefer(org.west_rep, lead="digest", mention="digest", job="app")
    for n in (1, 2):
        inbox.post(org.west_rep, Kind.LEAD, f"lead:{n}", title=f"New lead: Lee {n}",
                   url=f"/leads/{n}/")
    inbox.post(org.west_rep, Kind.MENTION, "comment:7", title="Ann mentioned you",
               url="/leads/1/")
    inbox.post(org.west_rep, Kind.JOB, "job:3", title="Export finished")  # app only
    inbox.post(org.east_rep, Kind.LEAD, "lead:5", title="Not a digest reader")
    call_command("inbox", "digest")
    assert "Sent 1 digest email." in capsys.readouterr().out
    [(to, message)] = smtp_server.messages
    assert to == ["west.rep@example.com"] and "3 items" in message["Subject"]
    body = text(message)
    assert body.index("Leads to touch (2)") < body.index("New lead: Lee 1") < \
        body.index("Mentions in comments (1)") < body.index("Ann mentioned you")
    assert "Export finished" not in body
    # Sent items are not sent again; a new one goes in the next digest.
    call_command("inbox", "digest")
    assert len(smtp_server.messages) == 1
    inbox.post(org.west_rep, Kind.LEAD, "lead:3", title="New lead: Lee 3")
    call_command("inbox", "digest")
    assert len(smtp_server.messages) == 2 and "Lee 3" in text(smtp_server.messages[1][1])
    assert "Lee 1" not in text(smtp_server.messages[1][1])
    # The same digest as a background task (the worker's daily run).
    inbox.post(org.west_rep, Kind.MENTION, "comment:8", title="Bo mentioned you")
    call_command("inbox", "digest", "--queue")
    assert len(smtp_server.messages) == 3 and "Bo mentioned you" in text(
        smtp_server.messages[2][1])
