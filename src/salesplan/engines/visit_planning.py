"""Field visit planning: which accounts a rep sees on which day, in which order, and when.

Pure code, no Django import. Two steps, each on its own:

1. **Days** (`choose_days`): over a horizon (four weeks by default) each account's visits
   are spread over the days it can be visited — the rep's working days, minus holidays
   and leave, minus the account's closed weekdays and no-visit dates — evenly spaced
   (one visit every `days ÷ visits` selling days, none closer than half that), on the
   day whose stops lie nearest and which has room. Accounts of higher value choose first.
2. **Routes** (`route_day`): each day is routed from the rep's home base and back with
   OR-Tools' routing solver: opening hours (time windows), visit durations, the shift,
   a lunch break and fixed appointments (which are never dropped). When not everything
   fits, the visits worth least are left out first; each is reported with why.

Travel time is the great-circle distance × a circuity factor at an average speed
(`TravelModel`); a caller may hand in its own matrix instead (a routing server's table).
Solver work is bounded by a number of solutions and is deterministic, never by the clock.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

EARTH_RADIUS_KM = 6371.0088
DEFAULT_HORIZON_DAYS = 28
# Unmet reasons, in the user's words.
NO_LOCATION = "no location: the account has no coordinates"
NO_DAY = "no day in the horizon when both the rep works and the account can be visited"
TOO_FEW_DAYS = "more visits than days the account can be visited in the horizon"
NO_ROOM = "did not fit in the day: visits of higher value filled it"
NO_WINDOW = "cannot be reached within its opening hours on that day"


@dataclass(frozen=True)
class Place:
    """A point on the map, in degrees."""

    lat: float
    lon: float


@dataclass(frozen=True)
class TravelModel:
    """Road travel estimated from the straight line: km × circuity at an average speed."""

    circuity: float = 1.3
    speed_kmh: float = 50.0

    def km(self, a: Place, b: Place) -> float:
        return great_circle_km(a, b) * self.circuity

    def minutes(self, a: Place, b: Place) -> float:
        return self.km(a, b) / self.speed_kmh * 60.0


# A matrix source: places → (minutes, km) square matrices. The default is the model's.
MatrixSource = Callable[[Sequence[Place]], tuple[list[list[float]], list[list[float]]]]


def great_circle_km(a: Place, b: Place) -> float:
    """Haversine distance in kilometres."""
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def model_matrix(travel: TravelModel) -> MatrixSource:
    def source(places: Sequence[Place]) -> tuple[list[list[float]], list[list[float]]]:
        km = [[travel.km(a, b) for b in places] for a in places]
        return [[d / travel.speed_kmh * 60.0 for d in row] for row in km], km

    return source


# --- inputs -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """An opening interval in minutes after midnight, e.g. 8:00–12:00 is (480, 720)."""

    start: int
    end: int


@dataclass(frozen=True)
class AccountVisits:
    """One account's visits to plan: how many over the horizon, how long, what each is
    worth, when it is open (windows per weekday, Monday = 0; a weekday left out is closed;
    None means open whenever the rep works) and dates it cannot be visited."""

    account_id: int
    place: Place | None
    visits: int
    duration: int = 45
    value: float = 1.0
    windows: dict[int, tuple[Window, ...]] | None = None
    closed_dates: frozenset[date] = frozenset()
    last_visit: date | None = None
    label: str = ""

    def open_on(self, day: date) -> bool:
        if day in self.closed_dates:
            return False
        return self.windows is None or bool(self.windows.get(day.weekday()))

    def windows_on(self, day: date, shift: Window) -> tuple[Window, ...]:
        if self.windows is None:
            return (shift,)
        return self.windows.get(day.weekday(), ())


@dataclass(frozen=True)
class Appointment:
    """A meeting already in the rep's calendar: kept where and when it is."""

    key: str
    day: date
    start: int
    end: int
    place: Place | None = None
    label: str = ""


@dataclass(frozen=True)
class Lunch:
    """A break of `minutes` that starts between `earliest` and `latest`."""

    earliest: int = 12 * 60
    latest: int = 13 * 60 + 30
    minutes: int = 30


