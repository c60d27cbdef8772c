"""Effort allocated for maximum profit: the plan's side of the effort engine.

Planning units are the plan reps' accounts (one unit each) or segments of them (one
unit per rep × tier × industry). Each segment's response curve — bookings per account
per month against calls per account per month — comes from the manager's judgement
when one is entered, or is fitted from the trailing twelve months of history (calls
and meetings done on each account against its won bookings, month by month). An
account unit uses its segment's curve scaled by its potential against the segment's
average. The engine picks a call level per unit that maximises contribution (margin ×
bookings − cost of the hours) within each rep's selling hours, minimum coverage per
tier and fixed commitments; the run stores the curves with their data, current
against optimal profit, the value of one more hour per rep and the call plan, which
`apply_run` turns into the plan's activity targets.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from salesplan.activities.models import Activity, ActivityKind
from salesplan.core.clock import company_today
from salesplan.core.errors import NotFound
from salesplan.core.fiscal import CompanyCalendar
from salesplan.core.jobs import Progress, start_job
from salesplan.customers.models import Account
from salesplan.engines.effort import (
    AdbudgCurve,
    CurveError,
    EffortProblem,
    InfeasibleError,
    contribution,
    fit_adbudg,
    from_judgement,
    solve,
)
from salesplan.org.models import User

from . import access, scope, services
from .models import (
    AllocationMethod,
    EffortAllocationRun,
    Measure,
    Plan,
    PlanStatus,
    ResponseJudgement,
    RunStatus,
)
from .resources import rep_hours_by_month

DEFAULT_LEVELS = [0, 0.25, 0.5, 1, 2, 3, 4, 6]  # calls per account per month
CENT = Decimal("0.01")


# --- inputs --------------------------------------------------------------------------------


def clean_params(plan: Plan, raw: dict) -> dict:
    """Check the optimiser's inputs; every refusal names the field."""
    def number(name: str, default, low=0.0, high=None) -> float:
        value = raw.get(name, default)
        try:
            result = float(value)
        except (TypeError, ValueError) as exc:
            raise ValidationError({name: ["Give a number."]}) from exc
        if not np.isfinite(result) or result < low or (high is not None and result > high):
            bound = f" and at most {high:g}" if high is not None else ""
            raise ValidationError({name: [f"Give a number of at least {low:g}{bound}."]})
        return result

    levels = raw.get("levels") or DEFAULT_LEVELS
    try:
        levels = sorted({float(x) for x in levels})
    except (TypeError, ValueError) as exc:
        raise ValidationError({"levels": ["Effort levels are numbers of calls."]}) from exc
    if len(levels) < 2 or levels[0] < 0 or len(levels) > 30:
        raise ValidationError({"levels": ["Give 2 to 30 effort levels of zero calls or more."]})
    basis = raw.get("basis", "account")
    if basis not in ("account", "segment"):
        raise ValidationError({"basis": ["Plan by account or by segment."]})
    coverage = {str(k): float(v) for k, v in (raw.get("min_calls_by_tier") or {}).items()}
    if any(v < 0 for v in coverage.values()):
        raise ValidationError({"min_calls_by_tier": ["Minimum calls cannot be negative."]})
    fixed = {int(k): float(v) for k, v in (raw.get("fixed_calls") or {}).items()}
    for account_id, calls in fixed.items():
        if calls not in levels:
            raise ValidationError({"fixed_calls": [
                f"Account {account_id}: {calls:g} calls is not one of the effort levels."]})
    today = company_today()
    calendar = CompanyCalendar.current()
    months = calendar.months(plan.fiscal_year)
    default_first = next((i + 1 for i, m in enumerate(months) if m.contains(today)), 1)
    first_month = int(number("first_month", default_first, 1, 12))
    return {"basis": basis, "levels": levels,
            "margin_rate": number("margin_rate", 0.3, 0.0, 1.0),
            "cost_per_hour": number("cost_per_hour", 50.0),
            "hours_per_call": number("hours_per_call", 1.0, 0.05, 24),
            "call_share": number("call_share", 0.6, 0.0, 1.0),
            "min_calls_by_tier": coverage, "fixed_calls": fixed, "first_month": first_month}


