"""The statistical forecast from real bookings, with its backtest, and the accuracy of
reps' past commits."""

import math
from datetime import date, timedelta
from decimal import Decimal

import pytest

from salesplan.core.clock import company_today
from salesplan.core.fiscal import CompanyCalendar
from salesplan.forecasting import periods, services, statistical

from ..api.conftest import assert_problem
from .conftest import deal

pytestmark = pytest.mark.django_db


def _month(offset: int) -> date:
    today = company_today()
    index = today.year * 12 + today.month - 1 + offset
    return date(index // 12, index % 12 + 1, 10)


@pytest.fixture(autouse=True)
def small_fits(monkeypatch):
    """Three folds and the cheap candidates plus exponential smoothing keep fits quick;
    the procedure is the product's."""
    monkeypatch.setattr(statistical, "BACKTEST_FOLDS", 3)
    monkeypatch.setattr(statistical, "CANDIDATES",
                        ["naive", "seasonal_naive", "drift", "auto_ets"])


def test_forecast_of_a_teams_bookings_with_backtest(org, api_as):
    expected = []
    for back in range(40, 0, -1):  # 40 complete months of bookings, seasonal: all are used
        amount = int(1000 + 20 * back + 300 * math.sin(2 * math.pi * back / 12))
        deal(org.west_rep, stages=["Prospecting"], outcome="won", amount=str(amount),
             close=_month(-back))
        expected.append(f"{amount}.00")
    deal(org.east_rep, stages=["Prospecting"], outcome="won", amount="999999",
         close=_month(-3))  # another team: not in West's history
    deal(org.west_rep, stages=["Prospecting"], outcome="won", amount="777",
         close=_month(0))  # this month is not complete: not in the history
    body = api_as(org.west_manager).get("/forecasts/statistical",
                                        scope=f"team:{org.west.pk}").data
    assert body["status"] == "ready"
    assert [h["amount"] for h in body["history"]] == expected
    assert body["horizon"] == 6 and len(body["forecast"]) == 6 and body["level"] == 80
    assert all(Decimal(f["lower"]) <= Decimal(f["amount"]) <= Decimal(f["upper"])
               for f in body["forecast"])
    # the folds score exactly the six months shown, each from where its training ends
    assert len(body["folds"]) == 3 and all(len(f["actual"]) == 6 for f in body["folds"])
    months = [h["month"] for h in body["history"]]
    assert [f["origin_month"] for f in body["folds"]] == months[-8:-5]
    scores = {s["model"]: s for s in body["scores"]}
    assert set(scores) == {"naive", "seasonal_naive", "drift", "auto_ets"}
    # exponential smoothing is the standard here (the combination is not a candidate) and
    # the baselines never replace it: it is used, and the page says why
    assert body["model"] == "auto_ets"
    assert "the standard choice" in body["statements"][0]
    assert body["backtest_mase"] == scores[body["model"]]["mase"]
    assert body["baseline_mase"] == scores["seasonal_naive"]["mase"]
    assert body["coverage"] == pytest.approx(scores[body["model"]]["inside"] / 18)
    assert any(body["model_spec"] in line for line in body["statements"])
    assert_problem(api_as(org.west_manager).get("/forecasts/statistical", scope="company"),
                   422, "scope")
    assert_problem(api_as(org.west_rep).get("/forecasts/statistical",
                                            scope=f"team:{org.west.pk}"), 422, "scope")
    company = api_as(org.executive).get("/forecasts/statistical", scope="company").data
    assert company["history"][-3]["amount"] == str(
        Decimal(expected[-3]) + Decimal("999999.00"))


def test_short_history_says_so(org, api_as, client):
    for back in (3, 2, 1):
        deal(org.west_rep, stages=["Prospecting"], outcome="won", amount="500",
             close=_month(-back))
    body = api_as(org.west_rep).get("/forecasts/statistical").data
    assert body["scope"] == f"rep:{org.west_rep.pk}" and body["model"] == "naive"
    assert "comparing models needs" in body["statements"][0]
    assert "not been measured" in body["statements"][1]
    assert [f["amount"] for f in body["forecast"]] == ["500.00"] * 6
    assert body["folds"] == [] and body["backtest_mase"] is None
    client.force_login(org.west_rep)
    page = client.get("/forecasts/statistical/").content.decode()
    assert "comparing models needs" in page and "not been measured" in page


def test_a_scope_not_yet_fitted_is_fitted_in_the_background(org, client, api_as,
                                                            monkeypatch):
    from salesplan.forecasting import tasks

    for back in range(24, 0, -1):
        deal(org.west_rep, stages=["Prospecting"], outcome="won", amount=str(100 + back % 7),
             close=_month(-back))
    started: list[tuple] = []
    fit = tasks.fit_statistical_forecast

    class Queue:  # a worker pool that has not picked the fit up yet
        @staticmethod
        def enqueue(*args):
            started.append(args)

    monkeypatch.setattr(tasks, "fit_statistical_forecast", Queue)
    client.force_login(org.west_rep)
    page = client.get("/forecasts/statistical/").content.decode()
    assert "Choosing the model for these bookings" in page and 'hx-trigger="every 2s"' in page
    client.get("/forecasts/statistical/")  # a second look starts no second fit
    assert started == [(f"rep:{org.west_rep.pk}", str(org.west_rep),
                        company_today().isoformat())]
    waiting = api_as(org.west_rep).get("/forecasts/statistical").data
    assert waiting["status"] == "fitting" and waiting["statements"] == []
    fit.call(*started[0])  # what the worker runs
    assert api_as(org.west_rep).get("/forecasts/statistical").data["status"] == "ready"
    poll = client.get("/forecasts/statistical/", headers={"HX-Request": "true"})
    assert poll.headers["HX-Refresh"] == "true"
    page = client.get("/forecasts/statistical/").content.decode()
    assert "Model used:" in page and "Choosing the model" not in page


def test_accuracy_of_past_commits(org, api_as, client):
    calendar = CompanyCalendar.current()
    current = periods.quarter_of(calendar, company_today())
    p3, p2, p1 = (periods.shift(calendar, current, -n) for n in (3, 2, 1))
    for quarter, amount in ((p3, "50"), (p2, "80"), (p1, "100")):
        deal(org.west_rep, stages=["Prospecting"], outcome="won", amount=amount,
             close=quarter.start + timedelta(days=5))
    for quarter, commit in ((p2, "100"), (p1, "90")):  # submitted while the quarter ran
        services.submit_forecast(by=org.west_rep, fiscal_year=quarter.fiscal_year,
                                 quarter=quarter.number, commit=Decimal(commit),
                                 best_case=Decimal(commit), pipeline=Decimal(commit),
                                 today=quarter.start)
    rows = api_as(org.west_manager).get("/forecasts/accuracy").data
    assert len(rows) == 1 and rows[0]["periods_scored"] == 2
    # commits 100, 90 against 80, 100 booked; the naive guess was 50, 80
    assert rows[0]["mape"] == pytest.approx(17.5)
    assert rows[0]["mase"] == pytest.approx(0.6)
    assert rows[0]["baseline_mape"] == pytest.approx(28.75)
    assert api_as(org.east_manager).get("/forecasts/accuracy").data == []
    assert len(statistical.submission_accuracy(org.west_rep, today=company_today())) == 1
    client.force_login(org.west_manager)
    page = client.get("/forecasts/statistical/").content.decode()
    assert "17.5%" in page and "0.60" in page