@dataclass(frozen=True)
class Rep:
    """A rep's selling calendar: home base (start and end of each day), working weekdays
    and hours, lunch, days off (holidays and leave) and fixed appointments."""

    rep_id: int
    home: Place
    working_weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    shift: Window = Window(8 * 60, 17 * 60)
    lunch: Lunch | None = Lunch()
    days_off: frozenset[date] = frozenset()
    appointments: tuple[Appointment, ...] = ()

    def works_on(self, day: date) -> bool:
        return day.weekday() in self.working_weekdays and day not in self.days_off

    def appointments_on(self, day: date) -> list[Appointment]:
        return [a for a in self.appointments if a.day == day]


@dataclass(frozen=True)
class Budget:
    """The solver's work: solutions examined per day route (no clock), and a seed for the
    day choice's tie-breaks."""

    solutions: int = 20
    seed: int = 0


# --- outputs ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Stop:
    """One stop of a day: a visit (account_id) or an appointment (appointment key)."""

    kind: str  # "visit" or "appointment"
    ref: int | str
    arrive: int
    start: int
    end: int
    travel_minutes: float
    travel_km: float


@dataclass(frozen=True)
class Unmet:
    account_id: int
    day: date | None
    reason: str


@dataclass
class DayRoute:
    day: date
    stops: list[Stop] = field(default_factory=list)
    lunch_start: int | None = None
    leave_home: int | None = None
    back_home: int | None = None
    travel_minutes: float = 0.0
    travel_km: float = 0.0
    dropped: list[int] = field(default_factory=list)

    @property
    def visit_minutes(self) -> int:
        return sum(s.end - s.start for s in self.stops if s.kind == "visit")

    @property
    def working_minutes(self) -> int:
        if self.leave_home is None or self.back_home is None:
            return 0
        return self.back_home - self.leave_home


@dataclass
class RepPlan:
    rep_id: int
    days: list[DayRoute]
    unmet: list[Unmet]

    @property
    def planned(self) -> int:
        return sum(1 for d in self.days for s in d.stops if s.kind == "visit")


# --- step 1: days -----------------------------------------------------------------------


def horizon_days(start: date, days: int = DEFAULT_HORIZON_DAYS) -> list[date]:
    from datetime import timedelta

    return [start + timedelta(days=i) for i in range(days)]


def _day_capacity(rep: Rep, day: date) -> int:
    minutes = rep.shift.end - rep.shift.start - (rep.lunch.minutes if rep.lunch else 0)
    return minutes - sum(a.end - a.start for a in rep.appointments_on(day))


@dataclass
class _DayLoad:
    minutes: float = 0.0
    lat: float = 0.0
    lon: float = 0.0
    count: int = 0

    def add(self, place: Place, minutes: float) -> None:
        self.minutes += minutes
        self.lat = (self.lat * self.count + place.lat) / (self.count + 1)
        self.lon = (self.lon * self.count + place.lon) / (self.count + 1)
        self.count += 1


def choose_days(
    rep: Rep,
    accounts: Sequence[AccountVisits],
    days: Sequence[date],
    travel: TravelModel = TravelModel(),
    fill: float = 0.8,
) -> tuple[dict[date, list[AccountVisits]], list[Unmet]]:
    """Each account's visit days over `days`, evenly spaced, on days with room (up to
    `fill` of the day's selling minutes go to visit time; the rest is left for driving)."""
    selling = [d for d in days if rep.works_on(d)]
    loads = {d: _DayLoad() for d in selling}
    capacity = {d: _day_capacity(rep, d) * fill for d in selling}
    chosen: dict[date, list[AccountVisits]] = {d: [] for d in selling}
    unmet: list[Unmet] = []
    order = sorted(accounts, key=lambda a: (-a.value, -a.visits, a.account_id))
    for account in order:
        if account.visits <= 0:
            continue
        if account.place is None:
            unmet += [Unmet(account.account_id, None, NO_LOCATION)] * account.visits
            continue
        open_days = [d for d in selling if account.open_on(d)]
        if not open_days:
            unmet += [Unmet(account.account_id, None, NO_DAY)] * account.visits
            continue
        picks = _best_days(account, open_days, loads, capacity, travel, rep)
        for d in picks:
            loads[d].add(account.place, account.duration)
            chosen[d].append(account)
        short = account.visits - len(picks)
        if short > 0:
            reason = TOO_FEW_DAYS if account.visits > len(open_days) else NO_ROOM
            unmet += [Unmet(account.account_id, None, reason)] * short
    return chosen, unmet


