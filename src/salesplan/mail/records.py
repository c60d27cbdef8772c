"""The records an email can be sent from or logged on, named by a short kind
("contact", "account", "lead", "opportunity") and an id, and what each one links to."""

from typing import Any

from django.apps import apps
from django.db import models

from salesplan.core.errors import NotFound
from salesplan.core.selectors import get_visible

KINDS: dict[str, str] = {
    "contact": "customers.Contact",
    "account": "customers.Account",
    "lead": "customers.Lead",
    "opportunity": "pipeline.Opportunity",
}


def model_of(kind: str) -> Any:
    if kind not in KINDS:
        raise NotFound(f"Email is not sent from a “{kind}”: use one of {', '.join(KINDS)}.")
    return apps.get_model(KINDS[kind])


def kind_of(obj: models.Model) -> str:
    label = obj._meta.label
    for kind, model_label in KINDS.items():
        if model_label == label:
            return kind
    raise NotFound(f"Email is not sent from a {obj._meta.verbose_name}.")


def get_record(kind: str, pk: int, user) -> Any:
    """The record if the user may see it; NotFound otherwise (missing or not theirs)."""
    return get_visible(model_of(kind), user, pk)


def can_see(user, obj: models.Model) -> bool:
    if not (user and user.is_authenticated and user.is_active):
        return False
    return type(obj).objects.visible_to(user).filter(pk=obj.pk).exists()  # type: ignore[attr-defined]


def links_of(obj: models.Model) -> dict[str, Any]:
    """The contact, account, deal and lead an email about this record is logged on."""
    kind = kind_of(obj)
    links: dict[str, Any] = {"contact": None, "account": None, "opportunity": None,
                             "lead": None}
    links[kind] = obj
    if kind == "opportunity":
        links["contact"] = obj.contact  # type: ignore[attr-defined]
        links["account"] = obj.account  # type: ignore[attr-defined]
    elif kind == "contact":
        links["account"] = obj.account  # type: ignore[attr-defined]
    return links


def default_recipient(obj: models.Model) -> str:
    """Whom an email from this record goes to unless the sender says otherwise."""
    links = links_of(obj)
    for person in (links["contact"], links["lead"]):
        if person is not None and person.email:
            return person.email
    if links["account"] is not None and not links["contact"]:
        first = links["account"].contacts.exclude(email="").order_by("last_name", "id").first()
        if first is not None:
            return first.email
    return ""


DETAIL_URLS = {"contact": "web:contact_detail", "account": "web:account_detail",
               "lead": "web:lead_detail", "opportunity": "web:opportunity_detail"}


def url_of(obj: models.Model) -> str:
    from django.urls import reverse

    return reverse(DETAIL_URLS[kind_of(obj)], args=[obj.pk])
