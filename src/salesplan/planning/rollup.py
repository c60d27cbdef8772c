"""A monthly rollup of opportunities by owner, kept up to date incrementally.

Plan vs actual reads won bookings and open pipeline by owner and month. Over millions of
opportunities that grouping is the slow part, so it is kept pre-aggregated in
`OpportunityRollup` and brought up to date before each read:

- owners of opportunities created since the last one it took in, and of opportunities
  with a recorded change (stage, amount, close date: `OpportunityChange`) since the last
  change it took in, are recomputed — both found through primary keys, never a scan;
- owners whose opportunity count differs from the rollup's (a deletion, or a deal handed
  to another owner) are recomputed too (one pass over the owner index);
- `refresh(full=True)` rebuilds everything: the first time, and nightly for writes that
  bypass the pipeline services (`salesplan plan refresh-rollup --full`).

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

from salesplan.pipeline.models import Opportunity, OpportunityChange

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
        last_opportunity = Opportunity.objects.aggregate(m=Max("id"))["m"] or 0
        last_change = OpportunityChange.objects.aggregate(m=Max("id"))["m"] or 0
        if full or state.rebuilt_at is None:
            OpportunityRollup.objects.all().delete()
            OpportunityRollup.objects.bulk_create(_rows(Opportunity.objects.all()),
                                                  batch_size=5_000)
            state.rebuilt_at = state.watermark = timezone.now()
            state.last_opportunity_id, state.last_change_id = last_opportunity, last_change
            state.save()
            return -1
        owners = set(Opportunity.objects.filter(id__gt=state.last_opportunity_id).order_by()
                     .values_list("owner_id", flat=True).distinct())
        owners |= set(OpportunityChange.objects.filter(id__gt=state.last_change_id).order_by()
                      .values_list("opportunity__owner_id", flat=True).distinct())
        owners |= _miscounted_owners()
        owners.discard(None)
        if owners:
            OpportunityRollup.objects.filter(owner_id__in=owners).delete()
            OpportunityRollup.objects.bulk_create(
                _rows(Opportunity.objects.filter(owner_id__in=owners)), batch_size=5_000)
        if (last_opportunity, last_change) != (state.last_opportunity_id, state.last_change_id):
            state.last_opportunity_id, state.last_change_id = last_opportunity, last_change
            state.watermark = timezone.now()
            state.save(update_fields=["last_opportunity_id", "last_change_id", "watermark"])
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
