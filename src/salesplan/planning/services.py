"""Every change to a plan: creation, status transitions, targets, top-down allocation,
bottom-up commitments. Each checks permission first, runs in one transaction (nothing
is half-saved) and, once the plan is approved, records a revision with its reason."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from salesplan.core.audit import record_changes, record_created
from salesplan.core.errors import StaleVersion
from salesplan.core.fiscal import CompanyCalendar
from salesplan.core.records import claim_version
from salesplan.org.models import Company, Role, Team, User
from salesplan.territories import selectors as territory_reads
from salesplan.territories.models import Territory

from . import access, scope
from .allocation import allocate_by_month, allocate_exactly
from .models import (
    MARKETING_MEASURES,
    AllocationMethod,
    Commitment,
    Level,
    MarketingCommitment,
    Measure,
    MonthlyTarget,
    Objective,
    Plan,
    PlanRevision,
    PlanStatus,
)

PLACES = 2


# --- plans -------------------------------------------------------------------------------


def create_plan(*, by: User, name: str, fiscal_year: int, team: Team | None = None,
                currency: str | None = None) -> Plan:
    """Start a draft plan for a team (or, for admins, the whole company) and a year.
    The team's manager owns it, even when an admin starts it; otherwise its creator."""
    if not access.can_create_for(by, team):
        raise PermissionDenied("You may create plans only for the teams you manage.")
    owner = team.manager if by.is_admin and team is not None and team.manager else by
    plan = Plan(name=name.strip(), fiscal_year=fiscal_year, team=team, owner=owner,
                currency=currency or Company.current().default_currency)
    plan.full_clean(validate_constraints=False)
    overlapping = Plan.objects.filter(team=team, fiscal_year=fiscal_year)
    if overlapping.exists():
        whose = team.name if team else "the company"
        raise ValidationError({"fiscal_year": [
            f"{whose} already has a plan for FY{fiscal_year}; plans cannot overlap."]})
    try:
        with transaction.atomic():
            plan.save()
            record_created(plan, by)
    except IntegrityError as exc:  # a concurrent create of the same plan
        raise ValidationError({"fiscal_year": ["A plan for this team and year exists."]}) from exc
    return plan


def rename_plan(plan: Plan, *, by: User, name: str, version: int) -> Plan:
    """Change a plan's name (the only field edited freely; the rest has its own service)."""
    access.require_edit(by, plan)
    if plan.status == PlanStatus.CLOSED:
        raise ValidationError({"status": ["A closed plan cannot be changed."]})
    with transaction.atomic():
        locked = Plan.objects.select_for_update().get(pk=plan.pk)
        if locked.version != version:
            raise StaleVersion(locked.version, version)
        old = locked.name
        locked.name = name.strip()
        locked.full_clean(validate_constraints=False)
        locked.version += 1
        locked.save(update_fields=["name", "version", "updated_at"])
        record_changes(locked, {"name": (old, locked.name)}, by)
    return locked


@transaction.atomic
def delete_plan(plan: Plan, *, by: User, expected_version: int | None = None) -> None:
    """Delete a draft plan; anything once submitted stays on record."""
    access.require_edit(by, plan)
    claim_version(plan, expected_version)
    if plan.status != PlanStatus.DRAFT:
        raise ValidationError({"status": ["Only a draft plan can be deleted."]})
    plan.delete()


# --- status transitions ------------------------------------------------------------------


def _move(plan: Plan, *, by: User, allowed_from: PlanStatus, to: PlanStatus,
          expected_version: int | None) -> Plan:
    with transaction.atomic():
        locked = Plan.objects.select_for_update().get(pk=plan.pk)
        claim_version(locked, expected_version)
        if locked.status != allowed_from:
            raise ValidationError({"status": [
                f"The plan is {locked.get_status_display().lower()}; only a plan that is "
                f"{allowed_from.label.lower()} can become {to.label.lower()}."]})
        old = locked.status
        locked.status = to
        fields = ["status", "version", "updated_at"]
        if to == PlanStatus.APPROVED:
            locked.approved_by, locked.approved_at = by, timezone.now()
            fields += ["approved_by", "approved_at"]
        locked.save(update_fields=fields)
        record_changes(locked, {"status": (old, to)}, by)
        if to == PlanStatus.APPROVED:
            _record_revision(locked, by=by, reason="Approved.")
    return locked


