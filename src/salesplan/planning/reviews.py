"""Reviews and re-planning.

A review freezes the plan's evaluation on a day (every objective's target, actual,
pacing, landing; the open alerts) with the manager's notes and decisions; two reviews
compare line by line. Re-planning makes a revision that locks the months already gone
at their actuals and spreads what is left of each target over the remaining months and
children, exactly (largest remainder, month by month).
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from salesplan.core.errors import NotFound
from salesplan.core.fiscal import CompanyCalendar
from salesplan.org.models import User

from . import access, services
from .allocation import allocate_by_month, allocate_exactly
from .evaluation import EvaluationRow, evaluate, visible_alerts
from .models import Measure, MonthlyTarget, Objective, Plan, PlanReview

ZERO = Decimal(0)


def _text(value) -> str | None:
    return None if value is None else str(value)


def _frozen(row: EvaluationRow) -> dict:
    return {"objective_id": row.objective_id, "measure": row.measure, "level": row.level,
            "label": row.label, "depth": row.depth, "rep_id": row.rep_id,
            "target": str(row.target), "target_to_date": str(row.target_to_date),
            "actual": _text(row.actual), "attainment": _text(row.attainment),
            "pacing": _text(row.pacing), "gap": _text(row.gap),
            "forecast_landing": _text(row.forecast_landing), "coverage": _text(row.coverage),
            "leading": _text(row.leading), "status": row.status}


def fiscal_month_of(plan: Plan, day: date, calendar: CompanyCalendar) -> int:
    """1–12 for a day inside the plan's year; 0 before it, 13 after it."""
    months = calendar.months(plan.fiscal_year)
    if day < months[0].start:
        return 0
    return next((i + 1 for i, m in enumerate(months) if m.contains(day)), 13)


def create_review(plan: Plan, *, by: User, as_of: date, notes: str = "",
                  decisions: str = "") -> PlanReview:
    """Freeze the numbers of the day with the manager's notes and decisions."""
    access.require_edit(by, plan)
    calendar = CompanyCalendar.current()
    rows = evaluate(plan, by, as_of=as_of, calendar=calendar)
    snapshot = {"as_of": as_of.isoformat(), "rows": [_frozen(r) for r in rows],
                "alerts": [{"label": a.label, "measure": a.measure, "severity": a.severity,
                            "message": a.message} for a in visible_alerts(by, plan)]}
    return PlanReview.objects.create(
        plan=plan, as_of=as_of, fiscal_month=min(max(fiscal_month_of(plan, as_of, calendar), 0),
                                                 13),
        created_by=by, notes=notes.strip(), decisions=decisions.strip(),
        revision_number=plan.revision_number, snapshot=snapshot)


def get_review(plan: Plan, review_id: int) -> PlanReview:
    review = plan.reviews.filter(pk=review_id).first()
    if review is None:
        raise NotFound(f"Plan {plan.pk} has no review {review_id}.")
    return review


def review_rows(review: PlanReview, user: User) -> list[dict]:
    rows = review.snapshot.get("rows", [])
    if access.sees_every_objective(user):
        return rows
    return [r for r in rows if r.get("rep_id") == user.pk]


@dataclass
class ReviewChange:
    """One line's actual and pacing in two reviews."""

    measure: str
    level: str
    label: str
    actual_before: Decimal | None
    actual_after: Decimal | None
    pacing_before: Decimal | None
    pacing_after: Decimal | None
    status_before: str
    status_after: str

    @property
    def actual_change(self) -> Decimal | None:
        if self.actual_before is None or self.actual_after is None:
            return None
        return self.actual_after - self.actual_before


def _decimal(value) -> Decimal | None:
    return None if value is None else Decimal(value)


def compare_reviews(older: PlanReview, newer: PlanReview, user: User) -> list[ReviewChange]:
    """Line by line (who and what, not objective ids): how actuals and pacing moved."""
    def key(r: dict) -> tuple:
        return (r["measure"], r["level"], r["label"])

    before = {key(r): r for r in review_rows(older, user)}
    after = {key(r): r for r in review_rows(newer, user)}
    changes = []
    for k in list(after) + [k for k in before if k not in after]:
        a, b = after.get(k, {}), before.get(k, {})
        changes.append(ReviewChange(
            k[0], k[1], k[2], _decimal(b.get("actual")), _decimal(a.get("actual")),
            _decimal(b.get("pacing")), _decimal(a.get("pacing")), b.get("status", "–"),
            a.get("status", "–")))
    return changes


# --- re-planning ---------------------------------------------------------------------------