# --- history and curves --------------------------------------------------------------------


@dataclass
class Segment:
    key: str
    tier: str
    industry: str
    accounts: int = 0
    mean_potential: float = 0.0
    curve: AdbudgCurve | None = None
    source: str = ""
    error: str = ""
    points: list | None = None  # [calls, mean bookings, account-months]
    current_calls: float = 0.0


def segment_key(tier: str, industry: str) -> str:
    return f"{tier or '-'}|{industry or '-'}"


def _history(plan: Plan, account_ids: list[int], window: tuple[date, date]):
    """Calls and meetings done, and won bookings, per account and month of the window."""
    start, end = window
    calls: dict[tuple[int, date], int] = defaultdict(int)
    for account_id, month, n in (
            Activity.objects.filter(account_id__in=account_ids, done=True,
                                    kind__in=[ActivityKind.CALL, ActivityKind.MEETING],
                                    done_at__date__gte=start, done_at__date__lte=end)
            .annotate(m=TruncMonth("done_at")).values("account_id", "m")
            .annotate(n=Count("id")).values_list("account_id", "m", "n")):
        calls[(account_id, month.date() if hasattr(month, "date") else month)] += n
    bookings: dict[tuple[int, date], float] = defaultdict(float)
    for account_id, month, total in (
            scope.won_bookings(plan, start, end).filter(account_id__in=account_ids)
            .annotate(m=TruncMonth("close_date")).values("account_id", "m")
            .annotate(s=Sum("amount")).values_list("account_id", "m", "s")):
        bookings[(account_id, month)] += float(total)
    return calls, bookings


def _window_months(window: tuple[date, date]) -> list[date]:
    first, end = window[0].replace(day=1), window[1]
    months = []
    while first <= end:
        months.append(first)
        first = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return months


def build_segments(plan: Plan, accounts: list[dict], window: tuple[date, date]) -> dict:
    """Per segment: its accounts, history points, and the curve (judgement or fit)."""
    calls, bookings = _history(plan, [a["id"] for a in accounts], window)
    months = _window_months(window)
    judgements = {segment_key(j.tier, j.industry): j for j in plan.judgements.all()}
    by_segment: dict[str, Segment] = {}
    samples: dict[str, dict[float, list[float]]] = defaultdict(lambda: defaultdict(list))
    for a in accounts:
        key = segment_key(a["tier"], a["industry"])
        seg = by_segment.setdefault(key, Segment(key, a["tier"], a["industry"]))
        seg.accounts += 1
        seg.mean_potential += float(a["potential"] or 0)
        a_calls = [calls.get((a["id"], m), 0) for m in months]
        a["current_calls"] = sum(a_calls) / len(months) if months else 0.0
        for m, c in zip(months, a_calls, strict=True):
            samples[key][float(c)].append(bookings.get((a["id"], m), 0.0))
    for key, seg in by_segment.items():
        seg.mean_potential /= max(seg.accounts, 1)
        seg.points = [[x, float(np.mean(ys)), len(ys)] for x, ys in sorted(samples[key].items())]
        total = sum(p[2] for p in seg.points)
        seg.current_calls = (sum(p[0] * p[2] for p in seg.points) / total) if total else 0.0
        judgement = judgements.get(key)
        try:
            if judgement is not None:
                seg.curve = from_judgement(
                    no_effort=float(judgement.no_effort), current=float(judgement.current),
                    plus_half=float(judgement.plus_half),
                    saturation=float(judgement.saturation),
                    current_effort=float(judgement.current_calls))
                seg.source = "judgement"
            else:
                xs = [p[0] for p in seg.points for _ in range(p[2])]
                ys = [y for x in sorted(samples[key]) for y in samples[key][x]]
                seg.curve = fit_adbudg(xs, ys)
                seg.source = "history"
        except CurveError as exc:
            seg.error = str(exc)
    return by_segment


