"""The reports demo section builds the rollups and a saved, scheduled report per manager."""

import random
from datetime import date

from salesplan.metrics.models import OpportunityLine
from salesplan.pipeline.models import Opportunity
from salesplan.reports.models import SavedReport, ScheduledReport


def test_demo_section(org, history):
    from salesplan.demo import reports

    lines: list[str] = []
    reports.build(None, accounts=3000, today=date(2026, 2, 15), rng=random.Random(1),
                  log=lines.append)
    assert OpportunityLine.objects.count() == Opportunity.objects.count()
    managers = SavedReport.objects.filter(owner__role="manager")
    assert managers.count() == 3 and all(s.shared for s in managers)
    assert managers.first().filters == {"period": "FY2026-Q1", "by": "owner"}
    assert ScheduledReport.objects.count() == 3
    assert "3 saved team reports" in lines[-1]


def test_demo_section_skips_large_companies(org):
    from salesplan.demo import reports

    lines: list[str] = []
    reports.build(None, accounts=1_000_000, today=date(2026, 2, 15), rng=random.Random(1),
                  log=lines.append)
    assert SavedReport.objects.count() == 0 and "rebuild" in lines[0]
