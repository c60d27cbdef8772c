"""Plan vs actual for every measure, hand-computed; alerts to the responsible manager."""

import json
from datetime import date, datetime, timedelta
from decimal import Decimal as D

import pytest
from django.core.management import call_command
from django.utils import timezone

from salesplan.pipeline.models import Opportunity
from salesplan.planning import services
from salesplan.planning.evaluation import evaluate, evaluate_plan, visible_alerts
from salesplan.planning.models import Level, Measure, PlanAlert

from ..factories import make_activity, make_opportunity
from .conftest import won

MARCH_END = date(2026, 3, 31)  # three full months of FY2026 (January start) have passed


def _done(owner, day: date, n: int):
    for i in range(n):
        moment = timezone.make_aware(datetime.combine(day, datetime.min.time())
                                     + timedelta(hours=9, minutes=i))
        make_activity(owner, done=True, done_at=moment, due_at=moment)


@pytest.fixture
def targets(org, west_plan):
    """Bookings 120,000 and 120 activities for the year, evenly phased, split evenly to
    the two west reps (5,000 and 5 a month each)."""
    for measure, total in ((Measure.BOOKINGS, "120000"), (Measure.ACTIVITIES, "120")):
        top = services.set_plan_target(west_plan, by=org.west_manager, measure=measure,
                                       total=D(total))
        services.allocate(top, by=org.west_manager, to="reps", method="even")
    won(org.west_rep, "12000", date(2026, 1, 20))   # 12,000 against 15,000 to date
    won(org.west_rep2, "16000", date(2026, 2, 10))  # 16,000 against 15,000 to date
    won(org.west_rep, "9999", date(2026, 4, 2))     # after the as-of day: not counted
    deal = make_opportunity(org.west_rep, amount=D("10000"), close_date=date(2026, 6, 30))
    Opportunity.objects.filter(pk=deal.pk).update(probability=40)  # open, weighted 4,000
    _done(org.west_rep, date(2026, 2, 3), 6)   # against 15 planned to date
    _done(org.west_rep2, date(2026, 3, 3), 15)
    return west_plan


def _row(rows, measure, level, rep=None):
    return next(r for r in rows if r.measure == measure and r.level == level
                and (rep is None or r.rep_id == rep.pk))


def test_hand_computed_attainment_pacing_landing_and_coverage(org, targets):
    rows = evaluate(targets, org.west_manager, as_of=MARCH_END)
    rep = _row(rows, Measure.BOOKINGS, Level.REP, org.west_rep)
    assert rep.target == D("60000.00") and rep.target_to_date == D("15000.00")
    assert rep.actual == D("12000.00")
    assert rep.attainment == D("20.0")       # 12,000 / 60,000
    assert rep.pacing == D("80.0")           # 12,000 / 15,000
    assert rep.gap == D("48000.00")
    assert rep.forecast_landing == D("16000.00")  # 12,000 + 40% of 10,000
    assert rep.coverage == D("0.21")         # 10,000 / 48,000
    assert rep.leading == D("40.0")          # 6 calls done of 15 planned to date
    assert rep.status == "off_track"
    team = _row(rows, Measure.BOOKINGS, Level.TEAM)
    assert team.actual == D("28000.00") and team.pacing == D("93.3")  # 28,000 / 30,000
    assert team.status == "watch"
    other = _row(rows, Measure.BOOKINGS, Level.REP, org.west_rep2)
    assert other.pacing == D("106.7") and other.status == "on track"
    activities = _row(rows, Measure.ACTIVITIES, Level.TEAM)
    assert activities.actual == D("21.00") and activities.pacing == D("70.0")


def test_mid_month_pacing_counts_selling_days(org, targets):
    # 13 Jan 2026: 9 of January's 22 selling days have passed → 5,000 × 9/22 to date.
    rows = evaluate(targets, org.west_manager, as_of=date(2026, 1, 13))
    rep = _row(rows, Measure.BOOKINGS, Level.REP, org.west_rep)
    assert rep.target_to_date == D("2045.45")
    assert rep.actual == D("0.00")


def test_alerts_go_to_the_responsible_manager_and_resolve(org, targets):
    alerts = evaluate_plan(targets, as_of=MARCH_END)
    by_label = {a.label: a for a in alerts}
    rep_alert = by_label[str(org.west_rep)]
    assert rep_alert.severity == "off_track" and rep_alert.manager == org.west_manager
    assert "80.0% of the target to date" in rep_alert.message
    assert {a.label for a in visible_alerts(org.west_rep)} <= {str(org.west_rep)}
    assert not visible_alerts(org.east_manager).exists()
    # Evaluating again does not duplicate; once back on track the alert resolves.
    evaluate_plan(targets, as_of=MARCH_END)
    assert PlanAlert.objects.filter(resolved_at__isnull=True, label=str(org.west_rep),
                                    measure=Measure.BOOKINGS).count() == 1
    won(org.west_rep, "5000", date(2026, 3, 20))
    _done(org.west_rep, date(2026, 3, 20), 10)
    evaluate_plan(targets, as_of=MARCH_END)
    assert not PlanAlert.objects.filter(resolved_at__isnull=True, label=str(org.west_rep),
                                        measure=Measure.BOOKINGS).exists()


def test_rep_sees_only_own_lines_and_other_teams_nothing(org, targets, api_as, client):
    rows = api_as(org.west_rep).get(f"/plans/{targets.pk}/evaluation",
                                    as_of="2026-03-31").data
    assert {r["label"] for r in rows} == {str(org.west_rep)}
    assert api_as(org.east_rep).get(f"/plans/{targets.pk}/evaluation").status_code == 404
    assert api_as(org.west_rep).post(f"/plans/{targets.pk}/evaluate").status_code == 403
    client.force_login(org.west_manager)
    page = client.get(f"/plans/{targets.pk}/actual/?as_of=2026-03-31")
    assert page.status_code == 200 and b"data-chart" in page.content
    assert b"106.7" in page.content
    # The actual line ends at the month of "as of": no flat line through months to come.
    title, chart = page.context["charts"][0]
    actual = next(s for s in json.loads(chart)["series"] if s["name"] == "Actual")["data"]
    assert actual[0] is not None and actual[-1] is None
    evaluate_plan(targets, as_of=MARCH_END)
    assert b"Off track" in client.get(f"/plans/{targets.pk}/").content
    alerts_page = client.get("/plans/alerts/")
    assert alerts_page.status_code == 200 and str(org.west_rep).encode() in alerts_page.content
    client.force_login(org.east_manager)
    assert str(org.west_rep).encode() not in client.get("/plans/alerts/").content


def test_cli_evaluate(org, targets, capsys):
    call_command("plan", "evaluate", str(targets.pk), "--as", "westmgr",
                 "--as-of", "2026-03-31")
    out = capsys.readouterr().out
    assert "pacing   80.0%" in out and "open alerts" in out
