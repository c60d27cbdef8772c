from django.db import migrations

from salesplan.core.trigram import trigram_indexes


class Migration(migrations.Migration):
    """Trigram index for the list's "contains, any case" search (PostgreSQL only)."""

    dependencies = [("pipeline", "0002_default_pipelines")]

    operations = [trigram_indexes("pipeline_opportunity", ("name",))]
