"""The demo's marketing section: campaigns with members and responses, a capture form,
captured leads routed to reps (a few waiting in the queue), handoffs and attribution."""

import random
from datetime import date

import pytest

from salesplan.demo import marketing as demo_marketing
from salesplan.demo.build import build_demo
from salesplan.demo.org import DemoOrg
from salesplan.marketing.models import (
    Campaign,
    CampaignMember,
    CaptureForm,
    LeadHandoff,
    OpportunityTouch,
)
from salesplan.org.models import Role


@pytest.fixture(autouse=True)
def sections_before_this_one(monkeypatch):
    """build_demo runs every section; these tests build the marketing section themselves,
    on top of the sections that come before it."""
    from salesplan.demo import build

    monkeypatch.setattr(build, "DEMO_SECTIONS",
                        build.DEMO_SECTIONS[:build.DEMO_SECTIONS.index("marketing")])


pytestmark = pytest.mark.django_db


def test_demo_marketing_is_built_through_the_services():
    build_demo(seed=3, accounts=200, parallel=False, today=date(2026, 11, 27))
    lines: list[str] = []
    demo_marketing.build(DemoOrg(company=None), accounts=200,  # type: ignore[arg-type]
                         today=date(2026, 11, 27), rng=random.Random(3), log=lines.append)
    assert Campaign.objects.count() == len(demo_marketing.CAMPAIGNS)
    assert CampaignMember.objects.filter(responded_at__isnull=False).exists()
    form = CaptureForm.objects.get(name="Webinar registration")
    captured = LeadHandoff.objects.filter(form=form)
    assert captured.count() == demo_marketing.CAPTURED + demo_marketing.UNROUTABLE
    routed = captured.filter(queued=False)
    assert routed.exists()
    assert all(h.lead.owner.role == Role.REP for h in routed.select_related("lead__owner"))
    queued = captured.filter(queued=True)
    assert queued.count() >= demo_marketing.UNROUTABLE
    assert all(h.queue_reason for h in queued)
    assert captured.filter(stage="disqualified").exclude(reason="").exists()
    assert OpportunityTouch.objects.exists()
    assert lines and lines[-1].startswith("Marketing:")


def test_large_demo_leaves_marketing_out():
    lines: list[str] = []
    demo_marketing.build(DemoOrg(company=None), accounts=demo_marketing.MAX_ACCOUNTS + 1,  # type: ignore[arg-type]
                         today=date(2026, 11, 27), rng=random.Random(1), log=lines.append)
    assert "left out" in lines[0] and not Campaign.objects.exists()
