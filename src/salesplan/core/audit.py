"""The audit trail: every create, change and delete of a CRM record, field by field."""

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import models

from .models import AuditEntry


def display_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, (date, datetime, Decimal)):
        return value.isoformat() if not isinstance(value, Decimal) else str(value)
    return str(value)


def record_type(obj: models.Model) -> str:
    return obj._meta.model_name or type(obj).__name__.lower()


def record_created(obj: models.Model, by) -> None:
    AuditEntry.objects.create(
        record_type=record_type(obj), record_id=obj.pk, action=AuditEntry.Action.CREATE,
        changed_by=by,
    )


def record_deleted(obj: models.Model, by) -> None:
    AuditEntry.objects.create(
        record_type=record_type(obj), record_id=obj.pk, action=AuditEntry.Action.DELETE,
        new_value=str(obj)[:500], changed_by=by,
    )


def record_changes(obj: models.Model, changes: Mapping[str, tuple[Any, Any]], by) -> None:
    AuditEntry.objects.bulk_create(
        AuditEntry(
            record_type=record_type(obj), record_id=obj.pk, action=AuditEntry.Action.UPDATE,
            field=field, old_value=display_value(old), new_value=display_value(new),
            changed_by=by,
        )
        for field, (old, new) in changes.items()
    )


def history_for(obj: models.Model):
    return AuditEntry.objects.filter(record_type=record_type(obj), record_id=obj.pk).select_related(
        "changed_by"
    )
