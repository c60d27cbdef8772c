"""One entry per record type: how to make one, a valid create body, and an edit."""

from dataclasses import dataclass
from typing import Any

from salesplan.activities.models import Activity
from salesplan.customers.models import Account, Contact, Lead
from salesplan.pipeline.models import Opportunity
from tests.factories import make_account, make_activity, make_contact, make_lead, make_opportunity


@dataclass(frozen=True)
class Resource:
    path: str
    model: type
    make: Any  # owner -> saved record
    body: Any  # (owner) -> create body
    change: tuple[str, Any]  # field, new value as sent and returned


RESOURCES = [
    Resource("/accounts", Account, make_account,
             lambda owner: {"name": "Acme", "annual_revenue": "1250000.50", "currency": "EUR",
                            "lifecycle": "customer"},
             ("name", "Acme Holdings")),
    Resource("/contacts", Contact, lambda owner: make_contact(owner, make_account(owner)),
             lambda owner: {"first_name": "Jane", "last_name": "Doe",
                            "account_id": make_account(owner).pk, "buying_role": "champion"},
             ("title", "CFO")),
    Resource("/leads", Lead, make_lead,
             lambda owner: {"last_name": "Lee", "company": "Lee Widgets", "source": "event"},
             ("status", "working")),
    Resource("/opportunities", Opportunity, make_opportunity,
             lambda owner: {"name": "Fleet renewal", "account_id": make_account(owner).pk,
                            "amount": "48000.00", "close_date": "2027-03-31"},
             ("amount", "52500.75")),
    Resource("/activities", Activity, lambda owner: make_activity(owner, make_account(owner)),
             lambda owner: {"kind": "meeting", "subject": "Kick-off",
                            "account_id": make_account(owner).pk,
                            "due_at": "2027-01-10T09:30:00+00:00", "duration_minutes": 45},
             ("subject", "Kick-off with the CFO")),
]
IDS = [r.path.strip("/") for r in RESOURCES]
