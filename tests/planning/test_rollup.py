"""Users who see every opportunity read plan vs actual through the opportunity rollup
(`salesplan.metrics`); it must give the same numbers as counting directly, and follow
changes, deletions and deals handed to another owner."""

from datetime import date
from decimal import Decimal as D

from salesplan.metrics.models import OpportunityFact
from salesplan.pipeline import services as pipeline_services
from salesplan.pipeline.models import Opportunity
from salesplan.planning.evaluation import evaluate
from salesplan.planning.models import Level, Measure

from .conftest import won
from .test_evaluation import MARCH_END, _row, targets  # noqa: F401 - the shared fixture


def _rep_line(plan, user, rep, as_of=MARCH_END):
    return _row(evaluate(plan, user, as_of=as_of), Measure.BOOKINGS, Level.REP, rep)


def test_rollup_matches_direct_counting_and_follows_changes(org, targets):  # noqa: F811
    direct = _rep_line(targets, org.west_manager, org.west_rep)  # filtered: direct count
    rolled = _rep_line(targets, org.admin, org.west_rep)          # sees all: the rollup
    assert OpportunityFact.objects.exists()
    for field in ("actual", "pacing", "forecast_landing", "coverage", "gap"):
        assert getattr(rolled, field) == getattr(direct, field), field
    assert rolled.actual == D("12000.00") and rolled.forecast_landing == D("16000.00")
    # a new deal, a deleted one, and one handed over to the other rep
    won(org.west_rep, "500", date(2026, 2, 1))
    gone = won(org.west_rep2, "700", date(2026, 2, 2))
    assert _rep_line(targets, org.admin, org.west_rep).actual == D("12500.00")
    pipeline_services.delete_opportunity(gone, by=org.admin)
    assert _rep_line(targets, org.admin, org.west_rep2).actual == D("16000.00")
    first = Opportunity.objects.get(owner=org.west_rep, amount=D("12000"))
    pipeline_services.update_opportunity(first, by=org.admin, data={"owner": org.west_rep2})
    assert _rep_line(targets, org.admin, org.west_rep).actual == D("500.00")
    assert _rep_line(targets, org.admin, org.west_rep2).actual == D("28000.00")


def test_the_current_month_counts_by_the_day(org, targets):  # noqa: F811
    won(org.west_rep, "1000", date(2026, 3, 10))
    won(org.west_rep, "2000", date(2026, 3, 20))  # after the as-of day
    line = _rep_line(targets, org.admin, org.west_rep, as_of=date(2026, 3, 15))
    assert line.actual == D("13000.00")


def test_plan_vs_actual_through_the_rollup_matches(org, targets):  # noqa: F811
    from salesplan.planning.selectors import plan_vs_actual

    def rep_row(user):
        return next(r for r in plan_vs_actual(targets, user, as_of=MARCH_END)
                    if r.level == Level.REP and r.label == str(org.west_rep))

    direct, rolled = rep_row(org.west_manager), rep_row(org.admin)
    assert rolled.actuals == direct.actuals
    assert rolled.actual_to_date == D("12000.00")
    assert (rolled.pipeline, rolled.weighted_pipeline) == (direct.pipeline,
                                                           direct.weighted_pipeline)
