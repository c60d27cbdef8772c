"""Every write of comments and notifications.

Other apps tell people things with `notify(user, text=…, url=…, by=…)`; comments call it
for each person they @mention.
"""

import logging
import re
from functools import partial

from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from salesplan.core.records import claim_version
from salesplan.core.registry import require
from salesplan.inbox import services as inbox
from salesplan.inbox.models import Kind
from salesplan.org.models import User

from . import targets
from .models import Comment, Notification, NotificationSettings

logger = logging.getLogger(__name__)

MAX_BODY = 5000
# "@name" not preceded by a word character (so e-mail addresses are not mentions).
MENTION = re.compile(r"(?<![\w@])@([\w.+-]*\w)")


def notify(user: User, *, text: str, url: str, by: User | None = None) -> Notification:
    """Tell a user something, with a link to where it happened."""
    text = " ".join(text.split())
    if not text:
        raise ValidationError({"text": "A notification needs a text."})
    return Notification.objects.create(recipient=user, text=text[:500], url=url[:500], by=by)


def mentioned_usernames(body: str) -> list[str]:
    seen: dict[str, str] = {}
    for name in MENTION.findall(body):
        seen.setdefault(name.lower(), name)
    return list(seen.values())


def resolve_mentions(body: str, obj: models.Model) -> list[User]:
    """The users named in the text; ValidationError on `body` naming anyone unknown or
    anyone who cannot see the record (they could not follow the link)."""
    names = mentioned_usernames(body)
    if not names:
        return []
    query = Q()
    for name in names:
        query |= Q(username__iexact=name)
    users = {u.username.lower(): u for u in User.objects.filter(query, is_active=True)}
    unknown = [f"@{n}" for n in names if n.lower() not in users]
    if unknown:
        raise ValidationError({"body": f"No active user is called {', '.join(unknown)}."})
    kind = targets.kind_of(obj)
    blind = [f"@{u.username}" for u in users.values() if not targets.can_see(u, obj)]
    if blind:
        raise ValidationError({"body": (
            f"{', '.join(sorted(blind))} cannot see this {kind.name}, so they cannot be "
            f"mentioned here.")})
    return sorted(users.values(), key=lambda u: u.username)


def _clean_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": "Write something to comment."})
    if len(body) > MAX_BODY:
        raise ValidationError({"body": f"A comment is at most {MAX_BODY:,} characters."})
    return body


def _tell_mentioned(comment: Comment, users: list[User], obj: models.Model, by: User) -> None:
    url = targets.url_of(obj)
    text = f"{by} mentioned you on {targets.label_of(obj)}: “{comment.body[:140]}”"
    emailed = set(NotificationSettings.objects.filter(
        user__in=users, email_mentions=True).values_list("user_id", flat=True))
    for user in users:
        if user.pk == by.pk:
            continue
        notify(user, text=text, url=url, by=by)
        inbox.post(user, Kind.MENTION, f"comment:{comment.pk}", title=text, url=url)
        if user.pk in emailed and user.email:
            transaction.on_commit(partial(_email, user, text, url))


def _email(user: User, text: str, url: str) -> None:
    try:
        send_mail("You were mentioned in Salesplan", f"{text}\n\n{url}", None, [user.email])
    except OSError:  # the notification is in the app either way; mail is a courtesy
        logger.warning("Could not email a mention to %s", user.username, exc_info=True)


@transaction.atomic
def post_comment(obj: models.Model, *, by: User, body: str) -> Comment:
    """Comment on a record the author can see, telling each @mentioned user."""
    require(by, "comment", "create", obj)
    body = _clean_body(body)
    users = resolve_mentions(body, obj)
    comment = Comment.objects.create(
        target_type=_content_type(obj), target_id=obj.pk, author=by, body=body)
    comment.mentions.set(users)
    _tell_mentioned(comment, users, obj, by)
    return comment


def _content_type(obj: models.Model):
    from django.contrib.contenttypes.models import ContentType

    return ContentType.objects.get_for_model(obj)


@transaction.atomic
def edit_comment(comment: Comment, *, by: User, body: str,
                 expected_version: int | None = None) -> Comment:
    """Only the author changes a comment; people newly mentioned are told."""
    require(by, "comment", "change", comment)
    comment = Comment.objects.select_for_update().get(pk=comment.pk)
    claim_version(comment, expected_version)
    obj = comment.target
    if obj is None:
        raise ValidationError({"body": "The record of this comment no longer exists."})
    body = _clean_body(body)
    users = resolve_mentions(body, obj)
    before = set(comment.mentions.values_list("pk", flat=True))
    comment.body = body
    comment.edited_at = timezone.now()
    comment.save(update_fields=["body", "edited_at", "updated_at"])
    comment.mentions.set(users)
    _tell_mentioned(comment, [u for u in users if u.pk not in before], obj, by)
    return comment


@transaction.atomic
def delete_comment(comment: Comment, *, by: User, expected_version: int | None = None) -> None:
    """The author deletes their comment; an admin may remove any."""
    require(by, "comment", "delete", comment)
    claim_version(comment, expected_version)
    inbox.close(f"comment:{comment.pk}")
    comment.delete()


def mark_read(notification: Notification, *, by: User) -> Notification:
    require(by, "notification", "mark_read", notification)
    if not notification.read:
        notification.read = True
        notification.save(update_fields=["read"])
    return notification


def mark_all_read(*, by: User) -> int:
    return Notification.objects.filter(recipient=by, read=False).update(read=True)


def set_email_mentions(*, by: User, enabled: bool) -> NotificationSettings:
    found, _ = NotificationSettings.objects.update_or_create(
        user=by, defaults={"email_mentions": enabled})
    return found
