"""Home pages by role: a manager's team, the executive's company, marketing's funnel; a
rep keeps My day. Figures are checked against the ones worked out by hand in
home_data; each page's queries do not grow with its rows; nobody sees another team's."""

from decimal import Decimal as D

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from salesplan.core.clock import company_today
from salesplan.pipeline.models import Pipeline
from salesplan.planning.models import (
    Level,
    Measure,
    MonthlyTarget,
    Objective,
    Plan,
    PlanStatus,
)

from ..factories import make_account, make_opportunity
from ..territories.conftest import build_map
from .home_data import build_company, build_marketing, build_team

pytestmark = pytest.mark.django_db


def _home(login, user):
    response = login(user).get("/")
    assert response.status_code == 200
    return response


def _pipeline_cells(context) -> dict:
    """(owner id, stage position) -> USD open amount, from the page's pipeline block."""
    pipeline = context["pipeline"]
    cells = {}
    for rep in pipeline["reps"]:
        for stage, amounts in zip(pipeline["stages"], rep["cells"], strict=True):
            for amount in amounts:
                assert amount["currency"] == "USD"
                cells[(rep["user"].pk, stage.position)] = amount["amount"]
    return cells


# --- the manager ---------------------------------------------------------------------


def test_manager_sees_pipeline_by_rep_with_weighted_value(login, org):
    data = build_team(org)
    response = _home(login, org.west_manager)
    assert _pipeline_cells(response.context) == data.open_by_rep_stage
    weighted = {r["user"].pk: r["totals"][0]["weighted"]
                for r in response.context["pipeline"]["reps"]}
    assert weighted == data.weighted_by_rep
    html = response.content.decode()
    for heading in ("Pipeline by rep", "Overdue follow-ups", "Quote approvals waiting on me",
                    "Deals at risk"):
        assert f">{heading}</h2>" in html
    # The West rep's open total: 1,000.00 + 2,500.50 + 700.00 + 900.00.
    assert "USD 5,100.50" in html


def test_pipeline_keeps_currencies_apart(login, org):
    build_team(org)
    make_opportunity(org.west_rep, stage_position=0, amount=D("300.00"), currency="EUR")
    rep = next(r for r in _home(login, org.west_manager).context["pipeline"]["reps"]
               if r["user"] == org.west_rep)
    totals = {t["currency"]: t["amount"] for t in rep["totals"]}
    assert totals == {"EUR": D("300.00"), "USD": D("1000.00") + D("2500.50") + D("700.00")
                      + D("900.00")}
    weighted = {t["currency"]: t["weighted"] for t in rep["totals"]}
    assert weighted["EUR"] == D("30.00")  # 10 % in Prospecting


def test_manager_sees_overdue_follow_ups_per_rep(login, org):
    data = build_team(org)
    overdue = _home(login, org.west_manager).context["overdue"]
    assert {row["user"].pk: row["count"] for row in overdue["per_owner"]} == \
        data.overdue_by_rep
    assert overdue["total"] == sum(data.overdue_by_rep.values())


def test_manager_sees_the_approval_waiting_on_them(login, org):
    data = build_team(org)
    approvals = _home(login, org.west_manager).context["approvals"]
    assert approvals["count"] == 1
    assert approvals["rows"][0].quote_version.quote == data.approval_quote
    # The East manager does not sign West's steps.
    assert _home(login, org.east_manager).context["approvals"]["count"] == 0


def test_manager_sees_deals_at_risk_with_why(login, org):
    data = build_team(org)
    at_risk = _home(login, org.west_manager).context["at_risk"]
    found = {row.deal.name: " ".join(row.reasons) for row in at_risk["deals"]}
    assert set(found) == set(data.at_risk)
    for name, words in data.at_risk.items():
        assert words in found[name], (name, found[name])
    assert at_risk["count"] == len(data.at_risk)


def test_a_manager_of_another_team_sees_nothing_of_this_team(login, org):
    data = build_team(org)
    response = _home(login, org.east_manager)
    context = response.context
    assert {r["user"] for r in context["pipeline"]["reps"]} == {org.east_rep}
    assert {row["user"] for row in context["overdue"]["per_owner"]} == {org.east_rep}
    assert [row.deal for row in context["at_risk"]["deals"]] == [data.east_deal]
    html = response.content.decode()
    for west_name in (*data.at_risk, str(org.west_rep), str(org.west_rep2)):
        assert west_name not in html
    # And the West manager sees nothing of East.
    west = _home(login, org.west_manager).content.decode()
    assert "East only deal" not in west and "East overdue call" not in west
    assert str(org.east_rep) not in west


def assert_queries_do_not_grow(client, more_rows, assert_max) -> None:
    """The home page's queries, counted on the small company, bound those after
    `more_rows()` has added several times as many rows (caches emptied both times)."""
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    more_rows()
    cache.clear()
    with assert_max(len(queries)):
        assert client.get("/").status_code == 200


def test_team_page_queries_do_not_grow_with_rows(login, org, django_assert_max_num_queries):
    build_team(org)
    assert_queries_do_not_grow(login(org.west_manager), lambda: build_team(org, copies=4),
                               django_assert_max_num_queries)


