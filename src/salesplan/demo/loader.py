"""Fast row loading for the demo: plain multi-row inserts with ids chosen up front.

This is seeding, so it deliberately bypasses the services (no permission checks, no
audit entries, no per-row save()): the generator writes exactly the values the models'
save() and the services would have written (search keys, denormalised status), and
inserts them with `executemany` through Django's connection, which works the same on
SQLite and PostgreSQL. Ids are allocated by the generator so related rows can point at
each other without reading anything back; sequences are reset afterwards.
"""

from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime

from django.apps import apps
from django.core.management.color import no_style
from django.db import connection, models


class TableWriter:
    """INSERTs rows (tuples in the order of `fields`) into one model's table."""

    def __init__(self, model: type[models.Model], fields: Sequence[str]):
        self.model = model
        quote = connection.ops.quote_name
        columns = ", ".join(quote(_column(model, f)) for f in fields)
        placeholders = ", ".join(["%s"] * len(fields))
        # Identifiers come from the model's metadata, never from input.
        self.sql = (f"INSERT INTO {quote(model._meta.db_table)} ({columns}) "  # noqa: S608
                    f"VALUES ({placeholders})")
        self.count = 0
        # Positions of datetime columns, converted only where the database needs it.
        adapt = timestamp_adapter()
        self.adapt = None if adapt is None else (adapt, [
            i for i, f in enumerate(fields)
            if isinstance(model._meta.get_field(f), models.DateTimeField)])

    def write(self, rows: list[tuple]) -> None:
        if not rows:
            return
        if self.adapt:
            convert, positions = self.adapt
            rows = [_converted(row, convert, positions) for row in rows]
        with connection.cursor() as cursor:
            cursor.executemany(self.sql, rows)
        self.count += len(rows)


def _column(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field) and field.column, name  # noqa: S101 - our own names
    return field.column


def _converted(row: tuple, convert, positions: list[int]) -> tuple:
    values = list(row)
    for i in positions:
        values[i] = convert(values[i])
    return tuple(values)


def next_id(model: type[models.Model]) -> int:
    last = model._default_manager.aggregate(last=models.Max("pk"))["last"]
    return (last or 0) + 1


def timestamp_adapter():
    """Turns the generator's naive-UTC datetimes into what the database expects: SQLite
    stores them naive (Django's convention there), other databases take aware values."""
    if connection.vendor == "sqlite":
        return None
    return lambda value: value.replace(tzinfo=UTC) if value is not None else None


def reset_sequences(models_: Iterable[type[models.Model]]) -> None:
    """After inserting explicit ids, move PostgreSQL sequences past them (a no-op on
    SQLite, whose AUTOINCREMENT follows the largest id by itself)."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(models_))
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


@contextmanager
def fast_load():
    """On SQLite, skip fsync and enlarge the page cache while loading; the data is a
    throw-away demo, and a crash mid-load is fixed by running the demo again."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield  # (the safety level cannot change inside a transaction, e.g. in tests)
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.execute("PRAGMA cache_size=-4000000")  # 4 GB of pages
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA cache_size=-200000")


def wipe(model_labels: Sequence[str]) -> dict[str, int]:
    """Delete every row of the named models and of every model that points at them,
    dependents first, with plain DELETEs (the ORM's cascade collector would load
    millions of ids). Returns rows deleted per model label."""
    targets = [apps.get_model(label) for label in model_labels]
    order: list[type[models.Model]] = []
    seen: set[type[models.Model]] = set()

    def visit(model):
        if model in seen:
            return
        seen.add(model)
        for rel in model._meta.get_fields(include_hidden=True):
            if (rel.is_relation and rel.auto_created and not rel.concrete
                    and (rel.one_to_many or rel.one_to_one) and rel.related_model is not model):
                visit(rel.related_model)
        order.append(model)

    for model in targets:
        visit(model)
    deleted = {}
    quote = connection.ops.quote_name
    existing = set(connection.introspection.table_names())
    with connection.cursor() as cursor:
        for model in order:
            if model._meta.proxy or not model._meta.managed or \
                    model._meta.db_table not in existing:
                continue
            cursor.execute(f"DELETE FROM {quote(model._meta.db_table)}")  # noqa: S608
            deleted[model._meta.label] = max(cursor.rowcount, 0)
    return deleted


def naive_utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
