"""Effort allocated for maximum profit: the plan's side of the effort engine.

Planning units are the plan reps' accounts (one unit each) or segments of them (one
unit per rep × tier × industry). Each segment's response curve — bookings per account
per month against calls per account per month — comes from the manager's judgement
when one is entered, or is fitted from the trailing twelve months of history (calls
and meetings done on each account against its won bookings, month by month). An
account unit uses its segment's curve scaled by its potential against the segment's
average. A fitted curve is capped at the most calls its history holds (a judged one at
the manager's +50% point or the history's most, whichever is higher; or, when the run
says so, as far above the most seen as the manager believes calls still pay) and used
only if, fitted on the earlier months, it predicts the latest quarter better than
ignoring calls; otherwise the plan holds its accounts at today's effort. The engine
picks a call level per unit that maximises contribution (margin × bookings − cost of
the hours) twice: with each rep's hours of today (the gain from reallocating, with a
bootstrap range over accounts and months corrected for the optimism of choosing the
best allocation) and with the plan's hours (the further gain of the hours added),
within minimum coverage per tier and fixed commitments. The run stores the curves with
their data and held-out errors, the gains, the value of one more hour per rep and the
call plan, which `apply_run` turns into the plan's activity targets.
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
from salesplan.core.records import claim_version
from salesplan.customers.models import Account
from salesplan.engines.effort import (
    CurveError,
    Economics,
    InfeasibleError,
    SegmentCurve,
    SegmentHistory,
    Units,
    fit_segment,
    from_judgement,
    judged_segment,
    plan_effort,
    reallocation_range,
    trusted_up_to,
)
from salesplan.org.models import User

from . import access, scope, services
from .models import (
    PAYS_ABOVE_SEEN_MAX_PCT,
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
BOOTSTRAP_ITERATIONS = 200


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
    return {"pays_above_seen_pct": clean_pays_above_seen(raw.get("pays_above_seen_pct")),
            "basis": basis, "levels": levels,
            "bootstrap_iterations": int(number("bootstrap_iterations", BOOTSTRAP_ITERATIONS,
                                               20, 2000)),
            "seed": int(number("seed", 0, 0, 2**31 - 1)),
            "margin_rate": number("margin_rate", 0.3, 0.0, 1.0),
            "cost_per_hour": number("cost_per_hour", 50.0),
            "hours_per_call": number("hours_per_call", 1.0, 0.05, 24),
            "call_share": number("call_share", 0.6, 0.0, 1.0),
            "min_calls_by_tier": coverage, "fixed_calls": fixed, "first_month": first_month}


def clean_pays_above_seen(value) -> float | None:
    """The most calls a month the manager believes still pay, as % above the most seen:
    empty for none, else a number from 0 to PAYS_ABOVE_SEEN_MAX_PCT."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    field = "pays_above_seen_pct"
    try:
        pct = float(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError({field: ["Give a percentage above the most calls seen, such "
                                       "as 30, or leave it empty."]}) from exc
    if not np.isfinite(pct) or not 0 <= pct <= PAYS_ABOVE_SEEN_MAX_PCT:
        raise ValidationError({field: [
            f"Give a percentage from 0 to {PAYS_ABOVE_SEEN_MAX_PCT} above the most calls "
            f"seen (you gave {value})."]})
    return round(pct, 1)


def _above_seen(params: dict) -> float | None:
    pct = params.get("pays_above_seen_pct")
    return None if pct is None else float(pct) / 100


# --- history and curves --------------------------------------------------------------------


@dataclass
class Segment:
    key: str
    tier: str
    industry: str
    accounts: int = 0
    mean_potential: float = 0.0
    fit: SegmentCurve | None = None
    history: SegmentHistory | None = None
    points: list | None = None  # [calls, mean bookings, account-months] per level seen
    current_calls: float = 0.0
    judged_up_to: float | None = None

    @property
    def error(self) -> str:
        return self.fit.error if self.fit is not None else ""


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


def build_segments(plan: Plan, accounts: list[dict], window: tuple[date, date],
                   above_seen: float | None = None) -> dict:
    """Per segment: its accounts' history (calls and bookings by month), and its curve —
    the manager's judgement, or fitted to the history, capped at the most effort seen
    (or `above_seen` above it: the manager's belief) and checked on the latest months
    held out of the fit."""
    calls, bookings = _history(plan, [a["id"] for a in accounts], window)
    months = _window_months(window)
    judgements = {segment_key(j.tier, j.industry): j for j in plan.judgements.all()}
    by_segment: dict[str, Segment] = {}
    members: dict[str, list[dict]] = defaultdict(list)
    for a in accounts:
        key = segment_key(a["tier"], a["industry"])
        seg = by_segment.setdefault(key, Segment(key, a["tier"], a["industry"]))
        seg.accounts += 1
        seg.mean_potential += float(a["potential"] or 0)
        a["calls"] = [calls.get((a["id"], m), 0) for m in months]
        a["bookings"] = [bookings.get((a["id"], m), 0.0) for m in months]
        a["current_calls"] = sum(a["calls"]) / len(months) if months else 0.0
        members[key].append(a)
    for key, seg in by_segment.items():
        seg.mean_potential /= max(seg.accounts, 1)
        rows = members[key]
        for a in rows:
            a["weight"] = (float(a["potential"]) / seg.mean_potential
                           if a["potential"] and seg.mean_potential else 1.0)
        shape = (len(rows), len(months))
        seg.history = SegmentHistory(
            np.array([a["calls"] for a in rows], float).reshape(shape),
            np.array([a["bookings"] for a in rows], float).reshape(shape),
            np.array([a["weight"] for a in rows]))
        seg.points = _points(seg.history)
        total = sum(p[2] for p in seg.points)
        seg.current_calls = (sum(p[0] * p[2] for p in seg.points) / total) if total else 0.0
        seg.fit = _segment_curve(seg, judgements.get(key), above_seen)
    return by_segment


def _segment_curve(seg: Segment, judgement: ResponseJudgement | None,
                   above_seen: float | None) -> SegmentCurve:
    """The manager's curve, or the curve fitted to the segment's history. A fitted curve
    is trusted up to the most calls seen; a manager's up to their +50% point (or the most
    seen). Where the run says how far above the most seen calls still pay, both are
    trusted that far above the most seen (for a manager's curve, above its current calls
    if the history holds fewer)."""
    history = seg.history
    if judgement is None:
        if history is None:
            raise ValidationError({"plan": [f"Segment {seg.key} has no history."]})
        return fit_segment(history, above_seen=above_seen)
    seen = history.most_effort if history is not None else 0.0
    judged = (float(judgement.current_calls) * 1.5 if above_seen is None
              else trusted_up_to(max(seen, float(judgement.current_calls)), above_seen))
    seg.judged_up_to = judged
    try:
        curve = from_judgement(
            no_effort=float(judgement.no_effort), current=float(judgement.current),
            plus_half=float(judgement.plus_half), saturation=float(judgement.saturation),
            current_effort=float(judgement.current_calls))
    except CurveError as exc:
        raise ValidationError({"judgement": [f"{seg.key}: {exc}"]}) from exc
    return judged_segment(curve, judged_up_to=judged, history=seg.history)


def _points(history: SegmentHistory) -> list[list[float]]:
    """[calls, mean bookings, account-months] for each number of calls seen in a month;
    bookings of an account of the segment's average potential, as the curve has them."""
    x, y = history.effort.ravel(), history.per_account.ravel()
    return [[float(v), float(y[x == v].mean()), int((x == v).sum())] for v in np.unique(x)]


# --- the run -------------------------------------------------------------------------------


def start_run(plan: Plan, *, by: User, params: dict,
              background: bool = True) -> EffortAllocationRun:
    """Check the inputs and start the optimiser as a background job (or, for the command
    line, run it here and now)."""
    access.require_edit(by, plan)
    if plan.status == PlanStatus.CLOSED:
        raise ValidationError({"status": ["A closed plan cannot be re-planned."]})
    cleaned = clean_params(plan, params)
    with transaction.atomic():
        run = EffortAllocationRun.objects.create(
            plan=plan, created_by=by, params=cleaned,
            pays_above_seen_pct=_pct_field(cleaned["pays_above_seen_pct"]))
        if background:
            _queue(run, by)
    if not background:
        execute(run)
    run.refresh_from_db()
    return run


def _pct_field(pct: float | None) -> Decimal | None:
    return None if pct is None else Decimal(str(pct))


def _queue(run: EffortAllocationRun, by: User) -> None:
    from .tasks import run_effort_allocation

    job = start_job("effort_allocation", by=by, task=run_effort_allocation,
                    params={"run_id": run.pk})
    EffortAllocationRun.objects.filter(pk=run.pk).update(job=job)


def change_pays_above_seen(run: EffortAllocationRun, *, by: User, pays_above_seen_pct,
                           expected_version: int | None, background: bool = True
                           ) -> EffortAllocationRun:
    """Change how far above the most calls seen the manager believes calls still pay,
    and redo the run with it. Only a finished run not yet applied; the run's version
    guards it (two managers changing it at once: the second is refused)."""
    plan = run.plan
    access.require_edit(by, plan)
    pct = clean_pays_above_seen(pays_above_seen_pct)
    if run.status not in (RunStatus.SUCCEEDED, RunStatus.FAILED):
        raise ValidationError({"status": ["The run is still working: change it once it ends."]})
    if run.applied_at is not None:
        raise ValidationError({"pays_above_seen_pct": [
            "This run's call plan is already the plan's activity targets: start a new run."]})
    with transaction.atomic():
        claim_version(run, expected_version)
        EffortAllocationRun.objects.filter(pk=run.pk).update(
            pays_above_seen_pct=_pct_field(pct), params={**run.params, "pays_above_seen_pct": pct},
            status=RunStatus.QUEUED, result={}, message="", current_profit=None,
            optimal_profit=None)
        if background:
            _queue(run, by)
    run.refresh_from_db()
    if not background:
        execute(run)
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
    spread = summary["reallocation_range"]
    message = (f"Reallocating today's hours: {summary['reallocation_gain']:+,.2f} "
               f"(range {spread['low']:+,.2f} to {spread['high']:+,.2f}); the plan's hours: "
               f"{summary['added_hours_gain']:+,.2f} more; against "
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
    segments = build_segments(plan, accounts, scope.trailing_window(plan, calendar),
                              _above_seen(params))
    _advance(progress, 2, "Fitting curves")
    first = params["first_month"]
    months = list(range(first, 13))
    hours = rep_hours_by_month(plan, calendar)
    capacity = np.array([float(sum(hours.get(r.pk, [Decimal(0)] * 12)[first - 1:]))
                         / len(months) * params["call_share"] for r in reps])
    order = sorted(segments)
    units, rows = _units(params, accounts, order, rep_index)
    economics = Economics(params["margin_rate"], params["cost_per_hour"],
                          params["hours_per_call"])
    curves = [_fit_of(segments[k]) for k in order]
    chosen = plan_effort(curves, units, capacity, params["levels"], economics)
    spread = reallocation_range(
        [segments[k].history for k in order], curves, units, chosen, economics,
        iterations=params.get("bootstrap_iterations", BOOTSTRAP_ITERATIONS),
        seed=params.get("seed", 0))
    _advance(progress, 3, "Optimised")
    return _result(params, reps, segments, order, rows, units, chosen, spread, capacity,
                   len(months))


def _units(params: dict, accounts: list[dict], order: list[str],
           rep_index: dict) -> tuple[Units, list[dict]]:
    """One unit per account (its curve scaled by its potential), or per rep × segment.
    Every account is planned: one whose segment has no usable curve keeps today's calls."""
    index = {k: i for i, k in enumerate(order)}
    rows: list[dict] = []
    if params["basis"] == "account":
        for a in accounts:
            key = segment_key(a["tier"], a["industry"])
            rows.append({"account_id": a["id"], "rep_id": a["owner_id"], "segment": key,
                         "tier": a["tier"], "accounts": 1, "size": a["weight"],
                         "current_calls": a["current_calls"]})
    else:
        grouped: dict[tuple[int, str], dict] = {}
        for a in accounts:
            key = segment_key(a["tier"], a["industry"])
            row = grouped.setdefault((a["owner_id"], key), {
                "account_id": None, "rep_id": a["owner_id"], "segment": key,
                "tier": a["tier"], "accounts": 0, "size": 0.0, "current_calls": 0.0})
            row["accounts"] += 1
            row["size"] += a["weight"]
            row["current_calls"] += a["current_calls"]
        for row in grouped.values():
            row["current_calls"] /= row["accounts"]
            rows.append(row)
    fixed_calls = params["fixed_calls"]
    units = Units(
        segment=np.array([index[r["segment"]] for r in rows], dtype=np.int64),
        size=np.array([r["size"] for r in rows], float),
        count=np.array([r["accounts"] for r in rows], float),
        current=np.array([r["current_calls"] for r in rows], float),
        group=np.array([rep_index[r["rep_id"]] for r in rows], dtype=np.int64),
        minimum=np.array([params["min_calls_by_tier"].get(r["tier"], 0.0) for r in rows],
                         float),
        fixed=np.array([fixed_calls.get(r["account_id"], np.nan) if r["account_id"]
                        else np.nan for r in rows], float))
    return units, rows


CURVE_POINTS = 41


def _fit_of(seg: Segment) -> SegmentCurve:
    if seg.fit is None:  # build_segments gives every segment one
        raise ValidationError({"plan": [f"Segment {seg.key} has no curve."]})
    return seg.fit


def _segment_result(seg: Segment, levels: list[float]) -> dict:
    fit = _fit_of(seg)
    cap = fit.cap
    top = max(cap, max(levels), 1.0) * 1.25
    # the cap itself is one of the points, so the chart bends exactly there
    xs = np.unique(np.append(np.linspace(0.0, top, CURVE_POINTS), cap))
    raw = getattr(fit.curve.curve, "params", None)
    held = fit.held_out.as_dict() if fit.held_out is not None else None
    return {
        "key": seg.key, "tier": seg.tier, "industry": seg.industry, "accounts": seg.accounts,
        "source": fit.source, "trusted": fit.trusted, "error": fit.error,
        "params": raw() if raw is not None else None, "cap": round(cap, 2),
        "judged_up_to": seg.judged_up_to, "points": seg.points,
        "most_seen": seg.history.most_effort if seg.history is not None else 0.0,
        "current_calls": round(seg.current_calls, 2),
        "months": seg.history.months if seg.history is not None else 0,
        # the curve the plan uses: smooth over a true effort scale, flat past the cap
        "curve_points": [[round(float(x), 3), round(float(y), 2)]
                         for x, y in zip(xs, fit.curve(xs), strict=True)],
        "held_out": held,
    }


def _result(params, reps, segments, order, rows, units, chosen, spread, capacity,
            months) -> dict:
    levels = list(params["levels"])
    g, nreps = units.group, len(reps)
    n = np.arange(len(rows))
    same_value = chosen.same_hours_problem.value[n, chosen.same_hours.level]
    planned_value = chosen.planned_problem.value[n, chosen.planned.level]
    realloc, planned = chosen.reallocated_effort, chosen.planned_effort

    def per_rep(weights):
        return np.bincount(g, weights=weights, minlength=nreps)

    per = {"current": per_rep(chosen.current_value), "same": per_rep(same_value),
           "planned": per_rep(planned_value), "calls": per_rep(units.count * planned),
           "realloc_calls": per_rep(units.count * realloc),
           "current_calls": per_rep(units.count * units.current)}
    rep_rows = [{
        "rep_id": r.pk, "name": str(r), "capacity_hours": round(float(capacity[i]), 1),
        "hours_used": round(float(chosen.planned.hours_used[i]), 1),
        "current_hours": round(float(chosen.current_hours[i]), 1),
        "shadow_price": round(float(chosen.planned.shadow_price[i]), 2),
        "calls_per_month": round(float(per["calls"][i]), 2),
        "reallocated_calls_per_month": round(float(per["realloc_calls"][i]), 2),
        "current_calls_per_month": round(float(per["current_calls"][i]), 2),
        "optimal_profit": round(float(per["planned"][i]) * months, 2),
        "same_hours_profit": round(float(per["same"][i]) * months, 2),
        "current_profit": round(float(per["current"][i]) * months, 2),
    } for i, r in enumerate(reps)]
    unit_rows = [[r["account_id"], r["rep_id"], r["segment"], r["accounts"],
                  round(r["current_calls"], 2), round(float(realloc[i]), 2),
                  round(float(planned[i]), 2)] for i, r in enumerate(rows)]
    return {
        "basis": params["basis"], "months": months, "first_month": params["first_month"],
        "levels": levels, "summary": _summary(params, chosen, spread, segments, order,
                                              capacity, months, len(rows)),
        "reps": rep_rows,
        "segments": [_segment_result(segments[k], levels) for k in order],
        "units": unit_rows,
    }


def _summary(params, chosen, spread, segments, order, capacity, months: int,
             units: int) -> dict:
    planned = chosen.planned_effort
    return {
        "months": months,
        "current_profit": round(chosen.current_total * months, 2),
        "same_hours_profit": round(chosen.same_hours.objective * months, 2),
        "optimal_profit": round(chosen.planned.objective * months, 2),
        "reallocation_gain": round(chosen.reallocation_gain * months, 2),
        "added_hours_gain": round(chosen.added_hours_gain * months, 2),
        "reallocation_range": {**spread.as_dict(), **{
            k: round(getattr(spread, k) * months, 2)
            for k in ("low", "high", "median", "naive_low", "naive_high", "optimism")}},
        "current_hours": round(float(chosen.current_hours.sum()), 1),
        "planned_hours": round(float(chosen.planned.hours_used.sum()), 1),
        "capacity_hours": round(float(np.sum(capacity)), 1),
        "lp_bound": round(chosen.planned.lp_bound * months, 2),
        "method": chosen.planned.method, "units": units, "segments": len(order),
        "pays_above_seen_pct": params.get("pays_above_seen_pct"),
        "trusted_segments": sum(1 for k in order if _fit_of(segments[k]).trusted),
        "units_at_cap": int(np.sum(np.isclose(planned, chosen.cap) & (planned > 0))),
        "units_beyond_cap": int(chosen.above_cap(chosen.planned).sum()),
    }


# --- reading and applying -----------------------------------------------------------------


MONEY_SUMMARY = ("current_profit", "same_hours_profit", "optimal_profit", "lp_bound",
                 "reallocation_gain", "added_hours_gain", "reallocation_range")


def visible_result(run: EffortAllocationRun, user: User) -> dict:
    """The run's result as the user may see it: reps see their own call plan only."""
    result = dict(run.result or {})
    if access.sees_every_objective(user) or not result.get("reps"):
        return result
    result["reps"] = [r for r in result["reps"] if r["rep_id"] == user.pk]
    result["units"] = [u for u in result.get("units", []) if u[1] == user.pk]
    result["summary"] = {k: v for k, v in result.get("summary", {}).items()
                         if k not in MONEY_SUMMARY}
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
