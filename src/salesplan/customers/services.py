"""Every write to accounts, contacts and leads."""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from salesplan.core import hooks
from salesplan.core.audit import record_changes
from salesplan.core.crud import create_record, delete_record, update_record
from salesplan.core.permissions import require
from salesplan.org.models import Role
from salesplan.pipeline.services import create_opportunity as create_opp

from . import duplicates
from .models import Account, Contact, Lead, LeadStatus

ACCOUNT_FIELDS = {
    "name", "domain", "website", "industry", "employees", "annual_revenue", "street", "city",
    "postal_code", "state", "county", "country", "latitude", "longitude", "parent", "owner",
    "tier", "lifecycle", "potential", "currency",
}
CONTACT_FIELDS = {
    "first_name", "last_name", "title", "email", "email_secondary", "phone", "mobile", "account",
    "buying_role", "do_not_contact", "owner",
}
LEAD_FIELDS = {
    "first_name", "last_name", "title", "email", "phone", "company", "website", "industry",
    "employees", "city", "state", "postal_code", "country", "source", "campaign", "status",
    "owner",
}


@transaction.atomic
def create_account(*, by, data: dict, check_duplicates: bool = True) -> Account:
    """Create an account owned by `data['owner']` or, by default, its creator. One that
    looks like an existing account is refused (DuplicatesFound) unless `data` says
    `allow_duplicate` with a `duplicate_reason`, which the audit trail keeps."""
    data, reason = _checked("account", data, by=by, check=check_duplicates)
    account = create_record(Account, "account", by=by, data=data, allowed=ACCOUNT_FIELDS)
    duplicates.note_reason(account, reason, by=by)
    hooks.account_saved(account, by=by, changes=None)  # territories: assign, boundaries
    return account


@transaction.atomic
def update_account(account: Account, *, by, data: dict, expected_version: int | None = None):
    if data.get("parent") not in (None, "") and _would_cycle(account, data["parent"]):
        raise ValidationError({"parent": "An account cannot be its own parent or ancestor."})
    changes = update_record(account, "account", by=by, data=data, allowed=ACCOUNT_FIELDS,
                            expected_version=expected_version)
    hooks.account_saved(account, by=by, changes=changes)  # territories: re-assign, boundaries
    return changes


def _would_cycle(account: Account, parent) -> bool:
    parent_id = getattr(parent, "pk", parent)
    seen = set()
    while parent_id is not None and parent_id not in seen:
        if parent_id == account.pk:
            return True
        seen.add(parent_id)
        parent_id = Account.objects.filter(pk=parent_id).values_list("parent_id", flat=True).first()
    return False


def delete_account(account: Account, *, by) -> None:
    if account.opportunities.exists():
        raise ValidationError(
            {"account": "This account has opportunities; close or move them first."})
    delete_record(account, "account", by=by)


def _checked(resource: str, data: dict, *, by, check: bool) -> tuple[dict, str]:
    """The data without the duplicate-check keys, and the reason for creating anyway;
    refuses a likely duplicate (only after the create permission is checked, so the
    check tells nothing to someone who may not create)."""
    require(by, resource, "create")
    data = dict(data)
    if not check:
        data.pop("allow_duplicate", None)
        return data, str(data.pop(duplicates.REASON_FIELD, "") or "")
    return data, duplicates.check(resource, data, by=by)


@transaction.atomic
def create_contact(*, by, data: dict, check_duplicates: bool = True) -> Contact:
    """Create a contact; one with the e-mail or phone of an existing contact is refused
    unless `allow_duplicate` comes with a `duplicate_reason`."""
    data, reason = _checked("contact", data, by=by, check=check_duplicates)
    contact = create_record(Contact, "contact", by=by, data=data, allowed=CONTACT_FIELDS)
    duplicates.note_reason(contact, reason, by=by)
    return contact


def update_contact(contact: Contact, *, by, data: dict, expected_version: int | None = None):
    return update_record(contact, "contact", by=by, data=data, allowed=CONTACT_FIELDS,
                         expected_version=expected_version)


def delete_contact(contact: Contact, *, by) -> None:
    delete_record(contact, "contact", by=by)


def lead_changed(lead_id: int, *, by=None, route: bool = False) -> None:
    """Once the change is committed, let the apps that react to leads do so (scoring
    rescores it; marketing routes it when asked): a rolled-back change triggers nothing
    and a failure there never undoes the change."""
    transaction.on_commit(lambda: hooks.lead_committed(lead_id, by=by, route=route))


# Who does not work leads themselves: a lead they create without naming its owner goes
# through routing (territory, then a rep within capacity), as a captured lead does.
ROUTED_WHEN_CREATED_BY = (Role.MARKETING, Role.ADMIN)