# --- the run -------------------------------------------------------------------------------


def start_run(plan: Plan, *, by: User, params: dict,
              background: bool = True) -> EffortAllocationRun:
    """Check the inputs and start the optimiser as a background job (or, for the command
    line, run it here and now)."""
    access.require_edit(by, plan)
    if plan.status == PlanStatus.CLOSED:
        raise ValidationError({"status": ["A closed plan cannot be re-planned."]})
    cleaned = clean_params(plan, params)
    from .tasks import run_effort_allocation

    if not background:
        run = EffortAllocationRun.objects.create(plan=plan, created_by=by, params=cleaned)
        execute(run)
        run.refresh_from_db()
        return run
    with transaction.atomic():
        run = EffortAllocationRun.objects.create(plan=plan, created_by=by, params=cleaned)
        job = start_job("effort_allocation", by=by, task=run_effort_allocation,
                        params={"run_id": run.pk})
        EffortAllocationRun.objects.filter(pk=run.pk).update(job=job)
    run.refresh_from_db()
    return run


def execute(run: EffortAllocationRun, job=None) -> tuple[dict, str]:
    """Fit, optimise and store the result (called by the job)."""
    progress = Progress(job, total=4, every=1) if job is not None else None
    EffortAllocationRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING)
    try:
        result = optimise(run.plan, run.params, progress)
    except (ValidationError, CurveError, InfeasibleError) as exc:
        message = " ".join(getattr(exc, "messages", [str(exc)]))
        EffortAllocationRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED, message=message[:500], result={"error": message})
        return {"error": message}, message
    summary = result["summary"]
    message = (f"Optimal contribution {summary['optimal_profit']:,.2f} against "
               f"{summary['current_profit']:,.2f} today over {summary['months']} months.")
    EffortAllocationRun.objects.filter(pk=run.pk).update(
        status=RunStatus.SUCCEEDED, result=result, message=message[:500],
        current_profit=Decimal(str(summary["current_profit"])).quantize(CENT),
        optimal_profit=Decimal(str(summary["optimal_profit"])).quantize(CENT))
    if progress:
        progress.advance_to(4, "Saved")
    return {"run_id": run.pk}, message


def _advance(progress, done: int, message: str) -> None:
    if progress is not None:
        progress.advance_to(done, message)


def optimise(plan: Plan, params: dict, progress=None) -> dict:
    """The whole computation for a plan and cleaned params; returns the stored result."""
    calendar = CompanyCalendar.current()
    reps = list(scope.plan_reps(plan).order_by("last_name", "id"))
    if not reps:
        raise ValidationError({"plan": ["The plan has no reps to plan effort for."]})
    rep_index = {r.pk: i for i, r in enumerate(reps)}
    accounts: list[dict] = [dict(a) for a in Account.objects.filter(owner_id__in=rep_index)
                            .values("id", "owner_id", "tier", "industry", "potential")]
    if not accounts:
        raise ValidationError({"plan": ["The plan's reps own no accounts."]})
    _advance(progress, 1, "Reading history")
    segments = build_segments(plan, accounts, scope.trailing_window(plan, calendar))
    _advance(progress, 2, "Fitting curves")
    first = params["first_month"]
    months = list(range(first, 13))
    hours = rep_hours_by_month(plan, calendar)
    capacity = np.array([float(sum(hours.get(r.pk, [Decimal(0)] * 12)[first - 1:]))
                         / len(months) * params["call_share"] for r in reps])
    units = _units(params, accounts, segments, rep_index)
    if not units["rows"]:
        raise ValidationError({"plan": ["No segment has a usable response curve: enter a "
                                         "judgement for at least one segment."]})
    problem = EffortProblem(units["hours"], units["value"], units["group"], capacity,
                            units["allowed"])
    solution = solve(problem)
    _advance(progress, 3, "Optimised")
    return _result(params, reps, segments, units, problem, solution, capacity, len(months))


