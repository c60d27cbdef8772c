"""Running the rule engine against the database: full runs, re-assigning the accounts a
change affects, and assigning one account the moment it is saved.

Full runs stream accounts in chunks of plain tuples and write results with one
multi-row INSERT per chunk (bypassing model instances: at a million rows building
objects would cost more than the whole assignment).
"""

import gc
import json
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import BigIntegerField, F, Q, Value
from django.db.models.functions import Cast, Round
from django.utils import timezone

from salesplan.customers.models import Account
from salesplan.engines.territory_rules import (
    ACCOUNT_COLUMNS,
    AccountColumns,
    BulkMatcher,
    BulkOutcome,
    Outcome,
    Rule,
    RuleIndex,
    account_facts,
    validate_rule,
)
from salesplan.engines.territory_rules import (
    NamedAccount as EngineNamedAccount,
)

from .bulk_write import insert_results, replace_alignment_results
from .models import (
    AccountTerritory,
    Alignment,
    AssignmentConflict,
    BoundaryRule,
    NamedAccount,
    Territory,
)

CHUNK = 20_000
# Ids per `IN (...)` list: below every database's limit on query parameters.
ID_BATCH = 900
# Below this many accounts the per-account rule index beats setting up the bulk matcher.
SMALL_BATCH = 2_000
_compiled: dict[int, tuple[str, RuleIndex]] = {}
_loaded: dict[int, tuple[str, "CompiledAlignment"]] = {}
_parse_cache: dict[str, tuple | None] = {}


@dataclass
class CompiledAlignment:
    rules: list[Rule]
    named: list[EngineNamedAccount]


def territory_depths(rows: Iterable[tuple[int, int | None]]) -> dict[int, int]:
    """Depth of each territory in its hierarchy (roots are 0)."""
    parents = dict(rows)
    depths: dict[int, int] = {}

    def depth(tid: int) -> int:
        if tid not in depths:
            chain: list[int] = []
            current: int | None = tid
            while current is not None and current not in depths and current not in chain:
                chain.append(current)
                current = parents.get(current)
            base = depths.get(current, -1) if current is not None else -1
            for offset, item in enumerate(reversed(chain), start=1):
                depths[item] = base + offset
        return depths[tid]

    for tid in parents:
        depth(tid)
    return depths


def load_rules(alignment: Alignment) -> CompiledAlignment:
    """The alignment's rules and named accounts in engine form, in a stable order."""
    territories = {t[0]: t for t in Territory.objects.filter(alignment=alignment)
                   .values_list("id", "parent_id", "name", "type", "priority")}
    depths = territory_depths((tid, t[1]) for tid, t in territories.items())
    rules = []
    for rule_id, tid, position, combine, raw in (
            BoundaryRule.objects.filter(territory__alignment=alignment)
            .order_by("territory_id", "position")
            .values_list("id", "territory_id", "position", "combine", "conditions")):
        _, _, name, kind, priority = territories[tid]
        conditions = _parsed(combine, raw)
        if conditions is None:  # stored rules were validated; skip rather than stop a run
            continue
        rules.append(Rule(rule_id, tid, kind, (priority, depths[tid]),
                          f"rule {position} of {name}", combine, conditions))
    named = [
        EngineNamedAccount(tid, territories[tid][3], (territories[tid][4], depths[tid]),
                           account_id, include, territories[tid][2])
        for tid, account_id, include in NamedAccount.objects.filter(
            territory__alignment=alignment).values_list("territory_id", "account_id", "include")
    ]
    return CompiledAlignment(rules, named)


def loaded_rules(alignment: Alignment) -> CompiledAlignment:
    """The alignment's rules in engine form, cached until they change."""
    cached = _loaded.get(alignment.pk)
    if cached and cached[0] == alignment.rules_token:
        return cached[1]
    loaded = load_rules(alignment)
    _loaded[alignment.pk] = (alignment.rules_token, loaded)
    return loaded


def _parsed(combine: str, raw) -> tuple | None:
    """Parsed conditions, remembered: after one rule changes, the other thousands need
    not be parsed again."""
    key = combine + json.dumps(raw, sort_keys=True)
    if key not in _parse_cache:
        if len(_parse_cache) > 200_000:
            _parse_cache.clear()
        conditions, errors = validate_rule(combine, raw)
        _parse_cache[key] = None if errors else conditions
    return _parse_cache[key]


