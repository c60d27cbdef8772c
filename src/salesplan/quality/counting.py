"""The company-wide issue counts: every check counted over every record, per owner.

Counting every check over millions of deals takes longer than a page may, and the
company-wide figures are read far more often than the data behind them changes
meaningfully. So a background job counts them (`refresh_issue_counts`, also run with each
score snapshot) and stores one row per owner and check; the overview of someone who sees
every record reads the latest run and says when it was counted. Each run counts against
one clock and, on PostgreSQL, inside one repeatable-read snapshot, so its figures are
exactly what a live count gave at its stated time.
"""

import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Sum

from . import checks as qc
from .models import IssueCount, IssueCountRun

KEEP_RUNS = 3  # older runs are deleted; a page may still be reading the previous one


@dataclass(frozen=True)
class StoredCounts:
    """The latest run's figures: totals per check and the table per owner."""

    counted_at: datetime
    seconds: Decimal
    totals: dict[str, int]
    by_owner: dict[int, Counter]
    checks: list[str]

    def age(self, now: datetime) -> timedelta:
        return now - self.counted_at


def store_issue_counts(table: dict[int, Counter], ctx: qc.Context,
                       seconds: float = 0) -> IssueCountRun:
    """Store one run of counts (owner → check → n) taken at `ctx.now`."""
    run = IssueCountRun.objects.create(counted_at=ctx.now, seconds=Decimal(f"{seconds:.2f}"),
                                       checks=list(qc.CHECKS))
    IssueCount.objects.bulk_create(
        (IssueCount(run=run, owner_id=owner_id, check_key=key, count=n)
         for owner_id, counts in table.items() for key, n in counts.items() if n),
        batch_size=2000)
    stale = IssueCountRun.objects.order_by("-counted_at", "-id").values_list("pk", flat=True)
    IssueCountRun.objects.filter(pk__in=list(stale[KEEP_RUNS:])).delete()
    return run


def refresh_issue_counts(ctx: qc.Context | None = None) -> IssueCountRun:
    """Count every check over every record now and store the figures."""
    from .scoring import issues_by_owner

    ctx = ctx or qc.Context.current()
    started = time.perf_counter()
    own_transaction = not connection.in_atomic_block
    with transaction.atomic():
        if connection.vendor == "postgresql" and own_transaction:
            # One snapshot for every check's count: all figures true of the same moment.
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        table = issues_by_owner(ctx)
        return store_issue_counts(table, ctx, time.perf_counter() - started)


def latest_counts() -> StoredCounts | None:
    """The latest run's figures, or None before the first run."""
    run = IssueCountRun.objects.order_by("-counted_at", "-id").first()
    if run is None:
        return None
    by_owner: dict[int, Counter] = {}
    for owner_id, key, n in run.counts.values_list("owner_id", "check_key", "count"):
        by_owner.setdefault(owner_id, Counter())[key] = n
    totals = {key: total for key, total in run.counts.order_by().values("check_key")
              .annotate(total=Sum("count")).values_list("check_key", "total")}
    return StoredCounts(counted_at=run.counted_at, seconds=run.seconds, totals=totals,
                        by_owner=by_owner, checks=list(run.checks))
