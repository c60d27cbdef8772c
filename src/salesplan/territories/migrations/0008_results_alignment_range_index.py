"""On PostgreSQL, a block-range index on the results' alignment: each alignment's rows
lie together in the table (a full run writes them in one go), so the what-if reads one
alignment's rows without scanning the others', while the index stays a few pages and
costs the million-row writes next to nothing. SQLite reaches an alignment's rows through
the territory index instead and gets no such index."""

from django.db import migrations

INDEX = "territory_results_alignment_range"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} "
                              "ON territories_accountterritory USING brin (alignment_id)")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("territories", "0007_goal_formula_workload_days")]

    operations = [migrations.RunPython(create, drop)]
