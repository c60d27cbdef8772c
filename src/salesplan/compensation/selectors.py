"""Every read of compensation, already limited to what the user may see: a rep their own
pay, a manager their teams', admins and executives everyone's."""

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet

from salesplan.core.errors import NotFound
from salesplan.core.permissions import require
from salesplan.core.registry import ALL, NONE, OWN, scope_for
from salesplan.core.selectors import get_from
from salesplan.engines import compensation as engine
from salesplan.org.models import User
from salesplan.pipeline.models import Opportunity, StageKind

from . import batch, calculation
from .definitions import plan_from_definition
from .models import (
    CompCreditRule,
    CompDispute,
    CompLine,
    CompPeriod,
    CompPlan,
    CompPlanAcceptance,
    CompStatement,
)


def _rep_filter(user, resource: str, field: str) -> Q | None:
    """None: nothing visible; else the Q of visible rows by their rep."""
    require(user, resource, "view")  # 403 for a role that sees no pay at all
    scope = scope_for(user, resource, "view")
    if scope == NONE:
        return None
    if scope == ALL:
        return Q()
    if scope == OWN:
        return Q(**{field: user.pk})
    ids = user.visible_owner_ids
    return Q() if ids is None else Q(**{f"{field}__in": ids})


def statements(user) -> QuerySet[CompStatement]:
    rule = _rep_filter(user, "comp_statement", "rep_id")
    rows = CompStatement.objects.select_related("rep", "period", "plan")
    return rows.none() if rule is None else rows.filter(rule)


def get_statement(user, pk: int) -> CompStatement:
    return get_from(statements(user), pk, "statement")


def statement_line(user, statement_id: int, position: int) -> tuple[CompStatement, CompLine]:
    statement = get_statement(user, statement_id)
    line = statement.lines.filter(position=position).first()
    if line is None:
        raise NotFound(f"Statement {statement_id} has no line {position}.")
    line.trace = batch.line_trace(statement, line)
    return statement, line


def disputes(user, *, status: str = "") -> QuerySet[CompDispute]:
    rule = _rep_filter(user, "comp_dispute", "statement__rep_id")
    rows = CompDispute.objects.select_related("statement__rep", "statement__period", "raised_by")
    rows = rows.none() if rule is None else rows.filter(rule)
    return rows.filter(status=status) if status else rows


def get_dispute(user, pk: int) -> CompDispute:
    return get_from(disputes(user), pk, "dispute")


def plans(user) -> QuerySet[CompPlan]:
    require(user, "comp_plan", "view")
    scope = scope_for(user, "comp_plan", "view")
    if scope == NONE:
        return CompPlan.objects.none()
    if scope == ALL:
        return CompPlan.objects.all()
    return CompPlan.objects.filter(Q(person=user) | Q(person__isnull=True, role=user.role))


def get_plan(user, pk: int) -> CompPlan:
    return get_from(plans(user), pk, "compensation plan")


def periods(user) -> QuerySet[CompPeriod]:
    require(user, "comp_period", "view")
    return CompPeriod.objects.all()


def get_period(user, pk: int) -> CompPeriod:
    return get_from(periods(user), pk, "pay period")


def credit_rules(user) -> QuerySet[CompCreditRule]:
    require(user, "comp_credit_rule", "view")
    return CompCreditRule.objects.all()


def get_credit_rule(user, pk: int) -> CompCreditRule:
    return get_from(credit_rules(user), pk, "crediting rule")


def accepted(plan: CompPlan, user) -> CompPlanAcceptance | None:
    return CompPlanAcceptance.objects.filter(plan=plan, rep=user).first()


# --- my plan -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MyPlan:
    """What the rep's pages show: the plan, its acceptance, earnings to date, next tier."""

    plan: CompPlan | None
    acceptance: CompPlanAcceptance | None
    statements: list[CompStatement]
    earned_to_date: Decimal
    paid_to_date: Decimal
    current: CompStatement | None
    pipeline: list[tuple[Opportunity, Decimal]]


