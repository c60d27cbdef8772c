"""Reading the opportunity rollup: the one place plan vs actual, forecasts and reports
take won bookings and pipeline by owner and month from.

These readers apply no visibility rule: callers pass the owners the reader may see (or
None for someone who sees every opportunity). Each brings the rollup up to date first
(`rollup.ensure_fresh`), so every figure reflects the changes committed before it.
"""

from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from django.db.models import Sum

from . import rollup
from .models import OpportunityFact

CENT = Decimal("0.01")

OPPORTUNITY_DIMS = {"owner": "owner_id", "pipeline": "pipeline_id", "stage": "stage_id",
                    "status": "status", "territory": "territory_id", "month": "month",
                    "reached": "reached_position", "currency": "currency"}


def money(value) -> Decimal:
    """A summed amount back to exact cents (SQLite sums decimals as floats)."""
    return Decimal(value or 0).quantize(CENT, ROUND_HALF_EVEN)


def open_or_won_amounts(*, currency: str, status: str, start: date, end: date,
                        dims: tuple[str, ...], owners: list[int] | None = None
                        ) -> dict[tuple, Decimal] | None:
    """Amounts of the deals of `status` closing from `start` to `end`, grouped by `dims`
    (owner, stage, month…), from the rollup: what forecasts sum company-wide without
    scanning millions of deals. `owners` None means every owner. None when the dates are
    not whole months or the rollup of a large company is not built yet: callers then sum
    the deals themselves."""
    if start.day != 1 or (end + timedelta(days=1)).day != 1:
        return None
    try:
        rollup.ensure_fresh(["opportunities"])
    except rollup.RollupsNotReady:
        return None
    qs = OpportunityFact.objects.filter(basis=OpportunityFact.Basis.CLOSE, status=status,
                                        currency=currency, month__gte=start, month__lte=end)
    if owners is not None:
        qs = qs.filter(owner_id__in=owners)
    fields = [OPPORTUNITY_DIMS[d] for d in dims]
    rows = qs.values(*fields).annotate(a=Sum("amount")).order_by(*fields)
    return {tuple(r[f] for f in fields): money(r["a"]) for r in rows}


def by_owner_month(*, currency: str, status: str, months: list[date],
                   value: str = "amount") -> list[tuple[int, date, Decimal]] | None:
    """(owner, month, total) of the deals of `status` closing in these calendar months
    (their first days), every owner, from the rollup; `value` is "amount" or "weighted".
    None when the rollup of a large company is not built yet."""
    if not months:
        return []
    try:
        rollup.ensure_fresh(["opportunities"])
    except rollup.RollupsNotReady:
        return None
    rows = (OpportunityFact.objects.filter(basis=OpportunityFact.Basis.CLOSE,
                                           currency=currency, status=status,
                                           month__in=months)
            .values("owner_id", "month").annotate(v=Sum(value)).order_by()
            .values_list("owner_id", "month", "v"))
    totals: dict[tuple[int, date], Decimal] = defaultdict(Decimal)
    for owner, month, total in rows:
        totals[(owner, month)] += Decimal(total or 0)
    return [(o, m, v) for (o, m), v in totals.items()]
