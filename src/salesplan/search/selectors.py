"""Global search across accounts, contacts, leads and opportunities.

Prefix search on indexed lower-case keys (name, email, domain), each type restricted by
the visibility rule and capped, so it answers in milliseconds at a million rows.
"""

from dataclasses import dataclass
from typing import Any

from salesplan.core.listing import prefix_search_q
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
        rows = _matches(model.objects.visible_to(user), probes, related, per_type)
        results[kind] = [SearchHit(kind, r.pk, str(r), _subtitle(kind, r)) for r in rows]
    return results


def _matches(queryset, probes, related, limit: int) -> list:
    """One index range scan per searched column, merged. A single query with OR across
    columns cannot use either index and reads every visible row at a million records."""
    found: dict[int, Any] = {}
    for field, text in probes:
        probe = queryset.filter(prefix_search_q((field,), text))
        if related:
            probe = probe.select_related(*related)
        if queryset.model is Opportunity:
            probe = probe.prefetch_related("stage")
        for row in probe.order_by(field, "id")[:limit]:
            found.setdefault(row.pk, row)
    return sorted(found.values(), key=lambda r: (r.name_key, r.pk))[:limit]
