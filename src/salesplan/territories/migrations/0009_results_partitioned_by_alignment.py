"""On PostgreSQL, assignment results partitioned by alignment (list partitions).

A full run used to copy every other alignment's results into a fresh table and rebuild
the indexes over all of them; with one partition per alignment it builds only its own
partition and swaps it in (see `territories/bulk_write.py`). Alignments that have not
had a full run since keep their rows in the default partition, where every row starts.
The primary key carries the alignment too (PostgreSQL's unique indexes on a partitioned
table must hold its partition key); ids still come from one sequence, so they stay
unique on their own. The block-range index of 0008 is dropped: a partition holds one
alignment's rows. SQLite keeps its single table."""

from django.db import migrations

TABLE = "territories_accountterritory"
OLD = f"{TABLE}_unpartitioned"
RANGE_INDEX = "territory_results_alignment_range"
COLUMNS = "id, type, reason, account_id, alignment_id, territory_id"


def _restart_sequence(schema_editor, table: str) -> None:
    """The table's id sequence continues after its highest id, under the name Django
    gives it."""
    execute = schema_editor.execute
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        (sequence,) = cursor.fetchone()
        cursor.execute(f"SELECT setval(%s, COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, "  # noqa: S608
                       "false)", [sequence])
    if sequence.rsplit(".", 1)[-1] != f"{TABLE}_id_seq":
        execute(f"ALTER SEQUENCE {sequence} RENAME TO {TABLE}_id_seq")


def partition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    execute = schema_editor.execute
    execute(f"DROP INDEX IF EXISTS {RANGE_INDEX}")
    execute(f"ALTER TABLE {TABLE} RENAME TO {OLD}")
    execute(f"ALTER TABLE {OLD} RENAME CONSTRAINT {TABLE}_pkey TO {OLD}_pkey")
    execute(f"ALTER TABLE {OLD} RENAME CONSTRAINT one_territory_per_type TO {OLD}_one")
    execute(f"ALTER INDEX territory_accounts RENAME TO {OLD}_accounts")
    execute(f"CREATE TABLE {TABLE} (LIKE {OLD} INCLUDING DEFAULTS INCLUDING IDENTITY) "
            "PARTITION BY LIST (alignment_id)")
    execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY (id, alignment_id)")
    execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT one_territory_per_type "
            "UNIQUE (account_id, alignment_id, type)")
    execute(f"CREATE INDEX territory_accounts ON {TABLE} (territory_id, account_id)")
    execute(f"CREATE TABLE {TABLE}_default PARTITION OF {TABLE} DEFAULT")
    execute(f"INSERT INTO {TABLE} ({COLUMNS}) OVERRIDING SYSTEM VALUE "
            f"SELECT {COLUMNS} FROM {OLD}")
    execute(f"DROP TABLE {OLD}")
    _restart_sequence(schema_editor, TABLE)
    execute(f"ANALYZE {TABLE}")


def unpartition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    execute = schema_editor.execute
    execute(f"CREATE TABLE {OLD} (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING IDENTITY)")
    execute(f"INSERT INTO {OLD} ({COLUMNS}) OVERRIDING SYSTEM VALUE "
            f"SELECT {COLUMNS} FROM {TABLE}")
    execute(f"DROP TABLE {TABLE} CASCADE")
    execute(f"ALTER TABLE {OLD} RENAME TO {TABLE}")
    execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY (id)")
    execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT one_territory_per_type "
            "UNIQUE (account_id, alignment_id, type)")
    execute(f"CREATE INDEX territory_accounts ON {TABLE} (territory_id, account_id)")
    execute(f"CREATE INDEX {RANGE_INDEX} ON {TABLE} USING brin (alignment_id)")
    _restart_sequence(schema_editor, TABLE)


class Migration(migrations.Migration):
    # The table is rebuilt in the migration's transaction.
    dependencies = [("territories", "0008_results_alignment_range_index")]

    operations = [migrations.RunPython(partition, unpartition)]