def compute_replan(plan: Plan, *, by: User, measure: str, as_of: date,
                   ) -> tuple[Objective, dict[int, list[Decimal]], int]:
    """What a re-plan would make of every objective of a measure, without writing: the
    top objective, each objective's new twelve months by id, and the first open month
    (the months before it are locked at their actuals)."""
    if measure not in Measure.values:
        raise ValidationError({"measure": [f"Unknown measure {measure!r}."]})
    calendar = CompanyCalendar.current()
    first_open = fiscal_month_of(plan, as_of, calendar)
    if not 1 <= first_open <= 12:
        raise ValidationError({"as_of": ["Re-plan on a day inside the plan's year."]})
    top = plan.objectives.filter(measure=measure, parent__isnull=True).first()
    if top is None:
        raise ValidationError({"measure": [f"The plan has no {measure} target."]})
    rows = {r.objective_id: r for r in evaluate(plan, by, as_of=as_of, calendar=calendar)}
    if rows.get(top.pk) is None or rows[top.pk].actuals is None:
        raise ValidationError({"measure": [
            f"No actuals are recorded for {Measure(measure).label.lower()}: nothing to "
            "lock the past months at."]})
    months = _months(top)
    locked = [a if m < first_open - 1 else ZERO
              for m, a in enumerate(rows[top.pk].actuals or [ZERO] * 12)]
    new_top = _respread(months, locked, first_open)
    result = {top.pk: new_top}
    _cascade(top, new_top, rows, first_open, result)
    return top, result, first_open


def replan(plan: Plan, *, by: User, measure: str, as_of: date, reason: str) -> Objective:
    """Lock the months before `as_of`'s month at their actuals and spread the rest of
    each target over the remaining months and children, exactly. Becomes a revision.
    Applies at once; pages and the API's previewed path go through `planning.changes`."""
    with transaction.atomic():
        plan = services._check_changeable(plan, by, reason)
        top, result, first_open = compute_replan(plan, by=by, measure=measure, as_of=as_of)
        old_total = sum(_months(top), ZERO)
        for objective_id, months in result.items():
            _write(Objective(pk=objective_id), months)
        services._after_change(plan, by, reason, f"{measure} re-plan",
                               str(old_total), f"locked to month {first_open - 1}")
    return top


def _months(objective: Objective) -> list[Decimal]:
    found = dict(objective.months.values_list("month", "target"))
    return [found.get(m, ZERO) for m in range(1, 13)]


def _respread(months: list[Decimal], locked: list[Decimal], first_open: int) -> list[Decimal]:
    """Past months at their actuals; the year's target less those actuals (not below
    zero) over the remaining months, in proportion to their old targets."""
    past = first_open - 1
    remaining = max(sum(months, ZERO) - sum(locked[:past], ZERO), ZERO)
    weights = months[past:] if any(months[past:]) else [Decimal(1)] * (12 - past)
    return locked[:past] + allocate_exactly(remaining, weights, 2)


def _write(objective: Objective, months: list[Decimal]) -> None:
    MonthlyTarget.objects.filter(objective=objective).delete()
    MonthlyTarget.objects.bulk_create(MonthlyTarget(objective=objective, month=i + 1, target=t)
                                      for i, t in enumerate(months))


def _cascade(parent: Objective, parent_months: list[Decimal], rows: dict,
             first_open: int, result: dict[int, list[Decimal]]) -> None:
    children = list(parent.children.order_by("id"))
    if not children:
        return
    past = first_open - 1
    old = [_months(c) for c in children]
    actual = [(rows[c.pk].actuals if c.pk in rows and rows[c.pk].actuals is not None
               else [ZERO] * 12) for c in children]
    matrix = [[ZERO] * 12 for _ in children]
    for m in range(past):  # each past month: split by the children's actuals that month
        weights = [a[m] for a in actual]
        if not any(weights):
            weights = [o[m] for o in old] if any(o[m] for o in old) else [1] * len(children)
        for i, v in enumerate(allocate_exactly(parent_months[m], weights, 2)):
            matrix[i][m] = v
    gaps = [max(sum(o, ZERO) - sum(row[:past], ZERO), ZERO) for o, row in zip(
        old, matrix, strict=True)]
    if not any(gaps):
        gaps = [sum(o[past:], ZERO) for o in old]
    if not any(gaps):
        gaps = [Decimal(1)] * len(children)
    rest = allocate_by_month(parent_months[past:], gaps, 2)
    for i, child in enumerate(children):
        matrix[i][past:] = rest[i]
        result[child.pk] = matrix[i]
        _cascade(child, matrix[i], rows, first_open, result)
