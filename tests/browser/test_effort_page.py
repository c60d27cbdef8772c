"""A manager reads an effort run's page: every figure and sentence it shows agrees with
the numbers the run stored — the two gains apart and adding up, the range, the cap, the
held-out check — and the curves are drawn on a true scale of calls."""

import json
import re
from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone

from salesplan.engines.effort import AdbudgCurve
from salesplan.planning import effort, services

from ..factories import make_account, make_activity
from ..planning.conftest import won
from .conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def _number(text: str) -> float:
    return float(re.search(r"-?[\d,]+(?:\.\d+)?", text).group(0).replace(",", ""))


def _history(org) -> None:
    """Five accounts called 0–4 times a month, booking what a known curve says."""
    truth = AdbudgCurve(floor=200, ceiling=4000, shape=0.9, scale=2.0)
    for k in range(5):
        account = make_account(org.west_rep, tier="mid_market", industry="Retail")
        for i in range(12):
            day = date(2025, i + 1, 15)
            calls = (k + i) % 5
            for c in range(calls):
                moment = timezone.make_aware(datetime.combine(day, datetime.min.time())
                                             + timedelta(hours=9 + c))
                make_activity(org.west_rep, account, done=True, done_at=moment, due_at=moment)
            won(org.west_rep, f"{float(truth(calls)):.2f}", day, account=account)


def test_the_effort_page_says_what_the_run_computed(page, org):
    plan = services.create_plan(by=org.west_manager, name="West FY2026", fiscal_year=2026,
                                team=org.west)
    _history(org)
    run = effort.start_run(plan, by=org.west_manager, background=False, params={
        "margin_rate": "0.5", "cost_per_hour": "40", "first_month": 1,
        "bootstrap_iterations": 20})
    assert run.status == "succeeded", run.message
    summary = run.result["summary"]
    segment = next(s for s in run.result["segments"] if s["tier"] == "mid_market")

    log_in(page, org.west_manager, org.password)
    page.goto(f"/plans/{plan.pk}/effort/{run.pk}/")

    def claim(name: str):
        return page.locator(f"[data-claim='{name}']")

    # The gains, apart, as stored; today + reallocation + more hours = the plan.
    shown = {k: _number(claim(k).inner_text()) for k in (
        "reallocation_gain", "added_hours_gain", "current_profit", "same_hours_profit",
        "optimal_profit")}
    for key, value in shown.items():
        assert value == pytest.approx(summary[key], abs=0.01), key
    assert shown["current_profit"] + shown["reallocation_gain"] == pytest.approx(
        shown["same_hours_profit"], abs=0.02)
    assert shown["same_hours_profit"] + shown["added_hours_gain"] == pytest.approx(
        shown["optimal_profit"], abs=0.02)
    # The range: its ends and its number of resamples.
    spread = claim("reallocation_range").inner_text()
    low, high = (float(x.replace(",", "")) for x in re.findall(r"-?[\d,]+\.\d\d", spread)[:2])
    assert low == pytest.approx(summary["reallocation_range"]["low"], abs=0.01)
    assert high == pytest.approx(summary["reallocation_range"]["high"], abs=0.01)
    assert "20 resamples of accounts and months" in spread
    # It is corrected for the optimism of choosing the best plan, and says its level.
    nominal = round(summary["reallocation_range"]["coverage"] * 100)
    assert f"a {nominal}% range: it should hold the true gain {nominal} times in 100" in spread
    assert claim("reallocation_range").get_attribute("data-corrected") == "yes"
    assert summary["reallocation_range"]["method"] == "optimism-corrected bootstrap"

    # The cap: said, and held in the call plan.
    cap_text = claim("cap").inner_text()
    assert "none beyond it" in cap_text and summary["units_beyond_cap"] == 0
    assert "No curve is stretched past the most calls" in cap_text
    assert summary["pays_above_seen_pct"] is None
    cap = segment["cap"]
    assert cap == 4.0  # the most calls any account had in a month
    rows = page.locator("section[aria-labelledby='units-heading'] tbody tr")
    for i in range(rows.count()):
        cells = rows.nth(i).locator("td")
        assert float(cells.nth(4).inner_text()) <= cap  # today's hours, reallocated
        assert float(cells.nth(5).inner_text()) <= cap  # with the plan's hours

    # The curve's sentence and its held-out check read the stored figures.
    article = page.locator(f"article[data-segment='{segment['key']}']")
    sentence = article.locator(".curve-sentence").inner_text()
    curve = dict((x, y) for x, y in segment["curve_points"])
    assert f"at {cap:g} calls, the most seen" in sentence
    assert "60 account-months" in sentence and "0 to 4 calls" in sentence
    assert f"{round(curve[0.0]):,} a month with no calls" in sentence
    held = segment["held_out"]
    check = article.locator(".held-out").inner_text()
    assert f"{held['test_months']} latest months" in check
    assert f"missed by {round(held['curve_error']):,} a month" in check
    assert f"against {round(held['naive_error']):,} for a forecast that ignores calls" in check
    assert ("the curve predicts better" in check) == (held["curve_error"] < held["naive_error"])

    # The chart: calls on a true (value) axis, the data points at the calls seen (no
    # missing level drawn as zero), the curve used solid up to the cap and flat past it.
    option = json.loads(article.locator(".chart").get_attribute("data-chart"))
    assert option["xAxis"]["type"] == "value"
    series = {s["name"]: s for s in option["series"]}
    seen = [x for x, _ in series["Mean bookings seen"]["data"]]
    assert seen == [p[0] for p in segment["points"]] == [0.0, 1.0, 2.0, 3.0, 4.0]
    used = series["Curve the plan uses"]["data"]
    assert max(x for x, _ in used) == cap and len(used) > 10
    flat = series["Held flat past the most calls seen"]["data"]
    assert len({round(y, 2) for _, y in flat}) == 1
