"""The figures reports are made of, read two ways with identical results:

- from the rollups (`metrics.models`, the copy plan vs actual and forecasts read too),
  brought up to date first: what reports use;
- straight from the source tables with the ORM (`naive=True`): the baseline the
  benchmark compares against and the tests check the rollups with.

Each function returns {group key: totals}, the key being the values of the requested
dimensions in the order asked.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

from django.db.models import (
    Aggregate,
    BigIntegerField,
    Case,
    Count,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest, TruncMonth
from django.utils import timezone

from salesplan.activities.models import Activity
from salesplan.core.clock import company_zone
from salesplan.customers.models import Lead, LeadStatus
from salesplan.metrics import rollup
from salesplan.metrics.models import NO_TERRITORY, ActivityFact, LeadFact, OpportunityFact
from salesplan.metrics.selectors import OPPORTUNITY_DIMS, money
from salesplan.pipeline.models import Opportunity, OpportunityChange, StageKind
from salesplan.territories.models import AccountTerritory, TerritoryType

from .scope import ReportFilters, filtered_owners

CENT = Decimal("0.01")
ZERO = Decimal(0)

ACTIVITY_DIMS = {"owner": "owner_id", "kind": "kind", "done": "done", "month": "month"}
LEAD_DIMS = {"owner": "owner_id", "source": "source", "converted": "converted",
             "month": "month"}


@dataclass
class Totals:
    """Opportunities in one group: how many, their amount, weighted amount and the sum of
    their sales-cycle days (closed ones)."""

    count: int = 0
    amount: Decimal = Decimal("0.00")
    weighted: Decimal = Decimal("0.0000")
    cycle_days: int = 0

    def __add__(self, other: "Totals") -> "Totals":
        return Totals(self.count + other.count, self.amount + other.amount,
                      self.weighted + other.weighted, self.cycle_days + other.cycle_days)


def _month_bounds(months: list[date]) -> tuple[date, date]:
    first, last = months[0], months[-1]
    after = date(last.year + (last.month == 12), last.month % 12 + 1, 1)
    return first, after


def _instant(day: date, zone) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), zone)


def _key(row: dict, dims: tuple[str, ...], names: dict[str, str]) -> tuple:
    return tuple(row[names[d]] for d in dims)


def opportunity_totals(user, filters: ReportFilters, *, basis: str, dims: tuple[str, ...],
                       statuses: tuple[str, ...] | None = None, months: list[date] | None = None,
                       naive: bool = False) -> dict[tuple, Totals]:
    """Opportunities grouped by `dims`, for the months of the period (or `months`) by close
    month (basis "close") or creation month ("created")."""
    if basis == "close" and "reached" in dims:
        raise ValueError("The furthest stage reached is counted by creation month only.")
    months = months or filters.period.months
    owners = filtered_owners(user, filters, Opportunity)
    if owners == []:
        return {}
    if naive:
        return _naive_opportunities(user, filters, owners, basis, dims, statuses, months)
    rollup.ensure_fresh(["opportunities"])
    qs = OpportunityFact.objects.filter(basis=basis, month__gte=months[0], month__lte=months[-1],
                                        currency=filters.currency)
    if owners is not None:
        qs = qs.filter(owner_id__in=owners)
    if statuses:
        qs = qs.filter(status__in=statuses)
    if filters.pipeline_id:
        qs = qs.filter(pipeline_id=filters.pipeline_id)
    if filters.territory_id:
        qs = qs.filter(territory_id=filters.territory_id)
    fields = [OPPORTUNITY_DIMS[d] for d in dims]
    rows = qs.values(*fields).annotate(n=Sum("count"), a=Sum("amount"), w=Sum("weighted"),
                                       c=Sum("cycle_days")).order_by(*fields)
    return {_key(r, dims, OPPORTUNITY_DIMS): Totals(int(r["n"]), money(r["a"]),
                                                    Decimal(r["w"] or 0).quantize(
                                                        rollup.WEIGHT), int(r["c"] or 0))
            for r in rows}


def _territory_of_account():

    alignment_id, _ = rollup.active_territory_key()
    if alignment_id is None:
        return Value(NO_TERRITORY, output_field=BigIntegerField())
    return Coalesce(Subquery(AccountTerritory.objects.filter(
        alignment_id=alignment_id, type=TerritoryType.GEOGRAPHIC,
        account_id=OuterRef("account_id")).values("territory_id")[:1]), Value(NO_TERRITORY),
        output_field=BigIntegerField())


def _naive_opportunities(user, filters: ReportFilters, owners, basis: str, dims, statuses,
                         months) -> dict[tuple, Totals]:
    zone = company_zone()
    first, after = _month_bounds(months)
    qs = Opportunity.objects.visible_to(user).filter(currency=filters.currency)
    if owners is not None:
        qs = qs.filter(owner_id__in=owners)
    if basis == "close":
        qs = qs.filter(close_date__gte=first, close_date__lt=after).annotate(
            month=TruncMonth("close_date"))
    else:
        qs = qs.filter(created_at__gte=_instant(first, zone),
                       created_at__lt=_instant(after, zone)).annotate(
            month=TruncMonth("created_at", tzinfo=zone))
    if statuses:
        qs = qs.filter(status__in=statuses)
    if filters.pipeline_id:
        qs = qs.filter(pipeline_id=filters.pipeline_id)
    if "territory" in dims or filters.territory_id:
        qs = qs.annotate(territory_id=_territory_of_account())
        if filters.territory_id:
            qs = qs.filter(territory_id=filters.territory_id)
    if "reached" in dims:
        qs = qs.annotate(reached_position=_naive_reached())
    names = {**OPPORTUNITY_DIMS, "month": "month"}
    fields = [names[d] for d in dims]
    rows = qs.values(*fields).annotate(n=Count("id"), a=Sum("amount"),
                                       w=Sum(F("amount") * F("probability"))).order_by(*fields)
    result = {}
    for r in rows:
        key = tuple(_plain_month(r[names[d]]) if d == "month" else r[names[d]] for d in dims)
        weighted = (money(r["w"]) / 100).quantize(rollup.WEIGHT)
        result[key] = Totals(int(r["n"]), money(r["a"]), weighted, 0)
    if any(s != StageKind.OPEN for s in (statuses or ("won", "lost"))):
        for key, days in _naive_cycle_days(qs, dims, names, zone).items():
            if key in result:
                result[key].cycle_days = days
    return result


def _plain_month(value) -> date:
    return value.date() if isinstance(value, datetime) else value


def _naive_reached():
    """Furthest stage position from the recorded history and the current stage."""
    in_history = Subquery(OpportunityChange.objects.filter(
        opportunity_id=OuterRef("pk"), field=OpportunityChange.Field.STAGE).exclude(
        to_stage__kind=StageKind.LOST).values("opportunity_id").annotate(
        m=Max("to_stage__position")).values("m")[:1])
    current = Case(When(~Q(stage__kind=StageKind.LOST), then=F("stage__position")),
                   default=Value(0), output_field=IntegerField())
    return Greatest(Coalesce(in_history, Value(0)), current)


def _naive_cycle_days(qs, dims, names, zone) -> dict[tuple, int]:
    """Sales-cycle days of the closed deals, from their recorded stage history: the first
    recorded stage to the last move into a won or lost stage."""
    fields = [names[d] for d in dims]
    closed = list(qs.exclude(status=StageKind.OPEN).values_list("pk", "created_at",
                                                                 "closed_at", *fields))
    history: dict[int, list[tuple]] = defaultdict(list)
    ids = [c[0] for c in closed]
    for start in range(0, len(ids), 5000):
        for opp, at, kind in OpportunityChange.objects.filter(
                opportunity_id__in=ids[start:start + 5000],
                field=OpportunityChange.Field.STAGE).order_by("changed_at", "id").values_list(
                "opportunity_id", "changed_at", "to_stage__kind"):
            history[opp].append((at, kind))
    totals: dict[tuple, int] = defaultdict(int)
    for pk, created_at, closed_at, *values in closed:
        changes = history.get(pk, [])
        begin = changes[0][0] if changes else created_at
        ends = [at for at, kind in changes if kind != StageKind.OPEN]
        end = ends[-1] if ends else closed_at
        if end is None:
            continue
        days = (end.astimezone(zone).date() - begin.astimezone(zone).date()).days
        key = tuple(_plain_month(v) if d == "month" else v
                    for d, v in zip(dims, values, strict=True))
        totals[key] += max(0, days)
    return totals


def activity_counts(user, filters: ReportFilters, *, dims: tuple[str, ...],
                    done: bool | None = True, months: list[date] | None = None,
                    naive: bool = False) -> dict[tuple, int]:
    """Activities grouped by `dims`, dated in the period's months (done ones by default)."""
    months = months or filters.period.months
    owners = filtered_owners(user, filters, Activity)
    if owners == []:
        return {}
    fields = [ACTIVITY_DIMS[d] for d in dims]
    qs: QuerySet
    count: Aggregate
    if naive:
        zone = company_zone()
        first, after = _month_bounds(months)
        qs = Activity.objects.visible_to(user).filter(
            due_at__gte=_instant(first, zone), due_at__lt=_instant(after, zone)).annotate(
            month=TruncMonth("due_at", tzinfo=zone))
        count = Count("id")
    else:
        rollup.ensure_fresh(["activities"])
        qs = ActivityFact.objects.filter(month__gte=months[0], month__lte=months[-1])
        count = Sum("count")
    if owners is not None:
        qs = qs.filter(owner_id__in=owners)
    if done is not None:
        qs = qs.filter(done=done)
    rows = qs.values(*fields).annotate(n=count).order_by(*fields)
    return {tuple(_plain_month(r[f]) if f == "month" else r[f] for f in fields): int(r["n"])
            for r in rows}


