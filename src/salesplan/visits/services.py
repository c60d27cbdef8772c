"""Every write of field visits: planning reps' horizons, checking in and out, skipping and
moving a visit (the rest of the day re-planned at once), settings, rules and profiles."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from salesplan.activities import services as activity_services
from salesplan.core import audit
from salesplan.core.clock import company_now, company_today
from salesplan.core.jobs import start_job
from salesplan.core.permissions import require
from salesplan.core.records import claim_version, validate
from salesplan.engines import visit_planning as engine
from salesplan.org.models import User

from . import planner
from .models import (
    FrequencyRule,
    PlannedDay,
    PlannedVisit,
    UnmetVisit,
    VisitPlanRun,
    VisitProfile,
    VisitSettings,
    VisitStatus,
)

JOB_KIND = "visit_planning"
SETTINGS_FIELDS = ("circuity", "average_speed_kmh", "routing_server_url", "horizon_days",
                   "default_duration_minutes", "lunch_earliest", "lunch_latest",
                   "lunch_minutes", "solver_solutions")


# --- settings, rules, profiles ---------------------------------------------------------


@transaction.atomic
def update_settings(*, by: User, version: int | None, **values: Any) -> VisitSettings:
    """Change the company's visit-planning settings."""
    require(by, "visit_settings", "change")
    config = planner.settings()
    unknown = set(values) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "Not a visit setting."})
    claim_version(config, version)
    changes = {k: (getattr(config, k), v) for k, v in values.items() if getattr(config, k) != v}
    for key, value in values.items():
        setattr(config, key, value)
    validate(config)
    if config.lunch_latest < config.lunch_earliest:
        raise ValidationError({"lunch_latest": "Lunch cannot start later than it may end."})
    config.save()
    audit.record_changes(config, changes, by)
    return config


def _save(obj, data: dict, fields: tuple[str, ...], by: User, created: bool):
    for key, value in data.items():
        if key not in fields:
            raise ValidationError({key: "This field cannot be set here."})
        setattr(obj, key, value)
    validate(obj)
    obj.save()
    if created:
        audit.record_created(obj, by)
    else:
        audit.record_changes(obj, {k: ("", v) for k, v in data.items()}, by)
    return obj


RULE_FIELDS = ("tier", "industry", "visits_per_month", "duration_minutes")
PROFILE_FIELDS = ("account", "visits_per_month", "duration_minutes", "opening_hours",
                  "no_visit_dates")


@transaction.atomic
def create_rule(*, by: User, data: dict) -> FrequencyRule:
    """A visit frequency for the accounts of a tier (and industry)."""
    require(by, "visit_rule", "change")
    return _save(FrequencyRule(), data, RULE_FIELDS, by, True)


@transaction.atomic
def update_rule(rule: FrequencyRule, *, by: User, data: dict,
                expected_version: int | None = None) -> FrequencyRule:
    require(by, "visit_rule", "change")
    claim_version(rule, expected_version)
    return _save(rule, data, RULE_FIELDS, by, False)


@transaction.atomic
def delete_rule(rule: FrequencyRule, *, by: User, expected_version: int | None = None) -> None:
    require(by, "visit_rule", "change")
    claim_version(rule, expected_version)
    audit.record_deleted(rule, by)
    rule.delete()


def _check_profile(data: dict) -> None:
    hours = data.get("opening_hours")
    if hours is not None:
        try:
            windows = planner.opening_windows(hours)
        except (TypeError, ValueError, AttributeError) as exc:
            raise ValidationError({"opening_hours": 'Give {"0": [["08:00", "12:00"]], …}: '
                                                    "weekday 0–6 to HH:MM pairs."}) from exc
        for day, spans in (windows or {}).items():
            if not 0 <= day <= 6 or any(w.end <= w.start for w in spans):
                raise ValidationError({"opening_hours": f"Weekday {day}: each opening must "
                                                        "end after it starts."})
    for text in data.get("no_visit_dates") or []:
        try:
            date.fromisoformat(text)
        except (TypeError, ValueError) as exc:
            raise ValidationError({"no_visit_dates": f"{text!r} is not a date."}) from exc


@transaction.atomic
def set_profile(account, *, by: User, version: int | None, data: dict) -> VisitProfile:
    """Set how an account is visited (created on first use; then with its version)."""
    profile = VisitProfile.objects.filter(account=account).first()
    require(by, "visit_profile", "change", profile or VisitProfile(account=account))
    _check_profile(data)
    if profile is None:
        return _save(VisitProfile(account=account), data, PROFILE_FIELDS, by, True)
    if version is None:
        from salesplan.core.errors import VersionRequired

        raise VersionRequired("version")
    claim_version(profile, version)
    return _save(profile, data, PROFILE_FIELDS, by, False)


