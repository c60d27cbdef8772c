"""The expected permission matrix, written once in the sales manager's terms.

Every layer (services, JSON API, HTML pages) is tested against this one table. It is
written independently of `salesplan.core.permissions.PERMISSIONS` on purpose: a change
to the code's table that changes who may do what makes these tests fail until this
table (the product decision) changes too.

Records belong to one of three reps. From the point of view of each actor:
- "west_rep": a rep in the West team; for the rep actor these are their own records.
- "west_rep2": another West rep (the rep actor's teammate).
- "east_rep": a rep in the other team.
The manager actor manages West; marketing and the executive sit in the region.
"""

from dataclasses import dataclass

from django.db import models

from salesplan.activities.models import Activity
from salesplan.customers.models import Account, Contact, Lead
from salesplan.pipeline.models import Opportunity
from tests.factories import make_account, make_activity, make_contact, make_lead, make_opportunity

OWNERS = ("west_rep", "west_rep2", "east_rep")
RESOURCES = ("account", "contact", "lead", "opportunity", "activity")
ROLES = ("admin", "manager", "rep", "marketing", "executive")

EVERYONE = frozenset(OWNERS)
WEST = frozenset({"west_rep", "west_rep2"})
OWN = frozenset({"west_rep"})
NOBODY: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Rule:
    """May the role create this kind of record, and whose records may it view/change/delete."""

    create: bool
    view: frozenset[str]
    change: frozenset[str]
    delete: frozenset[str]

    def allows(self, action: str, owner: str) -> bool:
        return owner in getattr(self, action)


EXPECTED: dict[str, dict[str, Rule]] = {
    "admin": {r: Rule(True, EVERYONE, EVERYONE, EVERYONE) for r in RESOURCES},
    # A manager works with the records of everyone in the teams they manage.
    "manager": {r: Rule(True, WEST, WEST, WEST) for r in RESOURCES},
    # A rep sees and edits only their own records; may remove only their own
    # contacts, leads and activities (accounts and deals stay for the manager).
    "rep": {
        "account": Rule(True, OWN, OWN, NOBODY),
        "contact": Rule(True, OWN, OWN, OWN),
        "lead": Rule(True, OWN, OWN, OWN),
        "opportunity": Rule(True, OWN, OWN, NOBODY),
        "activity": Rule(True, OWN, OWN, OWN),
    },
    # Marketing works the lead funnel and logs its own activities; it reads contacts to
    # build campaign audiences but changes no customer data.
    "marketing": {
        "account": Rule(False, NOBODY, NOBODY, NOBODY),
        "contact": Rule(False, EVERYONE, NOBODY, NOBODY),
        "lead": Rule(True, EVERYONE, EVERYONE, EVERYONE),
        "opportunity": Rule(False, NOBODY, NOBODY, NOBODY),
        "activity": Rule(True, NOBODY, NOBODY, NOBODY),
    },
    # The executive reads everything and changes nothing.
    "executive": {r: Rule(False, EVERYONE, NOBODY, NOBODY) for r in RESOURCES},
}

ACTOR_OF_ROLE = {"admin": "admin", "manager": "west_manager", "rep": "west_rep",
                 "marketing": "marketer", "executive": "executive"}

MODELS: dict[str, type[models.Model]] = {
    "account": Account, "contact": Contact, "lead": Lead, "opportunity": Opportunity,
    "activity": Activity,
}

# A harmless edit for each kind of record, as field -> new value.
CHANGES = {
    "account": {"name": "Changed by the matrix"},
    "contact": {"title": "Changed by the matrix"},
    "lead": {"title": "Changed by the matrix"},
    "opportunity": {"next_step": "Changed by the matrix"},
    "activity": {"subject": "Changed by the matrix"},
}


def make_record(resource: str, owner) -> models.Model:
    """A record of this kind owned by `owner`, deletable (no dependent records)."""
    if resource == "account":
        return make_account(owner)
    if resource == "contact":
        return make_contact(owner, account=make_account(owner))
    if resource == "lead":
        return make_lead(owner)
    if resource == "opportunity":
        return make_opportunity(owner)
    return make_activity(owner, account=make_account(owner))


def creation_data(resource: str, actor) -> dict:
    """Valid data for a new record, linking only to records the actor can see."""
    if resource == "account":
        return {"name": "Matrix Account"}
    if resource == "contact":
        return {"first_name": "Mat", "last_name": "Rix", "email": "mat.rix@example.com"}
    if resource == "lead":
        return {"first_name": "Lea", "last_name": "Matrix", "company": "Matrix Leads Inc"}
    if resource == "opportunity":
        return {"name": "Matrix Deal", "account": make_account(actor).pk, "amount": "1000.00"}
    return {"kind": "call", "subject": "Matrix call", "due_at": "2030-01-15T10:00:00Z",
            "lead": make_lead(actor).pk}


def snapshot(record: models.Model) -> dict | None:
    """The stored row, to prove a refused request changed nothing."""
    return type(record).objects.filter(pk=record.pk).values().first()


def actor(org, role: str):
    return getattr(org, ACTOR_OF_ROLE[role])


def owner(org, name: str):
    return getattr(org, name)


def cells():
    """(role, resource) pairs: one test each, checking every action and owner."""
    return [(role, resource) for role in ROLES for resource in RESOURCES]


PLURAL = {"account": "accounts", "contact": "contacts", "lead": "leads",
          "opportunity": "opportunities", "activity": "activities"}


def api_payload(data: dict) -> dict:
    """Service data as the API names it: references end in `_id`."""
    return {(f"{k}_id" if k in {"account", "lead", "contact", "owner"} else k): v
            for k, v in data.items()}


def tell_tale(record: models.Model) -> str:
    """Text that would appear in any answer that leaked the record."""
    for name in ("name", "subject", "last_name"):
        value = getattr(record, name, "")
        if value:
            return value
    raise AssertionError(f"no tell-tale text for {record!r}")
