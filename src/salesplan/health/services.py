"""Computing and storing customer-health scores.

`compute_health` is set-based: three grouped queries collect the facts of every account
(contacts, overdue tasks, open and won opportunities), numpy scores them all at once
(`engines.health.score_arrays`) and the rows are upserted in batches. No query runs per
account, so a million accounts take minutes. `recompute_account` runs the same code for
one account when a user asks for a fresh score.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import numpy as np
from django.db import transaction
from django.db.models import Count, Max, Q, Sum
from django.utils import timezone

from salesplan.activities.models import Activity, ActivityKind
from salesplan.core.clock import company_date
from salesplan.core.jobs import start_job
from salesplan.core.registry import allowed, require
from salesplan.customers.models import Account
from salesplan.engines import health as engine
from salesplan.org.models import Company
from salesplan.pipeline.models import Opportunity, StageKind

from .models import AccountHealth

CONTACT_KINDS = (ActivityKind.CALL, ActivityKind.MEETING, ActivityKind.EMAIL)
BATCH = 5_000
UPDATE_FIELDS = [
    "score", "previous_score", "change", "recency_points", "frequency_points",
    "opportunity_points", "trend_points", "follow_up_points", "days_since_contact",
    "contacts_90d", "open_opportunities", "bookings_12m", "bookings_prev_12m", "currency",
    "overdue_tasks", "computed_at", "at_risk",
]

ProgressFn = Callable[[int, int], None]


@dataclass
class FactArrays:
    """The facts of many accounts, aligned on `ids` (sorted account ids)."""

    ids: np.ndarray
    days: np.ndarray
    contacts: np.ndarray
    overdue: np.ndarray
    open_opps: np.ndarray
    this_year: np.ndarray
    last_year: np.ndarray
    this_exact: dict[int, tuple[Decimal, Decimal, str]]

    @classmethod
    def empty(cls, ids: np.ndarray) -> "FactArrays":
        n = len(ids)
        return cls(ids, np.full(n, -1, np.int64), np.zeros(n, np.int64), np.zeros(n, np.int64),
                   np.zeros(n, np.int64), np.zeros(n), np.zeros(n), {})

    def index(self, account_id: int) -> int | None:
        i = int(np.searchsorted(self.ids, account_id))
        return i if i < len(self.ids) and self.ids[i] == account_id else None


def _collect_activity_facts(facts: FactArrays, now: datetime, only: Q) -> None:
    rows = (Activity.objects.filter(only, account__isnull=False).values("account_id")
            .annotate(
                last=Max("due_at", filter=Q(done=True, kind__in=CONTACT_KINDS, due_at__lte=now)),
                recent=Count("id", filter=Q(done=True, kind__in=CONTACT_KINDS,
                                            due_at__gt=now - timedelta(days=90),
                                            due_at__lte=now)),
                overdue=Count("id", filter=Q(done=False, kind=ActivityKind.TASK,
                                             due_at__lt=now)))
            .order_by().values_list("account_id", "last", "recent", "overdue"))
    for account_id, last, recent, overdue in rows.iterator(chunk_size=20_000):
        i = facts.index(account_id)
        if i is None:
            continue
        if last is not None:
            facts.days[i] = max(0, (now - last).days)
        facts.contacts[i] = recent
        facts.overdue[i] = overdue


def _collect_opportunity_facts(facts: FactArrays, today, only: Q) -> None:
    year_ago, two_years_ago = today - timedelta(days=365), today - timedelta(days=730)
    won = Q(status=StageKind.WON)
    rows = (Opportunity.objects.filter(only).values("account_id", "currency")
            .annotate(open=Count("id", filter=Q(status=StageKind.OPEN)),
                      this=Sum("amount", filter=won & Q(close_date__gt=year_ago,
                                                        close_date__lte=today)),
                      prev=Sum("amount", filter=won & Q(close_date__gt=two_years_ago,
                                                        close_date__lte=year_ago)))
            .order_by().values_list("account_id", "currency", "open", "this", "prev"))
    for account_id, currency, open_count, this, prev in rows.iterator(chunk_size=20_000):
        i = facts.index(account_id)
        if i is None:
            continue
        facts.open_opps[i] += open_count
        this, prev = this or Decimal(0), prev or Decimal(0)
        # An account trading in several currencies is judged on its largest one.
        kept = facts.this_exact.get(account_id)
        if kept is None or this + prev > kept[0] + kept[1]:
            facts.this_exact[account_id] = (this, prev, currency)
            facts.this_year[i], facts.last_year[i] = float(this), float(prev)


def collect_facts(ids: np.ndarray, *, now: datetime, only_account: int | None = None) -> FactArrays:
    facts = FactArrays.empty(ids)
    scope = Q(account_id=only_account) if only_account is not None else Q()
    _collect_activity_facts(facts, now, scope)
    _collect_opportunity_facts(facts, company_date(now), scope)
    return facts


def _rows(facts: FactArrays, scores: dict[str, np.ndarray], previous: dict[int, int],
          start: int, stop: int, now: datetime, default_currency: str) -> list[AccountHealth]:
    rows = []
    for i in range(start, stop):
        account_id = int(facts.ids[i])
        this, prev, currency = facts.this_exact.get(
            account_id, (Decimal(0), Decimal(0), default_currency))
        score = int(scores["score"][i])
        before = previous.get(account_id)
        days = int(facts.days[i])
        rows.append(AccountHealth(
            account_id=account_id, score=score, previous_score=before,
            change=0 if before is None else score - before,
            recency_points=int(scores["recency"][i]),
            frequency_points=int(scores["frequency"][i]),
            opportunity_points=int(scores["opportunities"][i]),
            trend_points=int(scores["trend"][i]), follow_up_points=int(scores["follow_ups"][i]),
            days_since_contact=None if days < 0 else days, contacts_90d=int(facts.contacts[i]),
            open_opportunities=int(facts.open_opps[i]), bookings_12m=this,
            bookings_prev_12m=prev, currency=currency, overdue_tasks=int(facts.overdue[i]),
            computed_at=now, at_risk=engine.is_at_risk(score, before)))
    return rows


def _score_and_store(ids: np.ndarray, *, now: datetime, only_account: int | None = None,
                     progress: ProgressFn | None = None) -> int:
    facts = collect_facts(ids, now=now, only_account=only_account)
    scores = engine.score_arrays(facts.days, facts.contacts, facts.open_opps, facts.this_year,
                                 facts.last_year, facts.overdue)
    previous_rows = AccountHealth.objects.order_by()
    if only_account is not None:
        previous_rows = previous_rows.filter(account_id=only_account)
    previous = dict(previous_rows.values_list("account_id", "score").iterator(chunk_size=50_000))
    currency = Company.current().default_currency
    total = len(ids)
    for start in range(0, total, BATCH):
        stop = min(total, start + BATCH)
        with transaction.atomic():
            AccountHealth.objects.bulk_create(
                _rows(facts, scores, previous, start, stop, now, currency),
                update_conflicts=True, unique_fields=["account"], update_fields=UPDATE_FIELDS)
        if progress is not None:
            progress(stop, total)
    return total


def compute_health(*, now: datetime | None = None, progress: ProgressFn | None = None) -> dict:
    """Score every account and store the results; returns counts for the job's summary."""
    now = now or timezone.now()
    ids = np.fromiter(Account.objects.order_by("pk").values_list("pk", flat=True)
                      .iterator(chunk_size=50_000), dtype=np.int64)
    if progress is not None:
        progress(0, len(ids))
    stored = _score_and_store(ids, now=now, progress=progress)
    at_risk = AccountHealth.objects.filter(at_risk_rule()).count()
    return {"accounts": stored, "at_risk": at_risk, "computed_at": now.isoformat()}


def at_risk_rule() -> Q:
    """Score under 40, or fell 15 points or more since the previous computation
    (`engines.health.is_at_risk`, stored on each row when it is computed)."""
    return Q(at_risk=True)


def recompute_account(account: Account, *, by, now: datetime | None = None) -> AccountHealth:
    """Score one account now (anyone who can see the account may ask)."""
    require(by, "account_health", "recompute", account)
    now = now or timezone.now()
    _score_and_store(np.array([account.pk], np.int64), now=now, only_account=account.pk)
    return AccountHealth.objects.get(pk=account.pk)


def can_compute_all(user) -> bool:
    return allowed(user, "account_health", "compute_all")


def start_compute(*, by):
    """Start the background job that scores every account (admins and managers)."""

    from .tasks import compute_all

    require(by, "account_health", "compute_all")
    return start_job("health_compute", by=by, task=compute_all)
