"""From the database to the visit planner and back: each account's visits (frequency,
duration, opening hours, value), each rep's selling calendar (home base, hours, lunch,
holidays, leave, meetings already booked), travel times, and the plan written back."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

import requests
from django.db.models import Q

from salesplan.activities.models import Activity, ActivityKind
from salesplan.core.clock import company_date, in_company_time
from salesplan.customers.models import Account
from salesplan.engines import visit_planning as engine
from salesplan.org.models import Company, Holiday, User
from salesplan.planning.models import EffortAllocationRun, Leave, RunStatus

from .models import FrequencyRule, PlannedVisit, VisitProfile, VisitSettings, VisitStatus

log = logging.getLogger(__name__)
DAYS_PER_MONTH = Decimal("30.4375")


def settings() -> VisitSettings:
    found = VisitSettings.objects.order_by("id").first()
    return found if found is not None else VisitSettings.objects.create()


def minutes(at: time) -> int:
    return at.hour * 60 + at.minute


def clock(value: int) -> time:
    value = max(0, min(value, 24 * 60 - 1))
    return time(value // 60, value % 60)


def travel_model(config: VisitSettings) -> engine.TravelModel:
    return engine.TravelModel(float(config.circuity), float(config.average_speed_kmh))


def matrix_source(config: VisitSettings) -> engine.MatrixSource:
    """The company's routing server (OSRM's table service) when one is set, falling
    back to the estimate when it does not answer."""
    estimate = engine.model_matrix(travel_model(config))
    if not config.routing_server_url:
        return estimate
    base = config.routing_server_url.rstrip("/")

    def table(places):
        coords = ";".join(f"{p.lon:.6f},{p.lat:.6f}" for p in places)
        try:
            answer = requests.get(f"{base}/table/v1/driving/{coords}",
                                  params={"annotations": "duration,distance"}, timeout=10)
            answer.raise_for_status()
            body = answer.json()
            mins = [[(s or 0) / 60.0 for s in row] for row in body["durations"]]
            km = [[(m or 0) / 1000.0 for m in row] for row in body["distances"]]
            return mins, km
        except (requests.RequestException, KeyError, ValueError, TypeError) as exc:
            log.warning("Routing server %s did not answer (%s); estimating travel.", base, exc)
            return estimate(places)

    return table


# --- frequencies ------------------------------------------------------------------------


@dataclass(frozen=True)
class Frequency:
    per_month: Decimal
    source: str  # "by hand", "effort plan", "rule" or "none"
    duration: int


def _effort_frequencies() -> tuple[dict[int, Decimal], dict[tuple[int, str], Decimal]]:
    """Calls a month per account, and per (rep, segment), from the last applied effort
    run."""
    run = (EffortAllocationRun.objects.filter(status=RunStatus.SUCCEEDED,
                                              applied_at__isnull=False)
           .order_by("-applied_at", "-id").first())
    per_account: dict[int, Decimal] = {}
    per_segment: dict[tuple[int, str], Decimal] = {}
    if run is None:
        return per_account, per_segment
    for account_id, rep_id, segment, _n, _current, chosen in run.result.get("units", []):
        value = Decimal(str(chosen))
        if account_id is not None:
            per_account[account_id] = value
        else:
            per_segment[(rep_id, segment)] = value
    return per_account, per_segment


def chunks(ids: list[int], size: int = 5000) -> list[list[int]]:
    """Ids in slices a database takes as query parameters."""
    return [ids[i:i + size] for i in range(0, len(ids), size)]


def frequencies(accounts: list[Account], config: VisitSettings) -> dict[int, Frequency]:
    """Each account's visits a month and where the figure comes from: set by hand on the
    account, else the applied effort plan, else the rule of its tier and industry."""
    profiles = {p.account_id: p for chunk in chunks([a.pk for a in accounts])
                for p in VisitProfile.objects.filter(account__in=chunk)}
    rules = {(r.tier, r.industry): r for r in FrequencyRule.objects.all()}
    per_account, per_segment = _effort_frequencies()
    found = {}
    for account in accounts:
        profile = profiles.get(account.pk)
        rule = next((rules[k] for k in ((account.tier, account.industry), (account.tier, ""),
                                        ("", account.industry), ("", "")) if k in rules), None)
        duration = ((profile.duration_minutes if profile else None)
                    or (rule.duration_minutes if rule else None)
                    or config.default_duration_minutes)
        segment = f"{account.tier or '-'}|{account.industry or '-'}"
        if profile is not None and profile.visits_per_month is not None:
            found[account.pk] = Frequency(profile.visits_per_month, "by hand", duration)
        elif account.pk in per_account:
            found[account.pk] = Frequency(per_account[account.pk], "effort plan", duration)
        elif (account.owner_id, segment) in per_segment:
            found[account.pk] = Frequency(per_segment[(account.owner_id, segment)],
                                          "effort plan", duration)
        elif rule is not None:
            found[account.pk] = Frequency(rule.visits_per_month, "rule", duration)
        else:
            found[account.pk] = Frequency(Decimal(0), "none", duration)
    return found


def visits_in(per_month: Decimal, days: int) -> int:
    """Whole visits over `days` calendar days at a monthly frequency."""
    return int((per_month * days / DAYS_PER_MONTH).quantize(Decimal(1), ROUND_HALF_UP))


def opening_windows(hours: dict) -> dict[int, tuple[engine.Window, ...]] | None:
    if not hours:
        return None
    return {int(day): tuple(engine.Window(minutes(time.fromisoformat(a)),
                                          minutes(time.fromisoformat(b))) for a, b in spans)
            for day, spans in hours.items()}


def place_of(obj, lat: str = "latitude", lon: str = "longitude") -> engine.Place | None:
    la, lo = getattr(obj, lat), getattr(obj, lon)
    return None if la is None or lo is None else engine.Place(float(la), float(lo))


def account_visits(accounts: list[Account], start: date, days: int,
                   config: VisitSettings) -> list[engine.AccountVisits]:
    freq = frequencies(accounts, config)
    profiles = {p.account_id: p for p in
                VisitProfile.objects.filter(account__in=[a.pk for a in accounts])}
    last = last_visits([a.pk for a in accounts])
    rows = []
    for account in accounts:
        f = freq[account.pk]
        profile = profiles.get(account.pk)
        closed = frozenset(date.fromisoformat(d) for d in (profile.no_visit_dates
                                                           if profile else []))
        value = float(account.potential or account.annual_revenue or 1)
        rows.append(engine.AccountVisits(
            account.pk, place_of(account), visits_in(f.per_month, days), f.duration,
            value, opening_windows(profile.opening_hours if profile else {}), closed,
            last.get(account.pk), account.name))
    return rows


def last_visits(account_ids: list[int]) -> dict[int, date]:
    """The day each account was last visited (a done meeting)."""
    from django.db.models import Max

    rows = (Activity.objects.filter(account_id__in=account_ids, kind=ActivityKind.MEETING,
                                    done=True)
            .values("account_id").annotate(last=Max("done_at")))
    return {r["account_id"]: company_date(r["last"]) for r in rows if r["last"]}


@dataclass(frozen=True)
class VisitsToPlan:
    """What the frequencies ask of a rep over a horizon, less what is already done."""

    asked: int
    done: int  # visits in the horizon already checked in or done that count towards it
    left: list[engine.AccountVisits]


def visits_to_plan(user: User, accounts: list[Account], start: date, days: int,
                   config: VisitSettings) -> VisitsToPlan:
    """The accounts' visits over the horizon less the rep's visits there already checked
    in or done: those count towards the frequency and are not planned again."""
    wanted = account_visits(accounts, start, days, config)
    visited = already_visited(user, start, days)
    left = [replace(v, visits=max(0, v.visits - visited.get(v.account_id, 0)))
            for v in wanted]
    asked = sum(v.visits for v in wanted)
    return VisitsToPlan(asked, asked - sum(v.visits for v in left), left)


def already_visited(user: User, start: date, days: int) -> dict[int, int]:
    """Per account, the rep's visits in the horizon already checked in or done."""
    counts: dict[int, int] = {}
    for account_id in PlannedVisit.objects.filter(
            owner=user, day__gte=start, day__lt=start + timedelta(days=days),
            status__in=[VisitStatus.CHECKED_IN, VisitStatus.DONE]).values_list("account_id",
                                                                                 flat=True):
        counts[account_id] = counts.get(account_id, 0) + 1
    return counts


