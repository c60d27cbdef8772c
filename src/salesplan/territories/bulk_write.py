"""Writing assignment results in bulk: a full run's million rows in a few seconds.

Inserting into the live table means updating its indexes row by row, which costs more
than the rows themselves. A full run therefore fills a fresh table without indexes and
builds them in one sorted pass at the end, all in the caller's transaction: readers see
the old results until it commits, and nothing is left half-written if it fails. The
fresh table is created from the live table's own definition, so it always has the
schema the migrations built. On PostgreSQL, where the results are partitioned by
alignment, the fresh table holds this alignment's rows alone and becomes its partition.
On SQLite it holds the other alignments' rows too, copied across, and replaces the
whole table — unless those are many, when the run deletes its own rows from the live
table and writes there instead.

Rows travel as flat lists (account, alignment, territory, type, reason, account, ...):
SQLite takes a couple of hundred rows per INSERT (its cost is per statement, not per
byte). PostgreSQL takes them through COPY as text made a block at a time: each row is
its account id followed by the rest of the line, the same for every row of one rule
(its territory, type and reason), made once per rule rather than once per row (passing
rows one by one to COPY cost twice the matching at a million accounts).
"""

import math
from collections.abc import Callable, Iterator

import numpy as np
from django.db import connection, connections

from salesplan.engines.territory_rules import BulkOutcome

from .models import AccountTerritory, Territory

COLUMNS = ("account_id", "alignment_id", "territory_id", "type", "reason")
WIDTH = len(COLUMNS)
BLOCK = 50_000
# The smallest host-parameter limit SQLite builds have, in rows of WIDTH values.
ROWS_PER_INSERT = 999 // WIDTH
# Other alignments' rows per new row of this one below which a fresh table costs less
# than writing into the live table (measured at 1.7 on both databases, see bench/README).
SWAP_BELOW = 1.5
REASON_LENGTH = AccountTerritory._meta.get_field("reason").max_length or 300


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def result_blocks(alignment_id: int, out: BulkOutcome,
                  size: int = BLOCK) -> Iterator[tuple[list | str, int]]:
    """Blocks of rows for `_write`, each with its row count: COPY text on PostgreSQL
    when every reason belongs to one territory and type (as the matcher's do), else
    flat values."""
    lines = _line_ends(alignment_id, out) if connection.vendor == "postgresql" else None
    if lines is None:
        for flat in outcome_blocks(alignment_id, out, size):
            yield flat, len(flat) // WIDTH
        return
    for start in range(0, len(out), size):
        end = min(start + size, len(out))
        accounts = out.account_ids[start:end].astype(str).astype(object)
        yield "".join((accounts + lines[out.reason_codes[start:end]]).tolist()), end - start


def _line_ends(alignment_id: int, out: BulkOutcome):
    """Per reason code, the COPY line after the account id ("\tterritory\ttype\treason
    \talignment\n"); None when some reason code stands for more than one territory or
    type, so the line is not the reason's alone."""
    count = len(out.reasons)
    territory = np.zeros(count, dtype=np.int64)
    kind = np.zeros(count, dtype=np.int64)
    territory[out.reason_codes] = out.territory_ids
    kind[out.reason_codes] = out.kind_codes
    if not (np.array_equal(territory[out.reason_codes], out.territory_ids)
            and np.array_equal(kind[out.reason_codes], out.kind_codes)):
        return None
    return np.array([f"\t{territory[code]}\t{_copy_escaped(out.kinds[kind[code]])}"
                     f"\t{_copy_escaped(reason[:REASON_LENGTH])}\t{alignment_id}\n"
                     for code, reason in enumerate(out.reasons)] or [""], dtype=object)


def _copy_escaped(text: str) -> str:
    """Text as COPY's text format reads it back unchanged."""
    return (text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
            .replace("\r", "\\r"))