def _units(params: dict, accounts: list[dict], segments: dict, rep_index: dict) -> dict:
    levels = np.asarray(params["levels"], float)
    rows: list[dict] = []
    if params["basis"] == "account":
        for a in accounts:
            seg = segments[segment_key(a["tier"], a["industry"])]
            if seg.curve is None:
                continue
            weight = (float(a["potential"]) / seg.mean_potential
                      if a["potential"] and seg.mean_potential else 1.0)
            rows.append({"account_id": a["id"], "rep_id": a["owner_id"], "segment": seg.key,
                         "tier": a["tier"], "accounts": 1, "weight": weight,
                         "current_calls": a["current_calls"]})
    else:
        grouped: dict[tuple[int, str], dict] = {}
        for a in accounts:
            seg = segments[segment_key(a["tier"], a["industry"])]
            if seg.curve is None:
                continue
            row = grouped.setdefault((a["owner_id"], seg.key), {
                "account_id": None, "rep_id": a["owner_id"], "segment": seg.key,
                "tier": a["tier"], "accounts": 0, "weight": 1.0, "current_calls": 0.0})
            row["accounts"] += 1
            row["current_calls"] += a["current_calls"]
        for row in grouped.values():
            row["current_calls"] /= row["accounts"]
            rows.append(row)
    n = len(rows)
    size = np.array([r["accounts"] * r["weight"] for r in rows])
    count = np.array([r["accounts"] for r in rows], float)
    response = np.zeros((n, len(levels)))
    current = np.zeros(n)
    for i, r in enumerate(rows):
        curve = segments[r["segment"]].curve
        response[i] = curve(levels) * size[i]
        current[i] = float(curve(r["current_calls"])) * size[i]
    hours = count[:, None] * levels[None, :] * params["hours_per_call"]
    allowed = np.ones((n, len(levels)), dtype=bool)
    for i, r in enumerate(rows):
        minimum = params["min_calls_by_tier"].get(r["tier"])
        if minimum is not None:
            allowed[i] &= levels >= minimum - 1e-9
            if not allowed[i].any():
                allowed[i, -1] = True
        fixed = params["fixed_calls"].get(r["account_id"]) if r["account_id"] else None
        if fixed is not None:
            allowed[i] = np.isclose(levels, fixed)
    value = contribution(response, params["margin_rate"], hours, params["cost_per_hour"])
    current_hours = count * np.array([r["current_calls"] for r in rows]) * params["hours_per_call"]
    current_value = params["margin_rate"] * current - params["cost_per_hour"] * current_hours
    group = np.array([rep_index[r["rep_id"]] for r in rows], dtype=np.int64)
    return {"rows": rows, "hours": hours, "value": value, "allowed": allowed, "group": group,
            "response": response, "current_value": current_value,
            "current_hours": current_hours, "count": count}


