"""Real mail servers on loopback for the email tests: an SMTP server (aiosmtpd, in this
process) that keeps what it receives, and a private Dovecot IMAP server started for the
test with its own configuration, directories and a free port, stopped afterwards.

Dovecot missing: the IMAP tests skip with the reason, except in CI (CI or
SALESPLAN_REQUIRE_BROWSER set), where .ci/run installs it and a missing one fails.
"""

import grp
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import pytest

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
PASSWORD = "imap-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# SMTP ---------------------------------------------------------------------------------

def body_of(message: Message) -> str:
    """The text of a received message as it was written (SMTP sends CRLF line ends)."""
    return message.get_payload(decode=True).decode().replace("\r\n", "\n").strip()


@dataclass
class SmtpServer:
    host: str
    port: int
    received: list[Message] = field(default_factory=list)

    def wait_for(self, count: int = 1, timeout: float = 10.0) -> list[Message]:
        """The messages received, once there are `count` (the server runs in a thread)."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.received


class _Keep:
    def __init__(self, server: SmtpServer):
        self.server = server

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        message = message_from_bytes(envelope.original_content or envelope.content)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.server.received.append(message)
        return "250 OK"


@pytest.fixture
def smtp_server(settings):
    """An SMTP server on loopback, and Salesplan's mail settings pointed at it."""
    from aiosmtpd.controller import Controller

    server = SmtpServer("127.0.0.1", free_port())
    controller = Controller(_Keep(server), hostname=server.host, port=server.port)
    controller.start()
    settings.MAILERS = {"default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {"host": server.host, "port": server.port, "timeout": 10}}}
    try:
        yield server
    finally:
        controller.stop()


# IMAP (Dovecot) -----------------------------------------------------------------------

@dataclass
class ImapServer:
    host: str
    port: int
    username: str
    password: str
    root: Path

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        """Deliver a message into the mailbox as a mail client would (IMAP APPEND)."""
        client = imaplib.IMAP4(self.host, self.port, timeout=10)
        try:
            client.login(self.username, self.password)
            status, detail = client.append(folder, "", None, raw)
            assert status == "OK", detail
        finally:
            client.logout()

    def mailbox_data(self, name: str = "Shared inbox") -> dict:
        return {"name": name, "host": self.host, "port": self.port, "use_ssl": False,
                "username": self.username, "password": self.password, "folder": "INBOX"}


def _require_dovecot() -> None:
    if Path(DOVECOT).exists():
        return
    reason = (f"Dovecot is not installed ({DOVECOT}); apt-get install dovecot-imapd "
              f"to run the IMAP tests")
    if os.environ.get("CI") or os.environ.get("SALESPLAN_REQUIRE_BROWSER"):
        pytest.fail(reason)
    pytest.skip(reason)


def _config(root: Path, port: int) -> str:
    me = pwd.getpwuid(os.getuid())
    # As root, Dovecot's own unprivileged users run the processes and own the mail (it
    # refuses mail access as uid 0); as anyone else, that user runs everything.
    if os.getuid() == 0:
        mail_user = pwd.getpwnam("dovecot")
        internal, login = "dovecot", "dovenull"
    else:
        mail_user, internal, login = me, me.pw_name, me.pw_name
    for sub in ("mail", "home"):
        (root / sub).mkdir()
        os.chown(root / sub, mail_user.pw_uid, mail_user.pw_gid)
    (root / "passwd").write_text(f"salesplan:{{PLAIN}}{PASSWORD}::::::\n")
    return f"""
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
default_internal_user = {internal}
default_internal_group = {grp.getgrgid(pwd.getpwnam(internal).pw_gid).gr_name}
default_login_user = {login}
first_valid_uid = {mail_user.pw_uid}
last_valid_uid = 0
first_valid_gid = 0
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_user.pw_uid} gid={mail_user.pw_gid} home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    user = {internal}
  }}
  unix_listener stats-writer {{
    user = {internal}
  }}
}}
"""


def _wait_until_listening(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dovecot stopped: {log.read_text() if log.exists() else ''}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                if s.recv(100).startswith(b"* OK"):
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("dovecot did not answer on its port within 30 s")


@pytest.fixture
def imap_server():
    """A private Dovecot on a free loopback port with one user, stopped after the test.
    Its directory is outside pytest's (private, 0700) temporary tree: as root, Dovecot's
    own unprivileged users must reach it."""
    _require_dovecot()
    root = Path(tempfile.mkdtemp(prefix="salesplan-dovecot-"))
    root.chmod(0o755)
    port = free_port()
    conf = root / "dovecot.conf"
    conf.write_text(_config(root, port))
    process = subprocess.Popen(  # noqa: S603 - our own binary and config
        [DOVECOT, "-F", "-c", str(conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        _wait_until_listening(port, process, root / "dovecot.log")
        yield ImapServer("127.0.0.1", port, "salesplan", PASSWORD, root)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(root, ignore_errors=True)
