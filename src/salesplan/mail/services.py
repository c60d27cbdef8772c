"""Every write of the email app: templates, signatures, sending from a record, mailboxes
and the triage of unknown senders. Reading mailboxes is in `inbound`."""

import smtplib
from dataclasses import dataclass
from email.utils import formataddr, make_msgid
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core import mail as django_mail
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils import timezone

from salesplan.core import audit
from salesplan.core.crud import create_record, delete_record, update_record
from salesplan.core.records import claim_version
from salesplan.core.registry import require

from .merge import MergeContext, merge
from .models import (
    Direction,
    EmailMessage,
    EmailTemplate,
    EmailTemplateRevision,
    Mailbox,
    Signature,
    Triage,
)
from .records import links_of

TEMPLATE_FIELDS = {"name", "subject", "body", "active"}
MAILBOX_FIELDS = {"name", "owner", "host", "port", "use_ssl", "username", "password", "folder",
                  "active"}
MAX_BODY = 50_000


# Templates and signatures ------------------------------------------------------------

def _check_template_text(template: EmailTemplate) -> None:
    """A template may only name known merge fields (values are checked when sending)."""
    from .merge import FIELD, FIELDS

    for field in ("subject", "body"):
        for name in FIELD.findall(getattr(template, field)):
            if name not in FIELDS:
                raise ValidationError({field: (
                    f"Unknown merge field “{{{{ {name} }}}}”. Known fields: "
                    f"{', '.join(FIELDS)}.")})


def _keep_revision(template: EmailTemplate, by) -> None:
    EmailTemplateRevision.objects.update_or_create(
        template=template, version=template.version,
        defaults={"subject": template.subject, "body": template.body, "saved_by": by})


@transaction.atomic
def create_template(*, by, data: dict) -> EmailTemplate:
    """A new email template (admins, managers and marketing)."""
    template = create_record(EmailTemplate, "email_template", by=by,
                             data={**data, "created_by": by},
                             allowed=TEMPLATE_FIELDS | {"created_by"})
    _check_template_text(template)
    _keep_revision(template, by)
    return template


@transaction.atomic
def update_template(template: EmailTemplate, *, by, data: dict,
                    expected_version: int | None = None) -> dict:
    """Change a template; its version moves on, so sent messages name the one they used."""
    changes = update_record(template, "email_template", by=by, data=data,
                            allowed=TEMPLATE_FIELDS, expected_version=expected_version)
    _check_template_text(template)
    template.refresh_from_db()
    _keep_revision(template, by)
    return changes


@transaction.atomic
def delete_template(template: EmailTemplate, *, by, expected_version: int | None = None) -> None:
    """Delete a template (the messages sent from it keep their text)."""
    require(by, "email_template", "delete", template)
    claim_version(template, expected_version)
    delete_record(template, "email_template", by=by)


@transaction.atomic
def set_signature(*, by, text: str, expected_version: int | None = None) -> Signature:
    """Set the sign-off of your emails."""
    require(by, "signature", "change")
    signature, created = Signature.objects.get_or_create(user=by)
    if not created:
        claim_version(signature, expected_version)
    signature.text = text.strip()[:2000]
    signature.save(update_fields=["text", "version", "updated_at"])
    return signature


# Composing and sending --------------------------------------------------------------

@dataclass(frozen=True)
class Draft:
    """An email exactly as it will be sent: merge fields filled, sender and recipient set."""

    record: Any
    from_email: str
    to: str
    subject: str
    body: str
    template: EmailTemplate | None = None
    template_version: int | None = None


def _company_name() -> str:
    company = apps.get_model("org", "Company").objects.first()
    return company.name if company else ""


def merge_context(record, *, by) -> MergeContext:
    links = links_of(record)
    signature = Signature.objects.filter(user=by).values_list("text", flat=True).first()
    return MergeContext(sender=by, signature=signature or "", contact=links["contact"],
                        account=links["account"], deal=links["opportunity"],
                        lead=links["lead"], company=_company_name())


def sender_address(user) -> str:
    address = user.email or settings.DEFAULT_FROM_EMAIL
    return formataddr((user.get_full_name() or user.username, address))


def _validate_recipient(to: str) -> str:
    from django.core.validators import validate_email

    to = (to or "").strip()
    if not to:
        raise ValidationError({"to": "Say whom to send it to: this record has no email "
                                     "address."})
    try:
        validate_email(to)
    except ValidationError:
        raise ValidationError({"to": f"“{to}” is not an email address."}) from None
    return to


def compose(record, *, by, to: str, subject: str, body: str,
            template: EmailTemplate | None = None) -> Draft:
    """The email as it would be sent (the preview and the send both use this). With a
    template and no subject or body of one's own, the template's text is used."""
    require(by, "email", "send", record)
    if template is not None:
        require(by, "email_template", "view", template)
        if not template.active:
            raise ValidationError({"template": f"The template “{template}” is retired."})
        subject = subject or template.subject
        body = body or template.body
    subject, body = (subject or "").strip(), (body or "").strip()
    if not subject:
        raise ValidationError({"subject": "An email needs a subject."})
    if not body:
        raise ValidationError({"body": "Write something to send."})
    if len(body) > MAX_BODY:
        raise ValidationError({"body": f"An email is at most {MAX_BODY:,} characters."})
    contact = links_of(record)["contact"]
    if contact is not None and contact.do_not_contact:
        raise ValidationError({"to": f"{contact} does not want to be contacted."})
    ctx = merge_context(record, by=by)
    merged_subject = " ".join(merge(subject, ctx, field="subject").split())
    return Draft(record=record, from_email=sender_address(by), to=_validate_recipient(to),
                 subject=merged_subject, body=merge(body, ctx, field="body").strip(),
                 template=template, template_version=template.version if template else None)


