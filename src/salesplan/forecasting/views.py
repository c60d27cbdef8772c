"""Forecast pages: the quarter's overview (own submission, team roll-up with
adjustments, weighted pipeline), calibration, the statistical forecast with its
accuracy, and the weekly snapshots. Thin: reads from the selectors, writes through the
services; a refusal comes back as a message."""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from salesplan.core.clock import company_today
from salesplan.core.fiscal import CompanyCalendar, FiscalPeriod
from salesplan.engines import model_choice
from salesplan.org.models import Company, Team
from salesplan.pipeline.models import Pipeline
from salesplan.ui import charts

from . import access, calibration, periods, selectors, services, statistical
from .forms import AdjustmentForm, SubmissionForm, problems


def _period(request) -> FiscalPeriod:
    try:
        return periods.parse(CompanyCalendar.current(), request.GET.get("period"), company_today())
    except ValidationError as exc:
        raise Http404(" ".join(exc.messages)) from exc


def _overview_url(period: FiscalPeriod) -> str:
    return f"{reverse('web:forecasting:overview')}?period={periods.name(period)}"


def _common(request, period: FiscalPeriod) -> dict:
    calendar = CompanyCalendar.current()
    return {
        "nav_section": "forecasts",
        "period": period,
        "period_name": periods.name(period),
        "period_label": periods.label(period),
        "period_choices": [
            (periods.name(p), periods.label(p)) for p in periods.around(calendar, company_today())
        ],
    }


@login_required
def overview(request):
    user = request.user
    period = _period(request)
    today = company_today()
    is_open = period.end >= today
    source = request.GET.get("probabilities", "stated")
    if source not in calibration.PROBABILITY_SOURCES:
        source = "stated"
    view = selectors.rollup(user, period)
    initial = {"period": periods.name(period)}
    mine = selectors.latest_submission(user, period)
    if mine:
        initial.update(commit=mine.commit, best_case=mine.best_case, pipeline=mine.pipeline)
    weighted = selectors.weighted_pipeline(user, period.fiscal_year, source, today=today)
    return render(
        request,
        "forecasting/overview.html",
        {
            **_common(request, period),
            "is_open": is_open,
            "rollup": view,
            "sees_all": access.sees_all(user),
            "mine": mine,
            "my_history": selectors.submissions(user, period).filter(rep=user)[:50],
            "submission_form": SubmissionForm(initial=initial)
            if access.may_submit(user) and is_open
            else None,
            "adjustable": {t.team.pk for t in view.teams if access.may_adjust(user, t.team)}
            if view and is_open
            else set(),
            "team_history": selectors.submissions(user, period).exclude(rep=user)[:200]
            if view
            else [],
            "adjustments": selectors.adjustments(user, period).order_by("-adjusted_at")[:100],
            "weighted": weighted,
            "source": source,
            "currency": Company.current().default_currency,
            "weighted_chart": charts.bar_chart(
                [periods.label(w.period) for w in weighted],
                {
                    "Open pipeline": [w.open_amount for w in weighted],
                    f"Weighted ({source})": [w.weighted for w in weighted],
                },
                y_name="Amount",
            ),
        },
    )


def _apply(request, period: FiscalPeriod, action: Callable[[], object], done: str):
    try:
        action()
    except (ValidationError, PermissionDenied) as exc:
        text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        messages.error(request, text)
    else:
        messages.success(request, done)
    return redirect(_overview_url(period))


@login_required
@require_POST
def submit(request):
    form = SubmissionForm(request.POST)
    calendar = CompanyCalendar.current()
    try:
        period = periods.parse(calendar, request.POST.get("period"), company_today())
    except ValidationError:
        return HttpResponseBadRequest("period: name a fiscal quarter like FY2027-Q1.")
    if not form.is_valid():
        messages.error(request, f"Check the forecast: {problems(form)}")
        return redirect(_overview_url(period))
    data = form.cleaned_data
    return _apply(
        request,
        period,
        lambda: services.submit_forecast(
            by=request.user,
            fiscal_year=period.fiscal_year,
            quarter=period.number,
            commit=data["commit"],
            best_case=data["best_case"],
            pipeline=data["pipeline"],
            note=data["note"],
        ),
        f"Forecast for {periods.label(period)} submitted.",
    )


@login_required
@require_POST
def adjust(request, team_id: int):
    team = Team.objects.filter(pk=team_id).first()
    visible = access.visible_team_ids(request.user)
    if team is None or (visible is not None and team.pk not in visible):
        raise Http404("No such team.")
    form = AdjustmentForm(request.POST)
    try:
        period = periods.parse(
            CompanyCalendar.current(), request.POST.get("period"), company_today()
        )
    except ValidationError:
        return HttpResponseBadRequest("period: name a fiscal quarter like FY2027-Q1.")
    if not form.is_valid():
        messages.error(request, f"Check the adjustment: {problems(form)}")
        return redirect(_overview_url(period))
    data = form.cleaned_data
    return _apply(
        request,
        period,
        lambda: services.adjust_forecast(
            by=request.user,
            team=team,
            fiscal_year=period.fiscal_year,
            quarter=period.number,
            commit=data["commit"],
            best_case=data["best_case"],
            pipeline=data["pipeline"],
            reason=data["reason"],
        ),
        f"Forecast of {team} adjusted.",
    )


