"""The records people can comment on, and who can see each of them.

A target is named by a short kind ("lead", "account", "opportunity", "campaign") and an
id. CRM records follow the one visibility rule (`visible_to`); campaigns, which every
signed-in user may read, count as visible to every active user.
"""

from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import models
from django.urls import NoReverseMatch, reverse

from salesplan.core.errors import NotFound


@dataclass(frozen=True)
class TargetKind:
    name: str
    model_label: str  # "customers.Lead"
    detail_url: str  # URL name taking the pk

    @property
    def model(self) -> type[models.Model] | None:
        try:
            return apps.get_model(self.model_label)
        except LookupError:
            return None


TARGETS: dict[str, TargetKind] = {t.name: t for t in (
    TargetKind("lead", "customers.Lead", "web:lead_detail"),
    TargetKind("account", "customers.Account", "web:account_detail"),
    TargetKind("opportunity", "pipeline.Opportunity", "web:opportunity_detail"),
    TargetKind("campaign", "marketing.Campaign", "web:marketing:campaign"),
)}


def target_kind(name: str) -> TargetKind:
    kind = TARGETS.get(name)
    if kind is None or kind.model is None:
        raise NotFound(f"Nothing called “{name}” takes comments.")
    return kind


def kind_of(obj: models.Model) -> TargetKind:
    label = obj._meta.label
    for kind in TARGETS.values():
        if kind.model_label == label:
            return kind
    raise NotFound(f"A {obj._meta.verbose_name} does not take comments.")


def visible(kind: TargetKind, user) -> Any:
    """The records of this kind the user may see."""
    model: Any = kind.model
    if model is None:
        raise NotFound(f"Nothing called “{kind.name}” takes comments.")
    if not (user and user.is_authenticated and user.is_active):
        return model.objects.none()
    visible_to = getattr(model.objects, "visible_to", None)
    return visible_to(user) if visible_to is not None else model.objects.all()


def get_target(name: str, pk: int, user) -> Any:
    """The record if the user may see it; NotFound otherwise (missing or not theirs)."""
    kind = target_kind(name)
    found = visible(kind, user).filter(pk=pk).first() if 1 <= pk <= 2**63 - 1 else None
    if found is None:
        raise NotFound(f"No {kind.name} with id {pk}.")
    return found


def can_see(user, obj: models.Model) -> bool:
    return visible(kind_of(obj), user).filter(pk=obj.pk).exists()


def url_of(obj: models.Model) -> str:
    try:
        return reverse(kind_of(obj).detail_url, args=[obj.pk])
    except NoReverseMatch:
        getter = getattr(obj, "get_absolute_url", None)
        return getter() if getter else ""


def label_of(obj: models.Model) -> str:
    return f"{kind_of(obj).name} {obj}"
