"""Global search across accounts, contacts, leads and opportunities.

Prefix search on indexed lower-case keys (name, email, domain), each type restricted by
the visibility rule and capped, so it answers in milliseconds at a million rows.
"""

from dataclasses import dataclass

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
    ("opportunity", Opportunity, ("name_key",), ("account", "stage")),
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
        query = prefix_search_q(fields, term)
        if len(words) == 2 and model in (Contact, Lead):
            query |= prefix_search_q(("name_key",), f"{words[1]} {words[0]}")
        queryset = model.objects.visible_to(user).filter(query)
        if related:
            queryset = queryset.select_related(*related)
        rows = queryset.order_by("name_key", "id")[:per_type]
        results[kind] = [SearchHit(kind, r.pk, str(r), _subtitle(kind, r)) for r in rows]
    return results