def submit_plan(plan: Plan, *, by: User, expected_version: int | None = None) -> Plan:
    """The owner hands the draft in for approval."""
    access.require_edit(by, plan)
    return _move(plan, by=by, allowed_from=PlanStatus.DRAFT, to=PlanStatus.SUBMITTED,
                 expected_version=expected_version)


def return_plan(plan: Plan, *, by: User, expected_version: int | None = None) -> Plan:
    """The approver sends a submitted plan back to draft for more work."""
    if not (access.can_approve(by, plan) or access.can_edit(by, plan)):
        raise PermissionDenied("You may not return this plan.")
    return _move(plan, by=by, allowed_from=PlanStatus.SUBMITTED, to=PlanStatus.DRAFT,
                 expected_version=expected_version)


def approve_plan(plan: Plan, *, by: User, expected_version: int | None = None) -> Plan:
    """A manager above the plan's team (or an admin) approves it: revision 1 is frozen."""
    if not access.can_approve(by, plan):
        raise PermissionDenied("You may not approve this plan: an admin or a manager of a "
                               "team above the plan's team approves it, not its owner.")
    return _move(plan, by=by, allowed_from=PlanStatus.SUBMITTED, to=PlanStatus.APPROVED,
                 expected_version=expected_version)


def activate_plan(plan: Plan, *, by: User, expected_version: int | None = None) -> Plan:
    """The approved plan becomes the one the team is measured against."""
    access.require_edit(by, plan)
    return _move(plan, by=by, allowed_from=PlanStatus.APPROVED, to=PlanStatus.ACTIVE,
                 expected_version=expected_version)


def close_plan(plan: Plan, *, by: User, expected_version: int | None = None) -> Plan:
    """The period is over; the plan is kept read-only."""
    access.require_edit(by, plan)
    return _move(plan, by=by, allowed_from=PlanStatus.ACTIVE, to=PlanStatus.CLOSED,
                 expected_version=expected_version)


def reopen_plan(plan: Plan, *, by: User, version: int | None) -> Plan:
    """Undo a close: the plan is active again and its reps are measured against it.
    One plan per team and year (a database constraint) means no other plan can have
    taken its place while it was closed."""
    access.require_reopen(by, plan)
    return _move(plan, by=by, allowed_from=PlanStatus.CLOSED, to=PlanStatus.ACTIVE,
                 expected_version=version)


TRANSITIONS = {"submit": submit_plan, "return": return_plan, "approve": approve_plan,
               "activate": activate_plan, "close": close_plan}


# --- revisions ---------------------------------------------------------------------------


def snapshot(plan: Plan) -> list[dict]:
    """The plan's objectives as plain data (amounts as strings, exact)."""
    months: dict[int, list[str]] = {}
    for objective_id, month, target in MonthlyTarget.objects.filter(
            objective__plan=plan).values_list("objective_id", "month", "target"):
        months.setdefault(objective_id, ["0.00"] * 12)[month - 1] = str(target)
    rows = []
    for o in plan.objectives.select_related("team", "territory", "rep").order_by("id"):
        targets = months.get(o.pk, ["0.00"] * 12)
        rows.append({"id": o.pk, "parent_id": o.parent_id, "measure": o.measure,
                     "level": o.level, "label": o.label, "team_id": o.team_id,
                     "territory_id": o.territory_id, "rep_id": o.rep_id,
                     "product_line": o.product_line, "method": o.method, "months": targets,
                     "total": str(sum((Decimal(t) for t in targets), Decimal(0)))})
    return rows


