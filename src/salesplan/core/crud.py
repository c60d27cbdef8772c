"""Create, change and delete for CRM records, with permission checks and the audit trail.

Domain services call these with their own rules on top (lead conversion, stage changes);
views, the API, imports and the CLI call the domain services, never these directly.
"""

from typing import Any, TypeVar

from django.db import models, transaction

from . import audit
from .models import VersionedModel
from .permissions import require
from .records import apply_update, validate
from .references import resolve_references

Record = TypeVar("Record", bound=models.Model)


@transaction.atomic
def create_record(model: type[Record], resource: str, *, by, data: dict[str, Any],
                  allowed: set[str]) -> Record:
    require(by, resource, "create")
    unknown = sorted(set(data) - allowed)
    if unknown:
        from django.core.exceptions import ValidationError

        raise ValidationError({f: "This field does not exist or cannot be set." for f in unknown})
    values = resolve_references(by, data)
    if "owner" in allowed and values.get("owner") is None:
        values["owner"] = by
    obj = model(**values)
    validate(obj)
    obj.save()
    audit.record_created(obj, by)
    return obj


def update_record(obj: VersionedModel, resource: str, *, by, data: dict, allowed: set[str],
                  expected_version: int | None = None) -> dict:
    require(by, resource, "change", obj)
    values = resolve_references(by, data)
    return apply_update(obj, values, by=by, allowed=allowed, expected_version=expected_version)


@transaction.atomic
def delete_record(obj: models.Model, resource: str, *, by) -> None:
    require(by, resource, "delete", obj)
    audit.record_deleted(obj, by)
    obj.delete()
