"""Writing a change to a versioned record: validate, check the version, save, audit."""

from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.db import models, transaction

from .audit import record_changes
from .errors import StaleVersion
from .models import Versioned


def claim_version(obj: Versioned, expected_version: int | None) -> int:
    """Check that the stored record is still at the version the caller read and take the
    next one; call it inside the service's transaction, before writing anything.

    One conditional UPDATE ... WHERE version = n both checks and locks the row, so of
    several writers holding the same version exactly one passes, on PostgreSQL and on
    SQLite alike; the others get StaleVersion, and a failure later in the transaction
    rolls the claim back with everything else. `None` is for the system's own writes
    (imports, tasks): they skip the check but still move the version on, so whoever
    read the record before is refused afterwards. Every API and page edge passes the
    version its caller sent (the API answers 428 when it is missing; a page passes 0).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("claim_version must run inside the writing transaction.")
    rows = type(obj)._default_manager.filter(pk=obj.pk)
    if expected_version is None:
        expected_version = rows.select_for_update().values_list("version", flat=True).get()
    if not rows.filter(version=expected_version).update(version=expected_version + 1):
        current = rows.values_list("version", flat=True).first()
        raise StaleVersion(current or 0, expected_version)
    obj.version = expected_version + 1
    return obj.version


def posted_version(data: Mapping[str, object], field: str = "version") -> int:
    """The version a page form was drawn with (its hidden field). Missing or not a whole
    number, the form cannot show it saw the current record: 0, a version no record has,
    so the service refuses the change as stale (after its permission check, so whoever
    may not act at all is told that first) and writes nothing."""
    raw = data.get(field)
    text = raw.strip() if isinstance(raw, str) else ""
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        return 0
    return int(text)


def validate(obj: models.Model, exclude: list[str] | None = None) -> None:
    """Full model validation; errors come back keyed by field name."""
    obj.full_clean(exclude=exclude, validate_unique=True)


@transaction.atomic
def apply_update(
    obj: Versioned,
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
    obj.version = current.version
    changes: dict[str, tuple[object, object]] = {}
    for field, value in data.items():
        old = getattr(current, field)
        if old != value:
            changes[field] = (old, value)
        setattr(obj, field, value)
    if not changes:
        return {}
    claim_version(obj, current.version)
    validate(obj)
    obj.save()
    record_changes(obj, changes, by)
    return changes
