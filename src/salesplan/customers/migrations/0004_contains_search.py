from django.db import migrations

from salesplan.core.trigram import trigram_indexes


class Migration(migrations.Migration):
    """Trigram indexes for the lists' "contains, any case" search (PostgreSQL only)."""

    dependencies = [("customers", "0003_search_by_owner")]

    operations = [
        trigram_indexes("customers_account", ("name", "industry", "city", "state", "domain")),
        trigram_indexes("customers_contact", ("first_name", "last_name", "email")),
        trigram_indexes("customers_lead", ("first_name", "last_name", "company", "email")),
    ]
