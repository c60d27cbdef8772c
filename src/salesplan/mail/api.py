"""API of email (mounted at /api/v1/mail).

    GET/POST     /templates, PATCH/DELETE /templates/{id}   templates (with their version)
    POST         /preview, /send       an email from a record, exactly as sent / sending it
    GET          /messages?record=opportunity&record_id=ID  the emails logged on a record
    GET          /triage, POST /triage/{id}/link|lead|ignore  unknown senders
    GET/POST     /mailboxes, POST /mailboxes/{id}/fetch     IMAP mailboxes read
"""

from datetime import datetime
from typing import Literal

from ninja import Field, Query, Router, Schema, Status

from salesplan.core.api_support import InputSchema, RecordId, Version, VersionParam

from . import inbound, selectors, services
from .records import KINDS, default_recipient, get_record

router = Router(tags=["mail"])

RecordKind = Literal[tuple(KINDS)]


class EmailTemplateOut(Schema):
    id: int
    name: str
    subject: str
    body: str
    active: bool
    version: int


class EmailTemplateIn(InputSchema):
    name: str = Field(..., max_length=120)
    subject: str = Field(..., max_length=250)
    body: str = Field(..., max_length=services.MAX_BODY,
                      description="Text with merge fields such as {{ contact.first_name }}.")
    active: bool = True


class EmailTemplatePatch(InputSchema):
    name: str | None = Field(None, max_length=120)
    subject: str | None = Field(None, max_length=250)
    body: str | None = Field(None, max_length=services.MAX_BODY)
    active: bool | None = None
    version: Version


@router.get("/templates", response=list[EmailTemplateOut])
def list_templates(request):
    """Every email template, by name."""
    return list(selectors.templates(request.auth)[:500])


@router.post("/templates", response={201: EmailTemplateOut})
def create_template(request, payload: EmailTemplateIn):
    """A new template (admins, managers, marketing); unknown merge fields are refused."""
    return Status(201, services.create_template(by=request.auth,
                                                data=payload.model_dump()))


@router.patch("/templates/{int:id}", response=EmailTemplateOut)
def update_template(request, id: int, payload: EmailTemplatePatch):
    """Change a template with the version you read."""
    template = selectors.template(request.auth, id)
    data = payload.model_dump(exclude_unset=True, exclude={"version"})
    services.update_template(template, by=request.auth, data=data,
                             expected_version=payload.version)
    return template


@router.delete("/templates/{int:id}", response={204: None})
def delete_template(request, id: int, version: VersionParam):
    """Delete a template (messages sent from it keep their text)."""
    services.delete_template(selectors.template(request.auth, id), by=request.auth,
                             expected_version=version)
    return Status(204, None)


class EmailIn(InputSchema):
    record: RecordKind
    record_id: RecordId
    template_id: RecordId | None = None
    to: str = Field("", max_length=254, description="Default: the record's contact or lead.")
    subject: str = Field("", max_length=500, description="Default: the template's.")
    body: str = Field("", max_length=services.MAX_BODY, description="Default: the template's.")


class EmailDraftOut(Schema):
    from_email: str
    to: str
    subject: str
    body: str
    template_id: int | None
    template_version: int | None


def _draft(request, payload: EmailIn) -> services.Draft:
    record = get_record(payload.record, payload.record_id, request.auth)
    template = (selectors.template(request.auth, payload.template_id)
                if payload.template_id else None)
    return services.compose(record, by=request.auth, template=template,
                            to=payload.to or default_recipient(record),
                            subject=payload.subject, body=payload.body)


@router.post("/preview", response=EmailDraftOut)
def preview(request, payload: EmailIn):
    """The email exactly as /send would send it: merge fields filled, nothing sent."""
    draft = _draft(request, payload)
    return EmailDraftOut(from_email=draft.from_email, to=draft.to, subject=draft.subject,
                    body=draft.body, template_id=draft.template.pk if draft.template else None,
                    template_version=draft.template_version)


class EmailMessageOut(Schema):
    id: int
    direction: str
    message_id: str
    in_reply_to: str
    from_address: str
    to_addresses: str
    subject: str
    body: str
    at: datetime
    triage: str
    activity_id: int | None
    contact_id: int | None
    account_id: int | None
    opportunity_id: int | None
    lead_id: int | None
    template_id: int | None
    template_version: int | None