def _record_revision(plan: Plan, *, by: User, reason: str) -> PlanRevision:
    plan.revision_number += 1
    Plan.objects.filter(pk=plan.pk).update(revision_number=plan.revision_number)
    return PlanRevision.objects.create(plan=plan, number=plan.revision_number, reason=reason,
                                       created_by=by, status=plan.status,
                                       snapshot=snapshot(plan))


def _check_changeable(plan: Plan, by: User, reason: str,
                      expected_version: int | None = None) -> Plan:
    """The plan, locked and read afresh (the caller's copy may be stale), if it may change
    and is still at the version the caller read (its targets are part of it)."""
    plan = Plan.objects.select_for_update(of=("self",)).select_related("team").get(pk=plan.pk)
    access.require_edit(by, plan)
    if expected_version is not None:
        claim_version(plan, expected_version)
    if plan.status in (PlanStatus.SUBMITTED, PlanStatus.CLOSED):
        raise ValidationError({"status": [
            f"A {plan.get_status_display().lower()} plan cannot be changed"
            + (" (return it to draft first)." if plan.status == PlanStatus.SUBMITTED else ".")]})
    if plan.is_revised_on_change and not reason.strip():
        raise ValidationError({"reason": [
            "The plan is approved: say why it changes (the change becomes a revision)."]})
    return plan


def _after_change(plan: Plan, by: User, reason: str, field: str, old: str, new: str) -> None:
    """Bump the plan's version, audit the change, and revise an approved plan."""
    record_changes(plan, {field: (old, new)}, by)
    Plan.objects.filter(pk=plan.pk).update(version=plan.version + 1, updated_at=timezone.now())
    plan.version += 1
    if plan.is_revised_on_change:
        _record_revision(plan, by=by, reason=reason.strip())


# --- targets and top-down allocation -----------------------------------------------------


def _twelve(values: Sequence, field: str) -> list[Decimal]:
    try:
        numbers = [Decimal(str(v)) for v in values]
    except ArithmeticError as exc:
        raise ValidationError({field: ["Every value must be a number."]}) from exc
    if len(numbers) != 12:
        raise ValidationError({field: [f"Give 12 monthly values, not {len(numbers)}."]})
    if any(n < 0 or not n.is_finite() for n in numbers):
        raise ValidationError({field: ["Values cannot be negative."]})
    return numbers


def phasing_weights(plan: Plan, phasing: str, profile: Sequence | None) -> list[Decimal]:
    """Monthly weights: even, learned from the last two years' bookings, or entered."""
    if phasing == "even":
        return [Decimal(1)] * 12
    if phasing == "history":
        weights = scope.seasonality_from_history(plan, CompanyCalendar.current())
        if not any(weights):
            raise ValidationError({"phasing": [
                "There are no won bookings in the two prior fiscal years to learn "
                "seasonality from; phase evenly or enter a profile."]})
        return weights
    if phasing == "profile":
        weights = _twelve(profile or [], "profile")
        if not any(weights):
            raise ValidationError({"profile": ["At least one month must have a weight."]})
        return weights
    raise ValidationError({"phasing": ["Choose even, history or profile."]})


def _top_objective(plan: Plan, measure: str) -> Objective | None:
    return plan.objectives.filter(measure=measure, parent__isnull=True).first()


