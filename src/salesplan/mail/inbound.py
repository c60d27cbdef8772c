"""Reading mailboxes over IMAP: each new message is matched to the records it is about
(by thread first — In-Reply-To and References against the Message-IDs Salesplan recorded
— then by address), logged on their timelines, kept for triage when nobody knows the
sender, or recorded as a bounce on the contact whose address failed.

Fetching twice never logs twice: a mailbox resumes after the last UID it read (from the
start again when the server's UIDVALIDITY changes), and a Message-ID already recorded —
a reply read from both a rep's mailbox and the shared one, or Salesplan's own message
copied to the BCC address — is skipped.
"""

import email
import email.policy
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC
from email.message import EmailMessage as MimeMessage
from email.utils import getaddresses, parseaddr, parsedate_to_datetime
from typing import Any

from django.apps import apps
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.html import strip_tags

from salesplan.core.registry import require

from .models import Bounce, Direction, EmailMessage, Mailbox, Triage
from .records import can_see
from .services import log_on_timeline

logger = logging.getLogger(__name__)

MESSAGE_ID = re.compile(r"<[^<>\s]+>")
DAEMONS = ("mailer-daemon", "postmaster")
BATCH = 50


@dataclass
class FetchResult:
    """What one fetch did, for the command, the task and the page."""

    read: int = 0
    logged: int = 0
    waiting: int = 0
    bounces: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (f"{self.read} read: {self.logged} logged, {self.waiting} for triage, "
                f"{self.bounces} bounces, {self.skipped} already known")


@dataclass
class Parsed:
    message_id: str
    in_reply_to: str
    references: list[str]
    from_name: str
    from_address: str
    to: list[str]
    subject: str
    body: str
    at: Any
    mime: MimeMessage


def _text_of(mime: MimeMessage) -> str:
    part = mime.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError):
        return ""
    if part.get_content_type() == "text/html":
        content = strip_tags(content)
    return str(content).strip()[:50_000]


def parse(raw: bytes) -> Parsed:
    mime: Any = email.message_from_bytes(raw, policy=email.policy.default)
    from_name, from_address = parseaddr(str(mime.get("From", "")))
    to = [addr.lower() for _, addr in getaddresses(
        [str(v) for v in (mime.get_all("To") or []) + (mime.get_all("Cc") or [])]) if addr]
    try:
        at = parsedate_to_datetime(str(mime["Date"])) if mime["Date"] else timezone.now()
        if timezone.is_naive(at):
            at = timezone.make_aware(at, UTC)
    except (TypeError, ValueError):
        at = timezone.now()
    found_id = MESSAGE_ID.findall(str(mime.get("Message-ID", "")))
    return Parsed(
        message_id=found_id[0] if found_id else "",
        in_reply_to=" ".join(MESSAGE_ID.findall(str(mime.get("In-Reply-To", "")))),
        references=MESSAGE_ID.findall(str(mime.get("References", ""))),
        from_name=from_name[:200], from_address=from_address.lower()[:254], to=to,
        subject=" ".join(str(mime.get("Subject", "")).split())[:500],
        body=_text_of(mime), at=at, mime=mime)


# Matching ----------------------------------------------------------------------------

LINKS = ("contact", "account", "opportunity", "lead")


def _thread_links(parsed: Parsed) -> dict[str, Any] | None:
    """The records of the message this one answers, newest reference first."""
    ids = [*MESSAGE_ID.findall(parsed.in_reply_to), *reversed(parsed.references)]
    if not ids:
        return None
    known = {m.message_id: m for m in EmailMessage.objects.filter(message_id__in=ids).exclude(
        contact=None, account=None, opportunity=None, lead=None).select_related(*LINKS)}
    for message_id in ids:
        if message_id in known:
            return {name: getattr(known[message_id], name) for name in LINKS}
    return None


def _is_user(address: str) -> bool:
    return apps.get_model("org", "User").objects.filter(email__iexact=address,
                                                         is_active=True).exists()


