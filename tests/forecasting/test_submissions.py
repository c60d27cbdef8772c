"""Submissions, adjustments and the roll-up: hand-computed figures, history kept, and
each role seeing only what it may."""

from datetime import timedelta
from decimal import Decimal

import pytest

from salesplan.core.clock import company_today
from salesplan.forecasting import periods, selectors, services
from salesplan.forecasting.models import ForecastAdjustment, ForecastSubmission
from salesplan.forecasting.rollup import build_rollup
from salesplan.org.models import Company

from ..api.conftest import assert_problem
from .conftest import deal

pytestmark = pytest.mark.django_db
D = Decimal


def _submit(user, c, b, p, period, **kw):
    return services.submit_forecast(by=user, fiscal_year=period.fiscal_year,
                                    quarter=period.number, commit=D(c), best_case=D(b),
                                    pipeline=D(p), **kw)


@pytest.fixture
def calls(org, current):
    _submit(org.west_rep, 100, 150, 200, current)
    _submit(org.west_rep2, 50, 80, 120, current)
    _submit(org.west_rep2, 60, 90, 130, current, note="Acme slipped in")  # latest counts
    _submit(org.east_rep, 70, 100, 150, current)
    services.adjust_forecast(by=org.west_manager, team=org.west,
                             fiscal_year=current.fiscal_year, quarter=current.number,
                             commit=D(140), best_case=D(200), pipeline=D(300),
                             reason="Rep 2 is optimistic")
    deal(org.west_rep, stages=["Prospecting"], outcome="won", amount="5000",
         close=current.start)


def _figures(f) -> tuple:
    return (f["commit"], f["best_case"], f["pipeline"])


def test_rollup_sums_latest_calls_and_uses_adjustments(org, calls, current):
    view = selectors.rollup(org.vp, current)
    lines = {t.team.name: t for t in view.teams}
    assert [(t.team.name, t.depth) for t in view.teams] == [("Region", 0), ("East", 1),
                                                            ("West", 1)]
    west = lines["West"]
    assert (west.rolled_up.commit, west.rolled_up.best_case, west.rolled_up.pipeline) == (
        D(160), D(240), D(330))
    assert (west.effective.commit, west.effective.pipeline) == (D(140), D(300))
    assert (west.submitted, west.forecasters, west.closed_won) == (2, 2, D(5000))
    # the region sums West as adjusted (140/200/300) and East as submitted (70/100/150)
    region = lines["Region"]
    assert (region.rolled_up.commit, region.rolled_up.best_case,
            region.rolled_up.pipeline) == (D(210), D(300), D(450))
    assert view.company.commit == D(210)
    services.adjust_forecast(by=org.vp, team=org.region, fiscal_year=current.fiscal_year,
                             quarter=current.number, commit=D(250), best_case=D(350),
                             pipeline=D(500), reason="Big deal in the pipe")
    again = selectors.rollup(org.executive, current)
    assert (again.company.commit, again.company.pipeline) == (D(250), D(500))
    assert ForecastSubmission.objects.count() == 4 and ForecastAdjustment.objects.count() == 2


def test_each_role_sees_its_own_part_through_the_api(org, calls, api_as, current):
    name = periods.name(current)
    assert_problem(api_as(org.west_rep).get("/forecasts/rollup", period=name), 404)
    mine = api_as(org.west_rep).get("/forecasts/submissions", period=name).data
    assert [(s["rep_id"], s["commit"]) for s in mine] == [(org.west_rep.pk, "100.00")]
    west = api_as(org.west_manager).get("/forecasts/rollup", period=name).data
    assert [t["team"] for t in west["teams"]] == ["West"] and west["company"] is None
    team = west["teams"][0]
    assert _figures(team["rolled_up"]) == ("160.00", "240.00", "330.00")
    assert _figures(team["effective"]) == ("140.00", "200.00", "300.00")
    assert team["adjustment_reason"] == "Rep 2 is optimistic"
    assert {r["rep_id"]: r["submitted"] for r in team["reps"]} == {
        org.west_rep.pk: True, org.west_rep2.pk: True}
    history = api_as(org.west_manager).get("/forecasts/submissions", period=name).data
    assert len(history) == 3 and {s["rep_id"] for s in history} == {org.west_rep.pk,
                                                                    org.west_rep2.pk}
    east = api_as(org.east_manager).get("/forecasts/rollup", period=name).data
    assert [t["team"] for t in east["teams"]] == ["East"]
    assert api_as(org.east_manager).get("/forecasts/adjustments", period=name).data == []
    company = api_as(org.executive).get("/forecasts/rollup", period=name).data["company"]
    assert _figures(company) == ("210.00", "300.00", "450.00")


