"""How accounts, contacts and leads are filtered, searched and sorted (UI, API, export)."""

from salesplan.core.listing import Filter, ListDefinition

from .models import BuyingRole, LeadSource, LeadStatus, Lifecycle, Tier

ACCOUNT_LIST = ListDefinition(
    filters={
        "owner": Filter("owner_id", "int", "Owner", multiple=True),
        "lifecycle": Filter("lifecycle", label="Lifecycle", choices=tuple(Lifecycle.choices)),
        "tier": Filter("tier", label="Tier", choices=tuple(Tier.choices)),
        "industry": Filter("industry", label="Industry"),
        "state": Filter("state", label="State"),
        "country": Filter("country", label="Country"),
        "postal_code": Filter("postal_code", label="Postal code"),
        "parent": Filter("parent_id", "int", "Parent account"),
        "min_employees": Filter("employees__gte", "int", "Employees at least"),
        "max_employees": Filter("employees__lte", "int", "Employees at most"),
    },
    sorts={"name": "name_key", "-name": "-name_key", "created": "created_at",
           "-created": "-created_at"},
    default_sort="name",
    search_fields=("name_key", "domain"),
)

CONTACT_LIST = ListDefinition(
    filters={
        "owner": Filter("owner_id", "int", "Owner", multiple=True),
        "account": Filter("account_id", "int", "Account"),
        "buying_role": Filter("buying_role", label="Buying role",
                              choices=tuple(BuyingRole.choices)),
        "do_not_contact": Filter("do_not_contact", "bool", "Do not contact"),
    },
    sorts={"name": "name_key", "-name": "-name_key", "created": "created_at",
           "-created": "-created_at"},
    default_sort="name",
    search_fields=("name_key", "email"),
)

LEAD_LIST = ListDefinition(
    filters={
        "owner": Filter("owner_id", "int", "Owner", multiple=True),
        "status": Filter("status", label="Status", choices=tuple(LeadStatus.choices),
                         multiple=True),
        "source": Filter("source", label="Source", choices=tuple(LeadSource.choices)),
        "campaign": Filter("campaign", label="Campaign"),
    },
    sorts={"name": "name_key", "-name": "-name_key", "created": "created_at",
           "-created": "-created_at"},
    default_sort="name",
    search_fields=("name_key", "email"),
)
