"""Reads of field visits, already limited to what the user may see: a rep their own
visits, a manager their teams', an admin and the executive everyone's."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, Max, Q, QuerySet, Sum

from salesplan.activities.models import Activity, ActivityKind
from salesplan.core.clock import company_date, company_today
from salesplan.core.errors import NotFound
from salesplan.core.permissions import require
from salesplan.customers.models import Account, Tier
from salesplan.org.models import User

from . import planner
from . import workload as workload_days
from .models import PlannedDay, PlannedVisit, UnmetVisit, VisitStatus


def visits(user: User) -> QuerySet[PlannedVisit]:
    """The visits the user may see."""
    require(user, "visit", "view")
    return PlannedVisit.objects.visible_to(user).select_related("account", "owner")


def visit(user: User, pk: int) -> PlannedVisit:
    """One visit the user may see; NotFound alike for a missing one and another's."""
    found = visits(user).filter(pk=pk).first()
    if found is None:
        raise NotFound(f"No visit with id {pk}.")
    return found


def rep_for(user: User, rep_id: int | None) -> User:
    """Whose visits to show: the user's own, or a rep they may see."""
    if rep_id is None or rep_id == user.pk:
        return user
    visible = user.visible_owner_ids
    if user.role == "rep" or (visible is not None and rep_id not in visible):
        raise NotFound(f"No rep with id {rep_id}.")
    rep = User.objects.filter(pk=rep_id).first()
    if rep is None:
        raise NotFound(f"No rep with id {rep_id}.")
    return rep


@dataclass
class Day:
    rep: User
    day: date
    stops: list[PlannedVisit]
    plan: PlannedDay | None
    home: tuple[float, float] | None

    @property
    def open_stops(self) -> list[PlannedVisit]:
        return [s for s in self.stops if s.status in (VisitStatus.PLANNED,
                                                      VisitStatus.CHECKED_IN)]


def day_of(user: User, rep_id: int | None = None, day: date | None = None) -> Day:
    """A rep's day: the ordered stops with their times, and the route's day figures."""
    require(user, "visit", "view")
    rep = rep_for(user, rep_id)
    day = day or company_today()
    stops = list(visits(user).filter(owner=rep, day=day).order_by("sequence", "id"))
    plan = PlannedDay.objects.visible_to(user).filter(owner=rep, day=day).first()
    home = (float(rep.home_latitude), float(rep.home_longitude)) \
        if rep.home_latitude is not None and rep.home_longitude is not None else None
    return Day(rep, day, stops, plan, home)


def _projector(coords: list[tuple[float, float]], width: int, height: int,
               pad: int = 16):
    """Places latitude and longitude on a small SVG (north up, no map tiles)."""
    lats, lons = [c[0] for c in coords], [c[1] for c in coords]
    span_lat, span_lon = max(max(lats) - min(lats), 1e-4), max(max(lons) - min(lons), 1e-4)

    def xy(lat: float, lon: float) -> tuple[float, float]:
        return (round(pad + (lon - min(lons)) / span_lon * (width - 2 * pad), 1),
                round(pad + (max(lats) - lat) / span_lat * (height - 2 * pad), 1))

    return xy


def _route_points(stops: list[PlannedVisit]) -> list[tuple[float, float, PlannedVisit]]:
    return [(float(s.account.latitude), float(s.account.longitude), s)
            for s in stops if s.account.latitude is not None
            and s.account.longitude is not None and s.status != VisitStatus.SKIPPED]


def _path(xy, home: tuple[float, float] | None, points) -> str:
    path = [xy(*home)] if home else []
    path += [xy(lat, lon) for lat, lon, _ in points] + ([xy(*home)] if home else [])
    return " ".join(f"{x},{y}" for x, y in path)


def route_map(day: Day, width: int = 320, height: int = 220) -> dict:
    """The day's route as points on a small SVG (no map tiles): home, then each stop."""
    points = _route_points(day.stops)
    coords = [(lat, lon) for lat, lon, _ in points] + ([day.home] if day.home else [])
    if not coords:
        return {"points": [], "path": "", "width": width, "height": height, "home": None}
    xy = _projector(coords, width, height)
    marks = [{"x": xy(lat, lon)[0], "y": xy(lat, lon)[1], "n": i + 1, "visit": s}
             for i, (lat, lon, s) in enumerate(points)]
    return {"points": marks, "home": xy(*day.home) if day.home else None, "width": width,
            "height": height, "path": _path(xy, day.home, points)}


