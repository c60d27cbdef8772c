"""API for accounts, contacts and leads (with lead conversion and duplicate checks)."""

from datetime import date, datetime
from decimal import Decimal
from typing import cast

from django.http import HttpResponse
from ninja import Field, Router, Schema

from salesplan.core.api_support import (
    Currency,
    InputSchema,
    MoneyIn,
    MoneyOut,
    RecordEndpoints,
    RecordId,
    choice_of,
    full_name,
    get_record,
    patch_schema,
    service_data,
)
from salesplan.core.jobs_api import accepted
from salesplan.core.references import resolve_references
from salesplan.pipeline.api import BULK_RESPONSES, BulkIn, OpportunityOut, opportunities

from . import bulk, selectors, services
from .filters import ACCOUNT_LIST, CONTACT_LIST, LEAD_LIST
from .models import Account, BuyingRole, Contact, Lead, LeadSource, LeadStatus, Lifecycle, Tier

Country = Field("US", min_length=2, max_length=2, description="ISO 3166 two-letter code.")


class CreateAnyway(InputSchema):
    """A new record that looks like existing ones (same web domain or name; same e-mail or
    phone) is refused with 409 problem details listing the ids of those you may see
    (`duplicates`) and how many others match (`hidden_matches`), unless you say to
    create it anyway and why; the reason is kept in its audit trail."""

    allow_duplicate: bool = Field(False, description="Create it even if it looks like a "
                                                     "duplicate (needs duplicate_reason).")
    duplicate_reason: str = Field("", max_length=500,
                                  description="Why this is not a duplicate; kept in the audit "
                                              "trail.")


# --- Accounts --------------------------------------------------------------------------


class AccountIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=200)
    domain: str = Field("", max_length=200, description="Web domain, e.g. example.com.")
    website: str = Field("", max_length=200)
    industry: str = Field("", max_length=80)
    employees: int | None = Field(None, ge=0, le=10_000_000)
    annual_revenue: MoneyIn | None = None
    street: str = Field("", max_length=200)
    city: str = Field("", max_length=100)
    postal_code: str = Field("", max_length=20)
    state: str = Field("", max_length=100)
    county: str = Field("", max_length=100)
    country: str = Country
    latitude: Decimal | None = Field(None, ge=-90, le=90, max_digits=9, decimal_places=6)
    longitude: Decimal | None = Field(None, ge=-180, le=180, max_digits=9, decimal_places=6)
    parent_id: RecordId | None = None
    owner_id: RecordId | None = Field(None, description="Default: you.")
    tier: choice_of(Tier, blank=True) = ""
    lifecycle: choice_of(Lifecycle) = Lifecycle.PROSPECT.value
    potential: MoneyIn | None = Field(None, description="Estimated yearly sales potential.")
    currency: Currency = Field("USD", description="Currency of the revenue and potential.")


AccountPatch = patch_schema(AccountIn, "AccountPatch")


class AccountCreateIn(AccountIn, CreateAnyway):
    """A new account; see CreateAnyway for the duplicate check."""


class AccountOut(Schema):
    id: int
    name: str
    domain: str
    website: str
    industry: str
    employees: int | None
    annual_revenue: MoneyOut | None
    street: str
    city: str
    postal_code: str
    state: str
    county: str
    country: str
    latitude: Decimal | None
    longitude: Decimal | None
    parent_id: int | None
    owner_id: int
    owner_name: str
    tier: str
    lifecycle: str
    potential: MoneyOut | None
    currency: str
    version: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_owner_name(account) -> str:
        return full_name(account.owner)


# --- Contacts --------------------------------------------------------------------------


class ContactIn(InputSchema):
    first_name: str = Field("", max_length=100)
    last_name: str = Field(..., min_length=1, max_length=100)
    title: str = Field("", max_length=120)
    email: str = Field("", max_length=254)
    email_secondary: str = Field("", max_length=254)
    phone: str = Field("", max_length=40)
    mobile: str = Field("", max_length=40)
    account_id: RecordId | None = None
    buying_role: choice_of(BuyingRole, blank=True) = ""
    do_not_contact: bool = False
    owner_id: RecordId | None = Field(None, description="Default: you.")