def _result(params, reps, segments, units, problem, solution, capacity, months) -> dict:
    levels = np.asarray(params["levels"])
    rows = units["rows"]
    chosen = levels[solution.level]
    calls = units["count"] * chosen
    current_calls = units["count"] * np.array([r["current_calls"] for r in rows])
    g, nreps = units["group"], len(reps)
    per_rep = {
        "optimal": np.bincount(g, weights=problem.value[np.arange(len(rows)), solution.level],
                               minlength=nreps),
        "current": np.bincount(g, weights=units["current_value"], minlength=nreps),
        "calls": np.bincount(g, weights=calls, minlength=nreps),
        "current_calls": np.bincount(g, weights=current_calls, minlength=nreps),
        "current_hours": np.bincount(g, weights=units["current_hours"], minlength=nreps),
    }
    rep_rows = [{
        "rep_id": r.pk, "name": str(r), "capacity_hours": round(float(capacity[i]), 1),
        "hours_used": round(float(solution.hours_used[i]), 1),
        "current_hours": round(float(per_rep["current_hours"][i]), 1),
        "shadow_price": round(float(solution.shadow_price[i]), 2),
        "calls_per_month": round(float(per_rep["calls"][i]), 2),
        "current_calls_per_month": round(float(per_rep["current_calls"][i]), 2),
        "optimal_profit": round(float(per_rep["optimal"][i]) * months, 2),
        "current_profit": round(float(per_rep["current"][i]) * months, 2),
    } for i, r in enumerate(reps)]
    unit_rows = [[r["account_id"], r["rep_id"], r["segment"], r["accounts"],
                  round(r["current_calls"], 2), float(chosen[i])]
                 for i, r in enumerate(rows)]
    return {
        "basis": params["basis"], "months": months, "first_month": params["first_month"],
        "levels": list(params["levels"]),
        "summary": {
            "months": months,
            "current_profit": round(float(units["current_value"].sum()) * months, 2),
            "optimal_profit": round(solution.objective * months, 2),
            "lp_bound": round(solution.lp_bound * months, 2),
            "method": solution.method, "units": len(rows),
        },
        "reps": rep_rows,
        "segments": [{
            "key": s.key, "tier": s.tier, "industry": s.industry, "accounts": s.accounts,
            "source": s.source, "error": s.error,
            "params": s.curve.params() if s.curve else None,
            "points": s.points, "current_calls": round(s.current_calls, 2),
            "curve": [round(float(y), 2) for y in s.curve(levels)] if s.curve else None,
        } for s in sorted(segments.values(), key=lambda s: s.key)],
        "units": unit_rows,
    }


# --- reading and applying -----------------------------------------------------------------


def visible_result(run: EffortAllocationRun, user: User) -> dict:
    """The run's result as the user may see it: reps see their own call plan only."""
    result = dict(run.result or {})
    if access.sees_every_objective(user) or not result.get("reps"):
        return result
    result["reps"] = [r for r in result["reps"] if r["rep_id"] == user.pk]
    result["units"] = [u for u in result.get("units", []) if u[1] == user.pk]
    result["summary"] = {k: v for k, v in result.get("summary", {}).items()
                         if k not in ("current_profit", "optimal_profit", "lp_bound")}
    return result


def get_run(plan: Plan, run_id: int) -> EffortAllocationRun:

    run = plan.effort_runs.filter(pk=run_id).first()
    if run is None:
        raise NotFound(f"Plan {plan.pk} has no effort allocation run {run_id}.")
    return run


def apply_run(run: EffortAllocationRun, *, by: User, reason: str = "") -> None:
    """Make the run's call plan the plan's activity targets: the plan's activities target
    is the calls of every rep over the planned months, allocated to each rep by their
    calls per month (so each rep's months are exactly their call plan)."""
    plan = run.plan
    access.require_edit(by, plan)
    if run.status != RunStatus.SUCCEEDED:
        raise ValidationError({"run": ["Only a finished run can be applied."]})
    reps = run.result["reps"]
    per_month = {r["rep_id"]: Decimal(str(r["calls_per_month"])).quantize(CENT) for r in reps}
    monthly_total = sum(per_month.values(), Decimal(0))
    if not monthly_total:
        raise ValidationError({"run": ["The call plan has no calls to make targets of."]})
    first = run.result["first_month"]
    why = reason.strip() or f"Call plan from effort allocation run {run.pk}."
    existing = plan.objectives.filter(measure=Measure.ACTIVITIES, parent__isnull=True).first()
    with transaction.atomic():
        if existing is not None and first > 1 and existing.children.exists():
            _replace_remaining_months(plan, existing, per_month, first, by=by, reason=why)
        else:
            profile = [Decimal(0) if m < first else Decimal(1) for m in range(1, 13)]
            top = services.set_plan_target(plan, by=by, measure=Measure.ACTIVITIES,
                                           total=monthly_total * (13 - first),
                                           phasing="profile", profile=profile, reason=why)
            if plan.status in (PlanStatus.APPROVED, PlanStatus.ACTIVE):
                plan.refresh_from_db()
            services.allocate(top, by=by, to="reps", method=AllocationMethod.CUSTOM,
                              weights={k: v for k, v in per_month.items() if v > 0},
                              reason=why)
        EffortAllocationRun.objects.filter(pk=run.pk).update(applied_at=timezone.now())