# --- planning ---------------------------------------------------------------------------


def plannable_reps(by: User, rep_ids: list[int] | None) -> list[User]:
    """The reps `by` may plan: everyone for an admin, the people a manager sees."""
    require(by, "visit_plan", "run")
    reps = User.objects.filter(is_active=True, role="rep").order_by("pk")
    visible = by.visible_owner_ids
    if visible is not None:
        reps = reps.filter(pk__in=visible)
    if rep_ids:
        found = list(reps.filter(pk__in=rep_ids))
        missing = sorted(set(rep_ids) - {u.pk for u in found})
        if missing:
            raise ValidationError({"rep_ids": f"No rep you may plan with id {missing[0]}."})
        return found
    return list(reps)


def start_planning(*, by: User, rep_ids: list[int] | None = None, start: date | None = None,
                   days: int | None = None):
    """Plan the reps' visits over the horizon in the background (a job with progress)."""
    from .tasks import plan_visits_task

    reps = plannable_reps(by, rep_ids)
    if not reps:
        raise ValidationError({"rep_ids": "There is no rep to plan."})
    start = start or company_today()
    days = days or planner.settings().horizon_days
    if not 1 <= days <= 91:
        raise ValidationError({"days": "Plan between 1 and 91 days."})
    return start_job(JOB_KIND, by=by, task=plan_visits_task, params={
        "rep_ids": [u.pk for u in reps], "start": start.isoformat(), "days": days})


def plan_reps(*, by: User | None, rep_ids: list[int], start: date, days: int, job=None,
              progress: Callable[[int, int], None] | None = None) -> VisitPlanRun:
    """Plan each rep's horizon and write it: the rep's planned (not yet visited) visits in
    the horizon are replaced; visits checked in, done or skipped stay."""
    config = planner.settings()
    run = VisitPlanRun.objects.create(created_by=by, job=job, start=start, days=days,
                                      rep_ids=rep_ids)
    matrix = planner.matrix_source(config)
    budget = engine.Budget(solutions=config.solver_solutions)
    totals = {"reps": 0, "planned": 0, "unmet": 0, "required": 0}
    for i, user in enumerate(User.objects.filter(pk__in=rep_ids).order_by("pk")):
        accounts = planner.rep_accounts(user)
        wanted = planner.visits_to_plan(user, accounts, start, days, config).left
        rep = planner.rep_calendar(user, start, days, config, accounts)
        plan = engine.plan_rep(rep, wanted, engine.horizon_days(start, days),
                               travel=planner.travel_model(config), matrix=matrix,
                               budget=budget)
        with transaction.atomic():
            _write_plan(user, run, plan, start, days, {v.account_id: v for v in wanted})
        totals["reps"] += 1
        totals["planned"] += plan.planned
        totals["unmet"] += len(plan.unmet)
        totals["required"] += sum(v.visits for v in wanted)
        if progress is not None:
            progress(i + 1, len(rep_ids))
    VisitPlanRun.objects.filter(pk=run.pk).update(summary=totals)
    run.summary = totals
    return run


def _write_plan(user: User, run: VisitPlanRun, plan: engine.RepPlan, start: date, days: int,
                wanted: dict[int, engine.AccountVisits]) -> None:
    end = start + timedelta(days=days - 1)
    PlannedVisit.objects.filter(owner=user, day__gte=start, day__lte=end,
                                status=VisitStatus.PLANNED).delete()
    PlannedDay.objects.filter(owner=user, day__gte=start, day__lte=end).delete()
    visits, days_rows = [], []
    for route in plan.days:
        days_rows.append(_day_row(user, route, run))
        visits += [PlannedVisit(owner=user, account_id=int(stop.ref), day=route.day,
                                sequence=n, arrive=planner.clock(stop.arrive),
                                starts=planner.clock(stop.start), ends=planner.clock(stop.end),
                                travel_minutes=Decimal(str(stop.travel_minutes)),
                                travel_km=Decimal(str(stop.travel_km)), run=run)
                   for n, stop in enumerate(route.stops, 1) if stop.kind == "visit"]
    PlannedDay.objects.bulk_create(days_rows)
    PlannedVisit.objects.bulk_create(visits, batch_size=1000)
    UnmetVisit.objects.bulk_create([UnmetVisit(run=run, owner=user, account_id=u.account_id,
                                               day=u.day, reason=u.reason[:200])
                                    for u in plan.unmet], batch_size=1000)


def _day_row(user: User, route: engine.DayRoute, run: VisitPlanRun | None) -> PlannedDay:
    return PlannedDay(
        owner=user, day=route.day, run=run,
        leave_home=planner.clock(route.leave_home) if route.leave_home is not None else None,
        back_home=planner.clock(route.back_home) if route.back_home is not None else None,
        lunch_start=planner.clock(route.lunch_start) if route.lunch_start is not None
        else None,
        travel_minutes=Decimal(str(round(route.travel_minutes, 1))),
        travel_km=Decimal(str(round(route.travel_km, 2))))


