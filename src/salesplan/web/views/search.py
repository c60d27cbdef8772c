"""Global search (page and top-bar dropdown) and the small lookups behind pickers."""

from typing import cast

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from salesplan.core.listing import prefix_search_q
from salesplan.core.permissions import has_permission
from salesplan.core.visibility import VisibleQuerySet
from salesplan.customers.models import Account, Contact, Lead
from salesplan.pipeline.models import Opportunity
from salesplan.search.selectors import global_search

KIND_LABELS = {"account": "Accounts", "contact": "Contacts", "lead": "Leads",
               "opportunity": "Opportunities"}
LOOKUPS = {
    "accounts": ("account", Account, ("name_key", "domain"), ()),
    "contacts": ("contact", Contact, ("name_key", "email"), ("account",)),
    "leads": ("lead", Lead, ("name_key", "email"), ()),
    "opportunities": ("opportunity", Opportunity, ("name_key",), ("account",)),
}


def _groups(user, term: str, per_type: int):
    results = global_search(user, term, per_type=per_type)
    return [{"kind": kind, "label": KIND_LABELS[kind], "hits": hits}
            for kind, hits in results.items() if hits]


@login_required
def search_page(request):
    term = request.GET.get("q", "").strip()
    groups = _groups(request.user, term, 25)
    return render(request, "search/search.html", {"q": term, "groups": groups})


@login_required
def search_suggest(request):
    term = request.GET.get("q", "").strip()
    return render(request, "search/_dropdown.html",
                  {"q": term, "groups": _groups(request.user, term, 5)})


def _lookup_term(request) -> str:
    term = request.GET.get("q", "")
    if not term:
        term = next((v for k, v in request.GET.items() if k.endswith("_search")), "")
    return term.strip().lower()


def _record_id(raw: str) -> int | None:
    if raw.isascii() and raw.isdigit() and int(raw) < 2**63:
        return int(raw)
    return None


@login_required
def lookup(request, kind):
    """Up to ten visible records whose name starts with what the user typed."""
    if kind not in LOOKUPS:
        raise Http404("Unknown lookup.")
    resource, model, fields, related = LOOKUPS[kind]
    term = _lookup_term(request)
    rows = []
    if term and has_permission(request.user, resource, "view"):
        everything = cast(VisibleQuerySet, model._default_manager.all())
        visible = everything.visible_to(request.user)
        records = visible.filter(prefix_search_q(fields, term))
        account = request.GET.get("account", "").strip()
        if account and "account" in related:
            # Pickers on a form with a chosen account offer only that account's records.
            account_id = _record_id(account)
            records = records.filter(account_id=account_id) if account_id else records.none()
        if related:
            records = records.select_related(*related)
        rows = list(records.order_by("name_key", "id")[:10])
    return render(request, "search/_lookup.html", {"rows": rows, "kind": kind, "term": term})
