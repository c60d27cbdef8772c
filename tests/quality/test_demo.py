"""The demo's quality section: a policy, stored duplicate scans and today's scores."""

import random
from datetime import date

import pytest

from salesplan.demo.build import build_demo
from salesplan.demo.org import DemoOrg
from salesplan.demo.quality import build
from salesplan.org.models import Company
from salesplan.quality.models import DuplicateScan, RequiredField, ScoreSnapshot

pytestmark = pytest.mark.django_db


def test_quality_demo_section():
    build_demo(seed=3, accounts=150, parallel=False, today=date(2026, 11, 2))
    lines: list[str] = []
    org = DemoOrg(company=Company.current())
    build(org, accounts=150, today=date(2026, 11, 2), rng=random.Random(1),
          log=lines.append)
    assert RequiredField.objects.count() == 4
    assert set(DuplicateScan.objects.values_list("record_type", flat=True)) == {
        "account", "contact", "lead"}
    company = ScoreSnapshot.objects.get(taken_on=date(2026, 11, 2), user=None, team=None)
    assert company.records > 150 and 0 <= company.score <= 100
    assert lines and lines[-1].startswith("Quality:")
    # building it twice keeps one policy and one day of scores
    build(org, accounts=150, today=date(2026, 11, 2), rng=random.Random(1))
    assert RequiredField.objects.count() == 4
    assert ScoreSnapshot.objects.filter(taken_on=date(2026, 11, 2), user=None,
                                        team=None).count() == 1


def test_large_demo_sets_the_policy_only(org):
    lines: list[str] = []
    build(DemoOrg(company=Company.current()), accounts=500_000, today=date(2026, 11, 2),
          rng=random.Random(1), log=lines.append)
    assert RequiredField.objects.count() == 4
    assert not DuplicateScan.objects.exists() and not ScoreSnapshot.objects.exists()
    assert "skipped" in lines[0]