def _address_links(parsed: Parsed) -> dict[str, Any] | None:
    """A contact (with its account, and its deal when it has exactly one open) or a lead
    with the other side's address. A message from one of our own users (a copy sent to
    the BCC mailbox) is about whom it was sent to."""
    contact_model = apps.get_model("customers", "Contact")
    lead_model = apps.get_model("customers", "Lead")
    deal_model = apps.get_model("pipeline", "Opportunity")
    others = parsed.to if _is_user(parsed.from_address) else [parsed.from_address]
    for address in others:
        contact = contact_model.objects.filter(
            Q(email__iexact=address) | Q(email_secondary__iexact=address)).select_related(
            "account").order_by("id").first()
        if contact is not None:
            deals = list(deal_model.objects.filter(contact=contact, status="open")[:2])
            return {"contact": contact, "account": contact.account,
                    "opportunity": deals[0] if len(deals) == 1 else None, "lead": None}
        lead = lead_model.objects.filter(email__iexact=address, converted_at=None).order_by(
            "id").first()
        if lead is not None:
            return {"contact": None, "account": None, "opportunity": None, "lead": lead}
    return None


def _owner_of(links: dict[str, Any], mailbox: Mailbox | None):
    """Whose activity the message becomes: the mailbox's owner when they see the record
    (their reply on their deal), otherwise the record's owner, so the entry never shows
    someone a record they may not see."""
    records = [links[name] for name in ("opportunity", "contact", "lead", "account")
               if links.get(name) is not None]
    if not records:
        return None
    if mailbox is not None and mailbox.owner_id and can_see(mailbox.owner, records[0]):
        return mailbox.owner
    return records[0].owner


# Bounces -----------------------------------------------------------------------------

def _is_bounce(parsed: Parsed) -> bool:
    mime = parsed.mime
    if (mime.get_content_type() == "multipart/report"
            and str(mime.get_param("report-type", "")).lower() == "delivery-status"):
        return True
    return parsed.from_address.partition("@")[0] in DAEMONS


def _failed_recipients(mime: MimeMessage) -> list[tuple[str, str]]:
    """(address, reason) for each recipient a DSN reports failed."""
    failed = []
    for part in mime.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        for group in part.get_payload():
            if not hasattr(group, "get"):
                continue
            action = str(group.get("Action", "")).strip().lower()
            recipient = str(group.get("Final-Recipient", "") or group.get(
                "Original-Recipient", ""))
            address = recipient.rpartition(";")[2].strip().lower()
            if address and action in ("failed", ""):
                reason = str(group.get("Diagnostic-Code", "") or group.get("Status", ""))
                failed.append((address, " ".join(reason.split())[:500]))
    return failed


def _original_ids(mime: MimeMessage) -> list[str]:
    """Message-IDs of the returned original (message/rfc822 or text/rfc822-headers)."""
    ids: list[str] = []
    for part in mime.walk():
        if part.get_content_type() in ("message/rfc822", "text/rfc822-headers"):
            ids += MESSAGE_ID.findall(re.sub(r"\s+", " ", "".join(
                re.findall(r"(?im)^message-id:\s*(.+)$", part.as_string()))))
    return ids


def _record_bounce(message: EmailMessage, parsed: Parsed) -> int:
    contact_model = apps.get_model("customers", "Contact")
    failed = _failed_recipients(parsed.mime)
    original = EmailMessage.objects.filter(
        message_id__in=_original_ids(parsed.mime), direction=Direction.OUTBOUND).first()
    if not failed and original is not None:
        failed = [(a.strip(), "") for a in original.to_addresses.split(",") if a.strip()]
    for address, reason in failed:
        contact = contact_model.objects.filter(email__iexact=address).order_by("id").first()
        if contact is None and original is not None:
            contact = original.contact
        Bounce.objects.create(contact=contact, address=address, at=message.at,
                              reason=reason or parsed.subject[:500], message=message)
        if contact is not None:
            message.contact = contact
            message.save(update_fields=["contact", "updated_at"])
        break  # one bounce row per notice (the message is one-to-one with it)
    return 1 if failed else 0


# Processing one message --------------------------------------------------------------

