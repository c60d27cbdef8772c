"""How accounts, contacts and leads are filtered, searched and sorted (UI, API, export)."""

from collections.abc import Callable

from django.contrib.auth import get_user_model

from salesplan.core.listing import Column, Filter, ListDefinition

from .models import BuyingRole, LeadSource, LeadStatus, Lifecycle, Tier


def owner_names(ids: list) -> dict:
    """Facet labels of owner ids: each person's full name (or username)."""
    return {user.pk: user.get_full_name() or user.username
            for user in get_user_model().objects.filter(pk__in=ids)}


OWNER_LABELS: dict[str, Callable[[list], dict]] = {"owner": owner_names}

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
           "-created": "-created_at", "industry": "industry", "-industry": "-industry",
           "state": "state", "-state": "-state"},
    default_sort="name",
    search_fields=("name_key", "domain"),
    contains_fields=("name", "industry", "city", "state", "domain"),
    search_label="Part of the name, industry, city, state or domain (any case).",
    columns={"name": Column("Name", "name", "name"), "domain": Column("Domain", "domain"),
             "industry": Column("Industry", "industry", "industry"),
             "city": Column("City", "city"), "state": Column("State", "state", "state"),
             "country": Column("Country", "country"),
             "employees": Column("Employees", "employees"),
             "lifecycle": Column("Lifecycle", "get_lifecycle_display"),
             "tier": Column("Tier", "get_tier_display"), "owner": Column("Owner", "owner"),
             "created": Column("Created", "created_at", "created")},
    facets=("owner", "lifecycle", "tier", "industry", "state"), facet_labels=OWNER_LABELS,
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
    contains_fields=("first_name", "last_name", "email"),
    search_label="Part of the name or email (any case).",
    columns={"name": Column("Name", "full_name", "name"), "email": Column("Email", "email"),
             "account": Column("Account", "account"),
             "buying_role": Column("Buying role", "get_buying_role_display"),
             "owner": Column("Owner", "owner"), "created": Column("Created", "created_at",
                                                                 "created")},
    facets=("owner", "buying_role", "do_not_contact"), facet_labels=OWNER_LABELS,
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
    contains_fields=("first_name", "last_name", "company", "email"),
    search_label="Part of the name, company or email (any case).",
    columns={"name": Column("Name", "full_name", "name"), "company": Column("Company", "company"),
             "email": Column("Email", "email"), "status": Column("Status", "get_status_display"),
             "source": Column("Source", "get_source_display"),
             "campaign": Column("Campaign", "campaign"), "owner": Column("Owner", "owner"),
             "created": Column("Created", "created_at", "created")},
    facets=("owner", "status", "source", "campaign"), facet_labels=OWNER_LABELS,
)
