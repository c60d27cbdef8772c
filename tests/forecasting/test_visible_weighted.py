"""The weighted pipeline a user sees reads the owners' deals from the report rollups and
sums only the rest (deals on their territories' accounts owned by others) live: it must
give exactly the figures of summing every deal they see, for a rep, a manager with a
territory, the regional manager and the executive, in each currency and fiscal calendar,
and stay so after deals change through the services."""

from datetime import date
from decimal import Decimal

import pytest

from salesplan.core.fiscal import CompanyCalendar
from salesplan.customers.models import Account
from salesplan.forecasting import calibration, selectors, services, statistical
from salesplan.metrics import rollup as report_rollup
from salesplan.metrics.models import RollupState
from salesplan.org.models import Company
from salesplan.pipeline import services as pipeline_services
from salesplan.pipeline.models import Opportunity, Pipeline, StageKind
from salesplan.territories import services as territory_services

from ..factories import make_account, make_opportunity
from ..territories.conftest import active_map, territory_map  # noqa: F401 - fixtures


@pytest.fixture
def deals(org, active_map):  # noqa: F811 - the fixture
    """Open, won and lost deals of every owner, in USD and EUR, over the fiscal years
    2026 and 2027 and the pipelines' stages; some on the territories' accounts (owned by
    the admin there) and owned by reps of the other team. The west manager works the
    West territory too, so sees its accounts' deals whoever owns them."""
    territory_services.add_member(active_map.west, by=org.admin, user=org.west_manager,
                                  role="manager")
    bay = Account.objects.get(name="Bay Co")
    manhattan = Account.objects.get(name="Manhattan Co")
    owners = [org.west_rep, org.west_rep2, org.east_rep, org.admin, org.west_manager]
    accounts = [bay, manhattan, None, make_account(org.east_rep, name="East own")]
    pipelines = list(Pipeline.objects.order_by("position")[:2])
    made = []
    for i in range(48):
        pipeline = pipelines[i % 2]
        kind = ("open", "open", "won", "lost")[i % 4]
        position = (i % 3) if kind == "open" else pipeline.stages.get(kind=kind).position
        day = date(2026, 1, 1).toordinal() + (i * 37) % 640
        made.append(make_opportunity(
            owners[i % 5], account=accounts[(i // 3) % 4], stage_position=position,
            amount=Decimal(f"{1000 + i * 137}.{i % 100:02d}"), pipeline=pipeline,
            close_date=date.fromordinal(day), currency=("USD", "USD", "EUR")[i % 3]))
    return made


def _viewers(org):
    return {"rep": org.west_rep, "east rep": org.east_rep, "manager": org.west_manager,
            "regional manager": org.vp, "executive": org.executive}


def _assert_same_as_summing_deals(org, years=(2026, 2027)) -> None:
    probs = calibration.probabilities("stated")
    calendar = CompanyCalendar.current()
    for year in years:
        quarters = calendar.quarters(year)
        for currency in ("USD", "EUR"):
            for who, user in _viewers(org).items():
                summed = calibration.weighted_pipeline(
                    Opportunity.objects.filter(currency=currency).visible_parts(user),
                    quarters, probs)
                assert calibration.weighted_pipeline_visible(
                    user, currency, quarters, probs) == summed, (who, currency, year)


@pytest.mark.parametrize("fiscal_start", [1, 4])
def test_weighted_pipeline_equals_summing_what_each_user_sees(org, deals, fiscal_start):
    Company.objects.update(fiscal_year_start_month=fiscal_start)
    report_rollup.rebuild(["opportunities"])
    _assert_same_as_summing_deals(org)
    # Not a trivial equality: each viewer sees some open deals, the manager more than
    # their team owns.
    quarters = CompanyCalendar.current().quarters(2026)
    probs = calibration.probabilities("stated")
    manager = calibration.weighted_pipeline_visible(org.west_manager, "USD", quarters, probs)
    team_only = calibration.weighted_pipeline(Opportunity.objects.filter(
        currency="USD", owner__team=org.west), quarters, probs)
    assert sum(p.open_amount for p in manager) > sum(p.open_amount for p in team_only)


def test_only_the_territory_remainder_is_summed_live(org, deals, monkeypatch):
    report_rollup.rebuild(["opportunities"])
    live_parts = []
    summing = calibration.open_by_period_and_stage

    def spy(parts, periods):
        live_parts.append(len(parts))
        return summing(parts, periods)

    monkeypatch.setattr(calibration, "open_by_period_and_stage", spy)
    quarters = CompanyCalendar.current().quarters(2026)
    probs = calibration.probabilities("stated")
    calibration.weighted_pipeline_visible(org.executive, "USD", quarters, probs)
    calibration.weighted_pipeline_visible(org.east_manager, "USD", quarters, probs)
    assert live_parts == []  # no territory: every deal they see is from the rollup
    calibration.weighted_pipeline_visible(org.west_manager, "USD", quarters, probs)
    assert live_parts == [1]  # the territory's deals owned outside the team


def test_weighted_pipeline_follows_changes_to_deals(org, deals):
    _assert_same_as_summing_deals(org)  # builds the rollups
    won = Pipeline.objects.get(is_default=True).stages.get(kind=StageKind.WON)
    open_usd = [d for d in deals if d.status == StageKind.OPEN and d.currency == "USD"]
    pipeline_services.move_opportunity(open_usd[0], won, by=org.admin)
    pipeline_services.update_opportunity(open_usd[1], by=org.admin,
                                         data={"amount": Decimal("1234.56")})
    pipeline_services.update_opportunity(open_usd[2], by=org.admin,
                                         data={"close_date": date(2027, 2, 1)})
    pipeline_services.delete_opportunity(open_usd[3], by=org.admin)
    make_opportunity(org.west_rep2, stage_position=1, amount=Decimal("777.77"),
                     close_date=date(2026, 5, 5), currency="USD")
    _assert_same_as_summing_deals(org)


def test_the_pages_show_the_same_figures(org, deals, api_as):
    report_rollup.rebuild(["opportunities"])
    probs = calibration.probabilities("stated")
    quarters = CompanyCalendar.current().quarters(2026)
    for user in (org.west_manager, org.executive):
        summed = calibration.weighted_pipeline(
            Opportunity.objects.filter(currency="USD").visible_parts(user), quarters, probs)
        shown = api_as(user).get("/forecasts/weighted-pipeline", fiscal_year=2026).data
        assert [(Decimal(p["open_amount"]), Decimal(p["weighted"])) for p in shown["periods"]] \
            == [(p.open_amount, p.weighted) for p in summed]
        assert selectors.weighted_pipeline(user, 2026, "stated") == summed


def test_the_nightly_refresh_builds_the_rollups_a_large_company_lacks(org, deals, monkeypatch):
    monkeypatch.setattr(report_rollup, "LARGE", 10)  # this company counts as large
    monkeypatch.setattr(statistical, "statistical_forecast", lambda *a, **k: None)
    RollupState.objects.all().delete()
    quarters = CompanyCalendar.current().quarters(2026)
    assert calibration._open_from_rollup("USD", quarters, owners=None) is None
    result = services.refresh_forecasts()
    assert result["deals_summed"] == Opportunity.objects.count()
    assert calibration._open_from_rollup("USD", quarters, owners=None) is not None
    _assert_same_as_summing_deals(org, years=(2026,))
