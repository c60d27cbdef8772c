from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from salesplan.core.clock import company_today
from salesplan.core.fiscal import CompanyCalendar
from salesplan.forecasting import periods
from salesplan.pipeline.models import OpportunityChange, Pipeline

from ..api.conftest import api_as  # noqa: F401 - the API caller fixture, shared
from ..factories import make_opportunity


@pytest.fixture
def current(db):
    return periods.quarter_of(CompanyCalendar.current(), company_today())


def deal(owner, *, stages: list[str], outcome: str | None, amount: str = "1000",
         close: date | None = None, pipeline: Pipeline | None = None):
    """An opportunity that went through `stages` (names) and ended `outcome`
    ("won", "lost" or None for still open), with its recorded stage history."""
    pipeline = pipeline or Pipeline.objects.get(is_default=True)
    by_name = {s.name: s for s in pipeline.stages.all()}
    final = (pipeline.stages.get(kind=outcome) if outcome else by_name[stages[-1]])
    opp = make_opportunity(owner, stage_position=final.position, amount=Decimal(amount),
                           close_date=close or company_today(), pipeline=pipeline)
    path = [by_name[name] for name in stages] + ([final] if outcome else [])
    previous = None
    for i, stage in enumerate(path):
        OpportunityChange.objects.create(
            opportunity=opp, field="stage", from_stage=previous, to_stage=stage,
            changed_at=timezone.now() - timedelta(days=100 - i))
        previous = stage
    return opp
