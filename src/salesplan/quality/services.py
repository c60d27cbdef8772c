"""Every write of quality control: the one-click fixes, reviews, the required-field
policy and the thresholds. Fixes go through the owning app's services, so the same
permission checks, validation and audit trail apply as on the record's own page."""

from datetime import date, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from salesplan.activities.services import complete_activity as complete
from salesplan.activities.services import log_activity, update_activity
from salesplan.core.clock import company_datetime, company_today, in_company_time
from salesplan.core.errors import NotFound
from salesplan.core.permissions import require
from salesplan.core.records import claim_version
from salesplan.customers import services as customers
from salesplan.org.models import Company
from salesplan.pipeline import services as pipeline
from salesplan.pipeline.services import update_opportunity
from salesplan.proposals import services as proposals
from salesplan.proposals.models import QuoteStatus
from salesplan.territories.services import fix_violation

from . import checks as qc
from .models import QualitySettings, RecordType, RequiredField, Review


def require_admin(user) -> None:
    require(user, "quality_policy", "change")


def require_reviewer(user) -> None:
    require(user, "quality_check", "review")


# --- the one-click fixes -----------------------------------------------------------------


def get_flaggable(check: qc.Check, user, record_id: int):
    """The record a fix applies to, if the user may see it (else NotFound: an invisible
    record and a missing one look the same)."""
    record = check.model._default_manager.visible_to(user).filter(  # type: ignore[attr-defined]
        pk=record_id).first()
    if record is None:
        raise NotFound(f"No {check.record_type} with id {record_id}.")
    return record


