"""Gathering a rep's deals, credit, rates, clawbacks, adjustments and draw balance for a
period, running the engine and storing the statement with its explained lines.

Which deals: opportunities won with a close date in the period. Who is credited: the
owner, or the deal's splits; then each active crediting rule in effect on the close date
(territory overlay members, on that date, of the deal's account's territories in the
alignment in effect on that date; every manager above the owner). Which plan: the rep's own
active plan in effect on the period's last day, else their role's. Rates: the company's
exchange rates (pricing) on that day."""

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db.models import Q

from salesplan.core.clock import company_date
from salesplan.engines import compensation as engine
from salesplan.org import selectors as org_reads
from salesplan.org.models import User
from salesplan.pipeline.models import Opportunity, OpportunityChange, StageKind
from salesplan.pricing.context import exchange_rate
from salesplan.territories import selectors as territory_reads

from . import deal_facts, mbo
from .definitions import plan_from_definition
from .models import (
    CompAdjustment,
    CompCreditRule,
    CompLine,
    CompPeriod,
    CompPlan,
    CompStatement,
    CreditKind,
    DealSplit,
    PeriodStatus,
    PlanStatus,
)

EARNING_KINDS = ("commission", "new_logo", "spiff")


def plan_for(rep: User, day: date, *, statuses=(PlanStatus.ACTIVE,)) -> CompPlan | None:
    """The rep's plan version in effect on `day`: their own, else their role's."""
    plans = CompPlan.objects.filter(status__in=statuses, starts__lte=day, ends__gte=day,
                                    effective_from__lte=day)
    for found in (plans.filter(person=rep), plans.filter(person__isnull=True, role=rep.role)):
        plan = found.order_by("-effective_from", "-number", "-id").first()
        if plan is not None:
            return plan
    return None


class WonDeal(NamedTuple):
    """What compensation reads of a won deal (plain values: cheaper than model instances)."""

    pk: int
    amount: Decimal
    currency: str
    close_date: date
    kind: str
    account_id: int
    owner_id: int


def engine_deal(opp: Opportunity | WonDeal, new_logo: bool,
                cancelled_on: date | None = None) -> engine.Deal:
    kind = opp.kind if isinstance(opp, WonDeal) else opp.pipeline.kind
    return engine.Deal(opp.pk, Decimal(opp.amount), opp.currency, opp.close_date,
                       deal_type=kind, new_logo=new_logo, cancelled_on=cancelled_on)


class Crediting:
    """Credit lines of deals under the company's crediting rules (cached per deal)."""

    def __init__(self) -> None:
        self.rules = list(CompCreditRule.objects.filter(active=True))
        self._overlay: dict[tuple[int, date], list[int]] = {}
        self._manager: dict[int, list[int]] = {}
        self._history = territory_reads.alignment_history()

    def credits(self, opp: WonDeal, splits: list[tuple[int, Decimal]]) -> list[engine.Credit]:
        rules = [engine.CreditRule(r.name, "overlay" if r.kind == CreditKind.OVERLAY
                                   else "manager", Decimal(r.share))
                 for r in self.rules if r.effective_from <= opp.close_date]
        kinds = {r.kind for r in rules}
        overlay = self._overlay_of(opp) if CreditKind.OVERLAY in kinds else []
        managers = self._managers_of(opp.owner_id) if CreditKind.MANAGER in kinds else []
        try:
            return engine.credit_deal(opp.pk, opp.owner_id, splits=splits,
                                      overlay_members=overlay, managers=managers, rules=rules)
        except engine.PlanError as error:
            raise ValidationError({error.field: f"Deal {opp.pk}: {error.message}"}) from None

    def _overlay_of(self, opp: WonDeal) -> list[int]:
        key = (opp.account_id, opp.close_date)
        if key not in self._overlay:
            alignment = territory_reads.alignment_on(opp.close_date, self._history)
            territory_ids = [t for _a, t in territory_reads.territory_pairs(
                [opp.account_id], alignment)] if alignment else []
            self._overlay[key] = sorted(set(
                territory_reads.current_members(opp.close_date)
                .filter(territory_id__in=territory_ids, role=territory_reads.MemberRole.OVERLAY)
                .exclude(user_id=opp.owner_id).values_list("user_id", flat=True)))
        return self._overlay[key]

    def _managers_of(self, owner_id: int) -> list[int]:
        if owner_id not in self._manager:
            chain = org_reads.manager_chain(User.objects.get(pk=owner_id))
            self._manager[owner_id] = [manager.pk for manager in chain]
        return self._manager[owner_id]


