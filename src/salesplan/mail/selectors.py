"""Reads of the email app, limited to what the user may see."""

from django.db.models import Q, QuerySet

from salesplan.core.errors import NotFound
from salesplan.core.registry import ADMIN, allowed, require, role_of

from .models import Bounce, EmailMessage, EmailTemplate, Mailbox, Triage
from .permissions import KEEPERS
from .records import kind_of


def templates(user, *, active_only: bool = False) -> QuerySet[EmailTemplate]:
    require(user, "email_template", "view")
    found = EmailTemplate.objects.all()
    return found.filter(active=True) if active_only else found


def template(user, pk: int) -> EmailTemplate:
    found = templates(user).filter(pk=pk).first()
    if found is None:
        raise NotFound(f"No email template with id {pk}.")
    return found


def messages_on(user, record, limit: int = 50) -> list[EmailMessage]:
    """The emails sent from or logged on a record the user may see, newest first."""
    require(user, "email", "view", record)
    field = kind_of(record)
    return list(EmailMessage.objects.filter(**{field: record}).exclude(
        triage__in=[Triage.WAITING, Triage.IGNORED]).select_related("sent_by", "template")
        .order_by("-at", "-id")[:limit])


def bounces_of(contact) -> list[Bounce]:
    return list(Bounce.objects.filter(contact=contact).order_by("-at", "-id")[:10])


def mailboxes(user) -> QuerySet[Mailbox]:
    require(user, "mailbox", "view")
    found = Mailbox.objects.select_related("owner").order_by("name", "id")
    return found if role_of(user) == ADMIN else found.filter(owner=user)


def mailbox(user, pk: int) -> Mailbox:
    found = mailboxes(user).filter(pk=pk).first()
    if found is None:
        raise NotFound(f"No mailbox with id {pk}.")
    return found


def waiting_for_triage(user) -> QuerySet[EmailMessage]:
    """Messages from unknown senders the user triages: their own mailboxes', and the
    shared mailbox's for admins, managers and marketing."""
    require(user, "email_triage", "view")
    found = EmailMessage.objects.filter(triage=Triage.WAITING).select_related(
        "mailbox").order_by("-at", "-id")
    if role_of(user) == ADMIN:
        return found
    mine = Q(mailbox__owner=user)
    if role_of(user) in KEEPERS:
        mine |= Q(mailbox__owner=None)
    return found.filter(mine)


def triage_message(user, pk: int) -> EmailMessage:
    found = EmailMessage.objects.filter(pk=pk, direction="in").select_related(
        "mailbox").first()
    if found is None or not allowed(user, "email_triage", "view", found):
        raise NotFound(f"No message with id {pk}.")
    return found
