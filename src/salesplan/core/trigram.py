"""Trigram indexes that let PostgreSQL answer a list's "contains, any case" search
(`icontains`, which Django writes as `UPPER(col::text) LIKE UPPER('%term%')`) from an
index instead of reading the whole table. SQLite has no such index: there the search
is a plain LIKE scan.
"""

from django.db import migrations


def trigram_indexes(table: str, columns: tuple[str, ...]) -> migrations.RunPython:
    """A migration step adding a GIN trigram index on UPPER(column) for each column,
    on PostgreSQL only (the pg_trgm extension is created if missing)."""

    def forwards(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for column in columns:
            schema_editor.execute(
                f'CREATE INDEX IF NOT EXISTS "{table}_{column}_trgm" ON "{table}" '
                f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops)')

    def backwards(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for column in columns:
            schema_editor.execute(f'DROP INDEX IF EXISTS "{table}_{column}_trgm"')

    return migrations.RunPython(forwards, backwards)
