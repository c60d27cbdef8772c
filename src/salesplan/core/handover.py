"""Helpers for the apps' hand-over providers (``hooks.user_handover``): list the records
a user holds through one field, and move them to a successor with the version moved on
(whoever had one open gets a 409) and every move in the audit trail."""

from collections.abc import Callable
from typing import Any

from django.db import models
from django.db.models import F

from . import audit
from .hooks import HandoverProvider, Holding

EXAMPLES = 3


def holding(kind: str, label: str, rows: models.QuerySet, goes_to: str = "successor"
            ) -> list[Holding]:
    """The Holding for these rows (none when there are none)."""
    ids = tuple(rows.order_by("pk").values_list("pk", flat=True))
    if not ids:
        return []
    examples = tuple(str(obj) for obj in rows.order_by("pk")[:EXAMPLES])
    return [Holding(kind, label, ids, goes_to, examples)]


def reassign(rows: models.QuerySet, field: str, user: Any, successor: Any, by: Any) -> int:
    """Move `field` of these rows from user to successor, each change audited."""
    ids = list(rows.values_list("pk", flat=True))
    if not ids:
        return 0
    model = rows.model
    updates: dict[str, Any] = {field: successor}
    if any(f.name == "version" for f in model._meta.concrete_fields):
        updates["version"] = F("version") + 1
    model._default_manager.filter(pk__in=ids).update(**updates)
    for obj in model._default_manager.filter(pk__in=ids):
        audit.record_changes(obj, {field: (user, successor)}, by)
    return len(ids)


def field_provider(name: str, kinds: list[tuple[str, str, Callable[[Any], models.QuerySet],
                                                  str]]) -> HandoverProvider:
    """A provider whose records move by one user field each: (kind, label,
    rows_for_user, field) per kind."""

    def held(user: Any) -> list[Holding]:
        return [h for kind, label, rows, _ in kinds for h in holding(kind, label, rows(user))]

    def hand_over(user: Any, successor: Any, *, by: Any) -> dict[str, int]:
        return {kind: reassign(rows(user), field, user, successor, by)
                for kind, _, rows, field in kinds}

    return HandoverProvider(name, held, hand_over)