def navigation_url(visit: PlannedVisit) -> str:
    """A link the phone opens in its maps app (coordinates, else the address)."""
    account = visit.account
    if account.latitude is not None and account.longitude is not None:
        return f"https://www.openstreetmap.org/directions?to={account.latitude},{account.longitude}"
    from urllib.parse import quote

    where = ", ".join(p for p in (account.street, account.city, account.postal_code) if p)
    return f"https://www.openstreetmap.org/search?query={quote(where)}"


# --- a rep's week ------------------------------------------------------------------------


SEGMENT_LABELS = {"drive": "Driving", "visit": "Visit", "appointment": "Appointment",
                  "lunch": "Lunch", "idle": "Idle"}


@dataclass
class Segment:
    """A stretch of a rep's day on the timeline, in minutes after midnight (company time)."""

    kind: str  # "drive", "visit", "appointment", "lunch" or "idle"
    start: int
    end: int
    label: str = ""
    status: str = ""
    x: int = 0  # minutes after the week's first hour, where the bar draws it

    @property
    def minutes(self) -> int:
        return self.end - self.start

    @property
    def kind_label(self) -> str:
        return SEGMENT_LABELS[self.kind]

    @property
    def starts_at(self):
        return planner.clock(self.start)

    @property
    def ends_at(self):
        return planner.clock(self.end)


@dataclass
class Leg:
    """A drive: to a stop, or "Home" — the rest of the day's routed driving, which is the
    drive back home and any drive to a fixed appointment (not stored apart)."""

    to: str
    minutes: Decimal
    km: Decimal


@dataclass
class WeekDay:
    """One day of a rep's week: its stops, its drives and its timeline."""

    day: date
    stops: list[PlannedVisit]
    plan: PlannedDay | None
    legs: list[Leg]
    segments: list[Segment]

    def _count(self, *statuses: str) -> int:
        return sum(1 for s in self.stops if s.status in statuses)

    @property
    def planned(self) -> int:
        return self._count(VisitStatus.PLANNED, VisitStatus.CHECKED_IN)

    @property
    def done(self) -> int:
        return self._count(VisitStatus.DONE)

    @property
    def skipped(self) -> int:
        return self._count(VisitStatus.SKIPPED)

    @property
    def km(self) -> Decimal:
        return sum((leg.km for leg in self.legs), Decimal(0))

    @property
    def driving_minutes(self) -> Decimal:
        return sum((leg.minutes for leg in self.legs), Decimal(0))

    @property
    def working_minutes(self) -> int:
        plan = self.plan
        if plan is None or plan.leave_home is None or plan.back_home is None:
            return 0
        return planner.minutes(plan.back_home) - planner.minutes(plan.leave_home)

    @property
    def driving_share(self) -> Decimal | None:
        if not self.working_minutes:
            return None
        return (self.driving_minutes / self.working_minutes).quantize(Decimal("0.001"))


