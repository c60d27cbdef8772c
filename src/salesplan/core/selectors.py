"""Reads shared by every app: one visible record, or not found."""

from typing import Any

from .errors import NotFound


# `model` is any model with a VisibleManager; Any because the stubs cannot express that.
def get_visible(model: Any, user, pk, *, related: tuple[str, ...] = ()) -> Any:
    """The record with this id if the user may see it; NotFound otherwise (the same
    answer whether it does not exist or is someone else's)."""
    queryset = model.objects.visible_to(user)
    if related:
        queryset = queryset.select_related(*related)
    try:
        return queryset.get(pk=pk)
    except (model.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound(f"No {model._meta.verbose_name} with id {pk}.",
                       model=model, pk=pk) from exc


def get_from(queryset: Any, pk, label: str) -> Any:
    """The row with this id among `queryset` (rows the user may see); NotFound otherwise,
    naming the kind of record ("No price book with id 7.")."""
    try:
        return queryset.get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound(f"No {label} with id {pk}.") from exc
