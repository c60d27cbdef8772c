"""Reads of the inbox: a user only ever reads their own items."""

from django.db.models import QuerySet

from salesplan.core.errors import NotFound
from salesplan.org.models import User

from .models import InboxItem, Kind


def open_items(user: User, *, kind: str | None = None) -> QuerySet[InboxItem]:
    """What waits for the user, newest first (work with a deadline keeps its due time)."""
    if not (user.is_authenticated and user.is_active):
        return InboxItem.objects.none()
    items = InboxItem.objects.open().filter(user=user)
    if kind:
        items = items.filter(kind=kind)
    return items.order_by("-created_at", "-id")


def open_count(user: User) -> int:
    """The badge in the navigation."""
    return open_items(user).count()


def counts_by_kind(user: User) -> dict[str, int]:
    from django.db.models import Count

    rows = open_items(user).order_by().values("kind").annotate(n=Count("id"))
    found = {row["kind"]: row["n"] for row in rows}
    return {kind.value: found.get(kind.value, 0) for kind in Kind}


def own_item(user: User, pk: int) -> InboxItem:
    """One of the user's items; another user's answers as missing."""
    item = InboxItem.objects.filter(pk=pk, user=user).first() if user.is_authenticated \
        else None
    if item is None:
        raise NotFound(f"No inbox item with id {pk}.")
    return item


def open_leads(user: User) -> QuerySet[InboxItem]:
    """Leads waiting for the user's first touch, the most urgent first (My day)."""
    return open_items(user, kind=Kind.LEAD).filter(key__startswith="lead:").order_by(
        "due_at", "id")
