from datetime import date
from decimal import Decimal

import pytest

from salesplan.pipeline.models import Pipeline
from salesplan.planning import services

from ..api.conftest import api_as  # noqa: F401 - the API caller fixture, shared
from ..factories import make_opportunity

FY = 2026  # the company's fiscal year starts in January in these tests


@pytest.fixture
def west_plan(org):
    return services.create_plan(by=org.west_manager, name="West FY2026", fiscal_year=FY,
                                team=org.west)


def won(owner, amount: str, close_date: date, **fields):
    """A won opportunity of `owner` for `amount`, closing on `close_date`."""
    pipeline = Pipeline.objects.get(is_default=True)
    position = pipeline.stages.get(kind="won").position
    return make_opportunity(owner, stage_position=position, amount=Decimal(amount),
                            close_date=close_date, **fields)


def pv(plan) -> dict:
    """The `version` of a plan (or plan id) as a client that has just read it sends it."""
    from salesplan.planning.models import Plan

    return {"version": Plan.objects.get(pk=getattr(plan, "pk", plan)).version}