def compiled_index(alignment: Alignment) -> RuleIndex:
    """The per-account rule index (for single accounts and small batches), cached per
    alignment until its rules change."""
    cached = _compiled.get(alignment.pk)
    if cached and cached[0] == alignment.rules_token:
        return cached[1]
    loaded = loaded_rules(alignment)
    index = RuleIndex(loaded.rules, loaded.named)
    _compiled[alignment.pk] = (alignment.rules_token, index)
    return index


def match_accounts(alignment: Alignment, queryset=None, progress=None) -> BulkOutcome:
    """Read the accounts as columns and match them all at once (full runs, big batches)."""
    loaded = loaded_rules(alignment)
    matcher = BulkMatcher(loaded.rules, loaded.named)
    with _collector_paused():
        columns = account_columns(queryset, progress, fields=matcher.fields_used())
        return matcher.assign(columns)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off while a million accounts are read and matched: the
    rows arrive as tuples, each one tracked, and the collections they set off walked
    every row still held (0.2 s of the reading at a million accounts). Nothing read
    here forms a cycle."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def account_columns(queryset=None, progress=None, fields=None) -> AccountColumns:
    """Accounts as columns, read with the ORM's SQL but without building a Python object
    (or a Decimal) per row: revenue arrives as whole hundredths. Only `fields` (default:
    all the rules could read) are fetched; the others stay None."""
    return _read_columns([Account.objects.all() if queryset is None else queryset],
                         progress, fields)


def account_columns_of(account_ids: list[int], fields=None) -> AccountColumns:
    """The columns of these accounts, looked up by id a batch at a time."""
    return _read_columns([Account.objects.filter(pk__in=part) for part in id_batches(account_ids)],
                         None, fields)


def id_batches(ids: list[int], size: int = ID_BATCH) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def _read_columns(querysets: list, progress, fields) -> AccountColumns:
    wanted = [name for name in ACCOUNT_COLUMNS[1:] if fields is None or name in fields]
    selected = ["id", *[("revenue_cents" if n == "annual_revenue" else n) for n in wanted]]
    columns: list[list] = [[] for _ in selected]
    done = 0
    with connection.cursor() as cursor:
        for queryset in querysets:
            if "annual_revenue" in wanted:
                queryset = queryset.annotate(revenue_cents=Cast(
                    Round(F("annual_revenue") * Value(Decimal(100))), BigIntegerField()))
            sql, params = queryset.order_by().values_list(*selected).query.sql_with_params()
            cursor.execute(sql, params)
            while rows := cursor.fetchmany(CHUNK):
                for column, values in zip(columns, zip(*rows, strict=True), strict=True):
                    column.extend(values)
                done += len(rows)
                if progress:
                    progress(done)
    by_name = dict(zip(["id", *wanted], columns, strict=True))
    # Columns a run does not need were not read: they stay None.
    return AccountColumns(by_name["id"], *[by_name.get(name) for name in ACCOUNT_COLUMNS[1:]])  # type: ignore[arg-type]


def account_rows(queryset=None, chunk: int = CHUNK):
    """Account facts as tuples in chunks (for the per-account index on small batches)."""
    queryset = Account.objects.all() if queryset is None else queryset
    batch = []
    for row in queryset.order_by().values_list(*ACCOUNT_COLUMNS).iterator(chunk_size=chunk):
        batch.append(account_facts(row))
        if len(batch) >= chunk:
            yield batch
            batch = []
    if batch:
        yield batch


def write_conflicts(alignment_id: int, conflicts) -> None:
    AssignmentConflict.objects.bulk_create(
        [AssignmentConflict(alignment_id=alignment_id, account_id=a, type=k, territory_ids=list(t))
         for a, k, t in conflicts], batch_size=2000)


