"""Changes to the company's settings and holidays (admins only), and personal feed tokens."""

import secrets
import zoneinfo
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from salesplan.core import audit
from salesplan.core.clock import forget_company_time_zone
from salesplan.core.records import claim_version

from .models import Company, Holiday, User

COMPANY_FIELDS = {"name", "logo", "default_currency", "fiscal_year_start_month", "time_zone",
                  "working_days"}


def _require_admin(by: User) -> None:
    if not (by.is_authenticated and by.is_active and by.is_admin):
        raise PermissionDenied("Only administrators may change the company settings.")


def validate_time_zone(name: str) -> str:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError({"time_zone": f"“{name}” is not a known time zone, e.g. "
                                            "Europe/Berlin or America/New_York."}) from exc
    return name


def _working_days_text(days) -> str:
    numbers = sorted({int(d) for d in days})
    if not numbers:
        raise ValidationError({"working_days": "Choose at least one working day."})
    if any(d < 0 or d > 6 for d in numbers):
        raise ValidationError({"working_days": "Working days are Monday (0) to Sunday (6)."})
    return ",".join(str(d) for d in numbers)


@transaction.atomic
def update_company(company: Company, *, by: User, data: dict,
                   expected_version: int | None = None) -> dict:
    """Change the company's settings; every changed field goes to the audit trail."""
    _require_admin(by)
    claim_version(company, expected_version)
    unknown = sorted(set(data) - COMPANY_FIELDS)
    if unknown:
        raise ValidationError({f: "This setting does not exist." for f in unknown})
    data = dict(data)
    if "time_zone" in data:
        data["time_zone"] = validate_time_zone(data["time_zone"])
    if "working_days" in data and not isinstance(data["working_days"], str):
        data["working_days"] = _working_days_text(data["working_days"])
    changes = {}
    for field, value in data.items():
        old = getattr(company, field)
        if field == "logo" and not value:
            continue
        if old != value:
            changes[field] = (old, value)
            setattr(company, field, value)
    if not changes:
        return {}
    company.full_clean()
    company.save()
    audit.record_changes(company, changes, by)
    # Every request reads the zone from the cache; let the new one take effect now.
    forget_company_time_zone()
    return changes


@transaction.atomic
def add_holiday(company: Company, *, by: User, day: date, name: str) -> Holiday:
    """Mark a day as a company-wide holiday."""
    _require_admin(by)
    if not (name or "").strip():
        raise ValidationError({"name": "Name the holiday."})
    try:
        with transaction.atomic():
            holiday = Holiday.objects.create(company=company, date=day, name=name.strip())
    except IntegrityError as exc:
        raise ValidationError({"date": f"{day:%Y-%m-%d} is already a holiday."}) from exc
    audit.record_changes(company, {"holiday": ("", f"{day:%Y-%m-%d} {name.strip()}")}, by)
    return holiday


@transaction.atomic
def remove_holiday(holiday: Holiday, *, by: User) -> None:
    _require_admin(by)
    audit.record_changes(holiday.company, {"holiday": (str(holiday), "")}, by)
    holiday.delete()


def regenerate_calendar_token(user: User, *, by: User) -> str:
    """Give the user a new secret calendar-feed address; the old one stops working."""
    if by.pk != user.pk and not by.is_admin:
        raise PermissionDenied("You may only change your own calendar feed.")
    token = secrets.token_urlsafe(32)
    User.objects.filter(pk=user.pk).update(calendar_token=token)
    user.calendar_token = token
    audit.record_changes(user, {"calendar_token": ("", "regenerated")}, by)
    return token


def stop_calendar_feed(user: User, *, by: User) -> None:
    if by.pk != user.pk and not by.is_admin:
        raise PermissionDenied("You may only change your own calendar feed.")
    User.objects.filter(pk=user.pk).update(calendar_token=None)
    user.calendar_token = None
    audit.record_changes(user, {"calendar_token": ("set", "")}, by)