def lead_counts(user, filters: ReportFilters, *, dims: tuple[str, ...],
                months: list[date] | None = None, naive: bool = False) -> dict[tuple, int]:
    """Leads created in the period's months, grouped by `dims`."""
    months = months or filters.period.months
    owners = filtered_owners(user, filters, Lead)
    if owners == []:
        return {}
    fields = [LEAD_DIMS[d] for d in dims]
    qs: QuerySet
    count: Aggregate
    if naive:
        zone = company_zone()
        first, after = _month_bounds(months)
        qs = Lead.objects.visible_to(user).filter(
            created_at__gte=_instant(first, zone), created_at__lt=_instant(after, zone)).annotate(
            month=TruncMonth("created_at", tzinfo=zone),
            converted=Case(When(status=LeadStatus.CONVERTED, then=Value(True)),
                           default=Value(False)))
        count = Count("id")
    else:
        rollup.ensure_fresh(["leads"])
        qs = LeadFact.objects.filter(month__gte=months[0], month__lte=months[-1])
        count = Sum("count")
    if owners is not None:
        qs = qs.filter(owner_id__in=owners)
    rows = qs.values(*fields).annotate(n=count).order_by(*fields)
    return {tuple(_plain_month(r[f]) if f == "month" else r[f] for f in fields): int(r["n"])
            for r in rows}