# --- the rep's day ----------------------------------------------------------------------


def _visit_for_change(visit: PlannedVisit, by: User, version: int | None) -> PlannedVisit:
    require(by, "visit", "change", visit)
    locked = PlannedVisit.objects.select_for_update().get(pk=visit.pk)
    claim_version(locked, version)
    return locked


def checked_position(latitude: Decimal | None, longitude: Decimal | None) -> tuple:
    """Both coordinates or neither, each within its range; the error names the field."""
    if (latitude is None) != (longitude is None):
        raise ValidationError({"latitude" if latitude is None else "longitude":
                               "Give both latitude and longitude, or neither."})
    if latitude is not None and not -90 <= latitude <= 90:
        raise ValidationError({"latitude": "Latitude runs from -90 to 90."})
    if longitude is not None and not -180 <= longitude <= 180:
        raise ValidationError({"longitude": "Longitude runs from -180 to 180."})
    return latitude, longitude


@transaction.atomic
def check_in(visit: PlannedVisit, *, by: User, version: int | None,
             latitude: Decimal | None = None, longitude: Decimal | None = None) -> PlannedVisit:
    """The rep is at the account: the visit is logged as a meeting on the account (with
    where the phone says they are, if it says)."""
    lat, lon = checked_position(latitude, longitude)
    visit = _visit_for_change(visit, by, version)
    if visit.status != VisitStatus.PLANNED:
        raise ValidationError({"status": f"This visit is {visit.get_status_display().lower()}"
                                         "; only a planned visit can be checked in."})
    now = timezone.now()
    where = f"Checked in at {lat}, {lon}." if lat is not None else "Checked in."
    minutes_planned = _planned_minutes(visit)
    activity = activity_services.log_activity(by=by, data={
        "kind": "meeting", "subject": f"Visit: {visit.account.name}"[:200],
        "description": where, "due_at": now, "duration_minutes": minutes_planned,
        "account": visit.account, "owner": visit.owner})
    visit.status, visit.checked_in_at, visit.activity = VisitStatus.CHECKED_IN, now, activity
    visit.latitude, visit.longitude = lat, lon
    visit.save(update_fields=["status", "checked_in_at", "activity", "latitude", "longitude",
                              "updated_at"])
    audit.record_changes(visit, {"status": (VisitStatus.PLANNED, visit.status)}, by)
    return visit


def _planned_minutes(visit: PlannedVisit) -> int:
    if visit.starts and visit.ends:
        return planner.minutes(visit.ends) - planner.minutes(visit.starts)
    return planner.settings().default_duration_minutes


@transaction.atomic
def check_out(visit: PlannedVisit, *, by: User, version: int | None, outcome: str = "",
              notes: str = "") -> PlannedVisit:
    """The visit is over: its meeting is done, with how long it took and what came of it."""
    visit = _visit_for_change(visit, by, version)
    if visit.status != VisitStatus.CHECKED_IN:
        raise ValidationError({"status": "Check in before checking out."})
    now = timezone.now()
    visit.status, visit.checked_out_at = VisitStatus.DONE, now
    visit.save(update_fields=["status", "checked_out_at", "updated_at"])
    if visit.activity is not None:
        spent = max(1, round((now - (visit.checked_in_at or now)).total_seconds() / 60))
        description = "\n".join(filter(None, [visit.activity.description, notes.strip()]))
        activity_services.update_activity(visit.activity, by=by, data={
            "done": True, "outcome": outcome, "duration_minutes": spent,
            "description": description})
    audit.record_changes(visit, {"status": (VisitStatus.CHECKED_IN, visit.status)}, by)
    return visit


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why."})
    return reason[:300]


@transaction.atomic
def skip(visit: PlannedVisit, *, by: User, version: int | None, reason: str,
         reschedule: bool = False) -> PlannedVisit:
    """Skip a planned visit with a reason; the rest of its day is re-planned at once
    (and, with `reschedule`, the visit goes to the day of the week with most room)."""
    reason = _reason(reason)
    visit = _visit_for_change(visit, by, version)
    if visit.status != VisitStatus.PLANNED:
        raise ValidationError({"status": "Only a planned visit can be skipped."})
    visit.status, visit.reason = VisitStatus.SKIPPED, reason
    visit.save(update_fields=["status", "reason", "updated_at"])
    audit.record_changes(visit, {"status": (VisitStatus.PLANNED, visit.status),
                                 "reason": ("", reason)}, by)
    replan_day(visit.owner, visit.day)
    if reschedule:
        later = _day_with_room(visit.owner, visit.day)
        if later is not None:
            PlannedVisit.objects.create(owner=visit.owner, account=visit.account, day=later,
                                        sequence=999, reason=f"Moved: {reason}"[:300])
            replan_day(visit.owner, later)
    return visit


