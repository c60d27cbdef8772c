"""Workload in selling days: what each account's visits cost a rep a month — visits a
month × (visit duration + driving per visit) ÷ the selling minutes of a day — and the
days reps have (their working weekdays less company holidays).

The one definition: the coverage page's workload per territory, territory goals
(through `core.hooks.account_workload`) and the alignment optimiser's "visit days"
balance measure all read it."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, Sum

from salesplan.core.hooks import AccountWorkload, WorkloadProvider
from salesplan.customers.models import Account
from salesplan.org.models import Company, Holiday, User

from . import planner
from .models import PlannedDay, PlannedVisit, VisitSettings

DEFAULT_TRAVEL_MINUTES = Decimal(20)  # per visit, before a rep has any planned day
SELLING_DAY_MINUTES = 8 * 60


def day_minutes(config: VisitSettings) -> Decimal:
    """Selling minutes in a day: eight hours less lunch."""
    return Decimal(SELLING_DAY_MINUTES - config.lunch_minutes)


def travel_per_visit(owner_ids: list[int]) -> dict[int, Decimal]:
    """Each rep's minutes of driving per visit in their planned days (the default before
    any plan)."""
    driving = dict(PlannedDay.objects.filter(owner_id__in=owner_ids).order_by()
                   .values("owner_id").annotate(total=Sum("travel_minutes"))
                   .values_list("owner_id", "total"))
    counts = dict(PlannedVisit.objects.filter(owner_id__in=owner_ids).order_by()
                  .values("owner_id").annotate(n=Count("id")).values_list("owner_id", "n"))
    return {owner: (Decimal(driving[owner]) / counts[owner]).quantize(Decimal("0.1"))
            if driving.get(owner) and counts.get(owner) else DEFAULT_TRAVEL_MINUTES
            for owner in owner_ids}


def days_per_month(accounts: list[Account], config: VisitSettings | None = None
                   ) -> dict[int, Decimal]:
    """Selling days a month each account needs (unrounded)."""
    config = config or planner.settings()
    freq = planner.frequencies(accounts, config)
    travel = travel_per_visit(sorted({a.owner_id for a in accounts if a.owner_id}))
    per_day = day_minutes(config)
    return {a.pk: freq[a.pk].per_month
            * (freq[a.pk].duration + travel.get(a.owner_id, DEFAULT_TRAVEL_MINUTES)) / per_day
            for a in accounts}


def account_workload(account_ids: list[int]) -> AccountWorkload:
    """The hook's answer: selling days a month per account, with the source in words."""
    config = planner.settings()
    # Only what the frequencies read, in chunks: a territory page may ask about a whole
    # region, past the number of parameters a database takes in one query.
    accounts = [account for chunk in planner.chunks(account_ids)
                for account in Account.objects.filter(pk__in=chunk)
                .exclude(lifecycle="former").only("id", "owner_id", "tier", "industry")]
    return AccountWorkload(
        days_per_month(accounts, config),
        f"field visits: visits a month × (visit + driving per visit) ÷ "
        f"{day_minutes(config):g}-minute selling day")


def available_days(users: list[User], start: date, end: date) -> Decimal:
    """Working days of the people from start to end inclusive, less company holidays."""
    holidays = set(Holiday.objects.filter(company=Company.current(), date__gte=start,
                                          date__lte=end).values_list("date", flat=True))
    total, span = 0, (end - start).days + 1
    for user in users:
        weekdays = set(user.working_weekdays)
        total += sum(1 for i in range(span)
                     if (d := start + timedelta(days=i)).weekday() in weekdays
                     and d not in holidays)
    return Decimal(total)


PROVIDER = WorkloadProvider("field visits", account_workload, available_days)
