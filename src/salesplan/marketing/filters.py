"""How the campaign list is filtered and sorted — the same in the API list and its CSV
export (see `core.listing`)."""

from salesplan.core.listing import Filter, ListDefinition

from .models import CampaignStatus

CAMPAIGNS = ListDefinition(
    filters={"status": Filter("status", choices=tuple(CampaignStatus.choices), label="Status")},
    sorts={"start_date": "-start_date", "name": "name"}, default_sort="start_date")
