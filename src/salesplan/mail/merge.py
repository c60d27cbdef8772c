"""Merge fields: `{{ contact.first_name }}` in a template's subject or body, filled from
the record an email is sent from.

A fixed list of fields, not a template language: a template cannot reach anything else of
a record, and a name not in the list is an error that names it. A field the record has no
value for (a deal's amount in an email sent from a lead) is an error too, so nothing goes
out with a hole in it.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError

from salesplan.core.money import format_money

FIELD = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")


@dataclass(frozen=True)
class MergeContext:
    """What an email is about and who sends it."""

    sender: Any
    signature: str = ""
    contact: Any = None
    account: Any = None
    deal: Any = None
    lead: Any = None
    company: str = ""


def _person_name(person) -> str:
    return " ".join(p for p in (person.first_name, person.last_name) if p)


def _needs(part: str, read: Callable[[Any], Any]) -> Callable[[MergeContext], str]:
    def get(ctx: MergeContext) -> str:
        record = getattr(ctx, part)
        value = read(record) if record is not None else None
        if value in (None, ""):
            raise LookupError(part)
        return str(value)
    return get


FIELDS: dict[str, tuple[str, Callable[[MergeContext], str]]] = {
    "contact.first_name": ("The contact's first name",
                           _needs("contact", lambda c: c.first_name)),
    "contact.last_name": ("The contact's last name", _needs("contact", lambda c: c.last_name)),
    "contact.name": ("The contact's full name", _needs("contact", _person_name)),
    "contact.title": ("The contact's job title", _needs("contact", lambda c: c.title)),
    "account.name": ("The account's name", _needs("account", lambda a: a.name)),
    "deal.name": ("The deal's name", _needs("deal", lambda d: d.name)),
    "deal.amount": ("The deal's amount with its currency",
                    _needs("deal", lambda d: format_money(d.amount, d.currency))),
    "deal.close_date": ("The deal's expected close date",
                        _needs("deal", lambda d: d.close_date.strftime("%-d %B %Y"))),
    "lead.first_name": ("The lead's first name", _needs("lead", lambda lead: lead.first_name)),
    "lead.name": ("The lead's full name", _needs("lead", _person_name)),
    "lead.company": ("The lead's company", _needs("lead", lambda lead: lead.company)),
    "sender.name": ("Your name", _needs("sender", lambda u: u.get_full_name() or u.username)),
    "sender.email": ("Your email address", _needs("sender", lambda u: u.email)),
    "sender.signature": ("Your signature (set on the email page)",
                         lambda ctx: ctx.signature),
    "company.name": ("Your company's name", lambda ctx: ctx.company),
}


def merge(text: str, ctx: MergeContext, *, field: str) -> str:
    """The text with every merge field filled; ValidationError on `field` naming the
    first unknown field, or a field this record has no value for."""

    unknown = [name for name in FIELD.findall(text) if name not in FIELDS]
    if unknown:
        raise ValidationError({field: (
            f"Unknown merge field “{{{{ {unknown[0]} }}}}”. Known fields: "
            f"{', '.join(FIELDS)}.")})

    def fill(match: re.Match) -> str:
        name = match.group(1)
        try:
            return FIELDS[name][1](ctx)
        except LookupError as exc:
            raise ValidationError({field: (
                f"The merge field “{{{{ {name} }}}}” has no value here: this email has no "
                f"{exc.args[0]} with that detail.")}) from None

    return FIELD.sub(fill, text)