def _best_days(
    account: AccountVisits,
    open_days: list[date],
    loads: dict[date, _DayLoad],
    capacity: dict[date, float],
    travel: TravelModel,
    rep: Rep,
) -> list[date]:
    """The visit days of the evenly spaced pattern (over every offset) that cost least:
    distance to each day's other stops plus a heavy price for a day past its capacity."""
    n = min(account.visits, len(open_days))
    spacing = len(open_days) / n
    min_gap = max(1, math.floor(spacing / 2))
    last_offset = math.ceil(spacing) - 1
    if account.last_visit is not None:
        # An account seen long ago is due early: its first visit comes no later than one
        # interval (in calendar days) after the last.
        interval = (open_days[-1] - open_days[0]).days / n
        due = account.last_visit.toordinal() + interval
        last_offset = min(last_offset, sum(1 for d in open_days if d.toordinal() < due))
    best: tuple[float, list[date]] | None = None
    offsets = range(0, max(1, last_offset + 1))
    for offset in offsets:
        idx = [min(len(open_days) - 1, int(offset + k * spacing)) for k in range(n)]
        picks = _nudge(idx, open_days, loads, capacity, account, travel, rep, min_gap)
        if len(picks) < n and best is not None:
            continue
        cost = sum(_day_cost(d, loads, capacity, account, travel, rep) for d in picks)
        cost += 1e6 * (n - len(picks))
        if best is None or cost < best[0]:
            best = (cost, picks)
    return best[1] if best else []


