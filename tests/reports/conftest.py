"""A small, hand-computable sales history for the report tests (fiscal year = calendar
year in these tests, so FY2026 Q1 is January to March 2026)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from salesplan.pipeline.models import Opportunity, OpportunityChange, Pipeline

from ..api.conftest import api_as  # noqa: F401 - the API caller fixture, shared
from ..factories import make_activity, make_lead, make_opportunity

Q1 = "FY2026-Q1"


def deal(owner, amount: str, close: date, kind: str = "won", *, created: datetime | None = None,
         position: int | None = None, pipeline=None, history: Sequence[tuple[int, datetime]] = (),
         currency: str = "USD") -> Opportunity:
    """An opportunity with a given outcome; `history` records its stage moves
    (position, when) as the pipeline services would."""
    pipeline = pipeline or Pipeline.objects.get(is_default=True)
    if position is None:
        position = pipeline.stages.get(kind=kind).position if kind != "open" else 1
    opp = make_opportunity(owner, stage_position=position, amount=Decimal(amount),
                           close_date=close, pipeline=pipeline, currency=currency)
    created = created or datetime(close.year, close.month, 1, 9, tzinfo=UTC)
    Opportunity.objects.filter(pk=opp.pk).update(created_at=created)
    stages = {s.position: s for s in pipeline.stages.all()}
    for pos, at in history:
        OpportunityChange.objects.create(opportunity=opp, field="stage", to_stage=stages[pos],
                                         changed_at=at)
    opp.refresh_from_db()
    return opp


@dataclass
class History:
    won_west_feb: Opportunity
    won_west_mar: Opportunity
    lost_west: Opportunity
    open_west: Opportunity
    won_west2: Opportunity
    won_east: Opportunity
    open_east: Opportunity


@pytest.fixture
def history(org) -> History:
    """West rep: won 1,000 (Feb) and 3,000 (Mar), lost 500 (Jan), open 2,000 (Mar);
    2,000 won in the previous quarter and 500 a year before. West rep 2: won 4,000 (Jan).
    East rep: won 7,000 (Feb), open 1,000 (Feb). One EUR deal that USD reports ignore."""
    west, west2, east = org.west_rep, org.west_rep2, org.east_rep
    h = History(
        won_west_feb=deal(west, "1000.00", date(2026, 2, 10), history=[
            (0, datetime(2026, 1, 5, 10, tzinfo=UTC)), (3, datetime(2026, 1, 20, tzinfo=UTC)),
            (5, datetime(2026, 2, 9, 15, tzinfo=UTC))]),
        won_west_mar=deal(west, "3000.00", date(2026, 3, 5), history=[
            (0, datetime(2026, 2, 1, 9, tzinfo=UTC)), (5, datetime(2026, 3, 3, 9, tzinfo=UTC))]),
        lost_west=deal(west, "500.00", date(2026, 1, 20), kind="lost", history=[
            (0, datetime(2026, 1, 1, 9, tzinfo=UTC)), (1, datetime(2026, 1, 10, tzinfo=UTC)),
            (6, datetime(2026, 1, 11, 9, tzinfo=UTC))]),
        open_west=deal(west, "2000.00", date(2026, 3, 31), kind="open"),
        won_west2=deal(west2, "4000.00", date(2026, 1, 15)),
        won_east=deal(east, "7000.00", date(2026, 2, 1)),
        open_east=deal(east, "1000.00", date(2026, 2, 2), kind="open"),
    )
    deal(west, "2000.00", date(2025, 12, 15))
    deal(west, "500.00", date(2025, 1, 15))
    deal(west, "9999.00", date(2026, 2, 15), currency="EUR")
    for owner, kind, day, done in [(west, "call", 10, True), (west, "call", 11, True),
                                   (west, "meeting", 12, True), (west, "email", 13, False),
                                   (west2, "call", 14, True), (east, "meeting", 15, True)]:
        make_activity(owner, kind=kind, done=done,
                      due_at=datetime(2026, 2, day, 12, tzinfo=UTC))
    for owner, status in [(west, "new"), (west, "converted"), (east, "new")]:
        lead = make_lead(owner, status=status)
        type(lead).objects.filter(pk=lead.pk).update(
            created_at=datetime(2026, 1, 20, 12, tzinfo=UTC))
    return h
