"""The demo's scoring section: rules, a model or a clear note that history is too thin,
every lead scored, and comments whose mentions notified someone."""


import pytest

from salesplan.collab.models import Comment, Notification
from salesplan.core.clock import company_today
from salesplan.customers.models import Lead
from salesplan.demo import scoring as demo_scoring
from salesplan.demo.build import build_demo
from salesplan.demo.org import DemoOrg
from salesplan.org.models import Company, Role, User
from salesplan.scoring.models import LeadScore, ScoringModel, ScoringRule


@pytest.fixture(autouse=True)
def sections_before_this_one(monkeypatch):
    """build_demo runs every section; these tests build the scoring section themselves,
    on top of the sections that come before it."""
    from salesplan.demo import build

    monkeypatch.setattr(build, "DEMO_SECTIONS",
                        build.DEMO_SECTIONS[:build.DEMO_SECTIONS.index("scoring")])


pytestmark = pytest.mark.django_db


def _org() -> DemoOrg:
    reps: dict[str, list[User]] = {}
    for rep in User.objects.filter(role=Role.REP).select_related("team", "team__manager"):
        reps.setdefault(rep.team.name, []).append(rep)
    return DemoOrg(company=Company.current(), reps_by_team=reps)


def _build(settings, accounts: int, minimum: int) -> list[str]:
    import random

    settings.SALESPLAN_SCORING_MIN_PER_CLASS = minimum
    build_demo(seed=5, accounts=accounts, parallel=False)
    said: list[str] = []
    demo_scoring.build(_org(), accounts=accounts, today=company_today(), rng=random.Random(1),
                       log=said.append)
    return said


def test_demo_trains_when_history_allows_and_scores_every_lead(settings):
    said = _build(settings, 1000, minimum=5)
    assert ScoringRule.objects.count() == len(demo_scoring.RULES)
    model = ScoringModel.objects.get()
    assert model.status == "trained", model.reason
    assert any("held-out AUC" in line for line in said)
    assert LeadScore.objects.count() == Lead.objects.count() > 0
    assert not LeadScore.objects.filter(probability__isnull=True).exists()
    assert Comment.objects.count() >= 4
    assert Notification.objects.count() == Comment.objects.count()


def test_demo_says_when_history_is_too_thin_and_skips_training(settings):
    said = _build(settings, 200, minimum=20)
    converted = Lead.objects.filter(status="converted").count()
    assert converted < 20
    assert any(line.startswith("Scoring: no predictive model — the demo history is too thin "
                               f"({converted} converted") for line in said)
    assert not ScoringModel.objects.exists()
    assert LeadScore.objects.count() == Lead.objects.count()
