"""My plan: a rep's own targets, call plan and pacing in the plan they belong to."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from salesplan.core.clock import company_today
from salesplan.core.fiscal import CompanyCalendar
from salesplan.ui import charts

from . import evaluation, selectors
from .models import Level, Measure, PlanStatus


@login_required
def my_plan(request):
    user = request.user
    plans = list(selectors.my_plans(user))
    chosen = request.GET.get("plan")
    plan = next((p for p in plans if str(p.pk) == chosen), None) or next(
        (p for p in plans if p.status == PlanStatus.ACTIVE), None) or (plans[0] if plans else None)
    context: dict = {"nav_section": "my_plan", "plans": plans, "plan": plan}
    if plan is None:
        return render(request, "planning/my_plan.html", context)
    calendar = CompanyCalendar.current()
    months = calendar.months(plan.fiscal_year)
    as_of = company_today()
    mine = [r for r in selectors.objective_rows(plan, user)
            if r.objective.level == Level.REP and r.objective.rep_id == user.pk]
    pacing = [r for r in evaluation.evaluate(plan, user, as_of=as_of, calendar=calendar)
              if r.rep_id == user.pk]
    run = selectors.applied_effort_run(plan)
    call_plan = None
    if run is not None:
        call_plan = next((r for r in run.result.get("reps", []) if r["rep_id"] == user.pk), None)
        accounts = [u for u in run.result.get("units", []) if u[1] == user.pk and u[0]]
        context["call_accounts"] = sorted(accounts, key=lambda u: -u[5])[:100]
    bookings = next((r for r in pacing if r.measure == Measure.BOOKINGS), None)
    chart = None
    if bookings is not None and bookings.actuals is not None:
        chart = charts.bar_chart([m.start.strftime("%b") for m in months], {
            "Target": bookings.targets, "Actual": bookings.actuals}, y_name=plan.currency)
    context.update({"months": months, "targets": mine, "pacing": pacing, "run": run,
                    "call_plan": call_plan, "chart": chart, "as_of": as_of})
    return render(request, "planning/my_plan.html", context)