def outcome_blocks(alignment_id: int, out: BulkOutcome,
                   size: int = BLOCK) -> Iterator[list]:
    """Flat values of `size` rows at a time, built by slice assignment rather than a
    tuple per row."""
    kinds = np.array(out.kinds, dtype=object)
    reasons = np.array([r[:REASON_LENGTH] for r in out.reasons] or [""], dtype=object)
    for start in range(0, len(out), size):
        end = min(start + size, len(out))
        flat: list = [alignment_id] * ((end - start) * WIDTH)
        flat[0::WIDTH] = out.account_ids[start:end].tolist()
        flat[2::WIDTH] = out.territory_ids[start:end].tolist()
        flat[3::WIDTH] = kinds[out.kind_codes[start:end]].tolist()
        flat[4::WIDTH] = reasons[out.reason_codes[start:end]].tolist()
        yield flat


def insert_results(alignment_id: int, rows: list[tuple[int, int, str, str]]) -> None:
    """Add (account_id, territory_id, type, reason) rows to the live table."""
    flat = [value for account_id, territory_id, kind, reason in rows
            for value in (account_id, alignment_id, territory_id, kind, reason[:REASON_LENGTH])]
    with connection.cursor() as cursor:
        for start in range(0, len(flat), BLOCK * WIDTH):
            _write(cursor, AccountTerritory._meta.db_table, flat[start:start + BLOCK * WIDTH])


def replace_alignment_results(alignment_id: int, out: BulkOutcome,
                              progress: Callable[[int], None] | None = None,
                              *, swap: bool | None = None) -> None:
    """Replace all of one alignment's results with `out`. Call inside a transaction.

    Either in a fresh table swapped in for the live one, or by deleting the alignment's
    rows from the live table and writing the new ones there, whichever costs less for
    the rows the other alignments hold (`swap`: None to choose, True or False to force).
    Both leave other alignments' rows untouched and show readers the old results until
    the transaction commits."""
    table = AccountTerritory._meta.db_table
    swaps = {"sqlite": (_fresh_sqlite_table, _swap_sqlite),
             "postgresql": (_fresh_postgresql_table, _swap_postgresql)}
    with connection.cursor() as cursor:
        if swap is None:
            swap = _swap_is_cheaper(cursor, table, alignment_id, len(out))
        if swap and connection.vendor in swaps:
            make_fresh, put_in_place = swaps[connection.vendor]
            target = make_fresh(cursor, table, alignment_id)
        else:
            _delete_alignment_rows(cursor, table, alignment_id)
            target = table
        # Rows copied into a table made in this transaction can be written frozen (see
        # _write); the live table's cannot.
        frozen = target != table and connection.vendor == "postgresql"
        done = 0
        for block, rows in result_blocks(alignment_id, out):
            _write(cursor, target, block, frozen=frozen)
            done += rows
            if progress:
                progress(done)
        if target != table:
            put_in_place(cursor, table, target, alignment_id)


def _swap_is_cheaper(cursor, table: str, alignment_id: int, new_rows: int) -> bool:
    """On PostgreSQL the fresh table is the alignment's own partition, always cheaper.
    On SQLite it costs a copy of every other alignment's rows and one sorted index
    build over the whole table; the live table costs deleting this alignment's old rows
    and index upkeep row by row, about three times as much per row. So the fresh table
    wins unless the other alignments hold more rows than this one by SWAP_BELOW."""
    if connection.vendor == "postgresql":
        return True  # one partition per alignment: no other alignment's rows to copy
    if connection.vendor != "sqlite":
        return False
    enough = math.ceil(SWAP_BELOW * new_rows)
    # Counted only up to the number that decides, in one pass over the table: counting
    # every other row through the territory index made PostgreSQL visit each freshly
    # written row (9.6 s of its time for 3.2 million). The table name comes from the
    # model.
    cursor.execute(f"SELECT COUNT(*) FROM (SELECT 1 FROM {_quote(table)} "  # noqa: S608
                   "WHERE alignment_id <> %s LIMIT %s) others", [alignment_id, enough])
    (others,) = cursor.fetchone()
    return others < enough


def _delete_alignment_rows(cursor, table: str, alignment_id: int) -> None:
    """The alignment's rows, found through the territory index (a row's territory
    belongs to its alignment) rather than a scan of every alignment's rows."""
    territories = _quote(Territory._meta.db_table)
    # Table names come from the models, never from input.
    cursor.execute(f"DELETE FROM {_quote(table)} WHERE territory_id IN "  # noqa: S608
                   f"(SELECT id FROM {territories} WHERE alignment_id = %s) "
                   "AND alignment_id = %s", [alignment_id, alignment_id])


