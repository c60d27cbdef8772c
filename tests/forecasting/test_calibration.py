"""Calibration and weighted pipeline against hand-computed figures."""

from datetime import timedelta
from decimal import Decimal

import pytest

from salesplan.core.clock import company_today
from salesplan.forecasting import calibration
from salesplan.pipeline.models import Pipeline

from ..api.conftest import assert_problem
from .conftest import deal

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(org):
    rep, other = org.west_rep, org.east_rep
    past = company_today() - timedelta(days=40)  # always an earlier month
    deal(rep, stages=["Prospecting", "Qualification", "Proposal"], outcome="won", close=past)
    deal(rep, stages=["Prospecting", "Qualification"], outcome="lost", close=past)
    deal(other, stages=["Prospecting"], outcome="lost", close=past)
    deal(other, stages=["Prospecting", "Qualification", "Proposal", "Negotiation"],
         outcome="won", close=past)
    # went back to Qualification once: still one deal that was in Qualification
    deal(rep, stages=["Prospecting", "Qualification", "Prospecting", "Qualification"],
         outcome="won", close=past)
    # closed too long ago, and still open: neither counts
    deal(rep, stages=["Prospecting"], outcome="won",
         close=company_today() - timedelta(days=500))
    open_small = deal(rep, stages=["Prospecting"], outcome=None, amount="10000")
    open_big = deal(rep, stages=["Prospecting", "Qualification", "Proposal"], outcome=None,
                    amount="20000")
    deal(other, stages=["Prospecting", "Qualification", "Proposal", "Negotiation"],
         outcome=None, amount="8000")
    return open_small, open_big


EXPECTED = [  # stage, stated, won, lost, observed, calibrated (prior weight 20)
    ("Prospecting", 10, 3, 2, "60.0", "20.0"),  # (300 + 200) / 25
    ("Qualification", 20, 3, 1, "75.0", "29.2"),  # (300 + 400) / 24
    ("Needs analysis", 35, 0, 0, None, "35.0"),
    ("Proposal", 55, 2, 0, "100.0", "59.1"),  # (200 + 1100) / 22
    ("Negotiation", 75, 1, 0, "100.0", "76.2"),  # (100 + 1500) / 21
]


def test_calibration_counts_each_deal_once_per_stage(org, history):
    rows = calibration.calibration(Pipeline.objects.get(is_default=True), months=12)
    got = [(r.stage.name, r.row.stated, r.row.won, r.row.lost,
            None if r.row.observed is None else str(r.row.observed), str(r.row.calibrated))
           for r in rows]
    assert got == [(n, Decimal(s), w, lo, o, c) for n, s, w, lo, o, c in EXPECTED]


def test_counts_are_kept_until_refreshed(org, history):
    pipeline = Pipeline.objects.get(is_default=True)
    assert calibration.calibration(pipeline)[0].row.won == 3  # counted on first use
    deal(org.west_rep, stages=["Prospecting"], outcome="won", close=company_today())
    assert calibration.calibration(pipeline)[0].row.won == 3
    assert calibration.refresh_outcomes() > 0
    assert calibration.calibration(pipeline)[0].row.won == 4
    # a window of one month: only deals closed this month
    this_month = calibration.calibration(pipeline, months=1)
    assert (this_month[0].row.won, this_month[0].row.lost) == (1, 0)
    assert this_month[1].row.closed == 0


def test_refresh_job_for_managers(org, history, api_as, django_capture_on_commit_callbacks):
    assert_problem(api_as(org.west_rep).post("/forecasts/calibration/refresh"), 403)
    with django_capture_on_commit_callbacks(execute=True):
        answer = api_as(org.west_manager).post("/forecasts/calibration/refresh")
    assert answer.status_code == 202
    from salesplan.core.models import BackgroundJob

    job = BackgroundJob.objects.get(pk=answer.data["id"])
    assert job.status == "succeeded" and job.result["forecasts"] == 4  # company + 3 teams


def test_calibration_api_and_page(org, history, api_as, client):
    body = api_as(org.west_manager).get("/forecasts/calibration", months=12).data
    assert [(s["stage"], s["won"], s["lost"], s["observed"], s["calibrated"])
            for s in body["stages"]] == [(n, w, lo, o, c) for n, _, w, lo, o, c in EXPECTED]
    loose = api_as(org.west_rep).get("/forecasts/calibration", prior_weight=0).data
    assert loose["stages"][1]["calibrated"] == "75.0"
    assert_problem(api_as(org.marketer).get("/forecasts/calibration"), 403)
    assert_problem(api_as(org.west_rep).get("/forecasts/calibration", months=0), 422, "months")
    client.force_login(org.west_manager)
    page = client.get("/forecasts/calibration/").content.decode()
    assert "29.2" in page and "59.1" in page and 'data-chart="' in page


def test_weighted_pipeline_stated_and_calibrated_per_quarter(org, history, api_as, current):
    rep = api_as(org.west_rep)
    stated = rep.get("/forecasts/weighted-pipeline", fiscal_year=current.fiscal_year).data
    quarter = stated["periods"][current.number - 1]
    # the rep sees their own two open deals: 10,000 × 10 % + 20,000 × 55 %
    assert quarter["open_amount"] == "30000.00" and quarter["weighted"] == "12000.00"
    calibrated = rep.get("/forecasts/weighted-pipeline", fiscal_year=current.fiscal_year,
                         probabilities="calibrated").data["periods"][current.number - 1]
    # 10,000 × 20.0 % + 20,000 × 59.1 %
    assert calibrated["weighted"] == "13820.00"
    everyone = api_as(org.executive).get("/forecasts/weighted-pipeline").data
    # plus the east rep's 8,000 in Negotiation at 75 %
    assert everyone["periods"][current.number - 1]["weighted"] == "18000.00"
