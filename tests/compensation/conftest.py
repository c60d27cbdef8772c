"""A small company with a January and a February pay period, a marginal commission plan
for reps (2 % to quota, 5 % above; quota 100,000 USD a month; 90-day clawback) and a EUR
rate of 1.085 USD."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal as D

import pytest

from salesplan.compensation import services
from salesplan.compensation.models import CompPeriod, CompPlan
from salesplan.pipeline.models import Pipeline, StageKind
from salesplan.pricing import services as pricing
from tests.factories import make_account, make_opportunity

DEFINITION = {
    "clawback_days": 90,
    "commissions": [{"key": "bookings", "label": "Bookings commission", "quota": "100000",
                     "method": "marginal",
                     "tiers": [{"from": "0", "rate": "0.02"}, {"from": "1", "rate": "0.05"}]}],
}


@dataclass
class Comp:
    january: CompPeriod
    february: CompPeriod
    plan: CompPlan


@pytest.fixture
def comp(org) -> Comp:
    january = services.create_period(by=org.admin, data={
        "name": "January 2026", "starts": date(2026, 1, 1), "ends": date(2026, 1, 31)})
    february = services.create_period(by=org.admin, data={
        "name": "February 2026", "starts": date(2026, 2, 1), "ends": date(2026, 2, 28)})
    plan = services.create_plan(by=org.admin, data={
        "name": "Rep plan 2026", "role": "rep", "starts": date(2026, 1, 1),
        "ends": date(2026, 12, 31), "effective_from": date(2026, 1, 1), "currency": "USD",
        "definition": DEFINITION, "document": "You are paid 2 % to quota and 5 % above."})
    plan = services.activate_plan(plan, by=org.admin, expected_version=plan.version)
    pricing.create_exchange_rate(by=org.admin, base="EUR", quote="USD", rate=D("1.085"),
                                 date=date(2025, 12, 1))
    return Comp(january, february, plan)


def won_stage():
    stages = Pipeline.objects.get(is_default=True).stages
    return stages.filter(kind=StageKind.WON).order_by("position").first()


def won(owner, amount: str, day: date, currency: str = "USD", account=None):
    stage = won_stage()
    return make_opportunity(owner, account or make_account(owner), stage.position,
                            amount=D(amount), currency=currency, close_date=day)