def _would_pay(user, plan_row: CompPlan, current: CompStatement | None,
               on) -> list[tuple[Opportunity, Decimal]]:
    """What each of the rep's open deals would add to this period's commission if won
    now on the owner's full credit (the tiers already reached taken into account)."""
    try:
        plan = plan_from_definition(plan_row.definition, plan_row.currency)
    except ValidationError:
        return []
    lines = {line.component: line for line in current.lines.all()} if current else {}
    deals = list(Opportunity.objects.filter(owner=user, status=StageKind.OPEN)
                 .select_related("pipeline").order_by("close_date", "id")[:10])
    out = []
    for opp in deals:
        try:
            rates = calculation.rates_for(plan, {opp.currency}, on)
        except ValidationError:
            continue  # no rate into the plan's currency yet
        deal = calculation.engine_deal(opp, False)
        base = rates.convert(deal.amount, deal.currency)
        extra = Decimal(0)
        for component in plan.commissions:
            if component.counts(deal) and not component.on_margin:
                line = lines.get(component.key)
                so_far = Decimal(line.measure) if line and line.measure is not None else Decimal(0)
                extra += engine.deal_would_pay(component, so_far, base)
        out.append((opp, extra))
    return out


def my_plan(user, on) -> MyPlan:
    plan = calculation.plan_for(user, on)
    rows = list(CompStatement.objects.filter(rep=user).select_related("period")
                .order_by("period__starts"))
    if plan is not None:
        rows = [s for s in rows if plan.starts <= s.period.starts <= plan.ends]
    current = next((s for s in rows if s.period.starts <= on <= s.period.ends), None)
    return MyPlan(plan, accepted(plan, user) if plan else None, rows,
                  sum((s.earned for s in rows), Decimal(0)),
                  sum((s.paid for s in rows), Decimal(0)), current,
                  _would_pay(user, plan, current, on) if plan else [])


# --- what-if -------------------------------------------------------------------------------


@dataclass(frozen=True)
class WhatIfRow:
    rep: User
    bookings: Decimal
    current: Decimal
    draft: Decimal

    @property
    def change(self) -> Decimal:
        return self.draft - self.current


@dataclass(frozen=True)
class WhatIf:
    """A draft plan run over a past period beside the plans in force."""

    plan: CompPlan
    period: CompPeriod
    rows: list[WhatIfRow]
    bookings: Decimal
    current_cost: Decimal
    draft_cost: Decimal

    def cost_of_sales(self, cost: Decimal) -> Decimal | None:
        return None if not self.bookings else (cost / self.bookings).quantize(Decimal("0.0001"))


def what_if(user, plan: CompPlan, period: CompPeriod) -> WhatIf:
    """Each rep's pay in the period under the draft plan against their plan in force
    (earnings before draws; no clawbacks or balances carried, so both sides compare)."""
    require(user, "comp_cost", "view")
    book = calculation.PeriodBook(period)
    draft_plan = engine_plan(plan)
    rates = calculation.rates_for(draft_plan, {d.currency for d in book.deals.values()},
                                  period.ends)
    credited: dict[int, Decimal] = {}
    for credit, _deal, base in engine.credit_bases(book.credits, book.deals, rates):
        credited[credit.rep] = credited.get(credit.rep, Decimal(0)) + base
    rows = []
    for rep in batch.covered(period, book.reps(), None):
        in_force = calculation.plan_for(rep, period.ends)
        current = (calculation.compute(rep, period, book, in_force, with_history=False).earned
                   if in_force else Decimal(0))
        drafted = calculation.compute(rep, period, book, plan, with_history=False)
        rows.append(WhatIfRow(rep, credited.get(rep.pk, Decimal(0)), current, drafted.earned))
    rows.sort(key=lambda r: (r.change, r.rep.pk))
    total = sum((rates.convert(d.amount, d.currency) for d in book.deals.values()), Decimal(0))
    return WhatIf(plan, period, rows, total, sum((r.current for r in rows), Decimal(0)),
                  sum((r.draft for r in rows), Decimal(0)))


def engine_plan(plan: CompPlan) -> engine.Plan:
    return plan_from_definition(plan.definition, plan.currency)

