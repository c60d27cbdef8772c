"""Plan vs actual dashboard (every measure, every level, with charts), the alerts list,
and the button that evaluates a plan now (a background job)."""

from datetime import date
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from salesplan.core.clock import company_today
from salesplan.core.fiscal import CompanyCalendar
from salesplan.core.jobs import start_job
from salesplan.ui import charts

from . import access, evaluation
from .models import Level, Measure
from .views import _plan


def _as_of(request) -> date:
    try:
        return date.fromisoformat(request.GET.get("as_of", ""))
    except ValueError:
        return company_today()


def dashboard_charts(rows, months, as_of: date | None = None) -> list[tuple[str, str]]:
    """Cumulative target and actual of each measure's top line, and per rep attainment.
    The actual line stops at the month of `as_of`: nothing is booked in months to come,
    and a flat line through them would read as a forecast."""
    labels = [m.start.strftime("%b") for m in months]
    found = []
    for row in rows:
        if row.depth == 0 and row.actuals is not None:
            target: list[Decimal] = []
            actual: list[Decimal | None] = []
            t_sum, a_sum = Decimal(0), Decimal(0)
            for month, t, a in zip(months, row.targets, row.actuals, strict=True):
                t_sum += t
                a_sum += a
                target.append(t_sum)
                actual.append(a_sum if as_of is None or month.start <= as_of else None)
            found.append((f"{Measure(row.measure).label}: cumulative target and actual",
                          charts.line_chart(labels, {"Target": target, "Actual": actual},
                                            y_name=Measure(row.measure).label)))
    reps = [r for r in rows if r.level == Level.REP and r.measure == Measure.BOOKINGS]
    if reps:
        found.append(("Bookings pacing per rep (% of target to date)", charts.bar_chart(
            [r.label for r in reps], {"Pacing %": [r.pacing for r in reps]}, y_name="%",
            others=False)))
    return found


@login_required
def dashboard(request, pk: int):
    plan = _plan(request, pk)
    as_of = _as_of(request)
    calendar = CompanyCalendar.current()
    rows = evaluation.evaluate(plan, request.user, as_of=as_of, calendar=calendar)
    return render(request, "planning/evaluation.html", {
        "nav_section": "plans", "plan": plan, "rows": rows, "as_of": as_of,
        "months": calendar.months(plan.fiscal_year),
        "charts": dashboard_charts(rows, calendar.months(plan.fiscal_year), as_of),
        "alerts": evaluation.visible_alerts(request.user, plan),
        "can_evaluate": access.can_edit(request.user, plan),
    })


@login_required
@require_POST
def evaluate_now(request, pk: int):
    from .tasks import run_evaluation

    plan = _plan(request, pk)
    access.require_edit(request.user, plan)
    start_job("plan_evaluation", by=request.user, task=run_evaluation,
              params={"plan_id": plan.pk, "as_of": company_today().isoformat()})
    messages.success(request, "Evaluation started; alerts appear here when it is done.")
    return redirect("web:planning:evaluation", plan.pk)


@login_required
def alert_list(request):
    return render(request, "planning/alerts.html", {
        "nav_section": "plan_alerts",
        "alerts": evaluation.visible_alerts(request.user).order_by("-as_of", "label")[:500],
    })
