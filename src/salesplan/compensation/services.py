"""Every write of compensation: plans and their versions, acceptance, crediting rules and
splits, periods (calculate, close), adjustments and disputes."""

import hashlib
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from salesplan.core.audit import record_changes, record_created, record_deleted
from salesplan.core.jobs import Progress, run_job, start_job
from salesplan.core.models import BackgroundJob
from salesplan.core.permissions import require
from salesplan.core.records import claim_version, validate
from salesplan.org.models import User
from salesplan.pipeline.models import Opportunity, StageKind

from . import batch, deal_facts, notices
from .definitions import plan_from_definition
from .models import (
    CompAdjustment,
    CompCreditRule,
    CompDispute,
    CompPeriod,
    CompPlan,
    CompPlanAcceptance,
    CompStatement,
    DealSplit,
    DisputeStatus,
    PeriodStatus,
    PlanStatus,
)

PLAN_FIELDS = ("name", "role", "person", "starts", "ends", "effective_from", "currency",
               "base_salary", "variable_target", "definition", "document", "supersedes")


# --- plans ---------------------------------------------------------------------------------


def _check_plan(plan: CompPlan) -> None:
    if plan.starts > plan.ends:
        raise ValidationError({"ends": "The plan ends before it starts."})
    if not plan.starts <= plan.effective_from <= plan.ends:
        raise ValidationError({"effective_from": "The effective date lies outside the plan."})
    if plan.person_id is None and not plan.role:
        raise ValidationError({"role": "Say which role the plan is for, or name its person."})
    plan_from_definition(plan.definition, plan.currency)
    deal_facts.check_families(plan.definition)
    validate(plan)


@transaction.atomic
def create_plan(*, by, data: dict[str, Any]) -> CompPlan:
    """A draft plan; with `supersedes`, the next version of that plan."""
    require(by, "comp_plan", "manage")
    unknown = sorted(set(data) - set(PLAN_FIELDS))
    if unknown:
        raise ValidationError({f: "This field does not exist here." for f in unknown})
    plan = CompPlan(created_by=by, **data)
    if plan.supersedes is not None:
        plan.number = plan.supersedes.number + 1
    _check_plan(plan)
    plan.save()
    record_created(plan, by)
    return plan


@transaction.atomic
def update_plan(plan: CompPlan, *, by, data: dict[str, Any],
                expected_version: int | None) -> CompPlan:
    """Change a draft; an active plan changes by a new version (create with supersedes)."""
    require(by, "comp_plan", "manage", plan)
    current = CompPlan.objects.select_for_update().get(pk=plan.pk)
    claim_version(current, expected_version)
    if current.status != PlanStatus.DRAFT:
        raise ValidationError({"status": "Only a draft changes; create a new version of an "
                                         "active plan (supersedes), effective from a date."})
    changes = {}
    for name, value in data.items():
        if name not in PLAN_FIELDS:
            raise ValidationError({name: "This field does not exist here."})
        if getattr(current, name) != value:
            changes[name] = (getattr(current, name), value)
            setattr(current, name, value)
    _check_plan(current)
    current.save()
    record_changes(current, {k: v for k, v in changes.items() if k != "definition"}
                   | ({"definition": ("…", "changed")} if "definition" in changes else {}), by)
    return current


@transaction.atomic
def delete_plan(plan: CompPlan, *, by, expected_version: int | None) -> None:
    require(by, "comp_plan", "manage", plan)
    claim_version(plan, expected_version)
    if plan.status != PlanStatus.DRAFT:
        raise ValidationError({"status": "Only a draft plan can be deleted."})
    record_deleted(plan, by)
    plan.delete()


