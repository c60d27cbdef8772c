"""Reads shared by every app: one visible record, or not found."""

from django.db import models

from .errors import NotFound


def get_visible(model: type[models.Model], user, pk, *, related: tuple[str, ...] = ()):
    """The record with this id if the user may see it; NotFound otherwise (the same
    answer whether it does not exist or is someone else's)."""
    queryset = model.objects.visible_to(user)
    if related:
        queryset = queryset.select_related(*related)
    try:
        return queryset.get(pk=pk)
    except (model.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound(f"No {model._meta.verbose_name} with id {pk}.") from exc
