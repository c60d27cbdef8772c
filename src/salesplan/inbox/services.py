"""Every write of the inbox: items posted and closed by the apps that own the work,
dismissed by their reader, and the emails (at once or in a daily digest) that tell people
about them.

The apps that own the work call `post` when something starts waiting for someone and
`close` when it is done; both run in the caller's transaction, so a rolled-back change
leaves no item behind. Emails go after the commit, through the configured mailer.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from salesplan.core.records import claim_version
from salesplan.core.registry import require
from salesplan.org.models import User

from .models import Closed, Delivery, InboxItem, InboxSettings, Kind

logger = logging.getLogger(__name__)


def _link(url: str) -> str:
    """An absolute link for an email (SALESPLAN_BASE_URL), the path when none is set."""
    base = getattr(settings, "SALESPLAN_BASE_URL", "").rstrip("/")
    return f"{base}{url}" if url.startswith("/") else url


def settings_of(user: User) -> InboxSettings:
    """The user's delivery choices (made on first use: everything in the app only)."""
    found, _ = InboxSettings.objects.get_or_create(user=user)
    return found


def post(user: User | int | None, kind: str, key: str, *, title: str, url: str = "",
         detail: str = "", due_at: datetime | None = None) -> InboxItem | None:
    """Put something in a user's inbox (or refresh the open item about the same record),
    and email it after the commit when they asked for that kind at once."""
    if user is None:
        return None
    user_id = user if isinstance(user, int) else user.pk
    if not User.objects.filter(pk=user_id, is_active=True).exists():
        return None
    now = timezone.now()
    fields = {"kind": Kind(kind), "title": title[:300], "detail": detail[:500],
              "url": url[:500], "due_at": due_at}
    with transaction.atomic():
        item = InboxItem.objects.select_for_update().filter(
            user_id=user_id, key=key, closed_at__isnull=True).first()
        if item is None:
            item = InboxItem.objects.create(user_id=user_id, key=key[:100], created_at=now,
                                            **fields)
        else:
            for name, value in fields.items():
                setattr(item, name, value)
            item.save(update_fields=[*fields])
    if settings_of(item.user).delivery_of(kind) == Delivery.EMAIL:
        transaction.on_commit(partial(_email_now, item.pk))
    return item


def post_bulk(kind: str, rows: list[tuple[int, str, dict]]) -> int:
    """Many items at once (leads routed by a form's batch): ``(user_id, key, fields)``
    each; open items about the same keys are replaced. A few statements for any number."""
    if not rows:
        return 0
    now = timezone.now()
    active = set(User.objects.filter(pk__in={r[0] for r in rows}, is_active=True)
                 .values_list("pk", flat=True))
    rows = [r for r in rows if r[0] in active]
    InboxItem.objects.open().filter(key__in={r[1] for r in rows}).update(
        closed_at=now, closed_how=Closed.DONE)
    created = InboxItem.objects.bulk_create(
        [InboxItem(user_id=user_id, kind=Kind(kind), key=key[:100], created_at=now,
                   title=fields["title"][:300], detail=fields.get("detail", "")[:500],
                   url=fields.get("url", "")[:500], due_at=fields.get("due_at"))
         for user_id, key, fields in rows], batch_size=500)
    emailed = {found.user_id for found in InboxSettings.objects.filter(user_id__in=active)
               if found.delivery_of(kind) == Delivery.EMAIL}
    for item in created:
        if item.user_id in emailed and item.pk is not None:
            transaction.on_commit(partial(_email_now, item.pk))
    return len(created)


def post_to_all(users: Iterable[User], kind: str, key: str, **fields) -> list[InboxItem]:
    """The same item in several inboxes (an approval any admin may sign)."""
    return [item for user in users if (item := post(user, kind, key, **fields)) is not None]


def close(key: str, *, user_ids: Iterable[int] | None = None,
          except_user_ids: Iterable[int] = ()) -> int:
    """The work is done (or went to someone else): close the open items about it."""
    items = InboxItem.objects.open().filter(key=key)
    if user_ids is not None:
        items = items.filter(user_id__in=list(user_ids))
    if except_user_ids:
        items = items.exclude(user_id__in=list(except_user_ids))
    return items.update(closed_at=timezone.now(), closed_how=Closed.DONE)