@dataclass
class Week:
    """A rep's week for their manager: each working day's route on one map and one
    timeline, with the day's figures and the week's."""

    rep: User
    monday: date
    days: list[WeekDay]
    first_minute: int
    last_minute: int
    route_map: dict

    @property
    def hours(self) -> list[dict]:
        """Each whole hour of the timeline: its label and where its line is drawn."""
        return [{"label": f"{h:02d}:00", "x": h * 60 - self.first_minute}
                for h in range(self.first_minute // 60, self.last_minute // 60)]

    @property
    def span(self) -> int:
        return self.last_minute - self.first_minute

    @property
    def totals(self) -> dict:
        working = sum(d.working_minutes for d in self.days)
        driving = sum((d.driving_minutes for d in self.days), Decimal(0))
        return {"km": sum((d.km for d in self.days), Decimal(0)), "driving_minutes": driving,
                "driving_share": (driving / working).quantize(Decimal("0.001"))
                if working else None,
                "planned": sum(d.planned for d in self.days),
                "done": sum(d.done for d in self.days),
                "skipped": sum(d.skipped for d in self.days)}


def week_of(user: User, rep_id: int, day: date | None = None) -> Week:
    """A rep's week (Monday to Sunday around `day`): the rep's working days and any day
    with visits. NotFound for a rep the user may not see."""
    require(user, "visit", "view")
    rep = rep_for(user, rep_id)
    day = day or company_today()
    monday = day - timedelta(days=day.weekday())
    sunday = monday + timedelta(days=6)
    stops = list(visits(user).filter(owner=rep, day__gte=monday, day__lte=sunday)
                 .order_by("day", "sequence", "id"))
    plans = {p.day: p for p in PlannedDay.objects.visible_to(user)
             .filter(owner=rep, day__gte=monday, day__lte=sunday)}
    meetings = planner.appointments(rep, monday, sunday)
    lunch = planner.settings().lunch_minutes
    shown = [monday + timedelta(days=i) for i in range(7)
             if i in rep.working_weekdays or any(s.day.weekday() == i for s in stops)]
    days = [_week_day(d, [s for s in stops if s.day == d], plans.get(d),
                      [m for m in meetings if m.day == d], lunch) for d in shown]
    first, last = _axis(days)
    for d in days:
        for segment in d.segments:
            segment.x = segment.start - first
    home = (float(rep.home_latitude), float(rep.home_longitude)) \
        if rep.home_latitude is not None and rep.home_longitude is not None else None
    return Week(rep, monday, days, first, last, _week_map(days, home))


def _week_day(day: date, stops: list[PlannedVisit], plan: PlannedDay | None,
              meetings: list, lunch_minutes: int) -> WeekDay:
    routed = [s for s in stops if s.status != VisitStatus.SKIPPED]
    legs = [Leg(s.account.name, s.travel_minutes, s.travel_km) for s in routed]
    if plan is not None:
        home_minutes = max(Decimal(0), plan.travel_minutes - sum(
            (leg.minutes for leg in legs), Decimal(0)))
        home_km = max(Decimal(0), plan.travel_km - sum((leg.km for leg in legs), Decimal(0)))
        if home_minutes or home_km:
            legs.append(Leg("Home", home_minutes, home_km))
    return WeekDay(day, stops, plan, legs, _timeline(routed, plan, meetings, lunch_minutes))


def _timeline(stops: list[PlannedVisit], plan: PlannedDay | None, meetings: list,
              lunch_minutes: int) -> list[Segment]:
    """Drives, visits, fixed appointments, lunch and idle time, in order. A drive starts
    when the stop before it ends (as the router plans it); the time a stop waits for
    its opening is idle."""
    events = [(planner.minutes(s.starts), planner.minutes(s.ends), math.ceil(s.travel_minutes),
               Segment("visit", planner.minutes(s.starts), planner.minutes(s.ends),
                       s.account.name, s.status))
              for s in stops if s.starts is not None and s.ends is not None]
    events += [(m.start, m.end, 0, Segment("appointment", m.start, m.end, m.label))
               for m in meetings]
    events.sort(key=lambda e: (e[0], e[1]))
    if plan is not None and plan.leave_home is not None:
        cursor = planner.minutes(plan.leave_home)
    elif events:
        cursor = events[0][0] - events[0][2]
    else:
        return []
    lunch = None
    if plan is not None and plan.lunch_start is not None and lunch_minutes:
        lunch = (planner.minutes(plan.lunch_start),
                 planner.minutes(plan.lunch_start) + lunch_minutes)
    segments: list[Segment] = []
    for start, end, drive, segment in events:
        segments += _gap(cursor, start, drive, lunch)
        segments.append(segment)
        cursor = max(cursor, end)
    if plan is not None and plan.back_home is not None:
        home_drive = max(0, math.ceil(plan.travel_minutes) - sum(e[2] for e in events))
        segments += _gap(cursor, planner.minutes(plan.back_home), home_drive, lunch)
    return segments


def _gap(start: int, end: int, drive: int, lunch: tuple[int, int] | None) -> list[Segment]:
    """Between two stops: the drive, lunch when it falls here, and the rest idle."""
    parts: list[Segment] = []

    def span(kind: str, a: int, b: int) -> None:
        if b > a:
            parts.append(Segment(kind, a, b))

    t = start
    if lunch is not None and start <= lunch[0] < end:
        before = min(drive, lunch[0] - t)
        span("drive", t, t + before)
        span("idle", t + before, lunch[0])
        drive, t = drive - before, min(lunch[1], end)
        span("lunch", lunch[0], t)
    span("drive", t, min(t + drive, end))
    span("idle", min(t + drive, end), end)
    return parts


def _axis(days: list[WeekDay]) -> tuple[int, int]:
    """Whole hours around every day's timeline, the same for each day (8–18 when empty)."""
    starts = [s.start for d in days for s in d.segments]
    ends = [s.end for d in days for s in d.segments]
    if not starts:
        return 8 * 60, 18 * 60
    return min(starts) // 60 * 60, min(24 * 60, -(-max(ends) // 60) * 60)


def _week_map(days: list[WeekDay], home: tuple[float, float] | None, width: int = 640,
              height: int = 400) -> dict:
    """Every day's route on one SVG, a colour per weekday."""
    routes = [(d, _route_points(d.stops)) for d in days]
    coords = [(lat, lon) for _, points in routes for lat, lon, _ in points]
    coords += [home] if home else []
    if not coords:
        return {"routes": [], "home": None, "width": width, "height": height}
    xy = _projector(coords, width, height)
    return {"width": width, "height": height, "home": xy(*home) if home else None,
            "routes": [{"day": d.day, "colour": d.day.weekday(),
                        "path": _path(xy, home, points),
                        "points": [{"x": xy(lat, lon)[0], "y": xy(lat, lon)[1], "n": i + 1,
                                    "visit": s} for i, (lat, lon, s) in enumerate(points)]}
                       for d, points in routes if points]}


# --- coverage ---------------------------------------------------------------------------


@dataclass
class TierCoverage:
    tier: str
    label: str
    required: int = 0
    planned: int = 0
    done: int = 0


@dataclass
class Coverage:
    start: date
    end: date
    tiers: list[TierCoverage]
    driving_share: Decimal | None
    overdue: list[dict] = field(default_factory=list)
    unmet: list[UnmetVisit] = field(default_factory=list)
    reps: list[User] = field(default_factory=list)

    @property
    def total(self) -> TierCoverage:
        row = TierCoverage("", "All tiers")
        for t in self.tiers:
            row.required += t.required
            row.planned += t.planned
            row.done += t.done
        return row


def _owners(user: User, rep_id: int | None) -> list[User]:
    if rep_id is not None:
        return [rep_for(user, rep_id)]
    if user.role == "rep":
        return [user]
    reps = User.objects.filter(is_active=True, role="rep")
    visible = user.visible_owner_ids
    return list(reps if visible is None else reps.filter(pk__in=visible))


def coverage(user: User, *, start: date | None = None, days: int = 28,
             rep_id: int | None = None, overdue_limit: int = 50) -> Coverage:
    """Required vs planned vs done visits per tier over a period, the share of the
    working day spent driving, and accounts not seen for longer than their frequency."""
    require(user, "visit_plan", "view")
    start = start or company_today()
    end = start + timedelta(days=days - 1)
    owners = _owners(user, rep_id)
    accounts = list(Account.objects.filter(owner__in=owners).exclude(lifecycle="former"))
    config = planner.settings()
    freq = planner.frequencies(accounts, config)
    labels = dict(Tier.choices)
    rows = {t: TierCoverage(t, labels.get(t, "No tier")) for t in [*labels, ""]}
    for account in accounts:
        rows[account.tier or ""].required += planner.visits_in(freq[account.pk].per_month, days)
    counts = (PlannedVisit.objects.filter(owner__in=owners, day__gte=start, day__lte=end)
              .values("account__tier")
              .annotate(planned=Count("id", filter=~Q(status=VisitStatus.SKIPPED)),
                        done=Count("id", filter=Q(status=VisitStatus.DONE))))
    for row in counts:
        tier = rows[row["account__tier"] or ""]
        tier.planned, tier.done = row["planned"], row["done"]
    share = _driving_share(owners, start, end)
    overdue = _overdue(accounts, freq, limit=overdue_limit)
    unmet = list(UnmetVisit.objects.visible_to(user).filter(owner__in=owners)
                 .filter(run__start__lte=end, run__start__gte=start - timedelta(days=days))
                 .select_related("account", "owner")[:200])
    return Coverage(start, end, [r for r in rows.values() if r.required or r.planned],
                    share, overdue, unmet, sorted(owners, key=str))


def _driving_share(owners: list[User], start: date, end: date) -> Decimal | None:
    days = PlannedDay.objects.filter(owner__in=owners, day__gte=start, day__lte=end)
    driving = days.aggregate(total=Sum("travel_minutes"))["total"]
    working = sum(planner.minutes(d.back_home) - planner.minutes(d.leave_home)
                  for d in days if d.back_home and d.leave_home)
    if not working or driving is None:
        return None
    return (Decimal(driving) / Decimal(working)).quantize(Decimal("0.001"))


def _overdue(accounts: list[Account], freq: dict, *, limit: int) -> list[dict]:
    """Accounts whose last visit is older than their interval (or never visited)."""
    today = company_today()
    last = dict(Activity.objects.filter(account__in=[a.pk for a in accounts],
                                        kind=ActivityKind.MEETING, done=True)
                .values("account_id").annotate(last=Max("done_at"))
                .values_list("account_id", "last"))
    rows: list[dict] = []
    for account in accounts:
        per_month = freq[account.pk].per_month
        if per_month <= 0:
            continue
        interval = int(planner.DAYS_PER_MONTH / per_month)
        seen = company_date(last[account.pk]) if account.pk in last else None
        late = (today - seen).days - interval if seen else None
        if seen is None or (late is not None and late > 0):
            rows.append({"account": account, "last_visit": seen, "interval_days": interval,
                         "days_late": late})
    rows.sort(key=lambda r: (r["last_visit"] is not None, -int(r["days_late"] or 0)))
    return rows[:limit]


# --- workload ---------------------------------------------------------------------------


@dataclass
class Workload:
    """Selling days a month a set of accounts needs against the days its reps have."""

    name: str
    accounts: int
    visits_per_month: Decimal
    required_days: Decimal
    available_days: Decimal

    @property
    def load(self) -> Decimal | None:
        if not self.available_days:
            return None
        return (self.required_days / self.available_days).quantize(Decimal("0.01"))


def workload(user: User, *, start: date | None = None) -> list[Workload]:
    """Per territory of the active map (else per rep): required selling days in the next
    month — visits × (duration + travel per visit) ÷ the selling minutes of a day — and
    the days its reps have (working days less holidays)."""
    from salesplan.territories import selectors as territory_reads

    require(user, "visit_plan", "view")
    start = start or company_today()
    config = planner.settings()
    owners = _owners(user, None)
    accounts = list(Account.objects.filter(owner__in=owners).exclude(lifecycle="former"))
    freq = planner.frequencies(accounts, config)
    days = workload_days.days_per_month(accounts, config)
    by_owner = {u.pk: u for u in owners}
    groups: dict[str, tuple[list[Account], list[User]]] = {}
    territory_of = territory_reads.territory_name_of_accounts([a.pk for a in accounts])
    for account in accounts:
        name = territory_of.get(account.pk) or str(by_owner[account.owner_id])
        group = groups.setdefault(str(name), ([], []))
        group[0].append(account)
        if by_owner[account.owner_id] not in group[1]:
            group[1].append(by_owner[account.owner_id])
    rows = []
    for name, (members, reps) in sorted(groups.items()):
        per_month = sum((freq[a.pk].per_month for a in members), Decimal(0))
        required = sum((days[a.pk] for a in members), Decimal(0))
        rows.append(Workload(name, len(members), per_month.quantize(Decimal("0.1")),
                             required.quantize(Decimal("0.1")),
                             workload_days.available_days(reps, start,
                                                          start + timedelta(days=29))))
    return rows


def profile(user: User, account_id: int):
    """An account the user sees and its visit profile (None until one is saved)."""
    from salesplan.core.selectors import get_visible

    from .models import VisitProfile

    require(user, "visit_profile", "view")
    account = get_visible(Account, user, account_id)
    return account, VisitProfile.objects.filter(account=account).first()


def calendar_visits(owner: User, since: date, limit: int = 2000) -> list[PlannedVisit]:
    """A rep's planned visits with a time, for their own calendar feed (visits checked in
    are meetings in the feed already)."""
    return list(PlannedVisit.objects.filter(owner=owner, day__gte=since,
                                            status=VisitStatus.PLANNED, starts__isnull=False)
                .select_related("account").order_by("day", "sequence", "id")[:limit])