@transaction.atomic
def activate_plan(plan: CompPlan, *, by, expected_version: int | None) -> CompPlan:
    """Put a draft plan in force from its effective date (the version it supersedes stays
    in force before that date)."""
    require(by, "comp_plan", "manage", plan)
    current = CompPlan.objects.select_for_update().get(pk=plan.pk)
    claim_version(current, expected_version)
    if current.status != PlanStatus.DRAFT:
        raise ValidationError({"status": "Only a draft plan can be activated."})
    current.status = PlanStatus.ACTIVE
    current.save(update_fields=["status", "version", "updated_at"])
    record_changes(current, {"status": (PlanStatus.DRAFT, PlanStatus.ACTIVE)}, by)
    return current


def document_digest(plan: CompPlan) -> str:
    return hashlib.sha256(f"{plan.pk}:{plan.number}:{plan.document}".encode()).hexdigest()


@transaction.atomic
def accept_plan(plan: CompPlan, *, by) -> CompPlanAcceptance:
    """The rep has read the plan document and accepts it (once per version)."""
    require(by, "comp_plan", "accept", plan)
    if plan.status != PlanStatus.ACTIVE:
        raise ValidationError({"plan": "Only an active plan is accepted."})
    acceptance, created = CompPlanAcceptance.objects.get_or_create(
        plan=plan, rep=by, defaults={"accepted_at": timezone.now(),
                                     "document_digest": document_digest(plan)})
    if created:
        record_changes(plan, {"accepted_by": ("", by)}, by)
    return acceptance


# --- crediting -----------------------------------------------------------------------------


def _save_rule(rule: CompCreditRule, data: dict[str, Any], by, created: bool) -> CompCreditRule:
    for name, value in data.items():
        setattr(rule, name, value)
    if rule.share is not None and Decimal(rule.share) < 0:
        raise ValidationError({"share": "A share cannot be negative."})
    validate(rule)
    rule.save()
    if created:
        record_created(rule, by)
    return rule


@transaction.atomic
def create_credit_rule(*, by, data: dict[str, Any]) -> CompCreditRule:
    """A crediting rule (overlay members or manager roll-up) from a date on."""
    require(by, "comp_credit_rule", "manage")
    return _save_rule(CompCreditRule(), data, by, True)


@transaction.atomic
def update_credit_rule(rule: CompCreditRule, *, by, data: dict[str, Any],
                       expected_version: int | None) -> CompCreditRule:
    require(by, "comp_credit_rule", "manage", rule)
    claim_version(rule, expected_version)
    before = {k: getattr(rule, k) for k in data}
    _save_rule(rule, data, by, False)
    record_changes(rule, {k: (before[k], v) for k, v in data.items() if before[k] != v}, by)
    return rule


@transaction.atomic
def delete_credit_rule(rule: CompCreditRule, *, by, expected_version: int | None) -> None:
    require(by, "comp_credit_rule", "manage", rule)
    claim_version(rule, expected_version)
    record_deleted(rule, by)
    rule.delete()


@transaction.atomic
def set_splits(opportunity: Opportunity, *, by,
               splits: Sequence[tuple[User, Decimal]]) -> list[DealSplit]:
    """Replace a deal's credit splits (an empty list: the owner holds it all)."""
    require(by, "comp_statement", "split")
    reps = [rep.pk for rep, _ in splits]
    if len(reps) != len(set(reps)):
        raise ValidationError({"splits": "Name each rep once."})
    if any(share <= 0 for _, share in splits):
        raise ValidationError({"splits": "Each share must be above 0 %."})
    total = sum((share for _, share in splits), Decimal(0))
    if splits and total != 1:
        raise ValidationError({"splits": f"The shares add up to {total * 100}%, not 100%."})
    before = ", ".join(f"{s.rep_id}:{s.share}" for s in opportunity.comp_splits.all())
    opportunity.comp_splits.all().delete()
    rows = DealSplit.objects.bulk_create(
        DealSplit(opportunity=opportunity, rep=rep, share=share) for rep, share in splits)
    after = ", ".join(f"{rep.pk}:{share}" for rep, share in splits)
    record_changes(opportunity, {"credit_splits": (before, after)}, by)
    deal_changed(opportunity, by=by)
    return rows