def _replace_remaining_months(plan: Plan, top, per_month: dict[int, Decimal], first: int, *,
                              by: User, reason: str) -> None:
    """Re-planning: keep the activity targets of the months gone (the plan's and each
    rep's) and put the new call plan in the months from `first` on. Past months still
    add up (they did before); new months add up because the plan's month is the sum of
    the reps' calls."""
    from .models import Level, MonthlyTarget, Objective

    plan = services._check_changeable(plan, by, reason)
    old = {o.rep_id: o for o in top.children.filter(level=Level.REP)}
    if top.children.exclude(level=Level.REP).exists():
        raise ValidationError({"run": ["The activities target is split into teams or "
                                       "territories: re-allocate it to reps first."]})
    months = {(t.objective_id, t.month): t.target
              for t in MonthlyTarget.objects.filter(objective__in=[top, *old.values()])}
    for rep_id in per_month:
        if rep_id not in old:
            old[rep_id] = Objective.objects.create(plan=plan, parent=top, measure=top.measure,
                                                   level=Level.REP, rep_id=rep_id)
    total_new = sum(per_month.values(), Decimal(0))
    rows = []
    for objective in [top, *old.values()]:
        new = total_new if objective.pk == top.pk else per_month.get(objective.rep_id,
                                                                     Decimal(0))
        rows += [MonthlyTarget(objective=objective, month=m,
                               target=months.get((objective.pk, m), Decimal(0)) if m < first
                               else new) for m in range(1, 13)]
    MonthlyTarget.objects.filter(objective__in=[top, *old.values()]).delete()
    MonthlyTarget.objects.bulk_create(rows)
    services._after_change(plan, by, reason, "activities re-plan", "",
                           f"call plan from fiscal month {first}")


def set_judgement(plan: Plan, *, by: User, tier: str, industry: str, current_calls,
                  no_effort, current, plus_half, saturation) -> ResponseJudgement:
    """Enter (or replace) the manager's judgement for one segment; it must rise."""
    if not access.can_edit(by, plan):
        raise PermissionDenied("You may not change this plan.")
    try:
        values = [Decimal(str(v)) for v in (current_calls, no_effort, current, plus_half,
                                             saturation)]
    except ArithmeticError as exc:
        raise ValidationError({"judgement": ["Every figure must be a number."]}) from exc
    try:
        from_judgement(no_effort=float(values[1]), current=float(values[2]),
                       plus_half=float(values[3]), saturation=float(values[4]),
                       current_effort=float(values[0]))
    except CurveError as exc:
        raise ValidationError({"judgement": [str(exc)]}) from exc
    judgement, _ = ResponseJudgement.objects.update_or_create(
        plan=plan, tier=tier.strip(), industry=industry.strip(), defaults={
            "current_calls": values[0], "no_effort": values[1], "current": values[2],
            "plus_half": values[3], "saturation": values[4], "entered_by": by})
    return judgement


def response_points(levels: list[float], segment: dict) -> list[tuple]:
    """(calls, curve, observed mean) per effort level, for the table under the chart."""
    observed = {p[0]: p[1] for p in segment.get("points") or []}
    curve = segment.get("curve") or [None] * len(levels)
    return [(x, y, observed.get(x)) for x, y in zip(levels, curve, strict=True)]

