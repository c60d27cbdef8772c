"""The data-quality score per rep, team and company, and its daily snapshots.

score = 100 − 100 × (weighted issues ÷ records), never below 0, where the records are
the accounts, contacts, open opportunities and open leads a person owns and each flagged
item counts its check's weight (see checks.CHECKS). A team's score sums its members'
records and issues (sub-teams included); the company's sums everyone's.
"""

from collections import Counter, defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Count

from salesplan.core.clock import company_today
from salesplan.customers.models import Account, Contact, Lead
from salesplan.org.models import Team, User
from salesplan.org.selectors import team_subtree_ids
from salesplan.pipeline.models import Opportunity, StageKind

from . import checks as qc
from .models import ScoreSnapshot


class Everyone:
    """The company-wide view a snapshot is taken with: every record, as an admin sees."""

    is_authenticated = True
    is_active = True
    is_superuser = True
    is_admin = True
    role = "admin"
    visible_owner_ids = None
    pk = None


def score_of(records: int, weighted: int) -> Decimal:
    if records <= 0:
        return Decimal("100.0") if weighted == 0 else Decimal("0.0")
    value = Decimal(100) - Decimal(100 * weighted) / Decimal(records)
    return max(Decimal("0.0"), value).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def records_by_owner() -> Counter:
    """How many records each person owns that the checks look at."""
    counts: Counter = Counter()
    sources = (Account.objects.all(), Contact.objects.all(),
               Opportunity.objects.filter(status=StageKind.OPEN),
               Lead.objects.filter(status__in=qc.OPEN_LEAD_STATUSES))
    for queryset in sources:
        for owner_id, n in (queryset.order_by().values("owner_id").annotate(n=Count("pk"))
                            .values_list("owner_id", "n")):
            counts[owner_id] += n
    return counts


def issues_by_owner(ctx: qc.Context | None = None) -> dict[int, Counter]:
    """Flagged items per person and check, over every record."""
    ctx = ctx or qc.Context.current()
    everyone = Everyone()
    table: dict[int, Counter] = defaultdict(Counter)
    for check in qc.CHECKS.values():
        owner = check.owner_field
        rows = (check.query(everyone, ctx).order_by().values(owner)
                .annotate(n=Count("pk")).values_list(owner, "n"))
        for owner_id, n in rows:
            table[owner_id][check.key] += n
    return table


def weighted(counts: Counter) -> int:
    return sum(qc.CHECKS[key].weight * n for key, n in counts.items() if key in qc.CHECKS)


@transaction.atomic
def take_snapshot(day: date | None = None, ctx: qc.Context | None = None) -> dict[str, int]:
    """Store today's (or `day`'s) scores for every rep, team and the company; taking it
    again the same day replaces that day's figures."""
    from .counting import store_issue_counts

    day = day or company_today()
    ctx = ctx or qc.Context.current()
    records = records_by_owner()
    issues = issues_by_owner(ctx)
    if day == company_today():
        store_issue_counts(issues, ctx)  # the overview's company-wide figures, same count
    people = set(records) | set(issues)
    ScoreSnapshot.objects.filter(taken_on=day).delete()
    rows = []
    for user_id in people:
        counts = issues.get(user_id, Counter())
        rows.append(ScoreSnapshot(taken_on=day, user_id=user_id, records=records[user_id],
                                  weighted_issues=weighted(counts),
                                  score=score_of(records[user_id], weighted(counts)),
                                  issues=dict(counts)))
    members: dict[int, list[int]] = defaultdict(list)
    for user_id, team_id in User.objects.filter(pk__in=people, team__isnull=False).values_list(
            "pk", "team_id"):
        members[team_id].append(user_id)
    for team_id in Team.objects.values_list("pk", flat=True):
        owners = [u for t in team_subtree_ids(team_id) for u in members.get(t, [])]
        if not owners:
            continue
        counts = sum((issues.get(u, Counter()) for u in owners), Counter())
        total = sum(records[u] for u in owners)
        rows.append(ScoreSnapshot(taken_on=day, team_id=team_id, records=total,
                                  weighted_issues=weighted(counts),
                                  score=score_of(total, weighted(counts)), issues=dict(counts)))
    counts = sum(issues.values(), Counter())
    total = sum(records.values())
    rows.append(ScoreSnapshot(taken_on=day, records=total, weighted_issues=weighted(counts),
                              score=score_of(total, weighted(counts)), issues=dict(counts)))
    ScoreSnapshot.objects.bulk_create(rows, batch_size=1000)
    return {"day": day.toordinal(), "people": len(people), "snapshots": len(rows)}
