"""A territory map for routing: West covers CA (two reps), East covers NY (one rep),
Texas (TX) has no owner; and a capture form of a webinar campaign."""

import time
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import OperationalError

from salesplan.core.clock import company_today
from salesplan.marketing import services
from salesplan.marketing.models import (
    Campaign,
    CaptureForm,
    CaptureSubmission,
    MarketingPolicy,
)
from salesplan.territories.models import (
    Alignment,
    BoundaryRule,
    MemberRole,
    Territory,
    TerritoryMember,
)


@dataclass
class TerritoryMap:
    alignment: Alignment
    west: Territory
    east: Territory
    texas: Territory


def territory(alignment: Alignment, name: str, state: str, *members) -> Territory:
    found = Territory.objects.create(alignment=alignment, name=name)
    BoundaryRule.objects.create(territory=found, position=1, combine="all",
                                conditions=[{"field": "state", "op": "in", "values": [state]}])
    for user in members:
        TerritoryMember.objects.create(territory=found, user=user, role=MemberRole.OWNER,
                                       start_date=company_today() - timedelta(days=30))
    return found


@pytest.fixture
def territory_map(org) -> TerritoryMap:
    alignment = Alignment.objects.create(name="FY", status=Alignment.Status.ACTIVE)
    return TerritoryMap(
        alignment=alignment,
        west=territory(alignment, "West", "CA", org.west_rep, org.west_rep2),
        east=territory(alignment, "East", "NY", org.east_rep),
        texas=territory(alignment, "Texas", "TX"),
    )


@pytest.fixture
def policy(db) -> MarketingPolicy:
    policy = MarketingPolicy.current()
    policy.sla_hours, policy.default_capacity = 4, 50
    policy.save()
    return policy


@pytest.fixture
def campaign(org) -> Campaign:
    return services.create_campaign(by=org.marketer, data={
        "name": "Spring webinar", "type": "webinar", "channel": "email", "status": "active",
        "budget": "5000", "actual_cost": "4000.00", "currency": "USD"})


@pytest.fixture
def capture_form(org, campaign, territory_map, policy) -> CaptureForm:
    return services.create_form(by=org.marketer, data={
        "name": "Webinar sign-up", "campaign": campaign, "fields": ["company", "state",
                                                                   "country"],
        "required_fields": ["state"], "response": "registered", "rate_limit": 5})


@pytest.fixture
def one_minute(monkeypatch):
    """Capture's clock held in the middle of the present minute: the allowance counts per
    calendar minute, and a test whose submissions straddle a minute's end (a slow or
    busy machine, or just the wrong second) would see two allowances."""
    from salesplan.marketing import capture

    held = (time.time() // capture.RATE_WINDOW) * capture.RATE_WINDOW + 30
    monkeypatch.setattr(capture, "time", SimpleNamespace(time=lambda: held,
                                                         monotonic=time.monotonic))
    return held


def eventually(read, seconds: float = 20):
    """What `read` returns once it is something, reading while the server's intake
    thread writes (SQLite's shared in-memory test database refuses a read during a
    write at once instead of waiting)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            found = read()
        except OperationalError:
            found = None
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("the intake did not process the submissions in time")


def intake_settled() -> bool:
    """Wait until the intake thread has processed and scored every submission and has
    nothing left to do (so it touches the database no more)."""
    from salesplan.marketing.intake import intake

    settled = eventually(lambda: not CaptureSubmission.objects.exclude(
        status=CaptureSubmission.Status.FAILED).filter(scored=False).exists())
    return settled and intake.wait_idle(20)
