"""Field visits through the services: frequencies, planning a team's horizon, the rep's
day (check-in logs a meeting, skip re-plans the day), and who may do what."""

from datetime import date, time, timedelta
from decimal import Decimal as D

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from salesplan.activities.models import Activity
from salesplan.core.errors import NotFound, StaleVersion
from salesplan.org.models import Company, Holiday
from salesplan.visits import planner, selectors, services
from salesplan.visits.models import PlannedDay, PlannedVisit, VisitStatus
from tests.factories import make_account

MONDAY = date(2027, 3, 1)
HOME = (D("48.856600"), D("2.352200"))


def _place_rep(user, lat=HOME[0], lon=HOME[1]):
    user.home_latitude, user.home_longitude = lat, lon
    user.work_starts, user.work_ends = time(8, 0), time(17, 0)
    user.save()


def _accounts(owner, n: int, tier: str = "enterprise"):
    return [make_account(owner, name=f"{owner.username} shop {i}", tier=tier,
                         latitude=HOME[0] + D(i % 4) / 100, longitude=HOME[1] + D(i) / 100,
                         potential=D(1000 * (i + 1))) for i in range(n)]


@pytest.fixture
def team(org):
    for rep in (org.west_rep, org.west_rep2, org.east_rep):
        _place_rep(rep)
    services.create_rule(by=org.admin, data={"tier": "enterprise", "visits_per_month":
                                             D("2"), "duration_minutes": 40})
    config = planner.settings()
    config.solver_solutions = 10
    config.save()
    return {rep.username: _accounts(rep, 6) for rep in (org.west_rep, org.west_rep2,
                                                        org.east_rep)}


def test_frequency_set_by_hand_beats_the_rule(org, team):
    account = team["westrep"][0]
    services.set_profile(account, by=org.west_rep, version=None,
                         data={"visits_per_month": D("4")})
    found = planner.frequencies([account, team["westrep"][1]], planner.settings())
    assert (found[account.pk].per_month, found[account.pk].source) == (D("4"), "by hand")
    assert found[team["westrep"][1].pk].source == "rule"
    assert found[team["westrep"][1].pk].duration == 40


def test_planning_a_team_meets_frequencies_and_skips_holidays(org, team):
    holiday = MONDAY + timedelta(days=2)
    Holiday.objects.create(company=Company.current(), date=holiday, name="Founders' day")
    run = services.plan_reps(by=org.west_manager, rep_ids=[org.west_rep.pk, org.west_rep2.pk],
                             start=MONDAY, days=28)
    assert run.summary["required"] == 24 and run.summary["planned"] == 24
    visits = PlannedVisit.objects.filter(owner=org.west_rep)
    assert visits.count() == 12
    assert not visits.filter(day=holiday).exists()
    assert all(v.day.weekday() < 5 for v in visits)
    for account in team["westrep"]:
        assert visits.filter(account=account).count() == 2
    first = visits.order_by("day", "sequence").first()
    assert time(8, 0) <= first.starts and first.ends <= time(17, 0)
    assert PlannedDay.objects.filter(owner=org.west_rep).exists()


