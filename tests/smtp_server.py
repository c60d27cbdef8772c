"""A real SMTP server on loopback (aiosmtpd) for the tests that send mail, with Django's
default mailer pointed at it. Use it as a fixture: `from tests.smtp_server import
smtp_server` in a conftest or test module."""

import email
import email.policy
import re
import socket
import time
from dataclasses import dataclass, field
from email.message import EmailMessage

import pytest


@dataclass
class Inbox:
    """What the server received, parsed."""

    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def wait_for(self, to: str, count: int = 1, timeout: float = 10.0) -> EmailMessage:
        """The `count`-th message to the address (waiting for the server's thread)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [m for m in self.messages if to in str(m["To"])]
            if len(found) >= count:
                return found[count - 1]
            time.sleep(0.05)
        raise AssertionError(f"No message {count} to {to}; got {[m['To'] for m in self.messages]}")

    @staticmethod
    def body(message: EmailMessage) -> str:
        part = message.get_body(preferencelist=("plain",))
        assert part is not None
        return part.get_content()

    def link_in(self, message: EmailMessage) -> str:
        found = re.search(r"https?://\S+", self.body(message))
        assert found, self.body(message)
        return found.group(0)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    from aiosmtpd.controller import Controller

    from salesplan.config.settings import mailer_from_url

    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.MAILERS = {"default": mailer_from_url(f"smtp://127.0.0.1:{port}?timeout=10")}
    settings.DEFAULT_FROM_EMAIL = "salesplan@example.com"
    try:
        yield inbox
    finally:
        controller.stop()