def set_plan_target(plan: Plan, *, by: User, measure: str, total: Decimal,
                    phasing: str = "even", profile: Sequence | None = None,
                    reason: str = "", expected_version: int | None = None) -> Objective:
    """Set the plan's top target for a measure (the company's, or the plan team's) and
    phase it over the fiscal months. Allocations below it are cleared: they no longer
    add up to it and must be made again."""
    if measure not in Measure.values:
        raise ValidationError({"measure": [f"Unknown measure {measure!r}."]})
    total = Decimal(str(total))
    if not total.is_finite() or total < 0:
        raise ValidationError({"total": ["The target must be zero or more."]})
    with transaction.atomic():
        plan = _check_changeable(plan, by, reason, expected_version)
        months = allocate_exactly(total, phasing_weights(plan, phasing, profile), PLACES)
        top = _top_objective(plan, measure)
        old_total = ""
        if top is not None:
            old_total = str(sum(top.months.values_list("target", flat=True), Decimal(0)))
            top.delete()
        level = Level.COMPANY if plan.team_id is None else Level.TEAM
        top = Objective.objects.create(plan=plan, measure=measure, level=level, team=plan.team)
        MonthlyTarget.objects.bulk_create(
            MonthlyTarget(objective=top, month=i + 1, target=t) for i, t in enumerate(months))
        _after_change(plan, by, reason, f"{measure} target", old_total, str(sum(months)))
    return top


@dataclass(frozen=True)
class Child:
    """One candidate to receive part of a target."""

    key: int | str
    level: str
    team: Team | None = None
    rep: User | None = None
    territory: Territory | None = None
    product_line: str = ""

    @property
    def label(self) -> str:
        return self.product_line or str(self.rep or self.team or self.territory)


def allocation_children(parent: Objective, to: str, product_lines=()) -> list[Child]:
    """Who a target is allocated to: the child teams, the reps, the territories, or the
    product lines named by the manager (free-text keys for now)."""
    team = parent.team
    if to == "product_lines":
        if parent.level == Level.PRODUCT_LINE:
            raise ValidationError({"to": ["A product line target does not split further."]})
        names = [n.strip() for n in product_lines]
        if any(not n or len(n) > 80 for n in names) or len(set(names)) != len(names):
            raise ValidationError({"weights": [
                "Name each product line once, in 1 to 80 characters."]})
        return [Child(n, Level.PRODUCT_LINE, team=team, product_line=n) for n in names]
    if to == "teams":
        if parent.level not in (Level.COMPANY, Level.TEAM):
            raise ValidationError({"to": ["Only a company or team target splits into teams."]})
        teams = Team.objects.filter(parent=team) if team else Team.objects.filter(parent=None)
        return [Child(t.pk, Level.TEAM, team=t) for t in teams.order_by("name", "id")]
    if to == "reps":
        if parent.level not in (Level.COMPANY, Level.TEAM):
            raise ValidationError({"to": ["Only a company or team target splits into reps."]})
        reps = User.objects.filter(role=Role.REP, is_active=True)
        if team is not None:
            reps = reps.filter(team_id__in=scope.team_subtree_ids(team.pk))
        return [Child(r.pk, Level.REP, rep=r) for r in reps.order_by("last_name", "id")]
    if to == "territories":
        return _territory_children(parent)
    raise ValidationError({"to": ["Allocate to teams, reps or territories."]})


def _territory_children(parent: Objective) -> list[Child]:
    if parent.level == Level.TERRITORY:
        territories = territory_reads.child_territories(parent.territory_id)
    elif parent.level in (Level.COMPANY, Level.TEAM):
        alignment = scope.active_alignment()
        if alignment is None:
            raise ValidationError({"to": ["There is no active territory alignment."]})
        territories = territory_reads.top_territories(alignment)
    else:
        raise ValidationError({"to": ["A rep or product line target does not split further."]})
    return [Child(t.pk, Level.TERRITORY, territory=t) for t in territories.order_by("name", "id")]


def _bookings_between(plan: Plan, child: Child, start: date, end: date) -> Decimal:
    rows = scope.won_bookings(plan, start, end)
    if child.rep is not None:
        rows = rows.filter(owner=child.rep)
    elif child.team is not None:
        rows = rows.filter(owner_id__in=scope.team_member_ids(child.team))
    elif child.territory is not None:
        rows = rows.filter(account_id__in=scope.territory_accounts(child.territory.pk))
    else:
        return Decimal(0)
    return rows.aggregate(s=Sum("amount"))["s"] or Decimal(0)


