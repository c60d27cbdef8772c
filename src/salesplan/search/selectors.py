"""Global search across accounts, contacts, leads and opportunities.

Prefix search on indexed lower-case keys (name, email, domain), each type restricted by
the visibility rule and capped, so it answers in milliseconds at a million rows.

What a user sees is searched in its two disjoint parts (`VisibleQuerySet.visible_parts`):
the records their team owns, found on the (owner, key) indexes, and the rest of their
territories' records. One query with "owned OR in a territory" made SQLite read every
record of every territory account and test its key (a manager of 24 reps at 1,000,000
accounts: 50,000 accounts, 250,000 deals, 1.1 s of processor time for one search).
"""

from dataclasses import dataclass
from typing import Any

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


# The first this many records of the whole table whose key starts with the term (read
# from the column's index) are tested against each visible part first. When the range is
# no longer, or this window already holds a page of the part's matches, those are the
# part's first matches: no part is read in full. A part is otherwise read as its own
# index gives it (the team's records on (owner, key)) or found first and sorted (the
# territory's records). One query with "owned OR in a territory" made SQLite read every
# record of the territory's accounts (a manager's 250,000 deals at 1,000,000 accounts).
WALKED_RANGE = 2_000


def _matches(user, model, probes, related, limit: int) -> list:
    """One index range scan per searched column, tested against each visible part and
    merged. A single query with OR across columns cannot use either index and reads
    every visible row at a million records."""
    found: dict[int, Any] = {}
    for field, text in probes:
        in_range = model._base_manager.filter(prefix_search_q((field,), text)).order_by(
            field, "id")
        length = len(in_range.values_list("id", flat=True)[:WALKED_RANGE + 1])
        if not length:
            continue
        # The window's condition comes first: SQLite, weighing it against a territory's
        # account list, then starts from the window.
        window = model.objects.filter(pk__in=in_range.values("pk")[:WALKED_RANGE])
        parts = zip(window.visible_parts(user), model.objects.visible_parts(user),
                    strict=True)
        first: list = []
        for i, (windowed, part) in enumerate(parts):
            rows = _page(windowed, field, text, related, limit)
            if length > WALKED_RANGE and len(rows) < limit:
                # The part's first matches lie past the window: read the part itself.
                rows = _page(part, field, text, related, limit, sort_found=i > 0)
            first.extend(rows)
        # The column's first matches among everything the user sees (the parts are
        # disjoint), as one query over the whole would give them.
        for row in sorted(first, key=lambda r: (getattr(r, field), r.pk))[:limit]:
            found.setdefault(row.pk, row)
    return sorted(found.values(), key=lambda r: (r.name_key, r.pk))[:limit]


def _page(queryset, field: str, text: str, related, limit: int, *,
          sort_found: bool = False) -> list:
    """The first `limit` rows of `queryset` whose `field` starts with `text`, in key
    order; `sort_found` finds them by the other conditions and sorts them, instead of
    walking the key's index."""
    probe = queryset.filter(prefix_search_q((field,), text))
    if related:
        probe = probe.select_related(*related)
    if queryset.model is Opportunity:
        probe = probe.prefetch_related("stage")
    order = (sorted_not_walked(field), sorted_not_walked("id")) if sort_found \
        else (field, "id")
    return list(probe.order_by(*order)[:limit])
