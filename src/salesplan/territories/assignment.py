"""Running the rule engine against the database: full runs, re-assigning the accounts a
change affects, and assigning one account the moment it is saved.

Full runs stream accounts in chunks of plain tuples and write results with one
multi-row INSERT per chunk (bypassing model instances: at a million rows building
objects would cost more than the whole assignment).
"""

import json
import time
from collections.abc import Callable, Iterable
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

from .models import (
    AccountTerritory,
    Alignment,
    AssignmentConflict,
    BoundaryRule,
    NamedAccount,
    Territory,
)

CHUNK = 20_000
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
    columns = account_columns(queryset, progress, fields=matcher.fields_used())
    return matcher.assign(columns)


def account_columns(queryset=None, progress=None, fields=None) -> AccountColumns:
    """Accounts as columns, read with the ORM's SQL but without building a Python object
    (or a Decimal) per row: revenue arrives as whole hundredths. Only `fields` (default:
    all the rules could read) are fetched; the others stay None."""
    queryset = Account.objects.all() if queryset is None else queryset
    wanted = [name for name in ACCOUNT_COLUMNS[1:] if fields is None or name in fields]
    selected = ["id", *[("revenue_cents" if n == "annual_revenue" else n) for n in wanted]]
    if "annual_revenue" in wanted:
        queryset = queryset.annotate(revenue_cents=Cast(
            Round(F("annual_revenue") * Value(Decimal(100))), BigIntegerField()))
    sql, params = queryset.order_by().values_list(*selected).query.sql_with_params()
    columns: list[list] = [[] for _ in selected]
    done = 0
    with connection.cursor() as cursor:
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


def _insert_sql() -> str:
    quote = connection.ops.quote_name
    table = quote(AccountTerritory._meta.db_table)
    # The table name comes from the model, never from input.
    return (f"INSERT INTO {table} (account_id, alignment_id, territory_id, type, reason) "  # noqa: S608
            "VALUES (%s, %s, %s, %s, %s)")


def _insert_rows(cursor, rows: list[tuple]) -> None:
    """Insert (account_id, alignment_id, territory_id, type, reason) rows: PostgreSQL
    takes them through COPY (several times faster than INSERTs at a million rows),
    SQLite through one prepared INSERT."""
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(AccountTerritory._meta.db_table)
        # The table name comes from the model, never from input.
        copy_sql = f"COPY {table} (account_id, alignment_id, territory_id, type, reason) FROM STDIN"
        with cursor.cursor.copy(copy_sql) as copy:
            for row in rows:
                copy.write_row(row)
        return
    cursor.executemany(_insert_sql(), rows)


def write_assignments(alignment_id: int, assignments) -> None:
    """Insert (account_id, territory_id, kind, reason) rows: a list, or a BulkOutcome."""
    chunks = (assignments.chunks(CHUNK) if isinstance(assignments, BulkOutcome)
              else (assignments[i:i + CHUNK] for i in range(0, len(assignments), CHUNK)))
    with connection.cursor() as cursor:
        for chunk in chunks:
            _insert_rows(cursor, [(a, alignment_id, t, k, r[:300]) for a, t, k, r in chunk])


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
        AccountTerritory.objects.filter(alignment=alignment).delete()
        AssignmentConflict.objects.filter(alignment=alignment).delete()
        written = 0
        with connection.cursor() as cursor:
            for chunk in out.chunks(CHUNK):
                _insert_rows(cursor, [(a, alignment.pk, t, k, r[:300]) for a, t, k, r in chunk])
                written += len(chunk)
                if progress:
                    progress(total // 2 + written * (total - total // 2) // max(len(out), 1),
                             total)
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
        account_ids = list(account_ids)
        queryset = queryset.filter(pk__in=account_ids)
    if accounts_q is not None:
        queryset = queryset.filter(accounts_q)
    small = account_ids is not None and len(account_ids) <= SMALL_BATCH
    if small or queryset.count() <= SMALL_BATCH:
        out, ids = Outcome(), list[int]()
        index = compiled_index(alignment)
        for batch in account_rows(queryset):
            ids.extend(f[0] for f in batch)
            index.assign(batch, out)
    else:
        loaded = loaded_rules(alignment)
        matcher = BulkMatcher(loaded.rules, loaded.named)
        columns = account_columns(queryset, fields=matcher.fields_used())
        ids = list(columns.ids)
        out = matcher.assign(columns).to_outcome()
    changed = _replace_results(alignment, queryset, out)
    return {"accounts": len(ids), "changed": changed}


def _replace_results(alignment: Alignment, scope, out: Outcome) -> int:
    """Write the new results of the accounts in `scope` (a queryset), touching only rows
    that changed; returns how many rows were added or removed."""
    accounts = scope.order_by().values("pk")
    current = AccountTerritory.objects.filter(alignment=alignment, account__in=accounts)
    old = {(a, t, k, r): pk for pk, a, t, k, r in current.values_list(
        "pk", "account_id", "territory_id", "type", "reason").iterator(chunk_size=CHUNK)}
    new = {(a, t, k, r[:300]) for a, t, k, r in out.assignments}
    stale = [(pk,) for row, pk in old.items() if row not in new]
    fresh = [row for row in new if row not in old]
    quote = connection.ops.quote_name
    # The table name comes from the model, never from input.
    delete_sql = (f"DELETE FROM {quote(AccountTerritory._meta.db_table)} "  # noqa: S608
                  "WHERE id = %s")
    with transaction.atomic():
        if stale:
            with connection.cursor() as cursor:
                cursor.executemany(delete_sql, stale)
        write_assignments(alignment.pk, fresh)
        AssignmentConflict.objects.filter(alignment=alignment, account__in=accounts).delete()
        write_conflicts(alignment.pk, out.conflicts)
    return len(stale) + len(fresh)


def assign_account(account_id: int) -> None:
    """Assign one new or edited account in every alignment still in use."""
    for alignment in Alignment.objects.exclude(status=Alignment.Status.ARCHIVED):
        reassign(alignment, account_ids=[account_id])


# --- which accounts a rule could touch ------------------------------------------------

_TEXT_LOOKUP = {"country": "country", "state": "state", "county": "county",
                "industry": "industry", "tier": "tier", "postal_code": "postal_code"}


def _bump(text: str) -> str:
    return text[:-1] + chr(ord(text[-1]) + 1)


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
        low, high = str(low).strip().upper(), str(high).strip().upper()
        return Q(postal_code__gte=low, postal_code__lt=_bump(high))
    q = Q()
    for value in values:
        value = str(value).strip()
        if op == "prefix":
            q |= Q(postal_code__istartswith=value)
        else:
            q |= Q(**{f"{_TEXT_LOOKUP[name]}__iexact": value})
    return q


def rule_q(combine: str, conditions: list[dict]) -> Q:
    """Accounts a rule could claim: its conditions combined the way the rule combines
    them (a superset is fine: the engine re-checks every account found)."""
    q = Q()
    for condition in conditions:
        part = condition_q(condition)
        q = part if not q else (q & part if combine == "all" else q | part)
    return q
