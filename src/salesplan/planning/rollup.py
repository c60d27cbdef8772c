"""A monthly rollup of opportunities by owner, kept up to date incrementally.

Plan vs actual reads won bookings and open pipeline by owner and month. Over millions of
opportunities that grouping is the slow part, so it is kept pre-aggregated in
`OpportunityRollup` and brought up to date before each read:

- owners with opportunities changed since the watermark (`updated_at`) are recomputed;
- owners whose opportunity count differs from the rollup's (a deletion, or a deal handed
  to another owner) are recomputed too;
- `refresh(full=True)` rebuilds everything (the first time, or on demand:
  `salesplan plan refresh-rollup --full`).

Only users who see every opportunity read through it; everyone else's view is filtered
by visibility and counted directly.
"""

from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, DecimalField, ExpressionWrapper, F, Max, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from salesplan.pipeline.models import Opportunity

from .models import OpportunityRollup, RollupState

NAME = "opportunities"


def _rows(opportunities):
    weighted = ExpressionWrapper(F("amount") * F("probability") / 100,
                                 output_field=DecimalField(max_digits=22, decimal_places=4))
    grouped = (opportunities.annotate(m=TruncMonth("close_date"))
               .values("owner_id", "currency", "status", "m")
               .annotate(a=Sum("amount"), w=Sum(weighted), n=Count("id")))
    for r in grouped.iterator(chunk_size=20_000):
        yield OpportunityRollup(owner_id=r["owner_id"], currency=r["currency"],
                                status=r["status"], month=r["m"],
                                amount=Decimal(r["a"]).quantize(Decimal("0.01")),
                                weighted=Decimal(r["w"]).quantize(Decimal("0.0001")),
                                count=r["n"])


def refresh(*, full: bool = False) -> int:
    """Bring the rollup up to date; returns the number of owners recomputed."""
    with transaction.atomic():
        state, _ = RollupState.objects.select_for_update().get_or_create(name=NAME)
        latest = Opportunity.objects.aggregate(m=Max("updated_at"))["m"]
        if full or state.watermark is None:
            OpportunityRollup.objects.all().delete()
            OpportunityRollup.objects.bulk_create(_rows(Opportunity.objects.all()),
                                                  batch_size=5_000)
            state.watermark, state.rebuilt_at = latest, timezone.now()
            state.save()
            return -1
        owners = set(Opportunity.objects.filter(updated_at__gt=state.watermark)
                     .values_list("owner_id", flat=True).distinct())
        owners |= _miscounted_owners()
        if owners:
            OpportunityRollup.objects.filter(owner_id__in=owners).delete()
            OpportunityRollup.objects.bulk_create(
                _rows(Opportunity.objects.filter(owner_id__in=owners)), batch_size=5_000)
        if latest is not None and latest != state.watermark:
            state.watermark = latest
            state.save(update_fields=["watermark"])
        return len(owners)


def _miscounted_owners() -> set[int]:
    actual = dict(Opportunity.objects.order_by().values("owner_id")
                  .annotate(n=Count("id")).values_list("owner_id", "n"))
    rolled = dict(OpportunityRollup.objects.order_by().values("owner_id")
                  .annotate(n=Sum("count")).values_list("owner_id", "n"))
    return {o for o in set(actual) | set(rolled) if actual.get(o, 0) != rolled.get(o, 0)}


def sees_every_opportunity(user) -> bool:
    if not (user.is_authenticated and user.is_active):
        return False
    return (getattr(user, "role", None) in getattr(Opportunity, "visibility_roles_seeing_all",
                                                   ()) or user.visible_owner_ids is None)


def by_owner_month(*, currency: str, status: str, months: list[date],
                   value: str = "amount") -> list[tuple[int, date, Decimal]]:
    """(owner, month, total) rows for whole calendar months, from the rollup."""
    rows = (OpportunityRollup.objects.filter(currency=currency, status=status,
                                             month__in=months)
            .values_list("owner_id", "month", value))
    totals: dict[tuple[int, date], Decimal] = defaultdict(Decimal)
    for owner, month, amount in rows:
        totals[(owner, month)] += amount
    return [(o, m, v) for (o, m), v in totals.items()]
