"""Won bookings and open pipeline by owner and month for plan vs actual, read from the
opportunity rollup (`salesplan.metrics`) — the same copy forecasts and performance
reports read, so the three agree for the same period and rep.

Only users who see every opportunity read through it; everyone else's view is filtered
by visibility and counted directly.
"""

from datetime import date

from django.db.models import DecimalField, ExpressionWrapper, F, Sum

from salesplan.metrics.selectors import by_owner_month
from salesplan.pipeline.models import Opportunity, StageKind

from .models import Plan

WEIGHTED = ExpressionWrapper(F("amount") * F("probability") / 100,
                             output_field=DecimalField(max_digits=22, decimal_places=4))


def sees_every_opportunity(user) -> bool:
    if not (user.is_authenticated and user.is_active):
        return False
    return (getattr(user, "role", None) in getattr(Opportunity, "visibility_roles_seeing_all",
                                                   ()) or user.visible_owner_ids is None)


def from_rollup(plan: Plan, months, as_of: date) -> tuple[list, list, list] | None:
    """Won bookings to `as_of` and open pipeline after it, by owner and month: whole
    months from the rollup, the month of `as_of` itself counted directly (it is split by
    the day). None when the rollup of a large company is not built yet (the caller
    counts the deals)."""
    current = next((m for m in months if m.contains(as_of)), None)
    before = [m.start for m in months if m.end < as_of.replace(day=1)]
    after = [m.start for m in months if m.start > as_of]
    won = by_owner_month(currency=plan.currency, status=StageKind.WON, months=before)
    pipeline = by_owner_month(currency=plan.currency, status=StageKind.OPEN, months=after)
    weighted = by_owner_month(currency=plan.currency, status=StageKind.OPEN, months=after,
                              value="weighted")
    if won is None or pipeline is None or weighted is None:
        return None
    if current is not None:
        day = Opportunity.objects.filter(currency=plan.currency)
        for rows, query, value in (
                (won, day.filter(status=StageKind.WON, close_date__gte=current.start,
                                 close_date__lte=as_of), Sum("amount")),
                (pipeline, day.filter(status=StageKind.OPEN, close_date__gt=as_of,
                                      close_date__lte=current.end), Sum("amount")),
                (weighted, day.filter(status=StageKind.OPEN, close_date__gt=as_of,
                                      close_date__lte=current.end), Sum(WEIGHTED))):
            rows.extend((o, current.start, v) for o, v in query.order_by().values("owner_id")
                        .annotate(v=value).values_list("owner_id", "v"))
    return won, pipeline, weighted
