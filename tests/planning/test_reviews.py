"""Reviews freeze the numbers; re-planning locks actuals and spreads the rest exactly."""

from datetime import date
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from salesplan.planning import reviews, services
from salesplan.planning.models import Level, Measure, MonthlyTarget, PlanRevision

from .conftest import won
from .test_evaluation import MARCH_END, targets  # noqa: F401 - the shared fixture


def _months(objective):
    return list(MonthlyTarget.objects.filter(objective=objective).order_by("month")
                .values_list("target", flat=True))


def test_replan_locks_actuals_and_spreads_the_rest_exactly(org, targets):  # noqa: F811
    plan = services.submit_plan(targets, by=org.west_manager)
    plan = services.approve_plan(plan, by=org.vp)
    reviews.replan(plan, by=org.west_manager, measure=Measure.BOOKINGS,
                   as_of=date(2026, 4, 15), reason="Q1 closed: re-spread the rest.")
    top = plan.objectives.get(measure=Measure.BOOKINGS, parent__isnull=True)
    months = _months(top)
    # January–March locked at the actuals (12,000, 16,000, 0); 92,000 left over nine
    # months: 10,222.23 twice, then 10,222.22.
    assert months[:3] == [D("12000.00"), D("16000.00"), D("0.00")]
    assert months[3:5] == [D("10222.23")] * 2 and months[5:] == [D("10222.22")] * 7
    assert sum(months) == D("120000.00")
    reps = {o.rep_id: _months(o) for o in top.children.all()}
    one, two = reps[org.west_rep.pk], reps[org.west_rep2.pk]
    assert one[:3] == [D("12000.00"), D("0.00"), D("0.00")]
    assert two[:3] == [D("0.00"), D("16000.00"), D("0.00")]
    # the rest in proportion to what each still had to book: 48,000 and 44,000
    assert sum(one) == D("60000.00") and sum(two) == D("60000.00")
    for m in range(12):
        assert one[m] + two[m] == months[m]
    revision = PlanRevision.objects.filter(plan=plan).order_by("-number").first()
    assert revision.reason == "Q1 closed: re-spread the rest."


def test_replan_refuses_measures_without_actuals_and_missing_reason(org, targets):  # noqa: F811
    services.set_plan_target(targets, by=org.west_manager, measure=Measure.UNITS, total=D(10))
    with pytest.raises(ValidationError, match="No actuals are recorded"):
        reviews.replan(targets, by=org.west_manager, measure=Measure.UNITS,
                       as_of=MARCH_END, reason="x")
    before = _months(targets.objectives.get(measure=Measure.UNITS))
    assert sum(before) == D("10.00")


def test_reviews_freeze_and_compare(org, targets, api_as, client):  # noqa: F811
    first = reviews.create_review(targets, by=org.west_manager, as_of=MARCH_END,
                                  notes="Slow start", decisions="Push rep one")
    won(org.west_rep, "3000", date(2026, 3, 25))
    second = reviews.create_review(targets, by=org.west_manager, as_of=MARCH_END)
    frozen = next(r for r in first.snapshot["rows"]
                  if r["level"] == Level.REP and r["rep_id"] == org.west_rep.pk
                  and r["measure"] == Measure.BOOKINGS)
    assert frozen["actual"] == "12000.00" and frozen["pacing"] == "80.0"
    changes = reviews.compare_reviews(first, second, org.west_manager)
    moved = next(c for c in changes if c.label == str(org.west_rep)
                 and c.measure == Measure.BOOKINGS)
    assert moved.actual_change == D("3000.00") and moved.pacing_after == D("100.0")
    api = api_as(org.west_manager)
    compared = api.get(f"/plans/{targets.pk}/reviews/{first.pk}/compare/{second.pk}")
    assert compared.status_code == 200
    rep_view = api_as(org.west_rep).get(f"/plans/{targets.pk}/reviews/{first.pk}").data
    assert {r["label"] for r in rep_view["rows"]} == {str(org.west_rep)}
    assert api_as(org.west_rep).post(f"/plans/{targets.pk}/reviews", {}).status_code == 403
    assert api_as(org.east_rep).get(f"/plans/{targets.pk}/reviews").status_code == 404
    client.force_login(org.west_manager)
    page = client.get(f"/plans/{targets.pk}/reviews/?older={first.pk}&newer={second.pk}")
    assert page.status_code == 200 and b"Slow start" not in page.content
    assert b"3000.00" in page.content
    assert b"Slow start" in client.get(f"/plans/{targets.pk}/reviews/{first.pk}/").content


def test_cli_review_and_replan(org, targets, capsys):  # noqa: F811
    call_command("plan", "review", str(targets.pk), "--as", "westmgr", "--as-of", "2026-03-31")
    call_command("plan", "replan", str(targets.pk), "bookings", "--as", "westmgr",
                 "--as-of", "2026-04-01")
    out = capsys.readouterr().out
    assert "lines frozen" in out and "120,000.00" in out
