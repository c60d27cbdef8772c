"""The demo's forecasts: past calls close to what was booked, the current quarter revised
and adjusted, weekly snapshots that move, and every account's health scored."""

import random
from collections import defaultdict

import pytest

from salesplan.core.clock import company_today
from salesplan.core.fiscal import CompanyCalendar
from salesplan.customers.models import Account
from salesplan.demo import forecasting as demo_forecasting
from salesplan.demo.build import build_demo
from salesplan.demo.org import DemoOrg
from salesplan.forecasting import periods, statistical
from salesplan.forecasting.models import ForecastAdjustment, ForecastSnapshot, ForecastSubmission
from salesplan.health.models import AccountHealth
from salesplan.org.models import Company, Role, User


@pytest.fixture(autouse=True)
def sections_before_this_one(monkeypatch):
    """build_demo runs every section; these tests build the forecasting section themselves,
    on top of the sections that come before it."""
    from salesplan.demo import build

    monkeypatch.setattr(build, "DEMO_SECTIONS",
                        build.DEMO_SECTIONS[:build.DEMO_SECTIONS.index("forecasting")])


pytestmark = pytest.mark.django_db


def test_demo_forecasts_and_health():
    build_demo(seed=3, accounts=200, parallel=False)
    company = Company.current()
    today = company_today()
    reps: dict[str, list[User]] = defaultdict(list)
    for rep in User.objects.filter(role=Role.REP).select_related("team").order_by("pk"):
        reps[rep.team.name].append(rep)
    said: list[str] = []
    demo_forecasting.build(DemoOrg(company=company, reps_by_team=dict(reps)), accounts=200,
                           today=today, rng=random.Random(1), log=said.append)
    rep_count = sum(len(v) for v in reps.values())
    calendar = CompanyCalendar.current()
    current = periods.quarter_of(calendar, today)
    past = ForecastSubmission.objects.exclude(fiscal_year=current.fiscal_year,
                                              quarter=current.number)
    assert past.count() == 4 * rep_count
    assert ForecastSubmission.objects.filter(fiscal_year=current.fiscal_year,
                                             quarter=current.number).count() >= rep_count
    assert ForecastAdjustment.objects.count() == len(reps)
    assert ForecastSnapshot.objects.filter(scope="company").count() >= 1
    assert AccountHealth.objects.count() == Account.objects.count() == 200
    assert said[0].startswith("Forecasts:") and said[1].startswith("Health: 200 accounts")
    vp = User.objects.get(username="vp")
    accuracy = statistical.submission_accuracy(vp, today=today)
    assert accuracy and all(a.accuracy.periods >= 1 for a in accuracy)


def test_large_demo_leaves_health_to_the_command():
    said: list[str] = []
    demo_forecasting.build(DemoOrg(company=Company.current()), accounts=1_000_000,
                           today=company_today(), rng=random.Random(1), log=said.append)
    assert said[-1].startswith("Health: left to `salesplan health compute`")
    assert not AccountHealth.objects.exists()