def won_deals(period: CompPeriod, reps: set[int] | None = None) -> list[WonDeal]:
    """Deals won in the period (only those owned or split by `reps`, when named)."""
    deals = Opportunity.objects.filter(
        status=StageKind.WON, close_date__gte=period.starts, close_date__lte=period.ends)
    if reps is not None:
        split = DealSplit.objects.filter(rep_id__in=reps).values("opportunity_id")
        deals = deals.filter(Q(owner_id__in=reps) | Q(pk__in=split))
    rows = deals.order_by("close_date", "id").values_list(
        "id", "amount", "currency", "close_date", "pipeline__kind", "account_id", "owner_id")
    return [WonDeal(*row) for row in rows]


def splits_of(deal_ids: Iterable[int]) -> dict[int, list[tuple[int, Decimal]]]:
    out: dict[int, list[tuple[int, Decimal]]] = {}
    ids = list(deal_ids)
    for start in range(0, len(ids), 20_000):  # SQLite refuses too many parameters at once
        rows = (DealSplit.objects.filter(opportunity_id__in=ids[start:start + 20_000])
                .order_by("id").values_list("opportunity_id", "rep_id", "share"))
        for deal_id, rep_id, share in rows:
            out.setdefault(deal_id, []).append((rep_id, Decimal(share)))
    return out


def first_wins(account_ids: Iterable[int]) -> dict[int, int]:
    """Per account, its first won deal (a new logo)."""
    firsts: dict[int, int] = {}
    rows = (Opportunity.objects.filter(account_id__in=list(account_ids), status=StageKind.WON)
            .order_by("account_id", "close_date", "id").values_list("account_id", "id"))
    for account_id, deal_id in rows:
        firsts.setdefault(account_id, deal_id)
    return firsts


class PeriodBook:
    """Everything a period's statements are calculated from, read once. Named `reps`
    (a recalculation of a few statements) read only their deals, unless overlay or
    roll-up rules may credit them with others' deals."""

    def __init__(self, period: CompPeriod, reps: set[int] | None = None) -> None:
        self.period = period
        if reps is not None and CompCreditRule.objects.filter(active=True).exists():
            reps = None
        self.opportunities = won_deals(period, reps)
        firsts = first_wins({o.account_id for o in self.opportunities})
        splits = splits_of(o.pk for o in self.opportunities)
        crediting = Crediting()
        self.deals = {o.pk: engine_deal(o, firsts.get(o.account_id) == o.pk)
                      for o in self.opportunities}
        self.deals = deal_facts.enrich(self.deals)  # family, products, margin from quotes
        self.credits = [c for o in self.opportunities
                        for c in crediting.credits(o, splits.get(o.pk, []))]
        self.by_rep: dict[int, list[engine.Credit]] = {}
        for credit in self.credits:
            self.by_rep.setdefault(credit.rep, []).append(credit)

        self._rates: dict[str, engine.Rates] = {}

    def reps(self) -> set[int]:
        return set(self.by_rep)

    def rates(self, plan: engine.Plan) -> engine.Rates:
        """The company's rates into the plan's currency on the period's last day (once)."""
        if plan.currency not in self._rates:
            currencies = {d.currency for d in self.deals.values()}
            self._rates[plan.currency] = rates_for(plan, currencies, self.period.ends)
        return self._rates[plan.currency]


def rates_for(plan: engine.Plan, currencies: Iterable[str], on: date) -> engine.Rates:
    rates: dict[str, Decimal] = {}
    for currency in set(currencies) - {plan.currency}:
        rate, inverse = exchange_rate(currency, plan.currency, on)
        rates[currency] = (Decimal(1) / Decimal(rate)) if inverse else Decimal(rate)
    return engine.Rates(plan.currency, rates)


def stored_lines(statement: CompStatement) -> list[engine.PayoutLine]:
    """A stored statement's lines as the engine's (for clawbacks)."""
    return [
        engine.PayoutLine(line.kind, line.component, line.label, Decimal(line.amount), line.rule,
                          tuple(engine.TraceItem(t["deal_id"], t["rule"], Decimal(t["share"]),
                                                 Decimal(t["base"]),
                                                 None if t["rate"] is None else Decimal(t["rate"]),
                                                 Decimal(t["earned_exact"]))
                                for t in line.trace or ()))
        for line in statement.lines.all()
    ]