def _potential(child: Child) -> Decimal:
    if child.rep is not None:
        return scope.potential_of_owners([child.rep.pk])
    if child.team is not None:
        return scope.potential_of_owners(scope.team_member_ids(child.team))
    if child.territory is not None:
        return scope.potential_of_territory(child.territory.pk)
    return Decimal(0)


def allocation_weights(plan: Plan, children: list[Child], method: str,
                       custom: dict | None = None) -> list[Decimal]:
    """One weight per child for the chosen method."""
    if method == AllocationMethod.EVEN:
        weights = [Decimal(1)] * len(children)
    elif method == AllocationMethod.POTENTIAL:
        weights = [_potential(c) for c in children]
    elif method == AllocationMethod.PRIOR_PERIOD:
        start, end = CompanyCalendar.current().year_bounds(plan.fiscal_year - 1)
        weights = [_bookings_between(plan, c, start, end) for c in children]
    elif method == AllocationMethod.TRAILING_TWELVE_MONTHS:
        start, end = scope.trailing_window(plan, CompanyCalendar.current())
        weights = [_bookings_between(plan, c, start, end) for c in children]
    elif method == AllocationMethod.TERRITORY_GOALS:
        weights = _territory_goals(plan, children)
    elif method == AllocationMethod.CUSTOM:
        weights = _custom_weights(children, custom or {})
    else:
        raise ValidationError({"method": [f"Unknown allocation method {method!r}."]})
    if not any(weights):
        what = {"potential": "potential", "prior_period": "bookings last year",
                "trailing_twelve_months": "bookings in the last twelve months",
                "territory_goals": "goal for the plan's year"}.get(method, "weight")
        raise ValidationError({"method": [
            f"None of them has any {what}; choose another method."]})
    return weights


def _territory_goals(plan: Plan, children: list[Child]) -> list[Decimal]:
    """Each territory's goals (territory management) overlapping the plan's year."""
    territory_ids = [c.territory.pk for c in children if c.territory is not None]
    if len(territory_ids) != len(children):
        raise ValidationError({"method": ["Territory goals weigh territories only."]})
    start, end = CompanyCalendar.current().year_bounds(plan.fiscal_year)
    goals = territory_reads.goal_totals(territory_ids, currency=plan.currency, start=start,
                                        end=end)
    return [goals.get(pk) or Decimal(0) for pk in territory_ids]


def _custom_weights(children: list[Child], custom: dict) -> list[Decimal]:
    keys = {c.key for c in children}
    unknown = sorted(set(custom) - keys)
    if unknown:
        raise ValidationError({"weights": [f"{unknown[0]} is not one of the children."]})
    if any(Decimal(str(w)) < 0 for w in custom.values()):
        raise ValidationError({"weights": ["Weights cannot be negative."]})
    return [Decimal(str(custom.get(c.key, 0))) for c in children]


def compute_allocation(parent: Objective, *, to: str, method: str,
                       weights: dict | None = None) -> tuple[list[Child], list[list[Decimal]]]:
    """Who gets what: the children and their twelve months, computed without writing.
    Every month's parts add up exactly to the parent's month."""
    if to == "product_lines" and method not in (AllocationMethod.EVEN, AllocationMethod.CUSTOM):
        raise ValidationError({"method": [
            "Product lines have no potential or history yet: split evenly or by weights."]})
    children = allocation_children(parent, to, list(weights or {}))
    if not children:
        raise ValidationError({"to": [f"There are no {to} to allocate {parent.label} to."]})
    shares = allocation_weights(parent.plan, children, method, weights)
    parent_months = dict(parent.months.values_list("month", "target"))
    matrix = allocate_by_month([parent_months.get(m, Decimal(0)) for m in range(1, 13)],
                               shares, PLACES)
    return children, matrix