@transaction.atomic
def dismiss(item: InboxItem, *, by: User) -> InboxItem:
    """The reader is done with a notice (or puts a work item out of sight)."""
    require(by, "inbox_item", "dismiss", item)
    if item.closed_at is None:
        item.closed_at, item.closed_how = timezone.now(), Closed.DISMISSED
        item.save(update_fields=["closed_at", "closed_how"])
    return item


@transaction.atomic
def set_delivery(*, by: User, delivery: dict[str, str],
                 expected_version: int | None) -> InboxSettings:
    """Choose, per kind, how one is told: in the app only, email at once, daily digest."""
    require(by, "inbox_settings", "change")
    errors = {}
    for kind, mode in delivery.items():
        if kind not in Kind.values:
            errors[f"delivery.{kind}"] = f"Unknown kind {kind!r}."
        elif mode not in Delivery.values:
            errors[f"delivery.{kind}"] = (f"Choose one of {', '.join(Delivery.values)} "
                                          f"(not {mode!r}).")
    if errors:
        raise ValidationError(errors)
    found = settings_of(by)
    claim_version(found, expected_version)
    found.delivery = {**found.delivery, **delivery}
    found.save(update_fields=["delivery", "updated_at"])
    return found


def _email_now(item_id: int) -> None:
    item = InboxItem.objects.select_related("user").filter(pk=item_id).first()
    if item is None or item.closed_at is not None or not item.user.email:
        return
    body = "\n".join(p for p in (item.title, item.detail, _link(item.url)) if p)
    try:
        send_mail(f"Salesplan: {item.title}"[:200], body, None, [item.user.email])
    except OSError:  # the item is in the inbox either way; the email is a courtesy
        logger.warning("Could not email inbox item %s to %s", item.pk, item.user.username,
                       exc_info=True)
        return
    InboxItem.objects.filter(pk=item.pk).update(emailed_at=timezone.now())


def digest_text(items: list[InboxItem]) -> str:
    """One email for a user's day: items grouped by kind, each with its link."""
    groups: dict[str, list[InboxItem]] = defaultdict(list)
    for item in items:
        groups[item.kind].append(item)
    parts = []
    for kind in Kind:
        if kind.value not in groups:
            continue
        lines = [f"{kind.label} ({len(groups[kind.value])})"]
        for item in groups[kind.value]:
            lines.append(f"- {item.title}")
            if item.url:
                lines.append(f"  {_link(item.url)}")
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def send_digests(*, now: datetime | None = None) -> int:
    """Email each user who chose a daily digest the open items of those kinds not sent
    yet, in one message grouped by kind; returns the number of emails sent."""
    now = now or timezone.now()
    sent = 0
    for found in InboxSettings.objects.select_related("user").filter(user__is_active=True):
        kinds = [k for k, mode in found.delivery.items() if mode == Delivery.DIGEST]
        if not kinds or not found.user.email:
            continue
        items = list(InboxItem.objects.open().filter(user=found.user, kind__in=kinds,
                                                     emailed_at__isnull=True)
                     .order_by("created_at", "id"))
        if not items:
            continue
        count = len(items)
        try:
            send_mail(f"Salesplan: {count} item{'s' if count != 1 else ''} in your inbox",
                      digest_text(items), None, [found.user.email])
        except OSError:
            logger.warning("Could not send the inbox digest to %s", found.user.username,
                           exc_info=True)
            continue
        InboxItem.objects.filter(pk__in=[i.pk for i in items]).update(emailed_at=now)
        InboxSettings.objects.filter(pk=found.pk).update(last_digest_at=now)
        sent += 1
    return sent


def job_finished(job) -> None:
    """core.hooks.job_finished: tell whoever started the job how it ended."""
    failed = job.status == job.Status.FAILED
    title = (f"{job.kind.replace('_', ' ').capitalize()} "
             f"{'failed' if failed else 'finished'}")
    post(job.created_by_id, Kind.JOB, f"job:{job.pk}", title=title, detail=job.message,
         url=reverse("web:imports:job", args=[job.pk]))
