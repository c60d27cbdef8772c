"""The demo company's lead scoring and a few conversations, built through the services.

Scoring rules a marketing manager would set up (fit by industry, size, seniority, source
and e-mail kind; engagement by what was logged on the lead), a predictive model trained on
the demo's converted and disqualified leads — or, when the demo has too few of either, a
note saying so and no model — then every lead scored. A handful of comments on leads,
accounts and deals mention colleagues who can see them, so notifications are waiting.
"""

import random
from collections.abc import Callable
from datetime import date

from salesplan.collab import services as collab
from salesplan.customers.models import Account, Lead, LeadStatus
from salesplan.org.models import Role, User
from salesplan.pipeline.models import Opportunity
from salesplan.scoring import services as scoring

from .org import DemoOrg

MAX_ACCOUNTS = 200_000  # above this the demo leaves training and scoring to the CLI

RULES = [
    ("fit", "industry", "in", "Healthcare, Software, Financial Services, Biotechnology", 20,
     "Target industry"),
    ("fit", "employees", "between", "100-5000", 15, "Mid-market or enterprise size"),
    ("fit", "employees", "at_most", "10", -10, "Very small company"),
    ("fit", "seniority", "in", "executive, director", 15, "Decision-level title"),
    ("fit", "email_kind", "equals", "free", -10, "Free e-mail address"),
    ("fit", "source", "in", "referral, partner, event", 10, "Warm source"),
    ("engagement", "meetings", "at_least", "1", 15, "Took a meeting"),
    ("engagement", "activities_30d", "at_least", "2", 10, "Active in the last 30 days"),
    ("engagement", "positive_outcomes", "at_least", "1", 10, "Positive conversation"),
    ("engagement", "campaign_responses", "at_least", "1", 10, "Responded to a campaign"),
]


def build(org: DemoOrg, *, accounts: int, today: date, rng: random.Random,
          log: Callable[[str], None]) -> None:
    marketer = User.objects.filter(role=Role.MARKETING, is_active=True).order_by("id").first()
    admin = User.objects.filter(role=Role.ADMIN, is_active=True).order_by("id").first()
    owner = marketer or admin
    if owner is None:
        log("Scoring: no marketing user or admin to own the rules; skipped.")
        return
    for kind, field, operator, value, points, label in RULES:
        scoring.create_rule(by=owner, data={"kind": kind, "field": field,
                                            "operator": operator, "value": value,
                                            "points": points, "label": label})
    log(f"Scoring: {len(RULES)} rules.")
    if accounts > MAX_ACCOUNTS:
        log(f"Scoring: training and scoring left to `salesplan scoring train` ({accounts:,} "
            f"accounts > {MAX_ACCOUNTS:,}).")
    else:
        _train_and_score(owner, log)
    _conversations(org, rng, log)


def _train_and_score(owner: User, log: Callable[[str], None]) -> None:
    converted = Lead.objects.filter(status=LeadStatus.CONVERTED).count()
    disqualified = Lead.objects.filter(status=LeadStatus.UNQUALIFIED).count()
    minimum = scoring.default_min_per_class()
    if min(converted, disqualified) < minimum:
        log(f"Scoring: no predictive model — the demo history is too thin ({converted} "
            f"converted and {disqualified} disqualified leads; {minimum} of each are "
            f"needed). Rule scores only.")
    else:
        model = scoring.train_model(by=owner, min_per_class=minimum)
        if model.status == "trained":
            log(f"Scoring: model v{model.version} trained on {converted} converted and "
                f"{disqualified} disqualified leads; held-out AUC "
                f"{model.metrics['auc']:.2f} on {model.counts['test_rows']} leads.")
        else:
            log(f"Scoring: no predictive model — {model.reason}")
    result = scoring.rescore_all()
    log(f"Scoring: {result['leads']:,} leads scored.")


def _conversations(org: DemoOrg, rng: random.Random, log: Callable[[str], None]) -> None:
    """Comments where a rep and their team lead talk about a record both can see."""
    posted = 0
    pairs = [(rep, rep.team.manager) for rep in org.reps
             if rep.team is not None and rep.team.manager is not None]
    rng.shuffle(pairs)
    for rep, manager in pairs[:4]:
        lead = (Lead.objects.filter(owner=rep, status__in=[LeadStatus.NEW, LeadStatus.WORKING])
                .order_by("id").first())
        if lead is not None:
            collab.post_comment(lead, by=rep, body=(
                f"@{manager.username} they asked for a demo next week; can you join?"))
            collab.post_comment(lead, by=manager, body=(
                f"Yes. @{rep.username} send me the agenda the day before."))
            posted += 2
        account = Account.objects.filter(owner=rep).order_by("id").first()
        if account is not None:
            collab.post_comment(account, by=manager, body=(
                f"@{rep.username} renewal is in the plan this quarter; what is the risk?"))
            posted += 1
        deal = Opportunity.objects.filter(owner=rep, status="open").order_by("id").first()
        if deal is not None:
            collab.post_comment(deal, by=rep, body=(
                f"Legal review started. @{manager.username} FYI, close date may slip."))
            posted += 1
    log(f"Comments: {posted} on leads, accounts and deals, with mentions.")
