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
