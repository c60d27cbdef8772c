"""Writing a change to a versioned record: validate, check the version, save, audit."""

from django.core.exceptions import ValidationError
from django.db import models, transaction

from .audit import record_changes
from .errors import StaleVersion
from .models import VersionedModel


def validate(obj: models.Model, exclude: list[str] | None = None) -> None:
    """Full model validation; errors come back keyed by field name."""
    obj.full_clean(exclude=exclude, validate_unique=True)


@transaction.atomic
def apply_update(
    obj: VersionedModel,
    data: dict[str, object],
    *,
    by,
    allowed: set[str],
    expected_version: int | None = None,
) -> dict[str, tuple[object, object]]:
    """Apply field changes to `obj` and save them, or change nothing at all.

    Raises ValidationError naming the field (unknown, not allowed or invalid) and
    StaleVersion when `expected_version` is older than the stored record.
    """
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationError(
            {f: "This field does not exist or cannot be changed here." for f in unknown})
    model = type(obj)
    current = model._default_manager.select_for_update().get(pk=obj.pk)
    if expected_version is not None and current.version != expected_version:
        raise StaleVersion(current.version, expected_version)
    changes: dict[str, tuple[object, object]] = {}
    for field, value in data.items():
        old = getattr(current, field)
        if old != value:
            changes[field] = (old, value)
        setattr(obj, field, value)
    if not changes:
        return {}
    validate(obj)
    obj.version = current.version + 1
    obj.save()
    record_changes(obj, changes, by)
    return changes