ContactPatch = patch_schema(ContactIn, "ContactPatch")


class ContactCreateIn(ContactIn, CreateAnyway):
    """A new contact; see CreateAnyway for the duplicate check."""


class ContactOut(Schema):
    id: int
    first_name: str
    last_name: str
    full_name: str
    title: str
    email: str
    email_secondary: str
    phone: str
    mobile: str
    account_id: int | None
    account_name: str
    buying_role: str
    do_not_contact: bool
    owner_id: int
    owner_name: str
    version: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_account_name(contact) -> str:
        return contact.account.name if contact.account_id else ""

    @staticmethod
    def resolve_owner_name(contact) -> str:
        return full_name(contact.owner)


# --- Leads -----------------------------------------------------------------------------


class LeadIn(InputSchema):
    first_name: str = Field("", max_length=100)
    last_name: str = Field(..., min_length=1, max_length=100)
    title: str = Field("", max_length=120)
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=40)
    company: str = Field("", max_length=200)
    website: str = Field("", max_length=200)
    industry: str = Field("", max_length=80)
    employees: int | None = Field(None, ge=0, le=10_000_000)
    city: str = Field("", max_length=100)
    state: str = Field("", max_length=100)
    postal_code: str = Field("", max_length=20)
    country: str = Country
    source: choice_of(LeadSource) = LeadSource.OTHER.value
    campaign: str = Field("", max_length=120)
    status: choice_of(LeadStatus, exclude=(LeadStatus.CONVERTED,)) = Field(
        LeadStatus.NEW.value, description="A lead becomes converted only with the convert action.")
    owner_id: RecordId | None = Field(None, description="Default: you.")


LeadPatch = patch_schema(LeadIn, "LeadPatch")


class LeadCreateIn(LeadIn, CreateAnyway):
    """A new lead; see CreateAnyway for the duplicate check."""


class LeadOut(Schema):
    id: int
    first_name: str
    last_name: str
    full_name: str
    title: str
    email: str
    phone: str
    company: str
    website: str
    industry: str
    employees: int | None
    city: str
    state: str
    postal_code: str
    country: str
    source: str
    campaign: str
    status: str
    owner_id: int
    owner_name: str
    converted_at: datetime | None
    converted_account_id: int | None
    converted_contact_id: int | None
    converted_opportunity_id: int | None
    version: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_owner_name(lead) -> str:
        return full_name(lead.owner)


# --- Routers ---------------------------------------------------------------------------

accounts = RecordEndpoints(
    name="account", plural="accounts", model=Account, listing=ACCOUNT_LIST,
    select=selectors.account_list, related=("owner",), out=AccountOut, create_in=AccountCreateIn,
    patch_in=AccountPatch, create=services.create_account, update=services.update_account,
    delete=services.delete_account)
contacts = RecordEndpoints(
    name="contact", plural="contacts", model=Contact, listing=CONTACT_LIST,
    select=selectors.contact_list, related=("owner", "account"), out=ContactOut,
    create_in=ContactCreateIn, patch_in=ContactPatch, create=services.create_contact,
    update=services.update_contact, delete=services.delete_contact)
leads = RecordEndpoints(
    name="lead", plural="leads", model=Lead, listing=LEAD_LIST, select=selectors.lead_list,
    related=("owner",), out=LeadOut, create_in=LeadCreateIn, patch_in=LeadPatch,
    create=services.create_lead, update=services.update_lead, delete=services.delete_lead)

account_router = Router(tags=["accounts"])
contact_router = Router(tags=["contacts"])
lead_router = Router(tags=["leads"])


# --- Bulk actions ----------------------------------------------------------------------


def run_bulk(request, response: HttpResponse, resource: str, payload: BulkIn):
    """Preview a bulk action, or start its job (accounts, contacts, leads, opportunities)."""
    job_request = bulk.prepare(request.auth, resource, action=payload.action, ids=payload.ids,
                               filters=payload.filter, values=payload.values)
    if payload.preview:
        return bulk.preview(request.auth, job_request)
    return accepted(response, bulk.start(request.auth, job_request))


