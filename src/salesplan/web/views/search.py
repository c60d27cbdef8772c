"""Global search (page and top-bar dropdown) and the small lookups behind pickers."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from salesplan.core.permissions import has_permission
from salesplan.customers.models import Account, Contact, Lead
from salesplan.pipeline.models import Opportunity
from salesplan.search.selectors import global_search, lookup_records

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
    account = request.GET.get("account", "").strip()
    # Pickers on a form with a chosen account offer only that account's records.
    by_account = bool(account) and "account" in related
    account_id = _record_id(account) if by_account else None
    rows = []
    if term and has_permission(request.user, resource, "view") and (
            account_id or not by_account):
        rows = lookup_records(request.user, model, fields, related, term,
                              account_id=account_id)
    return render(request, "search/_lookup.html", {"rows": rows, "kind": kind, "term": term})