@transaction.atomic
def move(visit: PlannedVisit, *, by: User, version: int | None, day: date,
         reason: str) -> PlannedVisit:
    """Move a planned visit to another day with a reason; both days are re-planned."""
    reason = _reason(reason)
    visit = _visit_for_change(visit, by, version)
    if visit.status != VisitStatus.PLANNED:
        raise ValidationError({"status": "Only a planned visit can be moved."})
    if day < company_today():
        raise ValidationError({"day": "Move a visit to today or later."})
    if day.weekday() not in visit.owner.working_weekdays:
        raise ValidationError({"day": "The rep does not work that day."})
    old = visit.day
    visit.day, visit.reason, visit.sequence = day, reason, 999
    visit.save(update_fields=["day", "reason", "sequence", "updated_at"])
    audit.record_changes(visit, {"day": (old, day), "reason": ("", reason)}, by)
    replan_day(visit.owner, old)
    replan_day(visit.owner, day)
    visit.refresh_from_db()
    return visit


def _day_with_room(user: User, after: date) -> date | None:
    """The remaining working day of the week with the fewest planned visits."""
    monday = after - timedelta(days=after.weekday())
    days = [monday + timedelta(days=i) for i in range(7)]
    candidates = [d for d in days if d > after and d.weekday() in user.working_weekdays]
    if not candidates:
        return None
    load = {d: PlannedVisit.objects.filter(owner=user, day=d,
                                           status=VisitStatus.PLANNED).count()
            for d in candidates}
    return min(candidates, key=lambda d: (load[d], d))


def replan_day(user: User, day: date) -> engine.DayRoute:
    """Route the day's remaining planned visits again: from where the rep is (the last
    visit checked in or done) and from now when the day is today."""
    config = planner.settings()
    rows = list(PlannedVisit.objects.filter(owner=user, day=day)
                .select_related("account").order_by("sequence", "id"))
    remaining = [v for v in rows if v.status == VisitStatus.PLANNED]
    visited = [v for v in rows if v.status in (VisitStatus.CHECKED_IN, VisitStatus.DONE)]
    start, start_place = None, None
    if visited:
        last = max(visited, key=lambda v: v.checked_in_at or timezone.now())
        start_place = planner.place_of(last.account)
        start = planner.minutes(last.ends or time(0))
    if day == company_today():
        now = company_now()
        start = max(start or 0, now.hour * 60 + now.minute)
    wanted = planner.account_visits([v.account for v in remaining], day, 1, config)
    wanted = [_one(v) for v in wanted]
    rep = planner.rep_calendar(user, day, 1, config, [v.account for v in rows])
    lunch_taken = start is not None and rep.lunch is not None and start > rep.lunch.latest
    route = engine.route_day(rep, day, wanted, matrix=planner.matrix_source(config),
                             budget=engine.Budget(config.solver_solutions), start=start,
                             start_place=start_place, with_lunch=not lunch_taken)
    _write_route(user, day, route, remaining, first=len(visited) + 1)
    return route


def _one(visit: engine.AccountVisits) -> engine.AccountVisits:
    from dataclasses import replace

    return replace(visit, visits=1)


def _write_route(user: User, day: date, route: engine.DayRoute,
                 remaining: list[PlannedVisit], first: int) -> None:
    by_account: dict[int, list[PlannedVisit]] = {}
    for v in remaining:
        by_account.setdefault(v.account_id, []).append(v)
    n = first
    for stop in route.stops:
        if stop.kind != "visit" or not by_account.get(int(stop.ref)):
            continue
        row = by_account[int(stop.ref)].pop(0)
        PlannedVisit.objects.filter(pk=row.pk).update(
            sequence=n, arrive=planner.clock(stop.arrive), starts=planner.clock(stop.start),
            ends=planner.clock(stop.end), travel_minutes=Decimal(str(stop.travel_minutes)),
            travel_km=Decimal(str(stop.travel_km)))
        n += 1
    for rows in by_account.values():  # no longer fits in the day
        for row in rows:
            PlannedVisit.objects.filter(pk=row.pk).update(
                sequence=n, arrive=None, starts=None, ends=None,
                reason="No longer fits in the day: move it or skip it.")
            n += 1
    existing = PlannedDay.objects.filter(owner=user, day=day).first()
    fresh = _day_row(user, route, existing.run if existing else None)
    if existing is not None:
        fresh.pk = existing.pk
    fresh.save()


def may_plan(user: User) -> bool:
    from salesplan.core.registry import allowed

    return allowed(user, "visit_plan", "run")