# --- periods and calculation ---------------------------------------------------------------


@transaction.atomic
def create_period(*, by, data: dict[str, Any]) -> CompPeriod:
    """A pay period (a month or a quarter), open."""
    require(by, "comp_period", "manage")
    period = CompPeriod(**data)
    if period.starts > period.ends:
        raise ValidationError({"ends": "The period ends before it starts."})
    if CompPeriod.objects.filter(starts__lte=period.ends, ends__gte=period.starts).exists():
        raise ValidationError({"starts": "The period overlaps another."})
    validate(period)
    period.save()
    record_created(period, by)
    return period


def calculate_period(period: CompPeriod, *, by=None, traced: bool = False,
                     progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Every statement of an open period, calculated again and stored in one transaction
    (`traced`: with every line's trace stored, as closing does)."""
    if progress:
        progress(0, 1)
    outcome = batch.calculate(period, traced=traced)
    if progress:
        progress(1, 1)
    return {"period_id": period.pk, "statements": len(outcome.statements),
            "without_plan": outcome.without_plan, "deals": outcome.deals}


def _calculation_work(job: BackgroundJob) -> tuple[dict, str]:
    period = CompPeriod.objects.get(pk=job.params["period_id"])
    tracker = Progress(job, total=1, every=1)

    def advance(done: int, total: int) -> None:
        tracker.total = total
        tracker.advance_to(done, "Calculated the statements" if done else "Calculating")

    result = calculate_period(period, progress=advance)
    return result, f"{result['statements']} statements of {period} calculated."


def run_calculation_job(job_id: int) -> dict:
    return run_job(job_id, _calculation_work)


def start_calculation(period: CompPeriod, *, by) -> BackgroundJob:
    """Calculate a period's statements in the background (follow the job)."""
    require(by, "comp_period", "manage", period)
    if period.is_closed:
        raise ValidationError({"period": f"{period} is closed; its statements are locked."})
    from .tasks import run_calculation

    return start_job("comp_calculation", by=by, task=run_calculation,
                     params={"period_id": period.pk})


@transaction.atomic
def close_period(period: CompPeriod, *, by, expected_version: int | None) -> CompPeriod:
    """Lock a period after calculating it once more; later changes land in the next open
    period (clawbacks)."""
    require(by, "comp_period", "manage", period)
    calculate_period(period, by=by, traced=True)
    current = CompPeriod.objects.select_for_update().get(pk=period.pk)
    claim_version(current, expected_version)
    if current.is_closed:
        raise ValidationError({"status": f"{period} is closed already."})
    current.status, current.closed_at, current.closed_by = (
        PeriodStatus.CLOSED, timezone.now(), by)
    current.save()
    record_changes(current, {"status": (PeriodStatus.OPEN, PeriodStatus.CLOSED)}, by)
    return current


def recalculate(rep: User, period: CompPeriod) -> CompStatement | None:
    """One rep's statement of an open period, calculated again (None without a plan)."""
    batch.calculate(period, {rep.pk})
    return CompStatement.objects.filter(rep=rep, period=period).first()


def _credited_now(opp: Opportunity) -> set[int]:
    """Whom the deal credits now: its owner, or its splits' reps."""
    splits = set(opp.comp_splits.values_list("rep_id", flat=True))
    return splits or {opp.owner_id}


def deal_changed(opportunity: Opportunity, *, by=None) -> None:
    """A deal changed: once committed, recalculate the open statements it touches (those
    whose last calculation counted it, and those of whoever it credits now in the period
    of its close date) and record whom it credits now."""
    opportunity_id = opportunity.pk

    def after_commit() -> None:
        opp = Opportunity.objects.filter(pk=opportunity_id).first()
        touched = batch.counted_by(opportunity_id)
        credited: dict[int, set[int]] = {}
        periods: dict[int, CompPeriod] = {}  # read once, passed on
        if opp is not None:
            period = CompPeriod.objects.filter(status=PeriodStatus.OPEN, starts__lte=opp.close_date,
                                               ends__gte=opp.close_date).first()
            if period is not None:
                periods[period.pk] = period
                reps = _credited_now(opp)
                if opp.status == StageKind.WON:
                    credited[period.pk] = reps
                touched |= set(CompStatement.objects.filter(period=period, rep_id__in=reps)
                               .values_list("rep_id", "period_id"))
        with transaction.atomic():
            ids = sorted({p for _, p in touched})
            periods |= CompPeriod.objects.in_bulk([p for p in ids if p not in periods])
            for period_id in ids:
                try:
                    batch.calculate(periods[period_id],
                                    {r for r, p in touched if p == period_id})
                except ValidationError:
                    continue  # a missing rate or plan: the period's next full run says so
            batch.reindex_deal(opportunity_id, credited)

    transaction.on_commit(after_commit)


# --- adjustments and disputes --------------------------------------------------------------


@transaction.atomic
def add_adjustment(*, by, rep: User, period: CompPeriod, amount: Decimal,
                   reason: str) -> CompAdjustment:
    """A manual correction with its reason, in an open period; the statement follows."""
    require(by, "comp_statement", "adjust")
    if not reason.strip():
        raise ValidationError({"reason": "Say why the pay is adjusted."})
    if period.is_closed:
        raise ValidationError({"period_id": f"{period} is closed; adjust in an open period."})
    adjustment = CompAdjustment.objects.create(rep=rep, period=period, amount=amount,
                                               reason=reason.strip(), created_by=by)
    record_created(adjustment, by)
    recalculate(rep, period)
    return adjustment


@transaction.atomic
def raise_dispute(statement: CompStatement, position: int, *, by, text: str) -> CompDispute:
    """The rep questions one line of their statement."""
    require(by, "comp_statement", "view", statement)
    require(by, "comp_dispute", "raise", statement)
    line = statement.lines.filter(position=position).first()
    if line is None:
        raise ValidationError({"position": f"The statement has no line {position}."})
    if not text.strip():
        raise ValidationError({"text": "Say what is wrong with the line."})
    dispute = CompDispute.objects.create(
        statement=statement, line_position=position, line_label=line.label,
        line_amount=line.amount, raised_by=by, text=text.strip())
    record_created(dispute, by)
    notices.dispute_raised(dispute)
    return dispute


def _move_dispute(dispute: CompDispute, *, by, expected_version: int | None,
                  field: str, text: str, status: str) -> CompDispute:
    require(by, "comp_dispute", "answer", dispute)
    current = CompDispute.objects.select_for_update().get(pk=dispute.pk)
    claim_version(current, expected_version)
    if current.status == DisputeStatus.RESOLVED:
        raise ValidationError({"status": "The dispute is resolved already."})
    if not text.strip():
        raise ValidationError({field: "Write the answer."})
    before = (current.status, getattr(current, field))
    setattr(current, field, text.strip())
    current.status = status
    if status == DisputeStatus.RESOLVED:
        current.resolved_by = by
    current.save()
    record_changes(current, {"status": (before[0], status), field: (before[1], text.strip())},
                   by)
    notices.dispute_moved(current, by=by)
    return current


@transaction.atomic
def answer_dispute(dispute: CompDispute, *, by, answer: str,
                   expected_version: int | None) -> CompDispute:
    """The manager or an admin answers; the dispute stays open to the rep's reply."""
    return _move_dispute(dispute, by=by, expected_version=expected_version, field="answer",
                         text=answer, status=DisputeStatus.ANSWERED)


@transaction.atomic
def resolve_dispute(dispute: CompDispute, *, by, resolution: str,
                    expected_version: int | None) -> CompDispute:
    """The manager or an admin closes the dispute, saying how (an adjustment is its own
    action)."""
    return _move_dispute(dispute, by=by, expected_version=expected_version,
                         field="resolution", text=resolution, status=DisputeStatus.RESOLVED)
