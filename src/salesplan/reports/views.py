"""Report pages: the dashboard, each report with its filter bar (htmx), table, chart and
export buttons, the drill-down behind every figure, saved reports and their schedules.

Thin: figures come from the catalogue, writes go through reports.services; a refused
write comes back as a message.
"""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from salesplan.core.errors import NotFound
from salesplan.core.records import posted_version
from salesplan.metrics.rollup import RollupsNotReady, active_territory_key, one_refresh
from salesplan.org.models import Team, User
from salesplan.pipeline.models import Pipeline
from salesplan.territories.selectors import territories_of

from . import services
from .catalog import REPORTS, get_report, run_report
from .dashboards import app_cards, dashboard
from .drilldown import LIMIT, drill_records
from .exporting import FORMATS, display_value, export_table
from .models import Frequency
from .scope import ReportFilters, filtered_owners, parse_filters

FILTER_PARAMS = ("period", "team", "owner", "territory", "pipeline", "currency")


def _params(request) -> dict[str, str]:
    return {k: request.GET[k] for k in FILTER_PARAMS if request.GET.get(k)}


def _report_or_404(key: str):
    try:
        return get_report(key)
    except NotFound as exc:
        raise Http404(str(exc)) from exc


def _choices(user, filters: ReportFilters) -> dict:
    """Options of the filter bar: only teams and people within the user's scope."""
    owners = filtered_owners(user, ReportFilters(filters.period, currency=filters.currency))
    people = User.objects.filter(is_active=True)
    if owners is not None:
        people = people.filter(pk__in=owners)
    teams = Team.objects.all()
    if owners is not None:
        teams = teams.filter(members__in=owners).distinct()
    alignment_id, _ = active_territory_key()
    territories = territories_of(alignment_id or None)
    return {"teams": teams.order_by("name"), "people": people.order_by("last_name", "username"),
            "pipelines": Pipeline.objects.filter(active=True),
            "territories": territories.order_by("name")}


def _table(result, limit: int | None = None) -> list[dict]:
    """Rows with formatted cells and their drill-down link (the first `limit` rows)."""
    base = result.filters.as_params()
    rows = []
    for row in result.rows[:limit]:
        cells = [{"text": display_value(c, v), "numeric": c.kind not in ("text", "date")}
                 for c, v in zip(result.columns, row.values, strict=True)]
        link = (reverse("web:reports:drilldown") + "?" + urlencode({**base, **row.drill})
                if row.drill is not None else "")
        rows.append({"cells": cells, "drill": link, "total": row.emphasis})
    return rows