def _parse_date(value: Any, field: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError as exc:
        raise ValidationError({field: "Enter a date as YYYY-MM-DD."}) from exc


def _version(data: dict) -> int | None:
    value = data.get("version")
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError({"version": "The version must be a whole number."}) from exc


def set_close_date(opportunity, *, by, close_date: date, expected_version: int | None = None
                   ) -> str:
    """A new expected close date, today or later."""

    if close_date < company_today():
        raise ValidationError({"close_date": "Choose today or a later date."})
    update_opportunity(opportunity, by=by, data={"close_date": close_date},
                       expected_version=expected_version)
    return f"{opportunity} now closes on {close_date:%d %b %Y}."


def set_next_step(opportunity, *, by, next_step: str, expected_version: int | None = None
                  ) -> str:

    text = (next_step or "").strip()
    if not text:
        raise ValidationError({"next_step": "Write down the next step."})
    update_opportunity(opportunity, by=by, data={"next_step": text[:255]},
                       expected_version=expected_version)
    return f"Next step for {opportunity}: {text[:255]}"


def next_working_day(day: date) -> date:

    weekdays = set(Company.current().working_weekdays) or {0, 1, 2, 3, 4}
    day += timedelta(days=1)
    while day.weekday() not in weekdays:
        day += timedelta(days=1)
    return day


def plan_follow_up(opportunity, *, by, due: date | None = None) -> str:
    """Plan a follow-up task for the deal's owner (the next working day by default)."""

    require(by, "opportunity", "change", opportunity)
    due = due or next_working_day(company_today())
    if due < company_today():
        raise ValidationError({"due": "Choose today or a later date."})
    due_at = company_datetime(due, time(9, 0))
    log_activity(by=by, data={"kind": "task", "subject": f"Follow up: {opportunity.name}"[:200],
                              "due_at": due_at, "opportunity": opportunity,
                              "owner": opportunity.owner})
    return f"Follow-up planned for {due:%d %b %Y}."


def mark_reviewed(record, *, by, check_key: str, note: str = "") -> str:
    """A manager accepts a flagged item; it leaves the list until it is flagged anew."""
    require_reviewer(by)
    require(by, qc.CHECKS[check_key].resource, "change", record)
    Review.objects.create(check_key=check_key, record_id=record.pk, reviewed_by=by,
                          note=(note or "").strip()[:255])
    return f"{record} marked as reviewed."


def complete_activity(activity, *, by) -> str:

    complete(activity, by=by)
    return f"{activity.subject} marked as done."


def reschedule_activity(activity, *, by, due: date, expected_version: int | None = None) -> str:

    if due < company_today():
        raise ValidationError({"due": "Choose today or a later date."})
    local = in_company_time(activity.due_at)
    due_at = company_datetime(due, local.time().replace(tzinfo=None))
    update_activity(activity, by=by, data={"due_at": due_at}, expected_version=expected_version)
    return f"{activity.subject} moved to {due:%d %b %Y}."


LEAD_TOUCH_KINDS = ("call", "email", "meeting")


def log_lead_touch(lead, *, by, kind: str, subject: str = "") -> str:
    """Record the first touch of a lead (a call, e-mail or meeting that took place)."""

    require(by, "lead", "change", lead)
    if kind not in LEAD_TOUCH_KINDS:
        raise ValidationError({"kind": "Choose call, email or meeting."})
    log_activity(by=by, data={"kind": kind, "subject": (subject or "").strip()[:200]
                              or f"First touch: {lead.full_name}"[:200],
                              "lead": lead, "done": True, "due_at": timezone.now(),
                              "owner": lead.owner})
    return f"First touch logged for {lead}."


def update_service(record_type: str):

    return {RecordType.ACCOUNT: customers.update_account,
            RecordType.CONTACT: customers.update_contact,
            RecordType.LEAD: customers.update_lead,
            RecordType.OPPORTUNITY: pipeline.update_opportunity}[RecordType(record_type)]


def set_required_field(record, *, by, record_type: str, field: str, value: Any,
                       expected_version: int | None = None) -> str:
    """Fill in one required field through the record's own update service."""
    if field not in qc.REQUIRABLE[record_type]:
        raise ValidationError({"field": f"{field!r} is not a field this policy covers."})
    model_field = record._meta.get_field(field)
    if value in (None, "") or (isinstance(value, str) and not value.strip()):
        raise ValidationError({field: "Enter a value."})
    if not model_field.is_relation:
        try:
            value = model_field.to_python(value.strip() if isinstance(value, str) else value)
        except ValidationError as exc:
            raise ValidationError({field: exc.messages}) from exc
    update_service(record_type)(record, by=by, data={field: value},
                                expected_version=expected_version)
    return f"{str(getattr(model_field, 'verbose_name', field)).capitalize()} of {record} set."


def apply_fix(check_key: str, record_id: int, *, by, data: dict) -> str:
    """Apply the fix a check offers to one record; returns what was done."""
    if check_key == qc.TERRITORY_CHECK:
        return fix_territory(by=by, kind=str(data.get("kind", "")), record_id=record_id)
    check = qc.get_check(check_key)
    if check is None:
        raise NotFound(f"No quality check {check_key!r}.")
    record = get_flaggable(check, by, record_id)
    version = _version(data)
    action = str(data.get("action") or "")
    if check.fix == "close_date":
        return set_close_date(record, by=by, close_date=_parse_date(data.get("close_date"),
                                                                    "close_date"),
                              expected_version=version)
    if check.fix == "next_step":
        return set_next_step(record, by=by, next_step=str(data.get("next_step") or ""),
                             expected_version=version)
    if check.fix == "plan_follow_up":
        due = _parse_date(data["due"], "due") if data.get("due") else None
        return plan_follow_up(record, by=by, due=due)
    if check.fix == "review":
        return mark_reviewed(record, by=by, check_key=check.key, note=str(data.get("note", "")))
    if check.fix == "activity":
        if action == "reschedule":
            return reschedule_activity(record, by=by, due=_parse_date(data.get("due"), "due"),
                                       expected_version=version)
        if action in ("", "done"):
            return complete_activity(record, by=by)
        raise ValidationError({"action": "Choose done or reschedule."})
    if check.fix == "log_activity":
        return log_lead_touch(record, by=by, kind=str(data.get("kind") or ""),
                              subject=str(data.get("subject") or ""))
    if check.fix == "required_field":
        return set_required_field(record, by=by, record_type=check.record_type,
                                  field=str(data.get("field") or ""), value=data.get("value"),
                                  expected_version=version)
    if check.fix == "quote":
        return submit_quote_for_approval(record, by=by)
    raise ValidationError({"check": f"{check.label} has no fix."})  # pragma: no cover


def submit_quote_for_approval(quote, *, by) -> str:
    """Submit a draft quote that is over a limit to the approvals the matrix asks for,
    through the quotes' own service (which checks the user may change the quote). A
    quote already sent or waiting is not submitted again: its page is where it moves on."""

    if quote.status != QuoteStatus.DRAFT:
        state = quote.get_status_display().lower()
        raise ValidationError({"status": f"Quote {quote.number} is {state}: open it to "
                                         "follow its approvals."})
    proposals.submit_quote(quote, by=by)
    if quote.status == QuoteStatus.APPROVED:
        return f"Quote {quote.number} needs no approval under the current matrix: approved."
    return f"Quote {quote.number} is submitted for approval."


def fix_territory(*, by, kind: str, record_id: int) -> str:

    owner = fix_violation(by=by, kind=kind, record_id=record_id)
    return f"The {kind} now belongs to {owner}."


# --- the policy and the thresholds -------------------------------------------------------


@transaction.atomic
def add_required_field(*, by, record_type: str, field: str, stage=None) -> RequiredField:
    """Require a field on every record of a type (opportunities: from a stage on)."""
    require_admin(by)
    if record_type not in qc.REQUIRABLE:
        raise ValidationError({"record_type": "Choose account, contact, lead or opportunity."})
    if field not in qc.REQUIRABLE[record_type]:
        choices = ", ".join(qc.REQUIRABLE[record_type])
        raise ValidationError({"field": f"Choose one of: {choices}."})
    if stage is not None and record_type != RecordType.OPPORTUNITY:
        raise ValidationError({"stage": "Only opportunities have stages."})
    duplicate = RequiredField.objects.filter(record_type=record_type, field=field,
                                             stage=stage).exists()
    if duplicate:
        raise ValidationError({"field": "This field is already required there."})
    return RequiredField.objects.create(record_type=record_type, field=field, stage=stage,
                                        created_by=by)


@transaction.atomic
def remove_required_field(rule: RequiredField, *, by,
                          expected_version: int | None = None) -> None:
    require_admin(by)
    claim_version(rule, expected_version)
    rule.delete()


SETTINGS_FIELDS = ("stale_after_days", "close_date_pushes", "stage_history_days",
                   "lead_first_touch_hours", "duplicate_threshold", "quote_approval_wait_days")


@transaction.atomic
def update_settings(*, by, data: dict, expected_version: int | None = None) -> QualitySettings:
    """Change the thresholds; nothing is saved unless every value is valid."""
    require_admin(by)
    unknown = sorted(set(data) - set(SETTINGS_FIELDS))
    if unknown:
        raise ValidationError({f: "This setting does not exist." for f in unknown})
    current = QualitySettings.current()
    current = QualitySettings.objects.select_for_update().get(pk=current.pk)
    claim_version(current, expected_version)
    for name, value in data.items():
        setattr(current, name, value)
    current.full_clean()  # names each wrong field; nothing is saved then
    current.save()
    return current


def field_choices(record_type: str) -> list[tuple[str, str]]:
    from .checks import MODELS

    model: type[models.Model] = MODELS[record_type]
    return [(name, str(getattr(model._meta.get_field(name), "verbose_name", name)).capitalize())
            for name in qc.REQUIRABLE[record_type]]
