"""Inline edits of one cell of a CRM list: which fields may be changed in place, how a
typed value is read, shown and saved (always through the record's own service, with
the version the row was drawn with)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.formats import date_format

from salesplan.core.permissions import scope_for
from salesplan.core.registry import NONE, OWN
from salesplan.customers import services as customer_services
from salesplan.customers.models import Account, Contact, Lead, LeadStatus
from salesplan.pipeline import services as pipeline_services
from salesplan.pipeline.models import Opportunity, Stage
from salesplan.ui.forms import owner_choices

Choices = Callable[[Any, Any], list[tuple[str, str]]]


def _field_choices(model: type[models.Model], name: str, exclude=()) -> Choices:
    def choices(user, obj) -> list[tuple[str, str]]:
        field = model._meta.get_field(name)
        options = getattr(field, "choices", None) or []
        return [(str(value), str(label)) for value, label in options if value not in exclude]
    return choices


def _owners(user, obj) -> list[tuple[str, str]]:
    people = [(str(u.pk), u.get_full_name() or u.username) for u in owner_choices(user)]
    if obj.owner_id not in {int(pk) for pk, _ in people}:
        people.insert(0, (str(obj.owner_id), str(obj.owner)))
    return people


def _stages(user, obj) -> list[tuple[str, str]]:
    return [(str(s.pk), s.name) for s in Stage.objects.filter(
        pipeline_id=obj.pipeline_id).order_by("position")]


def _money(obj) -> str:
    return f"{obj.currency} {obj.amount:,.2f}"


@dataclass(frozen=True)
class CellField:
    """One field a list lets the user change in place."""

    label: str
    kind: str  # text, choice, owner, stage, decimal, date
    display: Callable[[Any], str]
    choices: Choices | None = None


def _text(name: str, label: str) -> CellField:
    return CellField(label, "text", lambda obj: getattr(obj, name) or "")


def _choice(model, name: str, label: str, exclude=()) -> CellField:
    return CellField(label, "choice", lambda obj: getattr(obj, f"get_{name}_display")(),
                     _field_choices(model, name, exclude))


OWNER = CellField("Owner", "owner", lambda obj: str(obj.owner), _owners)

CELLS: dict[str, dict[str, CellField]] = {
    "account": {"owner": OWNER, "industry": _text("industry", "Industry"),
                "state": _text("state", "State"),
                "lifecycle": _choice(Account, "lifecycle", "Lifecycle"),
                "tier": _choice(Account, "tier", "Tier")},
    "contact": {"owner": OWNER, "title": _text("title", "Title"),
                "buying_role": _choice(Contact, "buying_role", "Buying role")},
    "lead": {"owner": OWNER, "status": _choice(Lead, "status", "Status",
                                               exclude=(LeadStatus.CONVERTED,)),
             "source": _choice(Lead, "source", "Source"),
             "campaign": _text("campaign", "Campaign")},
    "opportunity": {"owner": OWNER, "stage": CellField("Stage", "stage",
                                                       lambda obj: obj.stage.name, _stages),
                    "amount": CellField("Amount", "decimal", _money),
                    "close_date": CellField("Close date", "date",
                                            lambda obj: date_format(obj.close_date, "M j, Y")),
                    "next_step": _text("next_step", "Next step")},
}
MODELS: dict[str, type[models.Model]] = {
    "account": Account, "contact": Contact, "lead": Lead, "opportunity": Opportunity}
RELATED = {"account": ("owner",), "contact": ("owner",), "lead": ("owner",),
           "opportunity": ("owner", "stage")}
UPDATES: dict[str, Callable[..., Any]] = {"account": customer_services.update_account,
           "contact": customer_services.update_contact,
           "lead": customer_services.update_lead,
           "opportunity": pipeline_services.update_opportunity}


def may_edit_row(user, resource: str, row, cache: dict) -> bool:
    """May the user change this row of their list? The rows shown are the ones the user
    sees, so the scope is read once per list: any (all, visible), or only their own."""
    if resource not in cache:
        cache[resource] = scope_for(user, resource, "change")
    scope = cache[resource]
    if scope == NONE:
        return False
    return scope != OWN or getattr(row, "owner_id", None) == user.pk


def read_value(resource: str, name: str, obj, user, raw: str) -> Any:
    """The typed value a cell's form sent; a bad one names the field."""
    spec = CELLS[resource][name]
    text = (raw or "").strip()
    if spec.kind in ("choice", "owner", "stage") and spec.choices is not None:
        allowed = {value for value, _ in spec.choices(user, obj)}
        if text not in allowed:
            raise ValidationError({name: "Choose one from the list."})
    if spec.kind == "owner":
        return int(text)
    if spec.kind == "stage":
        return Stage.objects.get(pk=int(text))
    if spec.kind == "decimal":
        try:
            amount = Decimal(text.replace(",", ""))
        except InvalidOperation:
            amount = Decimal("NaN")
        if not amount.is_finite() or amount < 0:
            raise ValidationError({name: "Enter an amount of zero or more, e.g. 12500.00."})
        return amount
    if spec.kind == "date":
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise ValidationError({name: "Enter a date as YYYY-MM-DD."}) from None
    return text


def save_value(resource: str, name: str, obj, user, value: Any, *, version: int,
               lost_reason: str = "") -> None:
    """Write one field through the record's service: permission, version, audit; nothing
    is written when it refuses."""
    if resource == "opportunity" and name == "stage":
        pipeline_services.move_opportunity(obj, value, by=user, expected_version=version,
                                           lost_reason=lost_reason)
        return
    UPDATES[resource](obj, by=user, data={name: value}, expected_version=version)


def form_value(resource: str, name: str, obj) -> str:
    """What the cell's input starts with."""
    spec = CELLS[resource][name]
    if spec.kind == "owner":
        return str(obj.owner_id)
    if spec.kind == "stage":
        return str(obj.stage_id)
    if spec.kind == "date":
        return obj.close_date.isoformat() if obj.close_date else ""
    value = getattr(obj, name)
    return "" if value is None else str(value)