def not_ready(view):
    """Pages answer with an explanation while a large company's figures are prepared."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except RollupsNotReady as exc:
            return render(request, "reports/not_ready.html",
                          {"nav_section": "reports", "message": str(exc)}, status=503)

    return wrapped


@login_required
@not_ready
def dashboard_page(request):
    # One refresh of the rollups for the whole page, not one per card: every card reads
    # the same state, and while reps keep changing deals the page waits for the refresh
    # lock once (it waited five times, once per report card, then again for app cards).
    with one_refresh():
        return _dashboard_page(request)


def _dashboard_page(request):
    try:
        filters, cards = dashboard(request.user, _params(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        filters, cards = dashboard(request.user)
    return render(request, "reports/dashboard.html", {
        "nav_section": "reports", "filters": filters,
        "cards": [{"card": c, "table": _table(c.result, 11),
                   "link": reverse("web:reports:report", args=[c.result.key]) + "?" + urlencode(
                       {**filters.as_params(), **({"by": c.by} if c.by else {})})}
                  for c in cards],
        "app_cards": app_cards(request.user, request),
        "reports": [d for d in REPORTS.values()
                    if request.user.role in d.audience or request.user.is_admin],
        "saved": services.visible_saved_reports(request.user)[:20],
    })


@login_required
@not_ready
def report_page(request, key: str):
    definition = _report_or_404(key)
    by = request.GET.get("by", "")
    error = ""
    try:
        filters = parse_filters(_params(request))
        result = run_report(key, request.user, filters, by)
    except ValidationError as exc:
        error = " ".join(exc.messages)
        filters = parse_filters({})
        result = run_report(key, request.user, filters)
    query = urlencode({**result.filters.as_params(), **({"by": result.by} if result.by else {})})
    context = {
        "nav_section": "reports", "definition": definition, "result": result,
        "table": _table(result), "error": error, "query": query,
        "formats": FORMATS, "choices": _choices(request.user, result.filters),
        "params": {**_params(request), "by": result.by},
    }
    template = "reports/report.html"
    if request.htmx:
        template += "#results"
    return render(request, template, context)


@login_required
@not_ready
def export(request, key: str, fmt: str):
    _report_or_404(key)
    if fmt not in FORMATS:
        raise Http404("No such format.")
    try:
        result = run_report(key, request.user, parse_filters(_params(request)),
                            request.GET.get("by", ""))
    except ValidationError as exc:
        return HttpResponse(" ".join(exc.messages), status=400, content_type="text/plain")
    return export_table(title=result.title, columns=result.columns, rows=result.plain_rows(),
                        fmt=fmt, filters=result.filters.described(),
                        filename=f"{key}-{result.filters.period.code}")


DRILL_KEYS = ("src", "basis", "status", "stage", "pipeline_kind", "month", "kind", "done",
              "converted", "reached", "product", "source", "owner")


@login_required
def drilldown(request):
    try:
        filters = parse_filters({k: request.GET[k] for k in FILTER_PARAMS
                                 if k != "owner" and request.GET.get(k)})
        spec = {k: request.GET[k] for k in DRILL_KEYS if request.GET.get(k)}
        source, records = drill_records(request.user, filters, spec)
    except ValidationError as exc:
        return render(request, "reports/drilldown.html", {
            "nav_section": "reports", "error": " ".join(exc.messages)}, status=400)
    total = records.count()
    return render(request, "reports/drilldown.html", {
        "nav_section": "reports", "source": source, "records": records[:LIMIT],
        "total": total, "limit": LIMIT, "filters": filters.described(), "spec": spec})


@login_required
def saved_list(request):
    saved = services.visible_saved_reports(request.user)
    from .models import ScheduledReport

    return render(request, "reports/saved.html", {
        "nav_section": "reports", "saved": saved,
        "schedules": ScheduledReport.objects.filter(saved_report__owner=request.user)
        .select_related("saved_report"),
        "frequencies": Frequency.choices, "formats": FORMATS})


@login_required
@require_POST
def saved_create(request, key: str):
    _report_or_404(key)
    filters = {k: request.POST[k] for k in (*FILTER_PARAMS, "by") if request.POST.get(k)}
    try:
        saved = services.save_report(by=request.user, name=request.POST.get("name", ""),
                                     report=key, filters=filters,
                                     shared=request.POST.get("shared") == "on")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(reverse("web:reports:report", args=[key]) + "?" + urlencode(filters))
    messages.success(request, f"Saved as “{saved.name}”.")
    return redirect("web:reports:saved")


def _saved_or_404(request, pk: int):
    found = services.visible_saved_reports(request.user).filter(pk=pk).first()
    if found is None:
        raise Http404("No such saved report.")
    return found


@login_required
def saved_open(request, pk: int):
    saved = _saved_or_404(request, pk)
    return redirect(reverse("web:reports:report", args=[saved.report]) + "?"
                    + urlencode(saved.filters))


@login_required
@require_POST
def saved_delete(request, pk: int):
    saved = _saved_or_404(request, pk)
    services.delete_saved_report(saved, by=request.user,  # PermissionDenied → 403
                                 expected_version=posted_version(request.POST))
    messages.success(request, f"Deleted “{saved.name}”.")
    return redirect("web:reports:saved")


@login_required
@require_POST
def schedule_create(request, pk: int):
    saved = _saved_or_404(request, pk)
    try:
        services.schedule_report(by=request.user, saved_report=saved,
                                 recipients=request.POST.get("recipients", ""),
                                 frequency=request.POST.get("frequency", ""),
                                 fmt=request.POST.get("format", "xlsx"))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"“{saved.name}” will be emailed.")
    return redirect("web:reports:saved")


@login_required
@require_POST
def schedule_delete(request, pk: int):
    from .models import ScheduledReport

    schedule = ScheduledReport.objects.filter(pk=pk, saved_report__owner=request.user).first()
    if schedule is None:
        raise Http404("No such schedule.")
    services.cancel_schedule(schedule, by=request.user,
                             expected_version=posted_version(request.POST))
    messages.success(request, "Delivery stopped.")
    return redirect("web:reports:saved")