def run_full_assignment(alignment: Alignment,
                        progress: Callable[[int, int], None] | None = None) -> dict:
    """Assign every account under the alignment's rules and replace its results.
    Progress: reading the accounts is the first half, writing the results the second."""
    alignment.refresh_from_db()
    version = alignment.rules_version
    total = Account.objects.count()
    report = (lambda done: progress(done // 2, total)) if progress else None
    started = time.perf_counter()
    out = match_accounts(alignment, progress=report)
    matched = time.perf_counter()
    with transaction.atomic():
        AssignmentConflict.objects.filter(alignment=alignment).delete()
        written = (lambda done: progress(total // 2 + done * (total - total // 2)
                                         // max(len(out), 1), total)) if progress else None
        replace_alignment_results(alignment.pk, out, written)
        write_conflicts(alignment.pk, out.conflicts)
        Alignment.objects.filter(pk=alignment.pk).update(
            assigned_version=version, assigned_at=timezone.now(),
            conflict_count=len(out.conflicts), unclaimed_count=len(out.unclaimed))
    return {"accounts": total, "assigned": len(out),
            "conflicts": len(out.conflicts), "unclaimed": len(out.unclaimed),
            "seconds_reading_and_matching": round(matched - started, 2),
            "seconds_writing": round(time.perf_counter() - matched, 2)}


def reassign(alignment: Alignment, accounts_q: Q | None = None,
             account_ids: Iterable[int] | None = None) -> dict:
    """Re-run the rules for the accounts matching `accounts_q` (or with these ids) and
    write only what changed. Used after a rule edit and when an account is saved."""
    queryset = Account.objects.all()
    if account_ids is not None:
        queryset = queryset.filter(pk__in=list(account_ids))
    if accounts_q is not None:
        queryset = queryset.filter(accounts_q)
    # The scope is worked out once: its filter may have to scan every account, and the
    # accounts, their results and their conflicts are then all found by id.
    # Sorted here: asked to sort, SQLite would scan the table in id order rather than
    # use the index the filter needs.
    ids = sorted(queryset.order_by().values_list("pk", flat=True))
    if len(ids) <= SMALL_BATCH:
        out, index = Outcome(), compiled_index(alignment)
        for part in id_batches(ids):
            for batch in account_rows(Account.objects.filter(pk__in=part)):
                index.assign(batch, out)
    else:
        loaded = loaded_rules(alignment)
        matcher = BulkMatcher(loaded.rules, loaded.named)
        out = matcher.assign(account_columns_of(ids, fields=matcher.fields_used())).to_outcome()
    changed = _replace_results(alignment, ids, out)
    return {"accounts": len(ids), "changed": changed}


def _replace_results(alignment: Alignment, account_ids: list[int], out: Outcome) -> int:
    """Write the new results of these accounts, touching only rows that changed;
    returns how many rows were added, changed or removed. An account that moves keeps
    its row (same id), so the (account, alignment, type) index is left alone."""
    old: dict[tuple[int, str], tuple[int, int, str]] = {}
    for part in id_batches(account_ids):
        current = AccountTerritory.objects.filter(alignment=alignment, account_id__in=part)
        old.update({(a, k): (pk, t, r) for pk, a, t, k, r in current.order_by().values_list(
            "pk", "account_id", "territory_id", "type", "reason")})
    new = {(a, k): (t, r[:300]) for a, t, k, r in out.assignments}
    moved = sorted((old[slot][0], *result) for slot, result in new.items()
                   if slot in old and old[slot][1:] != result)
    gone = sorted(row[0] for slot, row in old.items() if slot not in new)
    added = sorted((a, t, k, r) for (a, k), (t, r) in new.items() if (a, k) not in old)
    table = connection.ops.quote_name(AccountTerritory._meta.db_table)
    scope = set(account_ids)
    # Conflicts are few: finding this scope's among all of them needs no account filter.
    settled = [pk for pk, account_id in AssignmentConflict.objects.filter(
        alignment=alignment).values_list("pk", "account_id") if account_id in scope]
    with transaction.atomic(), connection.cursor() as cursor:
        _move_rows(cursor, table, alignment.pk, moved)
        # The alignment narrows the rows to its partition on PostgreSQL. The table name
        # comes from the model, never from input.
        for part in id_batches(gone):
            cursor.execute(f"DELETE FROM {table} WHERE alignment_id = %s AND id IN "  # noqa: S608
                           f"({', '.join(['%s'] * len(part))})", [alignment.pk, *part])
        insert_results(alignment.pk, added)
        for part in id_batches(settled):
            AssignmentConflict.objects.filter(pk__in=part).delete()
        write_conflicts(alignment.pk, out.conflicts)
    return len(moved) + len(gone) + len(added)


def _move_rows(cursor, table: str, alignment_id: int,
               moved: list[tuple[int, int, str]]) -> None:
    """Give these (row id, territory, reason) rows their new territory and reason. On
    PostgreSQL in one statement over arrays, within the alignment's partition: one
    UPDATE per row through the partitioned table cost a plan and a look-up in every
    partition each (1.2 s of the server's time for the ten thousand rows a rule change
    moves at a million accounts)."""
    if not moved:
        return
    # The table name comes from the model, never from input.
    if connection.vendor == "postgresql":
        ids, territories, reasons = (list(column) for column in zip(*moved, strict=True))
        cursor.execute(f"UPDATE {table} AS result SET territory_id = moved.territory_id, "  # noqa: S608
                       "reason = moved.reason FROM unnest(%s::bigint[], %s::bigint[], "
                       "%s::text[]) AS moved (id, territory_id, reason) "
                       "WHERE result.alignment_id = %s AND result.id = moved.id",
                       [ids, territories, reasons, alignment_id])
        return
    cursor.executemany(f"UPDATE {table} SET territory_id = %s, reason = %s "  # noqa: S608
                       "WHERE id = %s", [(t, r, pk) for pk, t, r in moved])


def assign_account(account_id: int) -> None:
    """Assign one new or edited account in every alignment still in use."""
    for alignment in Alignment.objects.exclude(status=Alignment.Status.ARCHIVED):
        reassign(alignment, account_ids=[account_id])


# --- which accounts a rule could touch ------------------------------------------------

_TEXT_LOOKUP = {"country": "country", "state": "state", "county": "county",
                "industry": "industry", "tier": "tier", "postal_code": "postal_code"}


def _bump(text: str) -> str:
    return text[:-1] + chr(ord(text[-1]) + 1)


def _codes_from(low: str, high: str | None = None) -> Q:
    """Postal codes from `low` up to every code starting with `high` (default `low`).
    For digits the end is the next number ("1299" ends before "13"): a character after
    "9" would sort differently under a database's linguistic collation."""
    high = low if high is None else high
    if high.isascii() and high.isdigit():
        carried = high.rstrip("9")
        end = carried[:-1] + str(int(carried[-1]) + 1) if carried else None
    else:
        end = _bump(high)
    return Q(postal_code__gte=low, postal_code__lt=end) if end else Q(postal_code__gte=low)


def condition_q(condition: dict) -> Q:
    """A database filter that finds (at least) every account meeting the condition."""
    name, op, values = condition["field"], condition.get("op", "in"), condition["values"]
    if isinstance(values, (str, int)):
        values = [values]
    if op == "between":
        low, high = values
        q = Q(**{f"{name}__isnull": False})
        if low not in (None, ""):
            q &= Q(**{f"{name}__gte": low})
        if high not in (None, ""):
            q &= Q(**{f"{name}__lte": high})
        return q
    if op == "range":
        low, high = values if len(values) == 2 else values[0].split("-", 1)
        return _codes_from(str(low).strip().upper(), str(high).strip().upper())
    q = Q()
    for value in values:
        value = str(value).strip()
        if name == "postal_code" and value.isascii() and value.isdigit():
            # Digits have no case: the postal-code index finds them (a LIKE cannot).
            q |= _codes_from(value) if op == "prefix" else Q(postal_code=value)
        elif op == "prefix":
            q |= Q(postal_code__istartswith=value)
        else:
            q |= Q(**{f"{_TEXT_LOOKUP[name]}__iexact": value})
    return q


def _untidy_postal_codes() -> Q:
    """Stored postal codes the engine reads differently from their raw text, because
    whitespace is stripped first. Whitespace sorts below "0" in ASCII and, byte by byte,
    from "\x85" on in Unicode; a linguistic collation (PostgreSQL other than C) sorts
    it with the code it pads, inside the ranges already asked for. In a tidy database
    these spans are empty: one index seek each."""
    q = Q(postal_code__gt="", postal_code__lt="0")
    if _sorts_by_code_point():
        q |= Q(postal_code__gte="\x85")
    return q


_collations: dict[str, bool] = {}


def _sorts_by_code_point() -> bool:
    if connection.vendor != "postgresql":
        return connection.vendor == "sqlite"
    name = connection.settings_dict["NAME"]
    if name not in _collations:
        with connection.cursor() as cursor:
            cursor.execute("SELECT datcollate FROM pg_database "
                           "WHERE datname = current_database()")
            collation = cursor.fetchone()[0]
        _collations[name] = collation.split(".")[0] in ("C", "POSIX")
    return _collations[name]


def rule_q(combine: str, conditions: list[dict]) -> Q:
    """Accounts a rule could claim: its conditions combined the way the rule combines
    them (a superset is fine: the engine re-checks every account found)."""
    q = Q()
    for condition in conditions:
        part = condition_q(condition)
        q = part if not q else (q & part if combine == "all" else q | part)
    if any(condition["field"] == "postal_code" for condition in conditions):
        q |= _untidy_postal_codes()
    return q
