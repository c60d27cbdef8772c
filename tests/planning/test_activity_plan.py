"""From bookings targets to opportunities, meetings and calls, by hand."""

from datetime import UTC, date, datetime
from decimal import Decimal

from django.test import Client

from salesplan.planning import services
from salesplan.planning.activity_plan import activity_plan

from ..factories import make_activity, make_opportunity
from .conftest import FY, won

D = Decimal
LAST_YEAR = datetime(FY - 1, 6, 1, 10, tzinfo=UTC)


def _history(org):
    """Last year: won 1,000 and 3,000, lost two; 6 meetings on those deals, 9 calls."""
    deals = [won(org.west_rep, "1000", date(FY - 1, 3, 1)),
             won(org.west_rep2, "3000", date(FY - 1, 4, 1))]
    lost_position = deals[0].pipeline.stages.get(kind="lost").position
    deals += [make_opportunity(org.west_rep, stage_position=lost_position,
                               close_date=date(FY - 1, 5, 1)) for _ in range(2)]
    for i in range(6):
        make_activity(org.west_rep, kind="meeting", done=True, done_at=LAST_YEAR,
                      opportunity=deals[i % 4])
    for _ in range(9):
        make_activity(org.west_rep2, kind="call", done=True, done_at=LAST_YEAR)


def test_activities_from_historical_rates(org, west_plan):
    _history(org)
    top = services.set_plan_target(west_plan, by=org.west_manager, measure="bookings",
                                   total=D("24000"))
    services.allocate(top, by=org.west_manager, to="reps", method="even")
    result = activity_plan(west_plan, org.west_manager)
    rates = result.rates
    assert rates.window == (date(FY - 1, 1, 1), date(FY - 1, 12, 31))
    assert rates.values == {"deal_size": D("2000.00"), "win_rate": D("0.5"),
                            "meetings_per_opportunity": D("1.5"), "calls_per_meeting": D("1.5")}
    assert set(rates.sources.values()) == {"history"}
    team, rep, _ = result.rows
    # 24,000 ÷ 2,000 ÷ 0.5 = 24 opportunities; × 1.5 = 36 meetings; × 1.5 = 54 calls.
    assert (team.opportunities, team.meetings, team.calls) == (D("24.0"), D("36.0"), D("54.0"))
    assert result.selling_days == 261 and team.calls_per_selling_day == D("0.2")
    assert (rep.opportunities, rep.meetings, rep.calls) == (D("12.0"), D("18.0"), D("27.0"))


def test_entered_rates_replace_history_and_missing_ones_say_so(org, west_plan, api_as):
    services.set_plan_target(west_plan, by=org.west_manager, measure="bookings",
                             total=D("10000"))
    result = activity_plan(west_plan, org.west_manager, {"deal_size": D("500")})
    assert result.rates.sources == {"deal_size": "entered", "win_rate": "missing",
                                    "meetings_per_opportunity": "missing",
                                    "calls_per_meeting": "missing"}
    assert result.rows[0].opportunities is None
    api = api_as(org.west_manager).get(f"/plans/{west_plan.pk}/activity-plan",
                                       deal_size="500", win_rate="0.25",
                                       meetings_per_opportunity="2", calls_per_meeting="3")
    row = api.data["rows"][0]
    assert (row["opportunities"], row["meetings"], row["calls"]) == ("80.0", "160.0", "480.0")
    assert api_as(org.west_manager).get(f"/plans/{west_plan.pk}/activity-plan",
                                        win_rate="2").status_code == 422


def test_capacity_check_shows_slack_and_shortfall(org, west_plan):
    _history(org)  # 54 calls for the team's 24,000, 27 per rep
    top = services.set_plan_target(west_plan, by=org.west_manager, measure="bookings",
                                   total=D("24000"))
    services.allocate(top, by=org.west_manager, to="reps", method="custom",
                      weights={org.west_rep.pk: 3, org.west_rep2.pk: 1})
    result = activity_plan(west_plan, org.west_manager, {"calls_per_day": D("0.1")})
    team, busy, light = result.rows
    # Each rep: 0.1 calls × 261 selling days = 26.1 calls a year.
    assert (team.calls, team.capacity, team.slack) == (D("54.0"), D("52.2"), D("-1.8"))
    assert (busy.calls, busy.slack) == (D("40.5"), D("-14.4"))
    assert (light.calls, light.slack) == (D("13.5"), D("12.6"))


def test_the_plan_page_shows_the_activity_plan(org, west_plan):
    _history(org)
    services.set_plan_target(west_plan, by=org.west_manager, measure="bookings",
                             total=D("24000"))
    client = Client()
    client.force_login(org.west_manager)
    page = client.get(f"/plans/{west_plan.pk}/", {"win_rate": "0.25"}).content.decode()
    assert "Activity plan" in page and "0.25 (entered)" in page and "2000.00 (history)" in page
    assert "<td class=\"num\">48.0</td>" in page  # 24,000 ÷ 2,000 ÷ 0.25
