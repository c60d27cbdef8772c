"""Territory size, potential, capacity and goals.

A proposed goal follows a formula the manager can read: a share of the parent's goal in
proportion to potential, prior-period bookings with growth, sales per selling day ×
selling days, capacity × conversion (calls the members can make in the period × the
bookings each completed call or meeting brought in the prior period), workload days
(the prior period's bookings per rep selling day × the selling days the territory's
accounts need in the period, as field visits reckon them, at most the days its members
have — read through `core.hooks.account_workload`), or a weighted mix
of these (each formula turned into shares of the parent's goal, the shares mixed by the
manager's weights). Children's goals always add up exactly to the parent's (amounts are
Decimal, rounded to the currency's minor unit, the remainder given out by largest
remainder). A manager may override any child's goal with a reason; the rest of the
parent's goal is shared among the others by the formula.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_FLOOR, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Sum

from salesplan.activities.models import Activity, ActivityKind
from salesplan.core import audit
from salesplan.core.clock import company_today
from salesplan.core.hooks import account_workload
from salesplan.core.money import minor_units, quantize
from salesplan.core.registry import require
from salesplan.org.models import Company, User
from salesplan.pipeline.models import Opportunity, StageKind

from .models import AccountTerritory, GoalFormula, Territory, TerritoryGoal
from .selectors import current_members, descendants


def allocate(total: Decimal, weights: list[Decimal], currency: str = "USD") -> list[Decimal]:
    """Split `total` in proportion to `weights` into amounts of the currency's minor unit
    that add up exactly to `total`; leftover units go to the largest remainders (ties to
    the earlier item). Zero weights everywhere share equally."""
    if not weights:
        return []
    if any(w < 0 for w in weights):
        raise ValueError("weights must not be negative")
    unit = Decimal(1).scaleb(-minor_units(currency))
    units_total = int((total / unit).to_integral_value(rounding=ROUND_FLOOR))
    weight_sum = sum(weights, Decimal(0))
    if weight_sum == 0:
        weights, weight_sum = [Decimal(1)] * len(weights), Decimal(len(weights))
    exact = [Decimal(units_total) * w / weight_sum for w in weights]
    floors = [int(e.to_integral_value(rounding=ROUND_FLOOR)) for e in exact]
    leftover = units_total - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:leftover]:
        floors[i] += 1
    return [Decimal(f) * unit for f in floors]


def selling_days(start: date, end: date) -> int:
    """Working days of the company calendar from start to end inclusive, less holidays."""
    company = Company.current()
    weekdays = set(company.working_weekdays)
    holidays = set(company.holidays.filter(date__range=(start, end)).values_list("date", flat=True))
    days, current = 0, start
    while current <= end:
        if current.weekday() in weekdays and current not in holidays:
            days += 1
        current += timedelta(days=1)
    return days


DAYS_PER_MONTH = Decimal("30.4375")


@dataclass
class TerritoryWorkload:
    """Selling days a month a territory's accounts need against the days its current
    members have in the next thirty days, and the figure's source in words."""

    required_days: Decimal
    available_days: Decimal
    members: int
    source: str

    @property
    def load(self) -> Decimal | None:
        if not self.available_days:
            return None
        return (self.required_days / self.available_days).quantize(Decimal("0.01"))


def workloads(territories: list[Territory], *, start: date | None = None
              ) -> dict[int, TerritoryWorkload]:
    """Each territory's workload (with the territories below it), from one reading of
    the accounts' workload; empty when no app provides workload figures."""
    provider = account_workload.provider()
    if provider is None or not territories:
        return {}
    subtree = {t.pk: _territory_ids(t) for t in territories}
    every = set().union(*subtree.values())
    accounts_of: dict[int, set[int]] = defaultdict(set)
    for tid, account_id in AccountTerritory.objects.filter(
            territory_id__in=every).values_list("territory_id", "account_id"):
        accounts_of[tid].add(account_id)
    members_of: dict[int, set[int]] = defaultdict(set)
    for tid, user_id in current_members().filter(territory_id__in=every).values_list(
            "territory_id", "user_id"):
        members_of[tid].add(user_id)
    found = provider.per_account(sorted(set().union(*accounts_of.values())))
    users = User.objects.in_bulk(set().union(*members_of.values()))
    start = start or company_today()
    end = start + timedelta(days=29)
    tenth = Decimal("0.1")
    result = {}
    for territory in territories:
        accounts = set().union(*(accounts_of[t] for t in subtree[territory.pk]))
        people = set().union(*(members_of[t] for t in subtree[territory.pk]))
        required = sum((found.days_per_month.get(a, Decimal(0)) for a in accounts), Decimal(0))
        available = provider.available_days([users[u] for u in sorted(people) if u in users],
                                            start, end)
        result[territory.pk] = TerritoryWorkload(required.quantize(tenth),
                                                 Decimal(available).quantize(tenth),
                                                 len(people), found.source)
    return result


