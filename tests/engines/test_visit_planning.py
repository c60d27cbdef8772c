"""The visit planner held to small cases checked by hand."""

from datetime import date, timedelta

import pytest

from salesplan.engines.visit_planning import (
    NO_DAY,
    TOO_FEW_DAYS,
    AccountVisits,
    Appointment,
    Budget,
    Lunch,
    Place,
    Rep,
    TravelModel,
    Window,
    check_route,
    choose_days,
    great_circle_km,
    horizon_days,
    plan_rep,
    route_day,
)

HOME = Place(48.8566, 2.3522)  # Paris
MONDAY = date(2027, 3, 1)
BUDGET = Budget(solutions=50)


def near(i: int, km: float = 3.0) -> Place:
    """A place about `km` × i east of home."""
    return Place(HOME.lat, HOME.lon + i * km / 73.1)


def rep(**kw) -> Rep:
    return Rep(rep_id=1, home=HOME, **kw)


def test_great_circle_distance_paris_to_london():
    assert great_circle_km(HOME, Place(51.5074, -0.1278)) == pytest.approx(343.5, abs=1.0)


def test_travel_time_is_distance_times_circuity_at_the_average_speed():
    travel = TravelModel(circuity=1.5, speed_kmh=60)
    km = great_circle_km(HOME, near(10))
    assert travel.minutes(HOME, near(10)) == pytest.approx(km * 1.5)


def test_frequencies_met_evenly_spaced_and_never_on_a_holiday_or_weekend():
    holiday = MONDAY + timedelta(days=9)  # Wednesday of week two
    days = horizon_days(MONDAY, 28)
    accounts = [AccountVisits(i, near(i), visits=4, duration=30) for i in range(1, 6)]
    chosen, unmet = choose_days(rep(days_off=frozenset({holiday})), accounts, days)
    assert unmet == []
    for account in accounts:
        visit_days = sorted(d for d, vs in chosen.items() if account in vs)
        assert len(visit_days) == 4
        gaps = [(b - a).days for a, b in zip(visit_days, visit_days[1:], strict=False)]
        assert min(gaps) >= 3  # 19 selling days ÷ 4 visits: never closer than 2 selling days
    assert all(d.weekday() < 5 and d != holiday for d, vs in chosen.items() if vs)


def test_an_account_is_only_planned_on_days_it_is_open():
    tuesdays = AccountVisits(1, near(1), visits=2, windows={1: (Window(540, 720),)})
    closed_date = MONDAY + timedelta(days=8)  # the second Tuesday
    tuesdays = AccountVisits(
        1,
        near(1),
        visits=2,
        windows={1: (Window(540, 720),)},
        closed_dates=frozenset({closed_date}),
    )
    chosen, unmet = choose_days(rep(), [tuesdays], horizon_days(MONDAY, 28))
    days = sorted(d for d, vs in chosen.items() if vs)
    assert all(d.weekday() == 1 and d != closed_date for d in days)
    assert len(days) == 2 and unmet == []


def test_unmet_visits_say_why():
    never = AccountVisits(1, near(1), visits=1, windows={5: (Window(540, 720),)})  # Saturdays
    too_often = AccountVisits(2, near(2), visits=10, windows={0: (Window(540, 720),)})
    _, unmet = choose_days(rep(), [never, too_often], horizon_days(MONDAY, 28))
    assert [u.reason for u in unmet if u.account_id == 1] == [NO_DAY]
    assert [u.reason for u in unmet if u.account_id == 2] == [TOO_FEW_DAYS] * 6