@account_router.post("/bulk", **BULK_RESPONSES)
def bulk_accounts(request, response: HttpResponse, payload: BulkIn):
    """Change the owner of, or delete, many accounts: a preview (`preview`: true), then
    a background job whose `result.rows` says per row `done` or `refused` with a reason.
    A new owner must work each account's territory; a row that would break a boundary,
    or that you may not change, is refused and left as it was."""
    return run_bulk(request, response, "account", payload)


@contact_router.post("/bulk", **BULK_RESPONSES)
def bulk_contacts(request, response: HttpResponse, payload: BulkIn):
    """Change the owner of, delete, export or add to a campaign many contacts: a preview
    (`preview`: true), then a background job whose `result.rows` says per row `done` or
    `refused` with a reason; a refused row is left as it was."""
    return run_bulk(request, response, "contact", payload)


@lead_router.post("/bulk", **BULK_RESPONSES)
def bulk_leads(request, response: HttpResponse, payload: BulkIn):
    """Change the owner of, delete, export or add to a campaign many leads: a preview
    (`preview`: true), then a background job whose `result.rows` says per row `done` or
    `refused` with a reason; a refused row is left as it was."""
    return run_bulk(request, response, "lead", payload)


# After /bulk and /facets, which /{id} would otherwise take.
accounts.register(account_router)
contacts.register(contact_router)
leads.register(lead_router)






# --- Lead conversion -------------------------------------------------------------------


class ConversionOpportunityIn(InputSchema):
    """The deal a conversion creates; everything defaults from the lead and the pipeline."""

    name: str | None = Field(None, min_length=1, max_length=200)
    pipeline_id: RecordId | None = None
    stage_id: RecordId | None = None
    amount: MoneyIn | None = None
    currency: Currency | None = None
    close_date: date | None = None
    probability: int | None = Field(None, ge=0, le=100)
    next_step: str = Field("", max_length=255)
    owner_id: RecordId | None = None


class ConversionIn(InputSchema):
    account_id: RecordId | None = Field(
        None, description="Attach to this existing account instead of creating one.")
    contact_id: RecordId | None = Field(
        None, description="Use this existing contact instead of creating one.")
    create_opportunity: bool = True
    opportunity: ConversionOpportunityIn | None = None


class LeadConversionOut(Schema):
    lead: LeadOut
    account: AccountOut
    contact: ContactOut
    opportunity: OpportunityOut | None


class DuplicatesOut(Schema):
    accounts: list[AccountOut]
    contacts: list[ContactOut]


@lead_router.post("/{id}/convert", response=LeadConversionOut)
def convert_lead(request, id: int, payload: ConversionIn):
    """Turn the lead into an account, a contact and usually an opportunity, in one step
    (or nothing at all). Check `GET /leads/{id}/duplicates` first to reuse records."""
    user = request.auth
    lead = get_record(Lead, user, id)
    links = resolve_references(user, service_data(
        payload, drop=("create_opportunity", "opportunity")))
    if payload.opportunity is not None and not payload.create_opportunity:
        from django.core.exceptions import ValidationError

        raise ValidationError({"opportunity": "Leave this out when create_opportunity is false."})
    conversion = services.convert_lead(
        lead, by=user, account=cast(Account | None, links.get("account")),
        contact=cast(Contact | None, links.get("contact")),
        create_opportunity=payload.create_opportunity,
        opportunity_data=service_data(payload.opportunity) if payload.opportunity else None)
    return {
        "lead": Lead.objects.select_related("owner").get(pk=lead.pk),
        "account": Account.objects.select_related("owner").get(pk=conversion.account.pk),
        "contact": Contact.objects.select_related("owner", "account").get(
            pk=conversion.contact.pk),
        "opportunity": opportunities.reread(conversion.opportunity)
        if conversion.opportunity else None,
    }


@lead_router.get("/{id}/duplicates", response=DuplicatesOut)
def lead_duplicates(request, id: int):
    """Accounts with the lead's company name or web domain and contacts with its email,
    among those you may see: candidates to reuse when converting."""
    lead = get_record(Lead, request.auth, id)
    found = services.likely_duplicates(lead, by=request.auth)
    return {"accounts": found.accounts, "contacts": found.contacts}