@dataclass
class TerritorySize:
    """What a territory holds and can do, over a history window."""

    accounts: int
    accounts_by_tier: dict[str, int]
    potential: Decimal
    area_sq_km: Decimal | None
    bookings: Decimal
    selling_days: int
    sales_per_day: Decimal
    members: int
    capacity_calls: int
    workload: TerritoryWorkload | None = None


def _territory_ids(territory: Territory) -> set[int]:
    return descendants([territory.pk], territory.alignment_id)


def _bookings(ids: set[int], start: date, end: date) -> Decimal:
    accounts = AccountTerritory.objects.filter(territory_id__in=ids).values("account_id")
    total = Opportunity.objects.filter(
        status=StageKind.WON, account_id__in=accounts, closed_at__date__range=(start, end)
    ).aggregate(total=Sum("amount"))["total"]
    return total or Decimal(0)


def territory_size(territory: Territory, *, window_start: date, window_end: date,
                   calls_per_day: int = 6, with_workload: bool = True) -> TerritorySize:
    """Accounts by tier, potential, area, bookings and sales per selling day in the window,
    capacity: members × selling days × achievable calls per day, and (unless the caller
    reads it with others, `with_workload=False`) the workload in selling days."""
    ids = _territory_ids(territory)
    rows = AccountTerritory.objects.filter(territory_id__in=ids)
    by_tier = {row["account__tier"] or "none": row["n"] for row in
               rows.values("account__tier").annotate(n=Count("account_id", distinct=True))}
    potential = rows.aggregate(total=Sum("account__potential"))["total"] or Decimal(0)
    days = selling_days(window_start, window_end)
    bookings = _bookings(ids, window_start, window_end)
    members = current_members().filter(territory_id__in=ids).values("user_id").distinct().count()
    cent = Decimal("0.01")
    return TerritorySize(
        accounts=sum(by_tier.values()), accounts_by_tier=by_tier,
        potential=Decimal(potential).quantize(cent), area_sq_km=territory.area_sq_km,
        bookings=Decimal(bookings).quantize(cent), selling_days=days,
        sales_per_day=(bookings / days).quantize(Decimal("0.01")) if days else Decimal(0),
        members=members, capacity_calls=members * days * calls_per_day,
        workload=workloads([territory]).get(territory.pk) if with_workload else None)


@dataclass
class Proposal:
    territory: Territory
    basis: Decimal  # the formula's number for this territory
    amount: Decimal
    explanation: str
    override_reason: str = ""
    workload: TerritoryWorkload | None = None  # shown beside the proposal


def _basis(territory: Territory, formula: str, period_start: date, period_end: date,
           growth: Decimal, calls_per_day: int = 6) -> tuple[Decimal, str]:
    ids = _territory_ids(territory)
    if formula == GoalFormula.SHARE_OF_POTENTIAL:
        potential = (AccountTerritory.objects.filter(territory_id__in=ids)
                     .aggregate(total=Sum("account__potential"))["total"] or Decimal(0))
        return potential, f"potential {potential}"
    length = period_end - period_start
    prior_end = period_start - timedelta(days=1)
    prior_start = prior_end - length
    bookings = _bookings(ids, prior_start, prior_end)
    if formula == GoalFormula.PRIOR_BOOKINGS:
        return (bookings * (1 + growth),
                f"bookings {bookings} from {prior_start} to {prior_end} × {1 + growth}")
    if formula == GoalFormula.CAPACITY_CONVERSION:
        return _capacity_conversion(ids, bookings, prior_start, prior_end, period_start,
                                    period_end, calls_per_day)
    if formula == GoalFormula.WORKLOAD_DAYS:
        return _workload_days(ids, bookings, prior_start, prior_end, period_start,
                              period_end)
    history_days = selling_days(prior_start, prior_end)
    per_day = bookings / history_days if history_days else Decimal(0)
    days = selling_days(period_start, period_end)
    return (per_day * days,
            f"{per_day.quantize(Decimal('0.01'))} per selling day × {days} selling days")