def _write(cursor, table: str, flat: list | str, *, frozen: bool = False) -> None:
    """Write one block: flat values, or on PostgreSQL COPY text from `result_blocks`.
    `frozen` (PostgreSQL, a table created in this transaction and savepoint): the rows
    are written as already visible to every later transaction (COPY FREEZE). Otherwise
    the first reader of each page after the commit marks its rows committed and writes
    the page out again: the what-if reading two freshly written alignments (4.4 million
    rows at a million accounts) paid that on every page."""
    # Table and column names come from the model, never from input.
    head = f"INSERT INTO {_quote(table)} ({', '.join(COLUMNS)}) VALUES "  # noqa: S608
    row = "(" + ", ".join(["%s"] * WIDTH) + ")"
    freeze = " WITH (FREEZE)" if frozen else ""
    if isinstance(flat, str):
        # The line's column order: the account id first, then the rule's part.
        columns = "account_id, territory_id, type, reason, alignment_id"
        with cursor.cursor.copy(f"COPY {_quote(table)} ({columns}) FROM STDIN{freeze}") as copy:
            copy.write(flat)
    elif connection.vendor == "postgresql":
        with cursor.cursor.copy(f"COPY {_quote(table)} ({', '.join(COLUMNS)}) "
                                f"FROM STDIN{freeze}") as copy:
            for start in range(0, len(flat), WIDTH):
                copy.write_row(flat[start:start + WIDTH])
    elif connection.vendor == "sqlite":
        step = ROWS_PER_INSERT * WIDTH
        full = len(flat) - len(flat) % step
        if full:
            cursor.executemany(head + ", ".join([row] * ROWS_PER_INSERT),
                               [flat[i:i + step] for i in range(0, full, step)])
        if full < len(flat):
            cursor.execute(head + ", ".join([row] * ((len(flat) - full) // WIDTH)), flat[full:])
    else:
        cursor.executemany(head + row, [flat[i:i + WIDTH] for i in range(0, len(flat), WIDTH)])


# --- SQLite ------------------------------------------------------------------------------


def _fresh_sqlite_table(cursor, table: str, alignment_id: int) -> str:
    """An empty copy of the table (with its unique constraint, which rows arriving in
    account order keep cheap, but no other index) holding the other alignments' rows."""
    fresh = f"{table}_fresh"
    cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = %s", [table])
    create_table = cursor.fetchone()[0]
    cursor.execute(f"DROP TABLE IF EXISTS {_quote(fresh)}")
    cursor.execute(create_table.replace(_quote(table), _quote(fresh), 1))
    _copy_other_alignments(cursor, table, fresh, alignment_id)
    return fresh


def _copy_other_alignments(cursor, table: str, fresh: str, alignment_id: int) -> None:
    """Other alignments keep their rows and ids. One pass over the table in storage
    order: it reads this alignment's old rows too, yet costs half as much as finding the
    others through the territory index, whose order scatters both the reads and (on
    SQLite) the inserts into the fresh table's unique index."""
    # Table names come from the models, never from input.
    cursor.execute(f"INSERT INTO {_quote(fresh)} SELECT * FROM {_quote(table)} "  # noqa: S608
                   "WHERE alignment_id <> %s", [alignment_id])


def _swap_sqlite(cursor, table: str, fresh: str, alignment_id: int) -> None:
    cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s "
                   "AND sql IS NOT NULL", [table])
    create_indexes = [sql for (sql,) in cursor.fetchall()]
    # New ids continue after every id the old table ever gave out.
    cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
    issued = cursor.fetchone()
    cursor.execute(f"DROP TABLE {_quote(table)}")
    cursor.execute(f"ALTER TABLE {_quote(fresh)} RENAME TO {_quote(table)}")
    if issued:
        cursor.execute("UPDATE sqlite_sequence SET seq = max(seq, %s) WHERE name = %s",
                       [issued[0], table])
    for sql in create_indexes:
        cursor.execute(sql)


# --- PostgreSQL --------------------------------------------------------------------------
# The results are partitioned by alignment (migration territories 0009): a full run
# fills a table of its own alignment's rows alone, builds its indexes and attaches it as
# that alignment's partition in place of the old one (or of the alignment's rows in the
# default partition). The other alignments' rows are neither copied nor indexed again.


def _fresh_postgresql_table(cursor, table: str, alignment_id: int) -> str:
    """An empty table shaped like the results, for this alignment's rows only (a check
    constraint says so, which also spares attaching it a scan), its ids drawn from the
    results' own sequence."""
    fresh = f"{_partition_name(table, alignment_id)}_fresh"
    # Full runs take turns from here (this mode conflicts with itself and with schema
    # changes only, not with reads or writes): two of them both reading the table's
    # definition and then both detaching a partition would deadlock.
    cursor.execute(f"LOCK TABLE {_quote(table)} IN SHARE UPDATE EXCLUSIVE MODE")
    # The indexes are built over a million rows and more: room to sort them in memory
    # (the default spills a million rows to disk), for this transaction only.
    cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
    cursor.execute(f"DROP TABLE IF EXISTS {_quote(fresh)}")
    cursor.execute(f"CREATE TABLE {_quote(fresh)} (LIKE {_quote(table)} INCLUDING DEFAULTS)")
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [_quote(table)])
    (sequence,) = cursor.fetchone()
    # Names come from the catalogue and the model; the id is an integer.
    cursor.execute(f"ALTER TABLE {_quote(fresh)} ALTER COLUMN id SET DEFAULT "
                   f"nextval('{sequence}'::regclass)")
    cursor.execute(f"ALTER TABLE {_quote(fresh)} ADD CHECK (alignment_id = {int(alignment_id)})")
    return fresh


def _partition_name(table: str, alignment_id: int) -> str:
    return f"{table}_{int(alignment_id)}"


def _swap_postgresql(cursor, table: str, fresh: str, alignment_id: int) -> None:
    """Give the fresh table the results' constraints and indexes, then make it the
    alignment's partition: the old partition is detached and dropped, or the
    alignment's rows deleted from the default partition where they were."""
    partition = _partition_name(table, alignment_id)
    cursor.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                   "WHERE conrelid = %s::regclass AND contype IN ('p', 'u') "
                   "ORDER BY contype, conname", [_quote(table)])
    # Unnamed: PostgreSQL picks names free beside the old partition's.
    for _name, definition in cursor.fetchall():
        cursor.execute(f"ALTER TABLE {_quote(fresh)} ADD {definition}")
    cursor.execute("SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                   "AND tablename = %s AND indexname NOT IN "
                   "(SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
                   [table, _quote(table)])
    for (definition,) in cursor.fetchall():
        unique = "UNIQUE " if definition.startswith("CREATE UNIQUE") else ""
        method = definition.split(" USING ", 1)[1]
        cursor.execute(f"CREATE {unique}INDEX ON {_quote(fresh)} USING {method}")
    if not _drop_partition(cursor, table, partition):
        _delete_alignment_rows(cursor, table, alignment_id)
    cursor.execute(f"ALTER TABLE {_quote(fresh)} RENAME TO {_quote(partition)}")
    cursor.execute(f"ALTER TABLE {_quote(table)} ATTACH PARTITION {_quote(partition)} "
                   f"FOR VALUES IN ({alignment_id})")
    # A new table has no planner statistics until autovacuum visits it.
    cursor.execute(f"ANALYZE {_quote(partition)}")


def drop_alignment_partition(sender, instance, using: str, **kwargs) -> None:
    """After an alignment is deleted (its results with it), its partition, if it has
    one: left, empty partitions would pile up, and reads by territory alone visit each."""
    connection_ = connections[using]
    if connection_.vendor != "postgresql":
        return
    table = AccountTerritory._meta.db_table
    partition = _partition_name(table, instance.pk)
    with connection_.cursor() as cursor:
        _drop_partition(cursor, table, partition)


def _drop_partition(cursor, table: str, partition: str) -> bool:
    """Detach and drop the partition if the table has it; whether it had."""
    cursor.execute("SELECT 1 FROM pg_inherits WHERE inhparent = %s::regclass "
                   "AND inhrelid = to_regclass(%s)", [_quote(table), _quote(partition)])
    if not cursor.fetchone():
        return False
    cursor.execute(f"ALTER TABLE {_quote(table)} DETACH PARTITION {_quote(partition)}")
    cursor.execute(f"DROP TABLE {_quote(partition)}")
    return True
