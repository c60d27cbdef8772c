"""The accrual of the rest of the year: hand-computed per month from deals won and the
open pipeline (amount × stage probability), its range, and who may see it."""

from datetime import UTC, date, datetime
from decimal import Decimal as D

import pytest
import time_machine

from tests.factories import make_account, make_opportunity

from .conftest import won

NEGOTIATION, PROPOSAL, PROSPECTING = 4, 3, 0  # 75 %, 55 %, 10 % in the default pipeline


@pytest.fixture
def pipeline(org, comp):
    rep = org.west_rep
    won(rep, "100000", date(2026, 10, 5))  # before this month: not in the accrual
    won(rep, "50000", date(2026, 11, 3))
    make_opportunity(rep, make_account(rep), NEGOTIATION, amount=D("40000"),
                     close_date=date(2026, 11, 20), forecast_category="commit")
    make_opportunity(rep, make_account(rep), PROSPECTING, amount=D("20000"),
                     close_date=date(2026, 10, 1))  # overdue: counts this month
    make_opportunity(rep, make_account(rep), PROPOSAL, amount=D("100000"),
                     close_date=date(2026, 12, 15))
    make_opportunity(rep, make_account(rep), PROPOSAL, amount=D("999999"),
                     close_date=date(2027, 1, 15))  # next fiscal year


@pytest.fixture
def november():
    with time_machine.travel(datetime(2026, 11, 10, 12, tzinfo=UTC), tick=False):
        yield


def test_the_accrual_of_november_and_december(org, pipeline, november, client):
    client.force_login(org.west_manager)
    body = client.get("/api/v1/comp/accrual").json()
    assert (body["as_of"], body["through"]) == ("2026-11-10", "2026-12-31")
    assert "amount × stage probability" in body["method"]
    rows = {r["rep_id"]: r for r in body["rows"]}
    assert set(rows) == {org.west_rep.pk, org.west_rep2.pk}  # the manager's people
    nov, dec = rows[org.west_rep.pk]["months"]
    # November: 50,000 won + 40,000 × 75 % + 20,000 × 10 % = 82,000 → × 2 % = 1,640
    # low: 50,000 + 40,000 committed = 90,000 → 1,800
    # high: 110,000 → 100,000 × 2 % + 10,000 × 5 % = 2,500
    assert (nov["expected"], nov["low"], nov["high"], nov["open_deals"]) == (
        "1640.00", "1800.00", "2500.00", 2)
    # December: 100,000 × 55 % = 55,000 → 1,100; low nothing; high 100,000 → 2,000
    assert (dec["expected"], dec["low"], dec["high"]) == ("1100.00", "0.00", "2000.00")
    assert body["totals"] == [{"currency": "USD", "expected": "2740.00", "low": "1800.00",
                               "high": "4500.00"}]


def test_who_sees_the_accrual(org, pipeline, november, client):
    client.force_login(org.west_rep)
    assert client.get("/api/v1/comp/accrual").status_code == 403
    assert client.get("/comp/accrual/").status_code == 403
    client.force_login(org.east_manager)
    assert client.get("/api/v1/comp/accrual").json()["totals"][0]["expected"] == "0.00"
    client.force_login(org.executive)
    body = client.get("/api/v1/comp/accrual").json()
    assert {r["rep_id"] for r in body["rows"]} == {
        org.west_rep.pk, org.west_rep2.pk, org.east_rep.pk}


def test_the_page_states_how_the_range_was_made(org, pipeline, november, client):
    client.force_login(org.admin)
    page = client.get("/comp/accrual/").content.decode()
    assert "data-accrual-method" in page and "committed in the forecast" in page
    assert 'data-accrual-total="USD"' in page and "2740.00" in page
