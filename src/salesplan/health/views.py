"""Customer-health pages: the at-risk list (sortable, exportable), renewals, and the
health panel of an account's page. Thin: reads from health.selectors, writes through
health.services."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from salesplan.core.clock import company_date, company_today
from salesplan.core.errors import NotFound
from salesplan.reports.exporting import FORMATS, Column, export_table

from . import selectors, services

AT_RISK_COLUMNS = [
    Column("account", "Account"), Column("owner", "Owner"), Column("score", "Score", "int"),
    Column("change", "Change", "int"), Column("reasons", "Why"),
    Column("computed_at", "Computed", "date"),
]


@login_required
def at_risk(request):
    user = request.user
    sort = request.GET.get("sort", "score")
    fmt = request.GET.get("format")
    if fmt:
        return _export_at_risk(request, fmt, sort)
    try:
        page = selectors.at_risk_page(user, sort=sort, cursor=request.GET.get("cursor"))
    except ValidationError as exc:
        return HttpResponseBadRequest(" ".join(exc.messages))
    count, capped = selectors.at_risk_count(user)
    rows = [(row, selectors.reasons_summary(row)) for row in page.items]
    template = "health/at_risk.html#rows" if request.htmx else "health/at_risk.html"
    return render(request, template, {
        "nav_section": "health", "page": page, "rows": rows, "sort": page.sort,
        "count": count, "capped": capped, "formats": FORMATS,
        "can_compute": services.can_compute_all(user),
    })


def _export_at_risk(request, fmt: str, sort: str):
    if fmt not in FORMATS:
        return HttpResponseBadRequest(f"format: choose one of {', '.join(FORMATS)}.")
    field = selectors.AT_RISK_SORTS.get(sort, "score")
    rows = ([row.account.name, str(row.account.owner), row.score, row.change,
             selectors.reasons_summary(row), company_date(row.computed_at)]
            for row in selectors.at_risk(request.user, sort=sort).order_by(field, "pk")[:10_000])
    return export_table(title="Accounts at risk", columns=AT_RISK_COLUMNS, rows=rows, fmt=fmt,
                        filters={"sort": sort}, filename="accounts-at-risk")


@login_required
@require_POST
def compute_all(request):
    try:
        job = services.start_compute(by=request.user)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
        return redirect("web:health:at_risk")
    return redirect("web:imports:job", job.pk)


@login_required
def renewals(request):
    try:
        days = int(request.GET.get("days", 90))
        rows, total = selectors.renewals(request.user, today=company_today(), days=days)
    except (ValueError, ValidationError):
        return HttpResponseBadRequest(
            f"days: choose a whole number between 1 and {selectors.MAX_RENEWAL_DAYS}.")
    return render(request, "health/renewals.html", {
        "nav_section": "health", "rows": rows, "total": total, "days": days,
        "max_days": selectors.MAX_RENEWAL_DAYS,
    })


@login_required
def account_panel(request, pk: int):
    try:
        account, row = selectors.account_health(request.user, pk)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    return render(request, "health/_account_panel.html", {
        "account": account, "health": row,
        "components": selectors.components(row) if row else [],
    })


@login_required
@require_POST
def recompute(request, pk: int):
    try:
        account, _ = selectors.account_health(request.user, pk)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    row = services.recompute_account(account, by=request.user)
    if not request.htmx:
        return redirect("web:account_detail", account.pk)
    return render(request, "health/_account_panel.html", {
        "account": account, "health": row, "components": selectors.components(row),
    })