def test_a_day_keeps_windows_shift_and_lunch():
    visits = [
        AccountVisits(1, near(1), 1, duration=60, windows={0: (Window(14 * 60, 17 * 60),)}),
        AccountVisits(2, near(2), 1, duration=60, windows={0: (Window(8 * 60, 10 * 60),)}),
        AccountVisits(3, near(3), 1, duration=45),
        AccountVisits(4, near(-2), 1, duration=45),
    ]
    the_rep = rep(shift=Window(8 * 60, 16 * 60), lunch=Lunch(12 * 60, 13 * 60, 45))
    route = route_day(the_rep, MONDAY, visits, budget=BUDGET)
    assert route.dropped == []
    assert check_route(the_rep, route, visits) == []
    by_account = {s.ref: s for s in route.stops}
    assert 8 * 60 <= by_account[2].start and by_account[2].end <= 10 * 60
    assert 14 * 60 <= by_account[1].start and by_account[1].end <= 16 * 60  # shift ends 16:00
    assert 12 * 60 <= route.lunch_start <= 13 * 60
    assert route.leave_home >= 8 * 60 and route.back_home <= 16 * 60


def test_when_the_day_is_too_short_the_least_valuable_visit_is_dropped():
    the_rep = rep(shift=Window(9 * 60, 12 * 60), lunch=None)
    visits = [
        AccountVisits(i, near(i, 1.0), 1, duration=60, value=v)
        for i, v in ((1, 5.0), (2, 1.0), (3, 9.0), (4, 7.0))
    ]
    route = route_day(the_rep, MONDAY, visits, budget=BUDGET)
    assert route.dropped == [2, 1] or sorted(route.dropped) == [1, 2]
    assert {s.ref for s in route.stops} == {3, 4}
    assert route.back_home <= 12 * 60


def test_fixed_appointments_are_kept_at_their_time():
    meeting = Appointment("m1", MONDAY, 10 * 60, 11 * 60, near(5), "Quarterly review")
    the_rep = rep(appointments=(meeting,), lunch=None)
    visits = [AccountVisits(i, near(i), 1, duration=45) for i in (1, 2, 3)]
    route = route_day(the_rep, MONDAY, visits, budget=BUDGET)
    stop = next(s for s in route.stops if s.kind == "appointment")
    assert (stop.start, stop.end) == (600, 660)
    assert check_route(the_rep, route, visits) == []
    starts = [s.start for s in route.stops]
    assert starts == sorted(starts)


def test_replanning_the_rest_of_a_day_starts_where_the_rep_is():
    visits = [AccountVisits(i, near(i), 1, duration=30) for i in (1, 2, 3)]
    route = route_day(
        rep(lunch=None), MONDAY, visits, budget=BUDGET, start=13 * 60, start_place=near(3)
    )
    assert route.leave_home == 13 * 60
    assert [s.ref for s in route.stops] == [3, 2, 1]  # from the far end back home


def test_a_month_for_one_rep_meets_every_frequency_and_keeps_every_rule():
    holiday = MONDAY + timedelta(days=14)
    the_rep = rep(days_off=frozenset({holiday}))
    accounts = [
        AccountVisits(
            i,
            near(i % 7, 2.0 + i / 10),
            visits=1 + i % 3,
            duration=40,
            windows={d: (Window(9 * 60, 17 * 60),) for d in range(5)},
        )
        for i in range(1, 25)
    ]
    plan = plan_rep(the_rep, accounts, horizon_days(MONDAY, 28), budget=Budget(solutions=20))
    assert plan.unmet == []
    assert plan.planned == sum(a.visits for a in accounts)
    for day in plan.days:
        assert day.day != holiday and day.day.weekday() < 5
        assert check_route(the_rep, day, accounts) == []


def test_replanning_after_the_shift_leaves_every_visit_out():
    visits = [AccountVisits(i, near(i), 1, duration=30) for i in (1, 2)]
    route = route_day(rep(), MONDAY, visits, budget=BUDGET, start=18 * 60)
    assert route.stops == [] and sorted(route.dropped) == [1, 2]


def test_a_day_of_one_visit_or_only_appointments_is_routed_within_its_budget():
    one = [AccountVisits(1, near(2), 1, duration=40)]
    assert [s.ref for s in route_day(rep(), MONDAY, one, budget=BUDGET).stops] == [1]
    meeting = Appointment("m", MONDAY, 600, 660, near(1))
    route = route_day(rep(appointments=(meeting,)), MONDAY, [], budget=BUDGET)
    assert [s.ref for s in route.stops] == ["m"]
