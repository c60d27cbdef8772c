"""Every write of saved views: save, rename, change, share and delete one's own."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from salesplan.core.records import claim_version
from salesplan.core.registry import require

from .models import LIST_KEYS, SavedView

MAX_PARAMS = 40


def _clean_params(params: Any) -> dict[str, str]:
    if not isinstance(params, dict) or len(params) > MAX_PARAMS:
        raise ValidationError({"params": f"Give at most {MAX_PARAMS} list parameters "
                                         "as names and text values."})
    cleaned: dict[str, str] = {}
    for key, value in params.items():
        if key in ("cursor", "page", "view") or value in (None, ""):
            continue  # a view opens at the first page
        if not isinstance(value, (str, int, float, bool)) or len(str(value)) > 500:
            raise ValidationError({"params": f"“{key}” must be a short text value."})
        cleaned[str(key)[:60]] = str(value)
    return cleaned


def _save(view: SavedView, by, data: dict[str, Any]) -> SavedView:
    if "name" in data:
        view.name = (data["name"] or "").strip()
        if not view.name:
            raise ValidationError({"name": "Give the view a name."})
    if "list_key" in data:
        if data["list_key"] not in LIST_KEYS:
            raise ValidationError({"list_key": "Choose one of: " + ", ".join(LIST_KEYS)})
        view.list_key = data["list_key"]
    if "params" in data:
        view.params = _clean_params(data["params"])
    if "shared" in data and bool(data["shared"]) != view.shared:
        if data["shared"]:
            require(by, "saved_view", "share", view)
            if by.team_id is None:
                raise ValidationError({"shared": "You are in no team to share it with."})
        view.shared = bool(data["shared"])
    view.team_id = by.team_id if view.shared else None
    try:
        with transaction.atomic():
            view.save()
    except IntegrityError as exc:
        raise ValidationError(
            {"name": f"You already have a view named “{view.name}” on this list."}) from exc
    return view


@transaction.atomic
def create_view(*, by, data: dict[str, Any]) -> SavedView:
    """A new view of `data["list_key"]`, private unless `shared` (managers only)."""
    require(by, "saved_view", "manage")
    data = {"params": {}, "shared": False, **data}
    for required in ("name", "list_key"):
        if required not in data:
            raise ValidationError({required: "This field is required."})
    return _save(SavedView(owner=by), by, data)


@transaction.atomic
def update_view(view: SavedView, *, by, data: dict[str, Any],
                expected_version: int | None = None) -> SavedView:
    """Rename a view, change what it shows, or share or unshare it."""
    require(by, "saved_view", "manage", view)
    view = SavedView.objects.select_for_update().get(pk=view.pk)
    claim_version(view, expected_version)
    data = {key: value for key, value in data.items() if value is not None}
    return _save(view, by, data)


@transaction.atomic
def delete_view(view: SavedView, *, by, expected_version: int | None = None) -> None:
    require(by, "saved_view", "manage", view)
    claim_version(view, expected_version)
    view.delete()