@router.post("/send", response={201: EmailMessageOut})
def send(request, payload: EmailIn):
    """Send through the configured SMTP server; logged on the record's timelines with
    its Message-ID. 400 naming the field if a merge field is unknown or has no value."""
    draft = _draft(request, payload)
    return Status(201, services.send_email(
        draft.record, by=request.auth, template=draft.template, to=draft.to,
        subject=payload.subject, body=payload.body))


class EmailMessagesParams(Schema):
    record: RecordKind
    record_id: RecordId


@router.get("/messages", response=list[EmailMessageOut])
def list_messages(request, params: Query[EmailMessagesParams]):
    """The emails sent from or logged on a record you may see, newest first."""
    record = get_record(params.record, params.record_id, request.auth)
    return selectors.messages_on(request.auth, record, limit=200)


@router.get("/triage", response=list[EmailMessageOut])
def triage(request):
    """Messages from senders no contact or lead has, waiting for you to decide."""
    return list(selectors.waiting_for_triage(request.auth)[:500])


class TriageLinkIn(InputSchema):
    record: RecordKind
    record_id: RecordId


@router.post("/triage/{int:id}/link", response=EmailMessageOut)
def triage_link(request, id: int, payload: TriageLinkIn):
    """Log the message on a record you may see."""
    message = selectors.triage_message(request.auth, id)
    record = get_record(payload.record, payload.record_id, request.auth)
    return services.link_sender(message, record, by=request.auth)


@router.post("/triage/{int:id}/lead", response=EmailMessageOut)
def triage_lead(request, id: int):
    """Create a lead from the sender and log the message on it."""
    return services.lead_from_sender(selectors.triage_message(request.auth, id),
                                     by=request.auth)


@router.post("/triage/{int:id}/ignore", response=EmailMessageOut)
def triage_ignore(request, id: int):
    """Leave the message off every timeline."""
    return services.ignore_sender(selectors.triage_message(request.auth, id), by=request.auth)


class MailboxOut(Schema):
    id: int
    name: str
    owner_id: int | None
    host: str
    port: int
    use_ssl: bool
    username: str
    folder: str
    active: bool
    last_uid: int
    last_fetched_at: datetime | None
    last_error: str


class MailboxIn(InputSchema):
    name: str = Field(..., max_length=120)
    owner_id: RecordId | None = Field(
        None, description="Whose mailbox (admins; others always add their own). "
                          "Empty: the shared BCC mailbox.")
    host: str = Field(..., max_length=200)
    port: int = Field(993, ge=1, le=65535)
    use_ssl: bool = True
    username: str = Field(..., max_length=200)
    password: str = Field(..., max_length=200)
    folder: str = Field("INBOX", max_length=200)


@router.get("/mailboxes", response=list[MailboxOut])
def list_mailboxes(request):
    """Your mailboxes (an admin: every one). Passwords are never shown."""
    return list(selectors.mailboxes(request.auth)[:500])


@router.post("/mailboxes", response={201: MailboxOut})
def create_mailbox(request, payload: MailboxIn):
    """A mailbox to read over IMAP."""
    from salesplan.org.models import User

    data = payload.model_dump(exclude={"owner_id"})
    if payload.owner_id is not None:
        owner = User.objects.filter(pk=payload.owner_id, is_active=True).first()
        if owner is None:
            from django.core.exceptions import ValidationError

            raise ValidationError({"owner_id": f"No active user with id {payload.owner_id}."})
        data["owner"] = owner
    return Status(201, services.create_mailbox(by=request.auth, data=data))


class MailboxFetchOut(Schema):
    read: int
    logged: int
    waiting: int
    bounces: int
    skipped: int
    errors: list[str]


@router.post("/mailboxes/{int:id}/fetch", response=MailboxFetchOut)
def fetch(request, id: int):
    """Read the mailbox's new messages now."""
    result = inbound.fetch_mailbox(selectors.mailbox(request.auth, id), by=request.auth)
    return MailboxFetchOut(read=result.read, logged=result.logged, waiting=result.waiting,
                    bounces=result.bounces, skipped=result.skipped, errors=result.errors)
