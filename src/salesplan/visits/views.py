"""Field-visit pages: the rep's Today (stops in order, a map of the route, navigation,
check-in and out, skip or move with a reason), the manager's coverage and planning, and a
rep's week (one map, one timeline).
Thin: reads from visits.selectors, writes through visits.services."""

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from salesplan.core.clock import company_time_zone
from salesplan.core.errors import NotFound, StaleVersion
from salesplan.core.records import posted_version
from salesplan.ui.pages import require_or_403

from . import selectors, services, whatif
from .forms import WhatIfForm


def _int(value) -> int | None:
    return int(value) if value and str(value).isdigit() else None


def _day(value) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@login_required
def today(request):
    """A rep's day: the user's own, or (for a manager) one of their reps'."""
    try:
        day = selectors.day_of(request.user, _int(request.GET.get("rep")),
                               _day(request.GET.get("day")))
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    stops = [{"visit": v, "nav": selectors.navigation_url(v)} for v in day.stops]
    monday = day.day - timedelta(days=day.day.weekday())
    return render(request, "visits/today.html", {
        "nav_section": "visits", "day": day, "stops": stops,
        "week": [monday + timedelta(days=i) for i in range(7)],
        "route": selectors.route_map(day),
        "is_own": day.rep.pk == request.user.pk})


def _back(request, visit) -> str:
    own = visit.owner_id == request.user.pk
    query = f"?day={visit.day.isoformat()}" + ("" if own else f"&rep={visit.owner_id}")
    return reverse("web:visits:today") + query


def _act(request, pk: int, action) -> object:
    try:
        visit = selectors.visit(request.user, pk)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    try:
        action(visit, posted_version(request.POST))
    except StaleVersion:
        messages.error(request, "This visit changed since you opened the page; here it is "
                                "as it is now.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect(_back(request, visit))


def _coordinate(value: str | None) -> Decimal | None:
    try:
        return Decimal(value).quantize(Decimal("0.000001")) if value else None
    except InvalidOperation:
        return None


@login_required
@require_POST
def check_in(request, pk: int):
    def act(visit, version):
        services.check_in(visit, by=request.user, version=version,
                          latitude=_coordinate(request.POST.get("latitude")),
                          longitude=_coordinate(request.POST.get("longitude")))
        messages.success(request, f"Checked in at {visit.account.name}.")
    return _act(request, pk, act)


@login_required
@require_POST
def check_out(request, pk: int):
    def act(visit, version):
        services.check_out(visit, by=request.user, version=version,
                           outcome=request.POST.get("outcome", ""),
                           notes=request.POST.get("notes", ""))
        messages.success(request, f"Visit to {visit.account.name} done.")
    return _act(request, pk, act)


@login_required
@require_POST
def skip(request, pk: int):
    def act(visit, version):
        services.skip(visit, by=request.user, version=version,
                      reason=request.POST.get("reason", ""),
                      reschedule=request.POST.get("reschedule") == "on")
        messages.success(request, f"Skipped {visit.account.name}; the rest of the day is "
                                  "planned again.")
    return _act(request, pk, act)


@login_required
@require_POST
def move(request, pk: int):
    def act(visit, version):
        day = _day(request.POST.get("day"))
        if day is None:
            raise ValidationError({"day": "Choose the day to move it to."})
        services.move(visit, by=request.user, version=version, day=day,
                      reason=request.POST.get("reason", ""))
        messages.success(request, f"Moved {visit.account.name} to {day:%a %d %b}.")
    return _act(request, pk, act)


@login_required
def week(request, rep: int):
    """A rep's week for their manager: the routes on one map, the days on one timeline."""
    try:
        found = selectors.week_of(request.user, rep, _day(request.GET.get("week")))
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    return render(request, "visits/week.html", {
        "nav_section": "visit_coverage", "week": found, "time_zone": company_time_zone(),
        "kinds": selectors.SEGMENT_LABELS.items(),
        "previous": found.monday - timedelta(days=7), "next": found.monday + timedelta(days=7),
        "is_own": found.rep.pk == request.user.pk})


@login_required
def coverage(request):
    require_or_403(request.user, "visit_plan", "view")
    try:
        found = selectors.coverage(request.user, start=_day(request.GET.get("start")),
                                   rep_id=_int(request.GET.get("rep")))
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    return render(request, "visits/coverage.html", {
        "nav_section": "visit_coverage", "coverage": found,
        "workload": selectors.workload(request.user),
        "can_plan": services.may_plan(request.user)})


@login_required
@require_POST
def plan(request):
    """Plan the visits of every rep the user may plan (a background job)."""
    try:
        job = services.start_planning(by=request.user, start=_day(request.POST.get("start")))
    except PermissionDenied:
        raise
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("web:visits:coverage")
    return redirect("web:imports:job", job.pk)


@login_required
def what_if(request):
    """A rep's horizon with another home base or territories beside today's plan,
    planned in memory (nothing is written)."""
    require_or_403(request.user, "visit_plan", "what_if")
    form = WhatIfForm(request.GET if "rep" in request.GET else None, user=request.user)
    found, problem = None, ""
    if form.is_bound and form.is_valid():
        try:
            found = whatif.what_if(request.user, form.cleaned_data["rep"], form.change(),
                                   days=form.cleaned_data["days"])
        except NotFound as exc:
            raise Http404(str(exc)) from exc
        except ValidationError as exc:
            problem = " ".join(exc.messages)
    return render(request, "visits/what_if.html", {
        "nav_section": "visit_coverage", "form": form, "found": found, "problem": problem})
