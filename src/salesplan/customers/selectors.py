"""Reads of accounts, contacts and leads, already restricted to what the user may see."""

from django.db.models import QuerySet

from .filters import ACCOUNT_LIST, CONTACT_LIST, LEAD_LIST
from .models import Account, Contact, Lead

# Small tables (users, stages) are prefetched, not joined: joined, SQLite's planner
# scans the small table first and sorts every matching row, which at a million rows
# turns a 5 ms page into a 20 s one.


def account_list(user, params) -> QuerySet[Account]:
    return ACCOUNT_LIST.apply(Account.objects.visible_to(user), params).prefetch_related("owner")


def contact_list(user, params) -> QuerySet[Contact]:
    return CONTACT_LIST.apply(Contact.objects.visible_to(user), params).select_related(
        "account").prefetch_related("owner")


def lead_list(user, params) -> QuerySet[Lead]:
    return LEAD_LIST.apply(Lead.objects.visible_to(user), params).prefetch_related("owner")


def visible_children(user, account: Account) -> list[Account]:
    """The account's first 50 child accounts the user sees, by name. The children are
    read by the parent index first: in one query SQLite's planner expects every account
    under a parent (most have none, so the index statistics see one big null group) and
    walks the user's whole visible book instead, 13 ms at 100,000 accounts for a manager."""
    ids = list(Account.objects.filter(parent=account).order_by().values_list("pk", flat=True))
    if not ids:
        return []
    return list(Account.objects.visible_to(user).filter(pk__in=ids)
                .order_by("name_key", "id")[:50])
