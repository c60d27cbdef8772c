"""Company-wide forecast amounts come from the report rollups: they equal summing the
deals themselves, on random deals and after changes made through the services."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salesplan.core.fiscal import CompanyCalendar
from salesplan.forecasting import calibration, rollup, statistical
from salesplan.metrics import rollup as report_rollup
from salesplan.pipeline import services as pipeline_services
from salesplan.pipeline.models import Opportunity, Pipeline, StageKind

from ..reports.conftest import deal, history  # noqa: F401 - the small history, shared


def _quarters(year: int):
    return CompanyCalendar.current().quarters(year)


def _assert_same_as_deals(owners: list[int]) -> None:
    quarters = _quarters(2026)
    for status in (StageKind.OPEN, StageKind.WON):
        for quarter in quarters:
            for scope in (None, owners):
                assert (rollup._amounts_by_owner(quarter, "USD", status, owners=scope)
                        == rollup._sum_by_owner(quarter, "USD", status, None, scope))
    assert (calibration.open_by_period_and_stage_company_wide("USD", quarters)
            == calibration.open_by_period_and_stage(
                Opportunity.objects.filter(currency="USD"), quarters))
    summed = statistical._count_won_by_owner_and_period(quarters, "USD")
    assert summed == {key: amount for key, amount in _won_by_quarter(quarters).items()}
    keys = ["company", f"rep:{owners[0]}", *(f"team:{t}" for t in _team_ids())]
    for whose in (statistical.Scope(key, "") for key in keys):
        assert (statistical.scope_bookings(whose, "USD", date(2025, 11, 1), 18)
                == statistical.monthly_bookings(whose.opportunities(), "USD",
                                                date(2025, 11, 1), 18))


def _team_ids() -> list[int]:
    from salesplan.org.models import Team

    return list(Team.objects.values_list("pk", flat=True))


def _won_by_quarter(quarters) -> dict[tuple[int, int], Decimal]:
    totals: dict[tuple[int, int], Decimal] = {}
    for opp in Opportunity.objects.filter(status=StageKind.WON, currency="USD"):
        for i, q in enumerate(quarters):
            if q.start <= opp.close_date <= q.end:
                key = (opp.owner_id, i)
                totals[key] = totals.get(key, Decimal("0.00")) + opp.amount
    return totals


deal_specs = st.lists(st.tuples(
    st.integers(0, 2),                                   # owner
    st.integers(0, 1),                                   # pipeline
    st.sampled_from(["open", "won", "lost"]),
    st.decimals(min_value=0, max_value=Decimal("9999999.99"), places=2),
    st.integers(0, 420),                                 # close date offset
    st.sampled_from(["USD", "USD", "EUR"]),
), min_size=1, max_size=20)


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(specs=deal_specs)
def test_company_wide_amounts_equal_summing_the_deals(org, specs):
    Opportunity.objects.all().delete()
    owners = [org.west_rep, org.west_rep2, org.east_rep]
    pipelines = list(Pipeline.objects.order_by("position")[:2])
    for owner, pipe, kind, amount, close, currency in specs:
        pipeline = pipelines[pipe]
        position = 1 if kind == "open" else pipeline.stages.get(kind=kind).position
        deal(owners[owner], str(amount), date(2025, 12, 1) + timedelta(days=close),
             kind=kind, position=position, pipeline=pipeline, currency=currency,
             created=datetime(2025, 11, 1, tzinfo=UTC))
    report_rollup.rebuild(["opportunities"])
    _assert_same_as_deals([org.west_rep.pk, org.east_rep.pk])


def test_company_wide_amounts_follow_changes(org, history):  # noqa: F811 - the fixture
    _assert_same_as_deals([org.west_rep.pk])  # builds the rollups
    won = Pipeline.objects.get(is_default=True).stages.get(kind=StageKind.WON)
    pipeline_services.move_opportunity(history.open_west, won, by=org.admin)
    pipeline_services.update_opportunity(history.open_east, by=org.admin,
                                         data={"amount": Decimal("1234.56")})
    pipeline_services.delete_opportunity(history.won_east, by=org.admin)
    _assert_same_as_deals([org.west_rep.pk])
    weighted = calibration.weighted_pipeline_visible(
        org.executive, "USD", _quarters(2026), calibration.probabilities("stated"))
    assert weighted[0].open_amount == Decimal("1234.56")  # the east deal still open in Q1