def test_refused_writes_leave_nothing_behind(org, calls, api_as, current):
    name = periods.name(current)
    body = {"period": name, "commit": "1", "best_case": "2", "pipeline": "3", "reason": "x"}
    assert_problem(api_as(org.east_manager).post("/forecasts/adjustments",
                                                 {**body, "team_id": org.west.pk}), 404)
    assert_problem(api_as(org.west_manager).post("/forecasts/adjustments",
                                                 {**body, "team_id": org.region.pk}), 404)
    assert_problem(api_as(org.executive).post("/forecasts/adjustments",
                                              {**body, "team_id": org.west.pk}), 403)
    no_reason = {**body, "team_id": org.west.pk, "reason": "  "}
    assert_problem(api_as(org.west_manager).post("/forecasts/adjustments", no_reason), 422,
                   "reason")
    assert ForecastAdjustment.objects.count() == 1
    submission = {"period": name, "commit": "10", "best_case": "20", "pipeline": "30"}
    assert_problem(api_as(org.executive).post("/forecasts/submissions", submission), 403)
    assert_problem(api_as(org.west_rep).post("/forecasts/submissions",
                                             {**submission, "commit": "25"}), 422, "best_case")
    assert_problem(api_as(org.west_rep).post("/forecasts/submissions",
                                             {**submission, "pipeline": "15"}), 422, "pipeline")
    past = periods.name(periods.shift(_calendar(), current, -1))
    assert_problem(api_as(org.west_rep).post("/forecasts/submissions",
                                             {**submission, "period": past}), 422, "quarter")
    assert_problem(api_as(org.west_rep).post("/forecasts/submissions",
                                             {**submission, "period": "Q5"}), 422, "period")
    assert ForecastSubmission.objects.count() == 4
    created = api_as(org.west_rep).post("/forecasts/submissions", submission)
    assert created.status_code == 201 and created.data["commit"] == "10.00"


def _calendar():
    from salesplan.core.fiscal import CompanyCalendar

    return CompanyCalendar.current()


def test_overview_page_for_rep_and_manager(org, calls, client, current):
    client.force_login(org.west_rep)
    page = client.get("/forecasts/").content.decode()
    assert "My forecast" in page and "Team roll-up" not in page
    posted = client.post("/forecasts/submit/", {"period": periods.name(current),
                                                "commit": "11", "best_case": "22",
                                                "pipeline": "33", "note": ""})
    assert posted.status_code == 302
    assert selectors.latest_submission(org.west_rep, current).commit == D(11)
    refused = client.post(f"/forecasts/teams/{org.west.pk}/adjust/", {
        "period": periods.name(current), "commit": "1", "best_case": "1", "pipeline": "1",
        "reason": "mine now"})
    assert refused.status_code == 404
    client.force_login(org.west_manager)
    page = client.get("/forecasts/").content.decode()
    assert "Team roll-up" in page and "Rep 2 is optimistic" in page and "East" not in page
    client.post(f"/forecasts/teams/{org.west.pk}/adjust/", {
        "period": periods.name(current), "commit": "150", "best_case": "210",
        "pipeline": "310", "reason": "Renewal confirmed"})
    assert ForecastAdjustment.objects.latest("adjusted_at").reason == "Renewal confirmed"
    assert client.get(f"/forecasts/?period={periods.name(current)}&probabilities=calibrated"
                      ).status_code == 200