# --- the executive -------------------------------------------------------------------


@pytest.mark.parametrize("who", ["executive", "admin"])
def test_executive_sees_plan_pacing(login, org, who):
    data = build_company(org)
    response = _home(login, getattr(org, who))
    [pace] = response.context["pacing"]
    assert pace.plan == data.plan
    assert (pace.target, pace.expected, pace.actual) == (data.quarter_target, data.expected,
                                                         data.booked)
    assert pace.gap == data.booked - data.expected
    html = response.content.decode()
    assert ">Plan pacing</h2>" in html and "USD 60,000.00" in html


def test_a_team_plan_paces_on_its_team_bookings(login, org):
    data = build_company(org)
    west = Plan.objects.create(name="West plan", fiscal_year=data.plan.fiscal_year,
                               team=org.west, owner=org.west_manager, currency="USD",
                               status=PlanStatus.APPROVED)
    top = Objective.objects.create(plan=west, measure=Measure.BOOKINGS, level=Level.TEAM,
                                   team=org.west)
    for target in MonthlyTarget.objects.filter(objective__plan=data.plan):
        MonthlyTarget.objects.create(objective=top, month=target.month,
                                     target=target.target / 2)
    paces = {p.plan.name: p for p in _home(login, org.executive).context["pacing"]}
    assert paces["West plan"].target == data.quarter_target / 2
    assert paces["West plan"].actual == D("4000.00")  # the West rep's win, not East's
    assert paces["Company plan"].actual == data.booked


def test_executive_forecast_stands_beside_its_baseline(login, org):
    data = build_company(org)
    # The page comes first; its forecast block follows (the fit may take seconds).
    assert _home(login, org.executive).context["forecast_pending"]
    block = login(org.executive).get("/home/forecast/")
    assert block.status_code == 200
    forecast = block.context["forecast"]
    # Naive baseline of the commit: what was booked the quarter before.
    assert forecast["naive_commit"] == data.previous_quarter
    statistical = forecast["statistical"]
    # Too little history for a model: the last month is repeated, as is the baseline.
    assert statistical["forecast"] is not None and statistical["baseline"] is not None
    html = block.content.decode()
    assert "Seasonal naive" in html and "As much as the quarter before" in html


def test_executive_sees_territory_violations_and_pending_exceptions(login, org):
    data = build_company(org, build_map)
    context = _home(login, org.executive).context
    assert [v["record_id"] for v in context["violations"]["rows"]] == [
        data.violation_account.pk]
    assert context["exceptions"]["count"] == 1
    assert context["exceptions"]["rows"][0].account == data.exception_account


def test_company_page_queries_do_not_grow_with_rows(login, org,
                                                    django_assert_max_num_queries):
    build_company(org, build_map)
    build_team(org)

    def more_rows() -> None:
        build_team(org, copies=4)
        for _ in range(5):
            make_opportunity(org.east_rep, stage_position=5, close_date=company_today())
            make_account(org.east_rep, postal_code="94107")  # outside East's territory

    assert_queries_do_not_grow(login(org.executive), more_rows, django_assert_max_num_queries)


# --- marketing -----------------------------------------------------------------------


def test_marketing_sees_submissions_sla_misses_and_campaign_results(login, org):
    data = build_marketing(org)
    response = _home(login, org.marketer)
    context = response.context
    [form] = context["submissions"]["forms"]
    assert (form["form__name"], form["form__campaign__name"]) == (data.form.name,
                                                                  data.campaign.name)
    assert (form["received"], form["new_leads"], form["failed"]) == (
        data.received, data.new_leads, data.failed)
    assert context["sla"]["count"] == len(data.missed_leads)
    assert [h.lead for h in context["sla"]["oldest"]] == data.missed_leads
    [outcome] = context["campaigns"]["campaigns"]
    assert outcome.leads == data.campaign_leads
    assert outcome.opportunities == data.opportunities
    assert outcome.result.bookings == {"USD": data.won_revenue}
    html = response.content.decode()
    for heading in ("Form submissions", "SLA misses", "Campaign results"):
        assert f">{heading}</h2>" in html
    assert "Attribution model: <strong>Linear</strong>" in html
    assert "USD 12,345.50" in html


def test_marketing_page_queries_do_not_grow_with_rows(login, org,
                                                      django_assert_max_num_queries):
    build_marketing(org)
    assert_queries_do_not_grow(login(org.marketer), lambda: build_marketing(org, copies=4),
                               django_assert_max_num_queries)


# --- the rep -------------------------------------------------------------------------


def test_rep_keeps_my_day_and_managers_can_open_theirs(login, org):
    build_team(org)
    rep_page = _home(login, org.west_rep).content.decode()
    assert "<h1>My day</h1>" in rep_page and "Pipeline by rep" not in rep_page
    client = login(org.west_manager)
    assert "<h1>My day</h1>" in client.get("/my-day/").content.decode()
    assert Pipeline.objects.exists()