def _nudge(
    idx: list[int], open_days: list[date], loads, capacity, account, travel, rep, min_gap: int
) -> list[date]:
    """Move each pattern day to the cheapest day within a third of the spacing, keeping
    visits of the account at least `min_gap` open days apart."""
    reach = max(0, (min_gap * 2) // 3)
    picked: list[int] = []
    for i in idx:
        lo = max(0, i - reach, (picked[-1] + min_gap) if picked else 0)
        hi = min(len(open_days) - 1, i + reach)
        if lo > hi:
            if picked and picked[-1] + min_gap <= len(open_days) - 1:
                lo = hi = picked[-1] + min_gap
            else:
                continue
        j = min(
            range(lo, hi + 1),
            key=lambda k: _day_cost(open_days[k], loads, capacity, account, travel, rep),
        )
        picked.append(j)
    return [open_days[j] for j in picked]


def _day_cost(
    day: date,
    loads: dict[date, _DayLoad],
    capacity: dict[date, float],
    account: AccountVisits,
    travel: TravelModel,
    rep: Rep,
) -> float:
    load = loads[day]
    if account.place is None:
        return math.inf
    centre = Place(load.lat, load.lon) if load.count else rep.home
    cost = travel.minutes(account.place, centre)
    over = load.minutes + account.duration - capacity[day]
    if over > 0:
        cost += 1000.0 + 10.0 * over
    return cost + 0.5 * load.count


# --- step 2: routes ---------------------------------------------------------------------


def route_day(
    rep: Rep,
    day: date,
    visits: Sequence[AccountVisits],
    *,
    matrix: MatrixSource | None = None,
    budget: Budget = Budget(),
    start: int | None = None,
    start_place: Place | None = None,
    with_lunch: bool = True,
) -> DayRoute:
    """The day's visits and appointments in order with their times, from the home base
    (or `start_place` at `start`, when re-planning the rest of a day) back to it.
    Visits that do not fit are dropped, lowest value first, and listed in `dropped`."""
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    matrix = matrix or model_matrix(TravelModel())
    day_start = rep.shift.start if start is None else max(start, rep.shift.start)
    end_of_day = rep.shift.end
    if day_start >= end_of_day:  # re-planning after the shift: nothing more fits today
        return DayRoute(day, dropped=[v.account_id for v in visits])
    spans = {
        v.account_id: _spans(v.windows_on(day, rep.shift), v.duration, day_start, end_of_day)
        for v in visits
    }
    unreachable = [v.account_id for v in visits if v.place is None or not spans[v.account_id]]
    visits = [v for v in visits if v.account_id not in unreachable]
    appointments = [a for a in rep.appointments_on(day) if a.start >= day_start]
    origin = start_place or rep.home
    places = [origin, rep.home] + [v.place for v in visits if v.place is not None]
    places += [a.place or origin for a in appointments]
    minutes, km = matrix(places)
    n_visits, n = len(visits), len(places)
    service = [0, 0] + [v.duration for v in visits] + [a.end - a.start for a in appointments]
    floating = {2 + n_visits + i for i, a in enumerate(appointments) if a.place is None}

    # Matrices (not Python callbacks) keep the solver's inner loop in C++.
    drive = [[0 if (i in floating or j in floating) else math.ceil(minutes[i][j])
              for j in range(n)] for i in range(n)]
    manager = pywrapcp.RoutingIndexManager(n, 1, [0], [1])
    routing = pywrapcp.RoutingModel(manager)
    time_cb = routing.RegisterTransitMatrix(
        [[service[i] + drive[i][j] for j in range(n)] for i in range(n)])
    cost_cb = routing.RegisterTransitMatrix(
        [[round(minutes[i][j] * 100) for j in range(n)] for i in range(n)])
    routing.SetArcCostEvaluatorOfAllVehicles(cost_cb)
    routing.AddDimension(time_cb, 24 * 60, end_of_day, False, "time")
    dim = routing.GetDimensionOrDie("time")
    dim.CumulVar(routing.Start(0)).SetRange(day_start, end_of_day)
    dim.CumulVar(routing.End(0)).SetRange(day_start, end_of_day)
    top_value = max((v.value for v in visits), default=1.0) or 1.0
    for k, visit in enumerate(visits):
        node = 2 + k
        index = manager.NodeToIndex(node)
        _set_windows(dim.CumulVar(index), spans[visit.account_id])
        # Travel costs are in hundredths of a minute; a visit is worth more than any
        # detour, and a more valuable visit more than a less valuable one.
        penalty = 10_000_000 + round(1_000_000 * max(visit.value, 0.0) / top_value)
        routing.AddDisjunction([index], penalty)
    for i, appointment in enumerate(appointments):
        index = manager.NodeToIndex(2 + n_visits + i)
        start_at = min(max(appointment.start, day_start), end_of_day)
        dim.CumulVar(index).SetRange(start_at, start_at)
    lunch = rep.lunch if with_lunch else None
    if lunch is not None and lunch.latest >= day_start:
        interval = routing.solver().FixedDurationIntervalVar(
            max(lunch.earliest, day_start), lunch.latest, lunch.minutes, False, "lunch"
        )
        dim.SetBreakIntervalsOfVehicle(
            [interval], 0, [service[manager.IndexToNode(i)] for i in range(routing.Size())]
        )
    routing.AddVariableMinimizedByFinalizer(dim.CumulVar(routing.End(0)))
    routing.AddVariableMaximizedByFinalizer(dim.CumulVar(routing.Start(0)))
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = (
        routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    )
    # Guided local search stops after `solutions` solutions; with fewer than two optional
    # visits it can run out of new solutions and would never stop, and plain descent to
    # a local optimum is exact there anyway.
    heuristics = routing_enums_pb2.LocalSearchMetaheuristic
    params.local_search_metaheuristic = (
        heuristics.GUIDED_LOCAL_SEARCH if n_visits >= 2 else heuristics.GREEDY_DESCENT)
    params.solution_limit = max(1, budget.solutions)
    solution = routing.SolveWithParameters(params)
    route = DayRoute(day)
    if solution is None:
        route.dropped = [v.account_id for v in visits] + unreachable
        return route
    _read_route(
        route,
        routing,
        manager,
        solution,
        dim,
        visits,
        appointments,
        minutes,
        km,
        service,
        floating,
        lunch.minutes if lunch else 0,
    )
    route.dropped += unreachable
    return route


def _spans(
    windows: Sequence[Window], duration: int, day_start: int, day_end: int
) -> list[tuple[int, int]]:
    """When service may start: it must start and end inside one opening window and the
    shift."""
    spans = sorted((max(w.start, day_start), min(w.end, day_end) - duration) for w in windows)
    return [(a, b) for a, b in spans if a <= b]


def _set_windows(cumul, spans: list[tuple[int, int]]) -> None:
    cumul.SetRange(spans[0][0], spans[-1][1])
    for (_, b), (a, _) in zip(spans, spans[1:], strict=False):
        if a > b + 1:
            cumul.RemoveInterval(b + 1, a - 1)


def _read_route(
    route,
    routing,
    manager,
    solution,
    dim,
    visits,
    appointments,
    minutes,
    km,
    service,
    floating,
    lunch_minutes,
) -> None:
    n_visits = len(visits)
    breaks = solution.IntervalVarContainer()
    for i in range(breaks.Size()):
        if breaks.Element(i).PerformedValue():
            route.lunch_start = breaks.Element(i).StartValue()
    index = routing.Start(0)
    route.leave_home = solution.Value(dim.CumulVar(index))
    seen: set[int] = set()
    prev = manager.IndexToNode(index)
    while not routing.IsEnd(index):
        index = solution.Value(routing.NextVar(index))
        node = manager.IndexToNode(index)
        moving = 0.0 if (prev in floating or node in floating) else minutes[prev][node]
        dist = 0.0 if (prev in floating or node in floating) else km[prev][node]
        route.travel_minutes += moving
        route.travel_km += dist
        begin = solution.Value(dim.CumulVar(index))
        if routing.IsEnd(index):
            route.back_home = begin
            break
        seen.add(node)
        prev_end = route.stops[-1].end if route.stops else route.leave_home
        arrive = prev_end + math.ceil(moving) if node not in floating else begin
        if route.lunch_start is not None and prev_end <= route.lunch_start < begin:
            arrive += lunch_minutes
        if node - 2 < n_visits:
            ref: int | str = visits[node - 2].account_id
            kind = "visit"
        else:
            ref, kind = appointments[node - 2 - n_visits].key, "appointment"
        route.stops.append(
            Stop(
                kind,
                ref,
                min(arrive, begin),
                begin,
                begin + service[node],
                round(moving, 1),
                round(dist, 2),
            )
        )
        prev = node
    route.dropped = [v.account_id for k, v in enumerate(visits) if 2 + k not in seen]


# --- both steps -------------------------------------------------------------------------


def plan_rep(
    rep: Rep,
    accounts: Sequence[AccountVisits],
    days: Sequence[date],
    *,
    travel: TravelModel = TravelModel(),
    matrix: MatrixSource | None = None,
    budget: Budget = Budget(),
) -> RepPlan:
    """A rep's horizon: days chosen, each day routed; each visit left out is reported."""
    by_day, unmet = choose_days(rep, accounts, days, travel)
    matrix = matrix or model_matrix(travel)
    routes = []
    for day in sorted(by_day):
        if not by_day[day] and not rep.appointments_on(day):
            continue
        route = route_day(rep, day, by_day[day], matrix=matrix, budget=budget)
        routes.append(route)
        unmet += [Unmet(a, day, _why_dropped(rep, day, by_day[day], a)) for a in route.dropped]
    return RepPlan(rep.rep_id, routes, unmet)


def _why_dropped(rep: Rep, day: date, visits: Sequence[AccountVisits], account_id: int) -> str:
    visit = next(v for v in visits if v.account_id == account_id)
    fits = any(w.end - w.start >= visit.duration for w in visit.windows_on(day, rep.shift))
    return NO_ROOM if fits else NO_WINDOW


def check_route(
    rep: Rep, route: DayRoute, visits: Sequence[AccountVisits], matrix: MatrixSource | None = None
) -> list[str]:
    """What a route breaks, in words (empty when it keeps every rule): windows, shift,
    travel time between stops, a lunch that overlaps a stop. Tests and the benchmark
    hold the solver to it."""
    problems = []
    by_id = {v.account_id: v for v in visits}
    if route.leave_home is not None and route.leave_home < rep.shift.start:
        problems.append("leaves before the shift starts")
    if route.back_home is not None and route.back_home > rep.shift.end:
        problems.append("back after the shift ends")
    for stop in route.stops:
        if stop.kind != "visit":
            continue
        visit = by_id[int(stop.ref)]
        if not any(
            w.start <= stop.start and stop.end <= w.end
            for w in visit.windows_on(route.day, rep.shift)
        ):
            problems.append(f"visit {stop.ref} outside its opening hours")
        if rep.lunch and route.lunch_start is not None:
            lunch_end = route.lunch_start + rep.lunch.minutes
            if stop.start < lunch_end and route.lunch_start < stop.end:
                problems.append(f"visit {stop.ref} overlaps lunch")
    for a, b in zip(route.stops, route.stops[1:], strict=False):
        if b.start < a.end + math.floor(b.travel_minutes):
            problems.append(f"stop {b.ref} starts before the rep can get there")
    return problems