def cancellation_days(opportunity_ids: Iterable[int]) -> dict[int, date]:
    """Per deal, the company date of its latest stage change (when it left won)."""
    days: dict[int, date] = {}
    rows = (OpportunityChange.objects
            .filter(opportunity_id__in=list(opportunity_ids), field=OpportunityChange.Field.STAGE)
            .order_by("opportunity_id", "-changed_at", "-id")
            .values_list("opportunity_id", "changed_at"))
    for opportunity_id, changed_at in rows:
        days.setdefault(opportunity_id, company_date(changed_at))
    return days


def clawbacks_for(rep_id: int, period: CompPeriod) -> list[engine.PayoutLine]:
    """Clawback lines landing in this open period for one rep (`clawbacks_of`)."""
    return clawbacks_of({rep_id}, period).get(rep_id, [])


def clawbacks_of(rep_ids: set[int], period: CompPeriod) -> dict[int, list[engine.PayoutLine]]:
    """Each rep's clawback lines landing in this open period: deals paid in a closed
    period, no longer won, cancelled within that plan's window, not clawed back already.
    A fixed number of queries however many reps and deals."""
    periods = [engine.Period(p.starts, p.ends, p.is_closed) for p in CompPeriod.objects.all()]
    closed = list(CompStatement.objects.filter(rep_id__in=rep_ids,
                                               period__status=PeriodStatus.CLOSED)
                  .select_related("plan").prefetch_related("lines")
                  .order_by("period__starts", "id"))
    clawed: dict[int, set[int]] = {}
    for rep_id, trace in CompLine.objects.filter(
            statement__rep_id__in=rep_ids, statement__period__status=PeriodStatus.CLOSED,
            kind="clawback").values_list("statement__rep_id", "trace"):
        clawed.setdefault(rep_id, set()).update(t["deal_id"] for t in trace or ())
    paid = {s.pk: engine.paid_by_deal(stored_lines(s)) for s in closed}
    every = set().union(*paid.values()) if paid else set()
    still_won = set(Opportunity.objects.filter(pk__in=list(every), status=StageKind.WON)
                    .values_list("pk", flat=True))
    lost = list(Opportunity.objects.filter(pk__in=list(every - still_won)))
    cancelled_on = cancellation_days(o.pk for o in lost)
    lines: dict[int, list[engine.PayoutLine]] = {}
    for statement in closed:
        window = (statement.plan.definition.get("clawback_days", 0) if statement.plan else 0)
        skip = clawed.get(statement.rep_id, set())
        for opp in lost:
            if opp.pk not in paid[statement.pk] or opp.pk in skip:
                continue
            cancelled = cancelled_on.get(opp.pk)
            if cancelled is None or (cancelled - opp.close_date).days > window:
                continue
            landing = engine.landing_period(periods, cancelled)
            if landing is None or landing.start != period.starts:
                continue
            deal = engine_deal(opp, False, cancelled)
            lines.setdefault(statement.rep_id, []).append(
                engine.clawback_line(deal, paid[statement.pk][opp.pk], window))
    return lines


def previous_balance(rep_id: int, period: CompPeriod) -> Decimal:
    before = (CompStatement.objects.filter(rep_id=rep_id, period__starts__lt=period.starts)
              .order_by("-period__starts").first())
    return Decimal(before.draw_balance) if before else Decimal(0)


def compute(rep: User, period: CompPeriod, book: PeriodBook, plan_row: CompPlan,
            *, with_history: bool = True) -> engine.Statement:
    """The engine's statement for one rep (nothing stored)."""
    plan = plan_from_definition(plan_row.definition, plan_row.currency)
    try:
        rates = book.rates(plan)
        adjustments = [engine.Adjustment(Decimal(a.amount), a.reason,
                                         a.created_by.get_full_name() if a.created_by else "")
                       for a in CompAdjustment.objects.filter(rep=rep, period=period)
                       .select_related("created_by").order_by("id")]
        return engine.calculate_statement(
            rep.pk, plan, book.by_rep.get(rep.pk, []), book.deals, rates,
            draw_balance=previous_balance(rep.pk, period) if with_history else Decimal(0),
            adjustments=adjustments,
            clawbacks=clawbacks_for(rep.pk, period) if with_history else [],
            mbo_scores=mbo.scores_for(rep.pk, period))
    except engine.PlanError as error:
        raise ValidationError({error.field: error.message}) from None


def next_tier_row(nxt: engine.NextTier) -> dict[str, str]:
    attainment = str(nxt.attainment.quantize(Decimal("0.0001")))
    return {"component": nxt.component, "attainment": attainment,
            "next_start": str(nxt.next_start), "next_rate": str(nxt.next_rate),
            "bookings_needed": str(engine.money(nxt.bookings_needed))}
