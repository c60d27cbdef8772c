"""The statistical forecast page in the browser: every claim it makes in words is read
against the numbers behind it (the scores table on the page, and the API's figures)."""

import math
import re
from datetime import date

import pytest
from playwright.sync_api import expect

from salesplan.core.clock import company_today
from salesplan.forecasting import statistical
from tests.forecasting.conftest import deal

from .conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def _month(offset: int) -> date:
    today = company_today()
    index = today.year * 12 + today.month - 1 + offset
    return date(index // 12, index % 12 + 1, 10)


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def test_forecast_page_claims_match_its_numbers(page, org, monkeypatch):
    # Three folds and the cheap candidates with exponential smoothing keep the fit short.
    monkeypatch.setattr(statistical, "BACKTEST_FOLDS", 3)
    monkeypatch.setattr(statistical, "CANDIDATES",
                        ["naive", "seasonal_naive", "drift", "auto_ets"])
    for back in range(30, 0, -1):
        amount = int(2000 + 15 * back + 500 * math.sin(2 * math.pi * back / 12)
                     + (37 * back % 11) * 20)
        deal(org.west_rep, stages=["Prospecting"], outcome="won", amount=str(amount),
             close=_month(-back))
    page.set_default_timeout(60_000)
    page.set_default_navigation_timeout(60_000)
    log_in(page, org.west_manager, org.password)
    page.goto(f"/forecasts/statistical/?scope=team:{org.west.pk}")
    claims = page.locator("#forecast-accuracy p.claim")
    expect(claims.first).to_contain_text("Model used:")
    text = " ".join(claims.all_inner_texts())

    table = page.locator("#model-scores")
    used = table.locator("tbody tr.chosen")
    expect(used).to_have_count(1)
    chosen = used.get_attribute("data-model")
    rows = {r.get_attribute("data-model"): r for r in table.locator("tbody tr").all()}
    mase = {name: float(r.locator("[data-mase]").get_attribute("data-mase") or "nan")
            for name, r in rows.items()}
    # the model named is the one marked as used: the standard one (exponential smoothing
    # among these candidates) unless a fitted model's error was clearly lower, as the
    # page's rule says
    label = used.locator("th").inner_text().replace("(used)", "").strip()
    assert f"Model used: {label} (" in text
    rule = " ".join(page.locator("#forecast-accuracy [data-rule]").all_inner_texts())
    assert "at least 20% smaller" in rule and "used only when no model can be fitted" in rule
    assert chosen == "auto_ets" and "the standard choice" in text
    if mase[chosen] > min(mase.values()):
        assert "no other fitted model had a smaller error" in text

    # its error is quoted at the horizon shown: six months, as many as the forecast table
    horizon = int(re.search(r"Its error (\d+) months ahead: MASE ([\d.]+)", text).group(1))
    quoted = float(re.search(r"Its error \d+ months ahead: MASE ([\d.]+)", text).group(1))
    expect(page.locator("#forecast-months tbody tr")).to_have_count(horizon)
    assert horizon == 6 and quoted == pytest.approx(mase[chosen], abs=0.005)
    for booked in page.locator("#backtest-folds tbody tr td:nth-child(3)").all_inner_texts():
        assert len(booked.split(";")) == horizon

    # seasonal naive's error in the same folds; a win is claimed only when it was one
    if chosen == "seasonal_naive":
        assert "No model beat simply repeating the same month last year" in text
    else:
        base = float(re.search(r"seasonal naive\) scored MASE ([\d.]+)", text).group(1))
        assert base == pytest.approx(mase["seasonal_naive"], abs=0.005)
        if mase[chosen] < mase["seasonal_naive"]:
            gain = int(re.search(r"error is (\d+)% lower", text).group(1))
            assert gain == round(100 * (1 - mase[chosen] / mase["seasonal_naive"]))
        else:
            assert "did not beat it" in text and "lower" not in text
    assert "below 1" not in text

    # the calibrated range's coverage, on folds that did not set it, is what the table counts
    held = re.search(r"it held (\d+) of (\d+) booked months \((\d+)%\)", text)
    cell = used.locator("[data-inside]")
    assert held.group(1) == cell.get_attribute("data-inside")
    assert held.group(2) == cell.get_attribute("data-months") == str(3 * horizon)
    assert int(held.group(3)) == round(100 * int(held.group(1)) / int(held.group(2)))

    # and the page says what the API measures
    body = page.request.get(f"/api/v1/forecasts/statistical?scope=team:{org.west.pk}").json()
    assert body["model"] == chosen and body["horizon"] == horizon
    assert body["backtest_mase"] == pytest.approx(mase[chosen], abs=1e-6)
    assert body["baseline_mase"] == pytest.approx(mase["seasonal_naive"], abs=1e-6)
    assert body["statements"] == claims.all_inner_texts()
    first = page.locator("#forecast-months tbody tr").first.locator("td").nth(1).inner_text()
    assert _number(first) == pytest.approx(float(body["forecast"][0]["amount"]))