def _capacity_conversion(ids: set[int], bookings: Decimal, prior_start: date, prior_end: date,
                         period_start: date, period_end: date,
                         calls_per_day: int) -> tuple[Decimal, str]:

    members = current_members().filter(territory_id__in=ids).values("user_id").distinct().count()
    capacity = members * selling_days(period_start, period_end) * calls_per_day
    accounts = AccountTerritory.objects.filter(territory_id__in=ids).values("account_id")
    calls = Activity.objects.filter(
        account_id__in=accounts, done=True,
        kind__in=[ActivityKind.CALL, ActivityKind.MEETING],
        due_at__date__range=(prior_start, prior_end)).count()
    per_call = bookings / calls if calls else Decimal(0)
    return (Decimal(capacity) * per_call,
            f"{capacity} calls of capacity ({members} members × {calls_per_day} a day) × "
            f"{per_call.quantize(Decimal('0.01'))} booked per call ({calls} calls and "
            f"meetings from {prior_start} to {prior_end})")


def _workload_days(ids: set[int], bookings: Decimal, prior_start: date, prior_end: date,
                   period_start: date, period_end: date) -> tuple[Decimal, str]:
    """Achievable sales per rep selling day (the prior period's bookings over the members'
    selling days then) × the selling days the work needs in the period, no more than the
    members have: a territory whose accounts need fewer days than its reps have is not
    asked to sell on the idle days, and one that needs more cannot sell beyond them."""
    provider = account_workload.provider()
    if provider is None:
        raise ValidationError({"formula": "Workload days need field visits to estimate "
                                          "the selling days of the accounts."})
    account_ids = sorted(set(AccountTerritory.objects.filter(territory_id__in=ids)
                             .values_list("account_id", flat=True)))
    found = provider.per_account(account_ids)
    months = Decimal((period_end - period_start).days + 1) / DAYS_PER_MONTH
    required = sum(found.days_per_month.values(), Decimal(0)) * months
    members = list(User.objects.filter(pk__in=current_members().filter(
        territory_id__in=ids).values("user_id")).order_by("pk"))
    available = Decimal(provider.available_days(members, period_start, period_end))
    days = min(required, available) if members else required
    rep_days = max(len(members), 1) * selling_days(prior_start, prior_end)
    per_day = bookings / rep_days if rep_days else Decimal(0)
    tenth = Decimal("0.1")
    return (per_day * days,
            f"{per_day.quantize(Decimal('0.01'))} per rep selling day × "
            f"{days.quantize(tenth)} selling days of workload (the accounts need "
            f"{required.quantize(tenth)}, {len(members)} members have "
            f"{available.quantize(tenth)}; {found.source})")


MIXABLE = (GoalFormula.SHARE_OF_POTENTIAL, GoalFormula.PRIOR_BOOKINGS,
           GoalFormula.SALES_PER_DAY, GoalFormula.CAPACITY_CONVERSION,
           GoalFormula.WORKLOAD_DAYS)


def _check_mix(mix: dict[str, Decimal] | None) -> dict[str, Decimal]:
    if not mix:
        raise ValidationError({"mix": "A weighted mix needs a weight for at least one formula."})
    clean: dict[str, Decimal] = {}
    for formula, weight in mix.items():
        if formula not in MIXABLE:
            raise ValidationError({"mix": f"{formula} cannot be mixed; choose from "
                                          f"{', '.join(MIXABLE)}."})
        weight = Decimal(weight)
        if weight < 0:
            raise ValidationError({"mix": f"The weight of {formula} is negative."})
        if weight:
            clean[formula] = weight
    if not clean:
        raise ValidationError({"mix": "The weights of the mix add up to zero."})
    return clean


def _mixed_bases(children: list[Territory], mix: dict[str, Decimal], period_start: date,
                 period_end: date, growth: Decimal,
                 calls_per_day: int) -> tuple[list[tuple[Decimal, str]], Decimal | None]:
    """Each child's mixed share (in percent) and, when every mixed formula is in money,
    the weighted total of the formulas (the default goal of the parent)."""
    weight_sum = sum(mix.values(), Decimal(0))
    shares = [Decimal(0)] * len(children)
    texts: list[list[str]] = [[] for _ in children]
    money_total: Decimal | None = Decimal(0)
    for formula, weight in mix.items():
        bases = [_basis(c, formula, period_start, period_end, growth, calls_per_day)
                 for c in children]
        total = sum((b for b, _ in bases), Decimal(0))
        for i, (basis, _text) in enumerate(bases):
            part = basis / total if total else Decimal(1) / len(children)
            shares[i] += weight / weight_sum * part * 100
            texts[i].append(f"{(part * 100).quantize(Decimal('0.1'))}% by {formula} × "
                            f"{weight}")
        if formula == GoalFormula.SHARE_OF_POTENTIAL:
            money_total = None
        elif money_total is not None:
            money_total += weight / weight_sum * total
    return ([(share, "; ".join(t)) for share, t in zip(shares, texts, strict=True)],
            money_total)