def _deliver(draft: Draft, message_id: str) -> None:
    message = django_mail.EmailMessage(
        subject=draft.subject, body=draft.body, from_email=draft.from_email, to=[draft.to],
        headers={"Message-ID": message_id})
    try:
        message.send()
    except smtplib.SMTPRecipientsRefused as exc:
        raise ValidationError({"to": f"The mail server refused {draft.to}: {exc}"}) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise ValidationError({NON_FIELD_ERRORS: (
            f"The mail server could not take the message ({exc}); nothing was sent.")}) from None


def log_on_timeline(*, owner, links: dict[str, Any], subject: str, body: str, at,
                    by=None):
    """The email as a done activity of kind email on the records it concerns, so the
    contact's, the account's, the deal's and the lead's timelines all show it."""
    activity_model = apps.get_model("activities", "Activity")
    activity = activity_model.objects.create(
        kind="email", subject=subject[:200] or "(no subject)", description=body, due_at=at,
        done=True, done_at=at, owner=owner, **links)
    audit.record_created(activity, by)
    return activity


@transaction.atomic
def _record_sent(draft: Draft, message_id: str, *, by) -> EmailMessage:
    now = timezone.now()
    links = links_of(draft.record)
    activity = log_on_timeline(owner=by, links=links, subject=draft.subject,
                               body=draft.body, at=now, by=by)
    return EmailMessage.objects.create(
        direction=Direction.OUTBOUND, message_id=message_id, from_address=by.email or
        settings.DEFAULT_FROM_EMAIL, from_name=by.get_full_name(), to_addresses=draft.to,
        subject=draft.subject, body=draft.body, at=now, sent_by=by, template=draft.template,
        template_version=draft.template_version, activity=activity, **links)


def send_email(record, *, by, to: str, subject: str = "", body: str = "",
               template: EmailTemplate | None = None) -> EmailMessage:
    """Send an email from a record through the configured SMTP server and log it on the
    timelines of its contact, account, deal or lead, with its Message-ID so replies thread
    back. Nothing is logged if the server does not take it."""
    draft = compose(record, by=by, to=to, subject=subject, body=body, template=template)
    domain = (by.email or settings.DEFAULT_FROM_EMAIL).rpartition("@")[2] or "localhost"
    message_id = make_msgid(domain=domain)
    _deliver(draft, message_id)
    return _record_sent(draft, message_id, by=by)


# Mailboxes ----------------------------------------------------------------------------

@transaction.atomic
def create_mailbox(*, by, data: dict) -> Mailbox:
    """A mailbox to read: your own, or (an admin) anyone's or the shared BCC mailbox."""
    data = dict(data)
    if by.role != "admin" and not by.is_superuser:
        data["owner"] = by
    elif "owner" not in data:
        data["owner"] = None
    require(by, "mailbox", "create")
    mailbox = Mailbox(**{k: v for k, v in data.items() if k in MAILBOX_FIELDS})
    unknown = sorted(set(data) - MAILBOX_FIELDS)
    if unknown:
        raise ValidationError({f: "This field does not exist or cannot be set." for f in unknown})
    mailbox.full_clean()
    mailbox.save()
    audit.record_created(mailbox, by)
    return mailbox


# Triage of unknown senders ----------------------------------------------------------

def _waiting(message: EmailMessage, *, by) -> None:
    require(by, "email_triage", "resolve", message)
    if message.triage != Triage.WAITING:
        raise ValidationError({NON_FIELD_ERRORS: "This message is no longer waiting for "
                                                 "triage."})


def _owner_for(message: EmailMessage, record, by):
    if message.mailbox is not None and message.mailbox.owner_id:
        return message.mailbox.owner
    return getattr(record, "owner", None) or by


@transaction.atomic
def link_sender(message: EmailMessage, record, *, by) -> EmailMessage:
    """Log an unknown sender's message on a contact, lead, account or deal you may see."""
    _waiting(message, by=by)
    require(by, "email", "send", record)
    links = links_of(record)
    message.activity = log_on_timeline(
        owner=_owner_for(message, record, by), links=links, subject=message.subject,
        body=message.body, at=message.at, by=by)
    for name, value in links.items():
        setattr(message, name, value)
    message.triage = Triage.LOGGED
    message.save()
    return message


@transaction.atomic
def lead_from_sender(message: EmailMessage, *, by) -> EmailMessage:
    """Turn an unknown sender into a new lead (theirs who triages) and log the message on it."""
    from salesplan.customers.services import create_lead

    _waiting(message, by=by)
    first, _, last = (message.from_name or "").strip().rpartition(" ")
    local, _, domain = message.from_address.partition("@")
    lead = create_lead(by=by, data={
        "first_name": first, "last_name": last or local, "email": message.from_address,
        "company": domain.split(".")[0].title() if domain else "", "source": "other"})
    return link_sender(message, lead, by=by)


@transaction.atomic
def ignore_sender(message: EmailMessage, *, by) -> EmailMessage:
    """Leave an unknown sender's message off every timeline."""
    _waiting(message, by=by)
    message.triage = Triage.IGNORED
    message.save(update_fields=["triage", "updated_at"])
    return message
