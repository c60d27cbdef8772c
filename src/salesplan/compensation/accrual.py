"""The accrual: what the plans in force are expected to pay from this month to the end of
the fiscal year, per rep and month, with a low and a high bound — for managers (their
people) and finance (everyone).

Per rep, each month from the current one to the year's end is paid through the rep's
plan in effect at the month's end (`engines/comp_accrual.py`): the deals the rep owns that
were won in it, plus the open deals closing in it — expected at amount × stage
probability, low with only the deals committed in the forecast (or at 90 % or more) at
full amount, high with every open deal at full amount. An open deal whose close date has
passed counts in the current month. Family, products and margin come from the deal's
quote, as for the statements; rates are the company's of today. Credit splits and
overlay or roll-up credit are settled when deals are won, so the accrual counts owners."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError

from salesplan.core.clock import company_today
from salesplan.core.fiscal import CompanyCalendar
from salesplan.core.permissions import require
from salesplan.core.registry import ALL, scope_for
from salesplan.engines import comp_accrual
from salesplan.engines import compensation as engine
from salesplan.org.models import User
from salesplan.pipeline.models import ForecastCategory, Opportunity, StageKind

from . import calculation, deal_facts
from .definitions import plan_from_definition

METHOD = (
    "Each month to the end of the fiscal year is paid through the rep's plan as a pay "
    "period of its own: deals already won in it count in full; open deals closing in it "
    "count at amount × stage probability for the expected figure. The low figure counts "
    "only open deals committed in the forecast (or at 90 % or more) at their full amount; "
    "the high figure counts every open deal at its full amount. MBOs and draws are not "
    "included; deals are counted for their owners; rates are today's.")


@dataclass(frozen=True)
class RepAccrual:
    """One rep's months, in their plan's currency."""

    rep: User
    currency: str
    months: list[comp_accrual.MonthAccrual]

    def total(self, name: str) -> Decimal:
        return sum((getattr(m, name) for m in self.months), Decimal(0))

    @property
    def expected(self) -> Decimal:
        return self.total("expected")

    @property
    def low(self) -> Decimal:
        return self.total("low")

    @property
    def high(self) -> Decimal:
        return self.total("high")


@dataclass
class Accrual:
    """Everyone's accrual the user may see, its totals per currency and what was left out."""

    as_of: date
    through: date
    rows: list[RepAccrual] = field(default_factory=list)
    not_counted: dict[int, str] = field(default_factory=dict)
    method: str = METHOD

    def totals(self) -> list[dict]:
        sums: dict[str, dict[str, Decimal]] = {}
        for row in self.rows:
            found = sums.setdefault(row.currency, defaultdict(Decimal))
            for name in ("expected", "low", "high"):
                found[name] += row.total(name)
        return [{"currency": currency, **values} for currency, values in sorted(sums.items())]


def _months(start: date, through: date) -> list[date]:
    months, month = [], comp_accrual.month_of(start)
    while month <= through:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def _month_end(month: date) -> date:
    return (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def _people(user) -> list[User]:
    require(user, "comp_accrual", "view")
    people = User.objects.filter(is_active=True).order_by("last_name", "first_name", "id")
    if scope_for(user, "comp_accrual", "view") != ALL and user.visible_owner_ids is not None:
        people = people.filter(pk__in=user.visible_owner_ids)
    return list(people)


def _deals(owner_ids: list[int], first: date, through: date):
    """Won deals of the months and open deals up to the year's end, as the engine's."""
    rows = list(Opportunity.objects.filter(owner_id__in=owner_ids, close_date__lte=through)
                .filter(status__in=(StageKind.WON, StageKind.OPEN))
                .exclude(status=StageKind.WON, close_date__lt=first)
                .values_list("id", "owner_id", "status", "amount", "currency", "close_date",
                             "pipeline__kind", "stage__probability", "forecast_category"))
    facts = deal_facts.deal_facts(row[0] for row in rows)
    won: dict[int, dict[date, list[engine.Deal]]] = defaultdict(lambda: defaultdict(list))
    pipeline: dict[int, dict[date, list[comp_accrual.OpenDeal]]] = defaultdict(
        lambda: defaultdict(list))
    for pk, owner, status, amount, currency, close, kind, probability, category in rows:
        deal = deal_facts.with_facts(
            engine.Deal(pk, Decimal(amount), currency, max(close, first), deal_type=kind),
            facts.get(pk))
        month = comp_accrual.month_of(deal.won_on)
        if status == StageKind.WON:
            won[owner][month].append(deal)
        else:
            pipeline[owner][month].append(comp_accrual.OpenDeal(
                deal, Decimal(probability) / 100, category == ForecastCategory.COMMIT))
    return won, pipeline


def _rep_months(rep: User, months: list[date], won, pipeline, as_of: date) -> RepAccrual | None:
    out: list[comp_accrual.MonthAccrual] = []
    currency = ""
    for month in months:
        plan_row = calculation.plan_for(rep, _month_end(month))
        if plan_row is None:
            continue
        plan = plan_from_definition(plan_row.definition, plan_row.currency)
        currencies = {d.currency for d in won.get(month, ())} | {
            o.deal.currency for o in pipeline.get(month, ())}
        rates = calculation.rates_for(plan, currencies, as_of)
        out += comp_accrual.rep_accrual(rep.pk, plan, [month], won, pipeline, rates)
        currency = currency or plan.currency
    return RepAccrual(rep, currency, out) if out else None


def accrual(user) -> Accrual:
    """The expected pay of the rest of the fiscal year of the people the user may see."""
    people = _people(user)
    as_of = company_today()
    calendar = CompanyCalendar.current()
    through = calendar.year_bounds(calendar.year_of(as_of))[1]
    months = _months(as_of, through)
    won, pipeline = _deals([p.pk for p in people], months[0], through)
    result = Accrual(as_of, through)
    for rep in people:
        try:
            row = _rep_months(rep, months, won.get(rep.pk, {}), pipeline.get(rep.pk, {}), as_of)
        except ValidationError as error:
            result.not_counted[rep.pk] = "; ".join(error.messages)
            continue
        if row is not None:
            result.rows.append(row)
    return result