@transaction.atomic
def take_message(mailbox: Mailbox | None, raw: bytes, *, uid_validity: int | None = None,
                 uid: int | None = None, result: FetchResult | None = None) -> EmailMessage | None:
    """Record one raw message read from a mailbox; None when it is already known."""
    result = result if result is not None else FetchResult()
    result.read += 1
    parsed = parse(raw)
    if not parsed.message_id:
        parsed.message_id = (f"<imap-{mailbox.pk if mailbox else 0}-{uid_validity}-{uid}"
                             f"@salesplan.invalid>")
    if EmailMessage.objects.filter(message_id=parsed.message_id).exists():
        result.skipped += 1
        return None
    message = EmailMessage.objects.create(
        direction=Direction.INBOUND, message_id=parsed.message_id,
        in_reply_to=parsed.in_reply_to, references=" ".join(parsed.references),
        from_address=parsed.from_address, from_name=parsed.from_name,
        to_addresses=", ".join(parsed.to), subject=parsed.subject, body=parsed.body,
        at=parsed.at, mailbox=mailbox, uid_validity=uid_validity, uid=uid,
        triage=Triage.WAITING)
    if _is_bounce(parsed):
        message.triage = Triage.BOUNCE
        message.save(update_fields=["triage", "updated_at"])
        result.bounces += _record_bounce(message, parsed)
        return message
    links = _thread_links(parsed) or _address_links(parsed)
    owner = _owner_of(links, mailbox) if links else None
    if links is None or owner is None:
        result.waiting += 1
        return message
    message.activity = log_on_timeline(
        owner=owner, links=links, subject=parsed.subject,
        body=f"From {parsed.from_name or parsed.from_address} <{parsed.from_address}>\n\n"
             f"{parsed.body}", at=parsed.at)
    for name, value in links.items():
        setattr(message, name, value)
    message.triage = Triage.LOGGED
    message.save()
    result.logged += 1
    return message


# Reading a mailbox -------------------------------------------------------------------

def _connect(mailbox: Mailbox):
    from imapclient import IMAPClient

    client = IMAPClient(mailbox.host, port=mailbox.port, ssl=mailbox.use_ssl, timeout=30)
    client.login(mailbox.username, mailbox.password)
    return client


def _read_new(client, mailbox: Mailbox, result: FetchResult) -> None:
    selected = client.select_folder(mailbox.folder, readonly=True)
    validity = int(selected[b"UIDVALIDITY"])
    if mailbox.uid_validity != validity:
        Mailbox.objects.filter(pk=mailbox.pk).update(uid_validity=validity, last_uid=0)
        mailbox.uid_validity, mailbox.last_uid = validity, 0
    start = mailbox.last_uid + 1
    uids = sorted(u for u in client.search(["UID", f"{start}:*"]) if u >= start)
    for first in range(0, len(uids), BATCH):
        batch = uids[first:first + BATCH]
        fetched = client.fetch(batch, ["BODY.PEEK[]"])
        for uid in batch:
            raw = fetched.get(uid, {}).get(b"BODY[]")
            if raw is not None:
                try:
                    take_message(mailbox, raw, uid_validity=validity, uid=uid, result=result)
                except IntegrityError:  # a fetch running at the same time took it first
                    result.skipped += 1
            Mailbox.objects.filter(pk=mailbox.pk).update(last_uid=uid)
            mailbox.last_uid = uid


def fetch_mailbox(mailbox: Mailbox, *, by=None) -> FetchResult:
    """Read the new messages of one mailbox (by=None: the system, for the command and the
    scheduled task). A server that cannot be reached is recorded on the mailbox."""
    if by is not None:
        require(by, "mailbox", "fetch", mailbox)
    result = FetchResult()
    error = ""
    try:
        client = _connect(mailbox)
        try:
            _read_new(client, mailbox, result)
        finally:
            try:
                client.logout()
            except Exception:  # noqa: BLE001, S110 - the fetch itself is what matters
                pass
    except (OSError, EOFError) as exc:
        error = f"Could not read {mailbox.host}:{mailbox.port}: {exc}"
    except Exception as exc:  # imaplib's and imapclient's errors have no common base
        if type(exc).__module__.split(".")[0] not in ("imaplib", "imapclient"):
            raise
        error = f"The IMAP server refused: {exc}"
    if error:
        logger.warning("mailbox %s: %s", mailbox.pk, error)
        result.errors.append(f"{mailbox}: {error}")
    Mailbox.objects.filter(pk=mailbox.pk).update(last_fetched_at=timezone.now(),
                                                 last_error=error[:500])
    return result


def fetch_all(*, mailbox_ids: list[int] | None = None) -> FetchResult:
    """Read every active mailbox (or these ones)."""
    total = FetchResult()
    boxes = Mailbox.objects.filter(active=True).select_related("owner").order_by("id")
    if mailbox_ids:
        boxes = boxes.filter(pk__in=mailbox_ids)
    for mailbox in boxes:
        one = fetch_mailbox(mailbox)
        for name in ("read", "logged", "waiting", "bounces", "skipped"):
            setattr(total, name, getattr(total, name) + getattr(one, name))
        total.errors += one.errors
    return total