@login_required
def calibration_page(request):
    if not access.may_read_calibration(request.user):
        raise PermissionDenied("Calibration is for sales roles.")
    pipelines = list(Pipeline.objects.order_by("position", "name"))
    chosen = next(
        (p for p in pipelines if str(p.pk) == request.GET.get("pipeline")),
        next((p for p in pipelines if p.is_default), pipelines[0] if pipelines else None),
    )
    try:
        months = max(1, min(120, int(request.GET.get("months", 12))))
        prior = max(0, min(1000, int(request.GET.get("prior_weight", 20))))
    except ValueError:
        return HttpResponseBadRequest("months and prior_weight must be whole numbers.")
    today = company_today()
    start, _ = calibration.window(months, today)
    rows = calibration.calibration(chosen, months=months, prior_weight=prior) if chosen else []
    chart = charts.scatter_chart(
        {
            "Observed win rate": [
                (r.row.stated, r.row.observed) for r in rows if r.row.observed is not None
            ],
            "Calibrated": [(r.row.stated, r.row.calibrated) for r in rows],
            "Stated (perfect calibration)": [(0, 0), (100, 100)],
        },
        x_name="Stated probability %",
        y_name="Win rate %",
    )
    return render(
        request,
        "forecasting/calibration.html",
        {
            "nav_section": "forecasts",
            "pipelines": pipelines,
            "pipeline": chosen,
            "rows": rows,
            "months": months,
            "prior_weight": prior,
            "start": start,
            "end": today,
            "chart": chart,
            "counted_at": calibration.refreshed_at(),
            "can_refresh": access.may_take_snapshot(request.user),
        },
    )


@login_required
@require_POST
def refresh(request):
    try:
        job = services.start_refresh(by=request.user)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
        return redirect("web:forecasting:calibration")
    return redirect("web:imports:job", job.pk)


@login_required
def statistical_page(request):
    try:
        scope = statistical.scope_for(request.user, request.GET.get("scope"))
    except ValidationError as exc:
        return HttpResponseBadRequest(" ".join(exc.messages))
    today = company_today()
    result = statistical.forecast_or_start(scope, today=today)
    context = {
        "nav_section": "forecasts",
        "scope": scope,
        "scopes": statistical.scopes_for(request.user),
        "result": result,
    }
    if result is None:  # being fitted in the background: the page polls until it is kept
        template = "forecasting/statistical.html"
        return render(request, template + "#fitting" if request.htmx else template, context)
    if request.htmx:  # the poll of a page that was waiting: the fit is in, show it whole
        return HttpResponse(headers={"HX-Refresh": "true"})
    labels = [m.strftime("%b %Y") for m in result.history_months + result.forecast_months]
    n = len(result.history)
    pad = [None] * n
    chart = charts.line_chart(
        labels,
        {
            "Bookings": list(result.history) + [None] * len(result.forecast),
            "Forecast": pad + list(result.forecast),
            f"{model_choice.LEVEL}% range, low": pad + list(result.lower),
            f"{model_choice.LEVEL}% range, high": pad + list(result.upper),
        },
        y_name=result.currency,
    )
    selection = result.selection
    chosen = selection.chosen if selection else ""
    folds = [
        (
            result.history_months[f.origin],
            f,
            f.paths[chosen],
            f.paths.get(model_choice.BASELINE),
        )
        for f in (selection.folds if selection else [])
    ]
    return render(
        request,
        "forecasting/statistical.html",
        {
            **context,
            "chart": chart,
            "selection": selection,
            "folds": folds,
            "scores": [
                selection.scores[n]
                for n in model_choice.ORDER
                if selection and n in selection.scores
            ],
            "labels": model_choice.LABELS,
            "choice_rule": model_choice.choice_rule(),
            "forecast_rows": list(
                zip(
                    result.forecast_months,
                    result.forecast,
                    result.lower,
                    result.upper,
                    strict=False,
                )
            ),
            "history_rows": list(zip(result.history_months, result.history, strict=True)),
            "accuracy": statistical.submission_accuracy(request.user, today=today),
        },
    )


@login_required
def snapshots_page(request):
    user = request.user
    period = _period(request)
    choices = selectors.snapshot_choices(user)
    keys = [c.key for c in choices]
    scope = request.GET.get("scope") or (keys[0] if keys else "")
    if scope and scope not in keys:
        raise Http404("No such forecast scope.")
    rows = selectors.snapshots(user, period, scope) if scope else []
    chart = charts.line_chart(
        [r.week_of.strftime("%b %d") for r in rows],
        {
            "Commit": [r.commit for r in rows],
            "Best case": [r.best_case for r in rows],
            "Pipeline": [r.pipeline for r in rows],
            "Won": [r.closed_won for r in rows],
            "Weighted pipeline": [r.weighted_pipeline for r in rows],
        },
        y_name="Amount",
    )
    return render(
        request,
        "forecasting/snapshots.html",
        {
            **_common(request, period),
            "choices": choices,
            "scope": scope,
            "rows": rows,
            "chart": chart,
            "can_take": access.may_take_snapshot(user),
        },
    )


@login_required
@require_POST
def take_snapshot(request):
    try:
        job = services.start_snapshot(by=request.user)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
        return redirect("web:forecasting:snapshots")
    return redirect("web:imports:job", job.pk)
