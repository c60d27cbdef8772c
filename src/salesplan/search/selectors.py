"""Global search across accounts, contacts, leads and opportunities.

Prefix search on indexed lower-case keys (name, email, domain), each type restricted by
the visibility rule and capped, so it answers in milliseconds at a million rows; the
record pickers' lookups (`lookup_records`) read them the same way, in name order. On
SQLite what a user sees is searched in its two disjoint parts (`visible_parts`: what
their team owns, the rest of their territories' records), each read from the term's
range in the key's index (see WALKED_RANGE); PostgreSQL plans the one query well.
"""

from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Q

from salesplan.core.listing import prefix_search_q, sorted_not_walked
from salesplan.core.permissions import has_permission
from salesplan.customers.models import Account, Contact, Lead
from salesplan.pipeline.models import Opportunity


@dataclass
class SearchHit:
    kind: str  # account | contact | lead | opportunity
    id: int
    title: str
    subtitle: str


SEARCHABLE = (
    ("account", Account, ("name_key", "domain"), ("owner",)),
    ("contact", Contact, ("name_key", "email"), ("account",)),
    ("lead", Lead, ("name_key", "email"), ()),
    # Stages are joined in Python: SQLite's planner would otherwise scan the tiny stage
    # table first and sort every deal of each stage.
    ("opportunity", Opportunity, ("name_key",), ("account",)),
)


def _subtitle(kind: str, obj) -> str:
    if kind == "account":
        return ", ".join(p for p in (obj.city, obj.state, obj.domain) if p)
    if kind == "contact":
        return " · ".join(p for p in (obj.title, str(obj.account or ""), obj.email) if p)
    if kind == "lead":
        return " · ".join(p for p in (obj.company, obj.email, obj.get_status_display()) if p)
    return f"{obj.account} · {obj.stage.name} · {obj.close_date:%Y-%m-%d}"


def global_search(user, term: str, per_type: int = 8) -> dict[str, list[SearchHit]]:
    """Hits per record type, best (alphabetical) first; empty for a blank term."""
    term = (term or "").strip().lower()
    results: dict[str, list[SearchHit]] = {}
    if len(term) < 2:
        return results
    # Whole-word searches like "jane doe" match the "last first" key too.
    words = term.split()
    for kind, model, fields, related in SEARCHABLE:
        if not has_permission(user, kind, "view"):
            continue
        probes = [(f, term) for f in fields]
        if len(words) == 2 and model in (Contact, Lead):
            probes.append(("name_key", f"{words[1]} {words[0]}"))
        rows = _matches(user, model, probes, related, per_type)
        results[kind] = [SearchHit(kind, r.pk, str(r), _subtitle(kind, r)) for r in rows]
    return results


# On SQLite, the first this many records of the whole table whose key starts with the
# term (read from the column's index) are tested against each visible part first: the
# records the user's team owns, then the rest of their territories' records. A part whose
# first matches lie past this window is read in full, and the territory part only up to
# the owned part's last match (nothing after it can make the page). One query with
# "owned OR in a territory" made SQLite read every record of the territory's accounts
# (a manager's 250,000 deals at 1,000,000 accounts: 1.1 s of processor time).
WALKED_RANGE = 2_000


# How many records a picker offers.
LOOKUP_SIZE = 10


def lookup_records(user, model, fields: tuple[str, ...], related: tuple[str, ...],
                   term: str, *, account_id: int | None = None) -> list:
    """The first LOOKUP_SIZE records the user sees whose `fields` start with `term` (lower
    case), by name key then id: what a record picker offers. With `account_id`, only
    that account's records."""
    if connection.vendor == "sqlite" and account_id is None:
        # As the global search reads them, each column ordered by name: "owned by my team
        # or on my territories' accounts" as one query read every record of a manager's
        # territories on SQLite.
        return _matches(user, model, [(f, term) for f in fields], related, LOOKUP_SIZE,
                        order="name_key")
    records = model.objects.visible_to(user).filter(prefix_search_q(fields, term))
    if account_id is not None:  # one account's records: its index finds them
        records = records.filter(account_id=account_id)
    if related:
        records = records.select_related(*related)
    return list(records.order_by("name_key", "id")[:LOOKUP_SIZE])