# --- reps -------------------------------------------------------------------------------


def rep_calendar(user: User, start: date, days: int, config: VisitSettings,
                 accounts: list[Account] | None = None) -> engine.Rep:
    end = start + timedelta(days=days - 1)
    home = place_of(user, "home_latitude", "home_longitude")
    if home is None:  # no home base yet: the middle of their accounts
        placed = [p for p in (place_of(a) for a in accounts or []) if p is not None]
        home = (engine.Place(sum(p.lat for p in placed) / len(placed),
                             sum(p.lon for p in placed) / len(placed))
                if placed else engine.Place(0.0, 0.0))
    off = set(Holiday.objects.filter(company=Company.current(), date__gte=start,
                                     date__lte=end).values_list("date", flat=True))
    for leave in Leave.objects.filter(resource__user=user, start__lte=end, end__gte=start):
        day = max(leave.start, start)
        while day <= min(leave.end, end):
            off.add(day)
            day += timedelta(days=1)
    lunch = engine.Lunch(minutes(config.lunch_earliest), minutes(config.lunch_latest),
                         config.lunch_minutes) if config.lunch_minutes else None
    return engine.Rep(user.pk, home, frozenset(user.working_weekdays),
                      engine.Window(minutes(user.work_starts), minutes(user.work_ends)),
                      lunch, frozenset(off), tuple(appointments(user, start, end)))


def appointments(user: User, start: date, end: date) -> list[engine.Appointment]:
    """Meetings already in the rep's calendar that are not planned visits: kept as they
    are (where their account is)."""
    visit_activities = PlannedVisit.objects.filter(owner=user, activity__isnull=False) \
        .values("activity_id")
    meetings = (Activity.objects.filter(owner=user, kind=ActivityKind.MEETING, done=False,
                                        due_at__date__gte=start - timedelta(days=1),
                                        due_at__date__lte=end + timedelta(days=1))
                .exclude(pk__in=visit_activities).select_related("account"))
    found = []
    for meeting in meetings:
        local: datetime = in_company_time(meeting.due_at)
        if not start <= local.date() <= end:
            continue
        begin = local.hour * 60 + local.minute
        found.append(engine.Appointment(
            f"activity-{meeting.pk}", local.date(), begin,
            min(begin + (meeting.duration_minutes or 60), 24 * 60 - 1),
            place_of(meeting.account) if meeting.account else None, meeting.subject))
    return found


def rep_accounts(user: User) -> list[Account]:
    return list(Account.objects.filter(owner=user)
                .filter(~Q(lifecycle="former")).order_by("pk"))
