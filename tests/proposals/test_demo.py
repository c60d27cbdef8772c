"""The demo quotes: built through the services on the reps' deals, in various statuses."""

import random
from collections import Counter

from salesplan.core.clock import company_today
from salesplan.demo import pricing as demo_pricing
from salesplan.demo import proposals as demo
from salesplan.demo.org import DemoOrg
from salesplan.org.models import Company
from salesplan.pipeline.models import Opportunity
from salesplan.proposals.models import Quote

from ..factories import make_opportunity


def test_demo_quotes_cover_the_statuses_and_add_up(org):
    company = Company.current()
    reps = {"West": [org.west_rep, org.west_rep2], "East": [org.east_rep]}
    for rep in (org.west_rep, org.west_rep2, org.east_rep):
        for _ in range(5):
            make_opportunity(rep)
    today = company_today()
    logged: list[str] = []
    demo_pricing.build(DemoOrg(company=company), accounts=200, today=today,
                       rng=random.Random(3), log=logged.append)
    demo.build(DemoOrg(company=company, reps_by_team=reps), accounts=600, today=today,
               rng=random.Random(3), log=logged.append)
    statuses = Counter(Quote.objects.values_list("status", flat=True))
    assert set(statuses) == {"draft", "in_approval", "approved", "sent", "accepted",
                             "rejected", "expired"}, (statuses, logged)
    assert sum(statuses.values()) == 12
    assert Quote.objects.filter(current_number=2).count() == 1
    accepted = Quote.objects.get(status="accepted")
    opportunity = Opportunity.objects.get(pk=accepted.opportunity_id)
    assert (opportunity.status, opportunity.amount) == ("won", accepted.total)
    for quote in Quote.objects.all():
        version = quote.versions.get(number=quote.current_number)
        assert version.total == sum(line.line_total for line in version.lines.all())
        assert quote.total == version.total and version.lines.exists()


def test_demo_quotes_are_skipped_at_benchmark_scale(org):
    logged: list[str] = []
    demo.build(DemoOrg(company=Company.current()), accounts=1_000_000, today=company_today(),
               rng=random.Random(1), log=logged.append)
    assert logged == ["Quotes: skipped at this scale."] and not Quote.objects.exists()