def _matches(user, model, probes, related, limit: int, *, order: str | None = None) -> list:
    """One index range scan per searched column, tested against each visible part and
    merged; each column's first matches by `order` (by default the column itself). A
    single query with OR across columns cannot use either index and reads every visible
    row at a million records."""
    found: dict[int, Any] = {}
    for field, text in probes:
        in_range = model._base_manager.filter(prefix_search_q((field,), text)).order_by(
            field, "id")
        # A term nothing starts with costs one probe of the column's index, not a
        # search of each visible part.
        if connection.vendor == "sqlite":
            keys = list(in_range.values_list(field, "id")[:WALKED_RANGE + 1])
            first = _parts_first(user, model, field, text, related, limit, in_range,
                                 keys, order=order or field) if keys else []
        elif in_range.exists():
            # PostgreSQL walks the key's index testing "owned or in a territory" on each
            # row, or gathers both from their indexes, as its estimates say: one query.
            first = _page(model.objects.visible_to(user), field, text, related, limit,
                          order=order or field)
        else:
            first = []
        for row in first:
            found.setdefault(row.pk, row)
    return sorted(found.values(), key=lambda r: (r.name_key, r.pk))[:limit]


def _parts_first(user, model, field: str, text: str, related, limit: int, in_range,
                 keys: list[tuple], *, order: str) -> list:
    """The column's first matches by `order` among what the user sees, read part by part
    (SQLite): each part tested on the window first, read in full only when its first
    matches may lie past it. The window holds a range's first matches in another order
    only when it holds the whole range."""
    # The window's condition comes first: SQLite, weighing it against a territory's
    # account list, then starts from the window. (Given the ids as a list, it tested
    # each against each territory account: 10 million probes.)
    window = model.objects.filter(pk__in=in_range.values("pk")[:WALKED_RANGE])
    whole = len(keys) <= WALKED_RANGE
    in_window = {pk for _, pk in keys[:WALKED_RANGE]}
    in_key_order = order == field
    first: list = []
    last: tuple | None = None  # the owned part's last match on a full page
    parts = zip(window.visible_parts(user), model.objects.visible_parts(user), strict=True)
    for i, (windowed, part) in enumerate(parts):
        rows = _page(windowed, field, text, related, limit, order=order) \
            if whole or in_key_order else []
        if not (whole or (in_key_order and (
                len(rows) == limit or (last is not None and last[1] in in_window)))):
            rows = _page(part, field, text, related, limit, order=order, sort_found=i > 0,
                         up_to=last)
        if i == 0 and len(rows) == limit:
            last = (getattr(rows[-1], order), rows[-1].pk)
        first.extend(rows)
    # The parts are disjoint: their first matches together, as one query would give them.
    return sorted(first, key=lambda r: (getattr(r, order), r.pk))[:limit]


def _page(queryset, field: str, text: str, related, limit: int, *, order: str,
          sort_found: bool = False, up_to: tuple | None = None) -> list:
    """The first `limit` rows of `queryset` whose `field` starts with `text`, in `order`
    (a column) then id, and not past the (value, id) `up_to`; `sort_found` finds them by
    the other conditions and sorts them, instead of walking the order's index."""
    probe = queryset.filter(prefix_search_q((field,), text))
    if up_to is not None:
        probe = probe.filter(Q(**{f"{order}__lt": up_to[0]})
                             | Q(**{order: up_to[0], "id__lte": up_to[1]}))
    if related:
        probe = probe.select_related(*related)
    if queryset.model is Opportunity:
        probe = probe.prefetch_related("stage")
    by = (sorted_not_walked(order), sorted_not_walked("id")) if sort_found else (order, "id")
    return list(probe.order_by(*by)[:limit])
