"""Helpers for the quality-control tests: dated history and a fixed clock."""

from datetime import timedelta

import pytest
from django.utils import timezone

from salesplan.pipeline.models import OpportunityChange, Pipeline

from ..api.conftest import api_as  # noqa: F401 - the API caller fixture, shared
from ..factories import make_activity, make_opportunity


def backdate(record, days: float) -> None:
    """Pretend the record was created `days` ago."""
    type(record).objects.filter(pk=record.pk).update(
        created_at=timezone.now() - timedelta(days=days))
    record.refresh_from_db()


def stage(position: int):
    return Pipeline.objects.get(is_default=True).stages.get(position=position)


def change_stage(opportunity, from_position: int, to_position: int, days_ago: float = 1):
    return OpportunityChange.objects.create(
        opportunity=opportunity, field=OpportunityChange.Field.STAGE,
        from_stage=stage(from_position), to_stage=stage(to_position),
        changed_at=timezone.now() - timedelta(days=days_ago))


def push_close_date(opportunity, from_date, to_date, days_ago: float = 1):
    return OpportunityChange.objects.create(
        opportunity=opportunity, field=OpportunityChange.Field.CLOSE_DATE,
        from_close_date=from_date, to_close_date=to_date,
        changed_at=timezone.now() - timedelta(days=days_ago))


@pytest.fixture
def deal(org):
    """A west rep's open deal, created 60 days ago, with a next step, closing in 30 days."""
    opportunity = make_opportunity(org.west_rep, next_step="Send the proposal")
    backdate(opportunity, 60)
    return opportunity


@pytest.fixture
def east_deal(org):
    opportunity = make_opportunity(org.east_rep, next_step="Call the CFO")
    backdate(opportunity, 60)
    return opportunity


def recent_activity(opportunity, days_ago: float = 1, **fields):
    return make_activity(opportunity.owner, opportunity.account, opportunity=opportunity,
                         due_at=timezone.now() - timedelta(days=days_ago), **fields)