def test_snapshots_replace_within_a_week_and_respect_visibility(org, calls, api_as, current):
    today = company_today()
    first = services.take_snapshot(today=today)
    assert services.take_snapshot(today=today) == first  # same week: replaced
    # reps 3 + teams 3 + company
    assert first == 7
    services.take_snapshot(today=today - timedelta(days=7), period=current)
    name = periods.name(current)
    company = api_as(org.executive).get("/forecasts/snapshots", period=name,
                                        scope="company").data
    assert len(company) == 2 and company[-1]["commit"] == "210.00"
    assert company[0]["commit"] == "0.00"  # a week earlier nobody had submitted yet
    assert company[-1]["closed_won"] == "5000.00"
    assert api_as(org.west_rep).get("/forecasts/snapshots", period=name,
                                    scope="company").data == []
    own = api_as(org.west_rep).get("/forecasts/snapshots", period=name,
                                   scope=f"rep:{org.west_rep.pk}").data
    assert own[-1]["commit"] == "100.00"
    west = api_as(org.west_manager).get("/forecasts/snapshots", period=name,
                                        scope=f"team:{org.west.pk}").data
    assert west[-1]["commit"] == "140.00" and west[-1]["adjusted"] is True
    assert api_as(org.west_manager).get("/forecasts/snapshots", period=name,
                                        scope=f"team:{org.east.pk}").data == []


def test_snapshot_job_and_command(org, calls, api_as, django_capture_on_commit_callbacks):
    from django.core.management import call_command

    assert_problem(api_as(org.west_rep).post("/forecasts/snapshots"), 403)
    with django_capture_on_commit_callbacks(execute=True):
        answer = api_as(org.west_manager).post("/forecasts/snapshots")
    assert answer.status_code == 202
    from salesplan.core.models import BackgroundJob

    job = BackgroundJob.objects.get(pk=answer.data["id"])
    assert job.status == "succeeded" and job.result == {"rows": 7}
    from io import StringIO

    out = StringIO()
    call_command("forecasts", "snapshot", stdout=out)
    assert "Recorded 7 forecast lines." in out.getvalue()
    out = StringIO()
    call_command("forecasts", "rollup", "--as", "westmgr", stdout=out)
    assert "West (adjusted): 140.00 / 200.00 / 300.00 / 5000.00" in out.getvalue()


def test_dashboard_cards(org, calls):
    rep = selectors.dashboard_card(org.west_rep)
    assert [r["amount"] for r in rep["rows"]] == [D(100), D(150), D(5000)]
    manager = selectors.dashboard_card(org.west_manager)
    assert manager["rows"][0] == {"label": "West commit", "amount": D(140)}
    assert selectors.dashboard_card(org.executive)["rows"][0]["amount"] == D(210)
    assert selectors.dashboard_card(org.marketer) is None
    from django.template.loader import render_to_string

    html = render_to_string("forecasting/_dashboard_card.html", {"card": rep})
    assert "My commit" in html and "100" in html


def test_snapshot_and_overview_pages_by_role(org, calls, client, current):
    services.take_snapshot()
    name = periods.name(current)
    client.force_login(org.executive)
    overview = client.get(f"/forecasts/?period={name}").content.decode()
    assert "Company: commit <strong>210" in overview and "My forecast" not in overview
    page = client.get(f"/forecasts/snapshots/?period={name}&scope=company").content.decode()
    assert "210" in page and 'data-chart="' in page
    client.force_login(org.west_rep)
    assert client.get(f"/forecasts/snapshots/?period={name}&scope=company").status_code == 404
    own = client.get(f"/forecasts/snapshots/?period={name}&scope=rep:{org.west_rep.pk}")
    assert own.status_code == 200 and "100" in own.content.decode()
    assert client.post("/forecasts/snapshots/take/").status_code == 302
    client.force_login(org.marketer)
    assert client.get("/forecasts/calibration/").status_code == 403
    assert client.get("/forecasts/?period=FY1999-Q9").status_code == 404


def test_a_managers_rollup_reads_their_teams_only_with_the_same_figures(org, calls, current):
    currency = Company.current().default_currency
    whole = {line.team.pk: line for line in build_rollup(current, currency).teams}
    for manager in (org.west_manager, org.east_manager, org.vp):
        for line in selectors.rollup(manager, current).teams:
            full = whole[line.team.pk]
            assert (line.rolled_up, line.effective, line.closed_won, line.open_pipeline,
                    line.submitted, line.forecasters) == (
                full.rolled_up, full.effective, full.closed_won, full.open_pipeline,
                full.submitted, full.forecasters), (manager, line.team)
            assert [r.rep.pk for r in line.reps] == [r.rep.pk for r in full.reps]
    west = selectors.rollup(org.west_manager, current)
    assert {r.rep.pk for t in west.teams for r in t.reps} == {org.west_rep.pk,
                                                              org.west_rep2.pk}
