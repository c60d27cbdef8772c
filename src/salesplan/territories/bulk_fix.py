"""The lists' bulk action "fix boundary violations": each chosen account (or open deal)
whose owner does not work its territory goes to the territory's owner, row by row
through `services.fix_violation`; a row that breaks no boundary, or whose territory has
no owner, is refused with the reason."""

from django.core.exceptions import ValidationError

from salesplan.core.permissions import require
from salesplan.customers.bulk import BulkAction, register_action

from .selectors import active_alignment
from .services import fix_violation


def _clean(user, resource: str, values: dict) -> dict:
    require(user, "territory_violation", "fix")
    if active_alignment() is None:
        raise ValidationError({"action": "No territory map is active, so no record breaks "
                                         "its boundaries."})
    return {}


def _apply(user, resource: str, obj, cleaned: dict) -> None:
    fix_violation(by=user, kind=resource, record_id=obj.pk, expected_version=obj.version)


def _new_owner(user, resource: str, obj, cleaned: dict) -> str:
    return str(type(obj).objects.select_related("owner").get(pk=obj.pk).owner)


def register() -> None:
    register_action(BulkAction(
        "fix_boundaries", "Fix boundary violations (give to the territory's owner)",
        ("account", "opportunity"), _clean, _apply, after=_new_owner))