def allocate(parent: Objective, *, by: User, to: str, method: str,
             weights: dict | None = None, reason: str = "",
             expected_version: int | None = None) -> list[Objective]:
    """Split a target among its children by a method, month by month, so that the
    children add up exactly to the parent in every month (and so over the year).
    Earlier allocations below this target are replaced. For product lines the weights
    name the lines (name → weight) and the method is even or custom. Applies at once;
    pages and the API's previewed path go through `planning.changes`."""
    with transaction.atomic():
        plan = _check_changeable(parent.plan, by, reason, expected_version)
        children, matrix = compute_allocation(parent, to=to, method=method, weights=weights)
        parent.children.all().delete()
        parent.method = method
        parent.save(update_fields=["method"])
        created = Objective.objects.bulk_create(
            Objective(plan=plan, parent=parent, measure=parent.measure, level=c.level,
                      team=c.team, rep=c.rep, territory=c.territory,
                      product_line=c.product_line) for c in children)
        MonthlyTarget.objects.bulk_create(
            MonthlyTarget(objective=o, month=j + 1, target=target)
            for o, row in zip(created, matrix, strict=True) for j, target in enumerate(row))
        _after_change(plan, by, reason, f"{parent.measure} allocation", "",
                      f"{parent.label} to {len(created)} {to} ({method})")
    return created


# --- bottom-up commitments ---------------------------------------------------------------


def submit_commitment(plan: Plan, *, by: User, measure: str, months: Sequence) -> list[Commitment]:
    """A rep commits to what they will deliver for a measure, month by month; submitting
    again replaces the earlier figures."""
    if by.role != Role.REP or not scope.plan_reps(plan).filter(pk=by.pk).exists():
        raise PermissionDenied("Only the plan's reps submit commitments to it.")
    if not access.visible_plans(by).filter(pk=plan.pk).exists():
        raise PermissionDenied("You may not see this plan.")
    if plan.status == PlanStatus.CLOSED:
        raise ValidationError({"status": ["The plan is closed."]})
    if measure not in Measure.values:
        raise ValidationError({"measure": [f"Unknown measure {measure!r}."]})
    amounts = [a.quantize(Decimal("0.01")) for a in _twelve(months, "months")]
    with transaction.atomic():
        Commitment.objects.filter(plan=plan, rep=by, measure=measure).delete()
        return Commitment.objects.bulk_create(
            Commitment(plan=plan, rep=by, measure=measure, month=i + 1, amount=a)
            for i, a in enumerate(amounts))


def submit_marketing_commitment(plan: Plan, *, by: User, team: Team, measure: str,
                                months: Sequence) -> list[MarketingCommitment]:
    """Marketing commits to the leads or pipeline it will deliver to a team, month by
    month; submitting again for the same team and measure replaces the figures."""
    if not (by.is_admin or by.role == Role.MARKETING):
        raise PermissionDenied("Only marketing submits marketing commitments.")
    if plan.status == PlanStatus.CLOSED:
        raise ValidationError({"status": ["The plan is closed."]})
    if measure not in MARKETING_MEASURES:
        raise ValidationError({"measure": ["Marketing commits to leads or pipeline created."]})
    team_ids = scope.plan_team_ids(plan)
    if team_ids is not None and team.pk not in team_ids:
        raise ValidationError({"team": [f"{team} is not covered by this plan."]})
    amounts = [a.quantize(Decimal("0.01")) for a in _twelve(months, "months")]
    with transaction.atomic():
        MarketingCommitment.objects.filter(plan=plan, team=team, measure=measure).delete()
        return MarketingCommitment.objects.bulk_create(
            MarketingCommitment(plan=plan, team=team, measure=measure, month=i + 1, amount=a,
                                submitted_by=by) for i, a in enumerate(amounts))