def propose_goals(parent: Territory, *, period_start: date, period_end: date, formula: str,
                  total: Decimal | None = None, growth: Decimal = Decimal(0),
                  currency: str | None = None,
                  overrides: dict[int, tuple[Decimal, str]] | None = None,
                  mix: dict[str, Decimal] | None = None,
                  calls_per_day: int = 6) -> list[Proposal]:
    """Goals for the parent's children that add up exactly to `total` (by default the sum
    of the formula's numbers). `overrides`: territory id -> (amount, reason); `mix`:
    formula -> weight, for the weighted mix."""
    if formula not in GoalFormula.values or formula == GoalFormula.MANUAL:
        raise ValidationError({"formula": "Choose share_of_potential, prior_bookings, "
                                          "sales_per_day, capacity_conversion, "
                                          "workload_days or weighted_mix."})
    if calls_per_day <= 0:
        raise ValidationError({"calls_per_day": "Achievable calls per day must be positive."})
    if period_end < period_start:
        raise ValidationError({"period_end": "The period ends before it starts."})
    currency = currency or Company.current().default_currency
    overrides = {tid: (quantize(Decimal(amount), currency), reason)
                 for tid, (amount, reason) in (overrides or {}).items()}
    children = list(parent.children.order_by("name", "id"))
    known = {c.pk for c in children}
    for tid, (amount, reason) in overrides.items():
        if tid not in known:
            raise ValidationError({"overrides": f"Territory {tid} is not below {parent.name}."})
        if not (reason or "").strip():
            raise ValidationError({"overrides": f"Say why the goal of territory {tid} is "
                                                "overridden."})
        if amount < 0:
            raise ValidationError({"overrides": f"The goal of territory {tid} is negative."})
    if formula == GoalFormula.WEIGHTED_MIX:
        bases, mixed_total = _mixed_bases(children, _check_mix(mix), period_start, period_end,
                                          growth, calls_per_day)
        if total is None and mixed_total is None:
            raise ValidationError({"total": "A mix with share of potential needs the "
                                            "parent's goal."})
        total = total if total is not None else mixed_total
    else:
        bases = [_basis(c, formula, period_start, period_end, growth, calls_per_day)
                 for c in children]
    if formula == GoalFormula.SHARE_OF_POTENTIAL and total is None:
        raise ValidationError({"total": "A share of potential needs the parent's goal."})
    if total is None:
        total = sum((b for b, _ in bases), Decimal(0))
    total = allocate(total, [Decimal(1)], currency)[0]
    fixed = sum((amount for amount, _ in overrides.values()), Decimal(0))
    free = [i for i, c in enumerate(children) if c.pk not in overrides]
    if fixed > total or (not free and fixed != total):
        raise ValidationError({"overrides": f"The overridden goals add up to {fixed}, but the "
                                            f"goal of {parent.name} is {total}; they must add "
                                            "up exactly."})
    shares = allocate(total - fixed, [bases[i][0] for i in free], currency) if free else []
    share_of = dict(zip(free, shares, strict=True))
    basis_sum = sum((bases[i][0] for i in free), Decimal(0))
    proposals = []
    for i, child in enumerate(children):
        basis, text = bases[i]
        if child.pk in overrides:
            amount, reason = overrides[child.pk]
            proposals.append(Proposal(child, basis, amount, f"set by hand ({text})",
                                      reason.strip()))
            continue
        share = (basis / basis_sum * 100).quantize(Decimal("0.1")) if basis_sum else None
        explanation = (f"{share}% of {total - fixed} by {text}" if share is not None
                       else f"equal share of {total - fixed} (no {formula} data)")
        proposals.append(Proposal(child, basis, share_of[i], explanation))
    return proposals


