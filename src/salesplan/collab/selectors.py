"""Reads of comments and notifications, already restricted to what the user may see."""

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet

from salesplan.core.errors import NotFound

from . import targets
from .models import Comment, Notification


def comments_on(obj: Any) -> QuerySet[Comment]:
    """The thread of one record, oldest first (the caller has checked the record)."""
    return (Comment.objects.filter(target_type=ContentType.objects.get_for_model(obj),
                                   target_id=obj.pk)
            .select_related("author").prefetch_related("mentions"))


def visible_comment(user, pk: int) -> Comment:
    """A comment on a record the user can see; NotFound otherwise."""
    comment = (Comment.objects.select_related("author", "target_type").filter(pk=pk).first()
               if 1 <= pk <= 2**63 - 1 else None)
    target = comment.target if comment is not None else None
    if comment is None or target is None or not targets.can_see(user, target):
        raise NotFound(f"No comment with id {pk}.")
    return comment


def notifications_for(user) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user).select_related("by")


def unread_count(user) -> int:
    if not (user and user.is_authenticated):
        return 0
    return Notification.objects.filter(recipient=user, read=False).count()


def own_notification(user, pk: int) -> Notification:
    found = Notification.objects.filter(recipient=user, pk=pk).first() if pk >= 1 else None
    if found is None:
        raise NotFound(f"No notification with id {pk}.")
    return found