@transaction.atomic
def create_lead(*, by, data: dict, check_duplicates: bool = True) -> Lead:
    """Create a lead; one with the e-mail or phone of an existing lead is refused unless
    `allow_duplicate` comes with a `duplicate_reason`."""
    if data.get("status") == LeadStatus.CONVERTED:
        raise ValidationError({"status": "A lead becomes converted only by converting it."})
    data, reason = _checked("lead", data, by=by, check=check_duplicates)
    named_owner = data.get("owner") not in (None, by)
    lead = create_record(Lead, "lead", by=by, data=data, allowed=LEAD_FIELDS)
    duplicates.note_reason(lead, reason, by=by)
    lead_changed(lead.pk, by=by,
                 route=by.role in ROUTED_WHEN_CREATED_BY and not named_owner)
    return lead


def update_lead(lead: Lead, *, by, data: dict, expected_version: int | None = None):
    if lead.status == LeadStatus.CONVERTED:
        raise ValidationError({"status": "A converted lead cannot be changed."})
    if data.get("status") == LeadStatus.CONVERTED:
        raise ValidationError({"status": "A lead becomes converted only by converting it."})
    updated = update_record(lead, "lead", by=by, data=data, allowed=LEAD_FIELDS,
                            expected_version=expected_version)
    lead_changed(lead.pk, by=by)
    return updated


def delete_lead(lead: Lead, *, by) -> None:
    delete_record(lead, "lead", by=by)


# --- Lead conversion --------------------------------------------------------------


@dataclass
class DuplicateWarning:
    """Existing records that look like the ones a conversion would create."""

    accounts: list[Account] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)

    @property
    def any(self) -> bool:
        return bool(self.accounts or self.contacts)


def domain_of(email_or_url: str) -> str:
    text = (email_or_url or "").strip().lower()
    if "@" in text:
        text = text.rsplit("@", 1)[1]
    for prefix in ("https://", "http://"):
        text = text.removeprefix(prefix)
    return text.removeprefix("www.").split("/")[0]


FREE_MAIL_DOMAINS = {"gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "aol.com",
                     "icloud.com", "proton.me", "protonmail.com", "gmx.com"}


def likely_duplicates(lead: Lead, *, by) -> DuplicateWarning:
    """Accounts with the lead's company name or web domain, contacts with its email."""
    from .models import search_key

    accounts = Account.objects.visible_to(by)
    domain = domain_of(lead.website) or domain_of(lead.email)
    matches = accounts.none()
    if lead.company:
        matches = accounts.filter(name_key=search_key(lead.company))
    if domain and domain not in FREE_MAIL_DOMAINS:
        matches = matches | accounts.filter(domain=domain)
    contacts = (Contact.objects.visible_to(by).filter(email=lead.email.lower())
                if lead.email else Contact.objects.none())
    return DuplicateWarning(accounts=list(matches.distinct()[:10]),
                            contacts=list(contacts.select_related("account")[:10]))


@dataclass
class Conversion:
    account: Account
    contact: Contact
    opportunity: object | None


@transaction.atomic
def convert_lead(lead: Lead, *, by, account: Account | None = None,
                 contact: Contact | None = None, create_opportunity: bool = True,
                 opportunity_data: dict | None = None) -> Conversion:
    """Turn a lead into an account (new or existing), a contact (new or existing) and,
    usually, an opportunity — all in one step, or nothing at all."""

    require(by, "lead", "change", lead)
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if lead.status == LeadStatus.CONVERTED:
        raise ValidationError({"status": "This lead has already been converted."})
    if account is None:
        account = create_account(by=by, check_duplicates=False, data={
            "name": lead.company or lead.full_name, "domain": domain_of(lead.website)
            or ("" if domain_of(lead.email) in FREE_MAIL_DOMAINS else domain_of(lead.email)),
            "website": lead.website, "industry": lead.industry, "employees": lead.employees,
            "city": lead.city, "state": lead.state, "postal_code": lead.postal_code,
            "country": lead.country or "US", "owner": by if lead.owner_id is None else lead.owner,
        })
    else:
        require(by, "account", "view", account)
    if contact is None:
        contact = create_contact(by=by, check_duplicates=False, data={
            "first_name": lead.first_name, "last_name": lead.last_name, "title": lead.title,
            "email": lead.email, "phone": lead.phone, "account": account, "owner": lead.owner,
        })
    else:
        require(by, "contact", "change", contact)
    opportunity = None
    if create_opportunity:
        data = {"name": f"{account.name} – new business", "account": account,
                "contact": contact, "owner": lead.owner}
        data.update(opportunity_data or {})
        opportunity = create_opp(by=by, data=data)
    now = timezone.now()
    changes = {"status": (lead.status, LeadStatus.CONVERTED)}
    Lead.objects.filter(pk=lead.pk).update(
        status=LeadStatus.CONVERTED, converted_at=now, converted_account=account,
        converted_contact=contact, converted_opportunity=opportunity, version=lead.version + 1,
    )

    record_changes(lead, changes, by)
    return Conversion(account=account, contact=contact, opportunity=opportunity)