@transaction.atomic
def set_goals(parent: Territory, *, by, period_start: date, period_end: date, formula: str,
              total: Decimal | None = None, growth: Decimal = Decimal(0),
              overrides: dict[int, tuple[Decimal, str]] | None = None,
              mix: dict[str, Decimal] | None = None,
              calls_per_day: int = 6) -> list[TerritoryGoal]:
    """Save the parent's goal and its children's (adding up exactly) for the period."""

    require(by, "territory", "set_goals", parent)
    currency = Company.current().default_currency
    proposals = propose_goals(parent, period_start=period_start, period_end=period_end,
                              formula=formula, total=total, growth=growth, currency=currency,
                              overrides=overrides, mix=mix, calls_per_day=calls_per_day)
    parent_total = (sum((p.amount for p in proposals), Decimal(0)) if proposals
                    else allocate(total or Decimal(0), [Decimal(1)], currency)[0])
    saved = [_save_goal(parent, by, period_start, period_end, formula, parent_total,
                        parent_total, currency, "goal of the territory", "")]
    for p in proposals:
        saved.append(_save_goal(p.territory, by, period_start, period_end,
                                GoalFormula.MANUAL if p.override_reason else formula,
                                p.amount if not p.override_reason else p.basis, p.amount,
                                currency, p.explanation, p.override_reason))
    return saved


def _save_goal(territory, by, start, end, formula, proposed, amount, currency, explanation,
               reason) -> TerritoryGoal:
    goal, created = TerritoryGoal.objects.update_or_create(
        territory=territory, period_start=start, period_end=end,
        defaults={"formula": formula, "proposed": allocate(proposed, [Decimal(1)], currency)[0],
                  "amount": amount, "currency": currency, "explanation": explanation[:500],
                  "override_reason": reason[:500], "set_by": by})
    if created:
        audit.record_created(goal, by)
    else:
        audit.record_changes(goal, {"amount": ("", amount)}, by)
    return goal


def default_window(days: int = 365) -> tuple[date, date]:
    end = company_today()
    return end - timedelta(days=days), end


@dataclass
class Attainment:
    """Bookings against a goal so far, and where the calendar says they should be."""

    actual: Decimal
    percent: Decimal | None  # actual / goal × 100
    expected_percent: Decimal | None  # selling days elapsed / selling days in the period


def attainment(goal: TerritoryGoal, *, today: date | None = None) -> Attainment:
    return attainments([goal], today=today)[0]


def attainments(goal_rows, *, today: date | None = None) -> list[Attainment]:
    """Attainment of each goal. The hierarchy is read once per alignment and each
    period's selling days counted once, so a page of goals costs one bookings query
    per goal, not a walk of the whole map per goal."""
    today = today or company_today()
    children: dict[int, dict[int | None, list[int]]] = {}
    days: dict[tuple[date, date], int] = {}

    def below(territory: Territory) -> set[int]:
        tree = children.get(territory.alignment_id)
        if tree is None:
            tree = children[territory.alignment_id] = defaultdict(list)
            for tid, parent_id in Territory.objects.filter(
                    alignment_id=territory.alignment_id).values_list("id", "parent_id"):
                tree[parent_id].append(tid)
        found, stack = set(), [territory.pk]
        while stack:
            current = stack.pop()
            if current not in found:
                found.add(current)
                stack.extend(tree[current])
        return found

    def days_between(start: date, end: date) -> int:
        if (start, end) not in days:
            days[start, end] = selling_days(start, end)
        return days[start, end]

    tenth = Decimal("0.1")
    results = []
    for goal in goal_rows:
        if today < goal.period_start:
            results.append(Attainment(Decimal(0), Decimal(0) if goal.amount else None,
                                      Decimal(0)))
            continue
        until = min(today, goal.period_end)
        actual = _bookings(below(goal.territory), goal.period_start, until)
        total_days = days_between(goal.period_start, goal.period_end)
        elapsed = days_between(goal.period_start, until)
        results.append(Attainment(
            actual=actual,
            percent=(actual / goal.amount * 100).quantize(tenth) if goal.amount else None,
            expected_percent=(Decimal(elapsed) / total_days * 100).quantize(tenth)
            if total_days else None))
    return results


def parse_overrides(data, children) -> dict[int, tuple[Decimal, str]]:
    """Goals set by hand in a form: override_<territory id> and reason_<territory id>."""
    from decimal import InvalidOperation

    overrides: dict[int, tuple[Decimal, str]] = {}
    for child in children:
        raw = (data.get(f"override_{child.pk}") or "").strip().replace(",", "")
        if not raw:
            continue
        try:
            amount = Decimal(raw)
        except InvalidOperation:
            raise ValidationError({"overrides": f"The goal of {child.name} is not a number: "
                                                f"{raw!r}."}) from None
        overrides[child.pk] = (amount, (data.get(f"reason_{child.pk}") or "").strip())
    return overrides
