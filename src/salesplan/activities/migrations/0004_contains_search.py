from django.db import migrations

from salesplan.core.trigram import trigram_indexes


class Migration(migrations.Migration):
    """Trigram index for the list's "contains, any case" search (PostgreSQL only)."""

    dependencies = [("activities", "0003_initial")]

    operations = [trigram_indexes("activities_activity", ("subject",))]