def test_planning_as_a_job_reports_progress_and_the_result(
        org, team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = services.start_planning(by=org.west_manager, start=MONDAY, days=14)
    job.refresh_from_db()
    assert job.status == "succeeded", job.message
    assert job.result["reps"] == 2  # the manager's own team only
    assert job.progress_done == job.progress_total == 2
    assert not PlannedVisit.objects.filter(owner=org.east_rep).exists()


def test_a_rep_may_not_plan_and_a_manager_only_their_team(org, team):
    with pytest.raises(PermissionDenied):
        services.start_planning(by=org.west_rep)
    with pytest.raises(ValidationError):
        services.start_planning(by=org.west_manager, rep_ids=[org.east_rep.pk])


def _planned(org):
    services.plan_reps(by=org.admin, rep_ids=[org.west_rep.pk], start=MONDAY, days=28)
    days = [v.day for v in PlannedVisit.objects.filter(owner=org.west_rep)]
    day = max(sorted(set(days)), key=days.count)  # the busiest day
    return day, list(PlannedVisit.objects.filter(owner=org.west_rep, day=day)
                     .order_by("sequence"))


def test_check_in_logs_a_meeting_on_the_account_with_the_position(org, team):
    day, stops = _planned(org)
    first = stops[0]
    visit = services.check_in(first, by=org.west_rep, version=first.version,
                              latitude=D("48.86"), longitude=D("2.35"))
    assert visit.status == VisitStatus.CHECKED_IN
    activity = Activity.objects.get(pk=visit.activity_id)
    assert activity.account_id == first.account_id and activity.kind == "meeting"
    assert "48.86" in activity.description and not activity.done
    done = services.check_out(visit, by=org.west_rep, version=visit.version,
                              outcome="positive", notes="Ordered samples")
    activity.refresh_from_db()
    assert done.status == VisitStatus.DONE and activity.done
    assert "Ordered samples" in activity.description


def test_skip_needs_a_reason_and_replans_the_rest_of_the_day(org, team):
    day, stops = _planned(org)
    assert len(stops) >= 3
    first, second = stops[0], stops[1]
    services.check_in(first, by=org.west_rep, version=first.version)
    with pytest.raises(ValidationError):
        services.skip(second, by=org.west_rep, version=second.version, reason=" ")
    with time_machine.travel(f"{day.isoformat()} 09:30:00+00:00", tick=False):
        services.skip(second, by=org.west_rep, version=second.version,
                      reason="Customer closed for stock-taking")
    second.refresh_from_db()
    assert second.status == VisitStatus.SKIPPED and second.reason.startswith("Customer")
    rest = list(PlannedVisit.objects.filter(owner=org.west_rep, day=day,
                                            status=VisitStatus.PLANNED).order_by("sequence"))
    assert [v.sequence for v in rest] == list(range(2, 2 + len(rest)))
    first.refresh_from_db()
    assert all(v.starts is None or v.starts >= time(9, 30) for v in rest)


def test_a_stale_version_is_refused(org, team):
    _, stops = _planned(org)
    with pytest.raises(StaleVersion):
        services.check_in(stops[0], by=org.west_rep, version=stops[0].version + 1)


def test_a_rep_sees_and_changes_only_their_own_visits_and_a_manager_their_team(org, team):
    _, stops = _planned(org)
    visit = stops[0]
    with pytest.raises(NotFound):
        selectors.visit(org.west_rep2, visit.pk)  # a teammate
    with pytest.raises(NotFound):
        selectors.visit(org.east_manager, visit.pk)  # another team's manager
    assert selectors.visit(org.west_manager, visit.pk) == visit
    with pytest.raises(PermissionDenied):
        services.check_in(visit, by=org.executive, version=visit.version)
    with pytest.raises(NotFound):
        services.check_in(visit, by=org.west_rep2, version=visit.version)
    assert services.check_in(visit, by=org.west_manager, version=visit.version).activity_id


def test_coverage_counts_required_planned_and_done_per_tier(org, team):
    services.plan_reps(by=org.admin, rep_ids=[org.west_rep.pk], start=MONDAY, days=28)
    found = selectors.coverage(org.west_rep, start=MONDAY, days=28)
    enterprise = next(t for t in found.tiers if t.tier == "enterprise")
    assert (enterprise.required, enterprise.planned, enterprise.done) == (12, 12, 0)
    assert found.driving_share is not None and 0 < found.driving_share < 1
    assert len(found.overdue) == 6  # never visited
    manager_view = selectors.coverage(org.west_manager, start=MONDAY, days=28)
    assert next(t for t in manager_view.tiers if t.tier == "enterprise").required == 24


def test_workload_in_days_per_rep(org, team):
    rows = {w.name: w for w in selectors.workload(org.west_manager, start=MONDAY)}
    row = rows[str(org.west_rep)]
    # 6 accounts × 2 visits × (40 min + 20 min travel) = 720 min over 450-min days
    assert row.required_days == D("1.6")
    assert row.available_days == 22  # 30 days from a Monday: 22 weekdays
