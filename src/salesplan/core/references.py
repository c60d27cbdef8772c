"""Turning ids sent by a client into records the user may use, or a field error.

A client may only link to records it can see: a rep cannot attach a contact to another
team's account by guessing its id. Owners must be people the user may assign work to.
"""

from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models

from .permissions import can_assign_owner

# field name -> (model label, whether the visibility rule applies)
REFERENCE_FIELDS = {
    "account": ("customers.Account", True),
    "parent": ("customers.Account", True),
    "contact": ("customers.Contact", True),
    "lead": ("customers.Lead", True),
    "opportunity": ("pipeline.Opportunity", True),
    "pipeline": ("pipeline.Pipeline", False),
    "stage": ("pipeline.Stage", False),
    "owner": ("org.User", False),
}


def resolve_references(user, data: dict[str, Any]) -> dict[str, Any]:
    """Replace ids (or instances) in reference fields with checked instances."""
    resolved = dict(data)
    errors: dict[str, str] = {}
    for field, value in data.items():
        spec = REFERENCE_FIELDS.get(field)
        if spec is None:
            continue
        if value is None or value == "":
            resolved[field] = None
            continue
        label, restricted = spec
        model = apps.get_model(label)
        pk = value.pk if isinstance(value, models.Model) else value
        queryset = model.objects.visible_to(user) if restricted else model.objects.all()
        try:
            instance = queryset.filter(pk=pk).first()
        except (TypeError, ValueError):
            instance = None
        if instance is None:
            errors[field] = f"No {model._meta.verbose_name} with id {pk} that you can use."
        elif field == "owner" and not can_assign_owner(user, instance):
            errors[field] = "You cannot assign records to this user."
        else:
            resolved[field] = instance
    if errors:
        raise ValidationError(errors)
    return resolved
