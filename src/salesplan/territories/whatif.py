"""Comparing two alignments account by account, at a million accounts.

The database groups each alignment's results by territory and hands over each
territory's account ids as one text list (reading a million rows one by one costs
seconds; parsing a million numbers from text costs a tenth of one); every account's
potential arrives the same way. The comparison itself runs in numpy; only the accounts
that move are looked up again (names, open pipeline, bookings). Territories are matched
across alignments by name, since a draft copied from the active alignment has new
territory ids.

Workload is the number of calls, meetings and other activities logged on an account in
the last twelve months; a territory's goal is the one set for the period covering today.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

import numpy as np
from django.db import connection, transaction
from django.utils import timezone

from salesplan.activities.models import Activity
from salesplan.core.clock import company_today
from salesplan.customers.models import Account
from salesplan.pipeline.models import Opportunity, StageKind

from .models import AccountTerritory, Alignment, Territory, TerritoryGoal, TerritoryType

TYPES = list(TerritoryType.values)
# Ids per `IN (...)` list: below every database's limit on query parameters.
ID_BATCH = 900


@dataclass
class WhatIf:
    """A draft compared with the active alignment."""

    moved_accounts: int = 0
    moves: list[dict] = field(default_factory=list)  # per (type, from, to) pair
    sample: list[dict] = field(default_factory=list)  # some moved accounts in detail
    balance: list[dict] = field(default_factory=list)  # per territory name: before/after


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _cents(column: str) -> str:
    """An amount as whole hundredths, so sums are exact integers on every database."""
    return f"CAST(ROUND(COALESCE({column}, 0) * 100) AS BIGINT)"


def _id_list(column: str) -> str:
    """An aggregate joining the column's values into one comma-separated text."""
    if connection.vendor == "sqlite":
        return f"group_concat({column}, ',')"
    return f"string_agg(CAST({column} AS TEXT), ',')"


def _numbers(texts: list[str]) -> np.ndarray:
    """The integers in comma-separated texts, in order."""
    if not texts:
        return np.empty(0, dtype=np.int64)
    # Parsed in C (six times faster than a Python string per number); anything but
    # whole numbers raises ValueError.
    return np.fromstring(",".join(texts), dtype=np.int64, sep=",")


def _potential() -> tuple[np.ndarray, np.ndarray]:
    """Every account's id and potential in hundredths, sorted by id."""
    # The two lists are built from the same rows in the same order. Table names come
    # from the models, never from input.
    sql = (f"SELECT {_id_list('id')}, {_id_list(_cents('potential'))} "  # noqa: S608
           f"FROM {_table(Account)}")
    with connection.cursor() as cursor:
        cursor.execute(sql)
        ids_text, cents_text = cursor.fetchone()
    ids, cents = _numbers([ids_text] if ids_text else []), _numbers(
        [cents_text] if cents_text else [])
    order = np.argsort(ids)
    return ids[order], cents[order]


def _assignments(alignment: Alignment, names: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """(account*8 + type) keys, sorted, and the territory name code of each. Each
    territory's accounts come as one list, read from the territory index alone (a
    territory has one type, and its results carry it)."""
    territories = {tid: (name, kind) for tid, name, kind in Territory.objects.filter(
        alignment=alignment).values_list("id", "name", "type")}
    code_of = {tid: names.setdefault(name, len(names))
               for tid, (name, _kind) in territories.items()}
    type_code = {t: i for i, t in enumerate(TYPES)}
    # SQLite reads the territory index alone this way and groups without sorting.
    # PostgreSQL finds the alignment's rows through the block-range index on the
    # alignment (they lie together) and hashes their groups; its index-only scans of the
    # territory index would visit the freshly written rows anyway. Table names come from
    # the models, never from input.
    where = (f"territory_id IN (SELECT id FROM {_table(Territory)} WHERE alignment_id = %s)"  # noqa: S608
             if connection.vendor == "sqlite" else "alignment_id = %s")
    sql = (f"SELECT territory_id, {_id_list('account_id')} "  # noqa: S608
           f"FROM {_table(AccountTerritory)} WHERE {where} GROUP BY territory_id")
    with connection.cursor() as cursor:
        cursor.execute(sql, [alignment.pk])
        groups = cursor.fetchall()
    sizes = [text.count(",") + 1 for _tid, text in groups]
    accounts = _numbers([text for _tid, text in groups])
    kinds = np.array([type_code[territories[tid][1]] for tid, _text in groups], dtype=np.int64)
    codes = np.array([code_of[tid] for tid, _text in groups], dtype=np.int64)
    keys = accounts * 8 + np.repeat(kinds, sizes)
    codes = np.repeat(codes, sizes)
    order = np.argsort(keys)
    return keys[order], codes[order]


def _lookup(keys: np.ndarray, codes: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """The code of each wanted key in (sorted keys, codes), -1 where it is missing."""
    if not len(keys):
        return np.full(len(wanted), -1, dtype=np.int64)
    at = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
    return np.where(keys[at] == wanted, codes[at], -1)


def _differences(before_keys, before_codes, after_keys, after_codes):
    after_of_before = _lookup(after_keys, after_codes, before_keys)
    changed = after_of_before != before_codes
    new = _lookup(before_keys, before_codes, after_keys) == -1
    keys = np.concatenate([before_keys[changed], after_keys[new]])
    before = np.concatenate([before_codes[changed], np.full(int(new.sum()), -1)])
    after = np.concatenate([after_of_before[changed], after_codes[new]])
    order = np.argsort(keys, kind="stable")
    return keys[order], before[order], after[order]


def compare(draft: Alignment, base: Alignment, *, sample_size: int = 200) -> WhatIf:
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Its queries each read a table once: compiling them (PostgreSQL's JIT, on by
            # default) cost more than it saved, 0.1-0.15 s of the server's time at a
            # million accounts. For this transaction only.
            # Grouping an alignment's results into one id list per territory holds them
            # all in memory at once (30 MB for 2.2 million results): with the default
            # 4 MB the grouping spilled to disk in nine batches.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
                cursor.execute("SET LOCAL work_mem = '64MB'")
        return _compare(draft, base, sample_size)


def _compare(draft: Alignment, base: Alignment, sample_size: int) -> WhatIf:
    names: dict[str, int] = {}
    before_keys, before_codes = _assignments(base, names)
    after_keys, after_codes = _assignments(draft, names)
    name_of = {code: name for name, code in names.items()}
    ids, potential = _potential()
    position = _positions(ids)
    # One zero past the end: an account deleted since its results were written.
    workload = np.append(_workload(ids, position), 0)
    potential = np.append(potential, 0)

    def potential_of(keys: np.ndarray) -> np.ndarray:
        return potential[position(keys // 8)]

    def workload_of(keys: np.ndarray) -> np.ndarray:
        return workload[position(keys // 8)]

    # Each moved (account, type): its territory before and after (-1: none). Both key
    # arrays are sorted and unique, so matching them is a binary search, not a join.
    keys, before, after = _differences(before_keys, before_codes, after_keys, after_codes)
    result = WhatIf(moved_accounts=int(len(np.unique(keys // 8))))
    result.moves = _pairs(keys, before, after, potential_of(keys), name_of)
    result.sample = _sample(keys[:sample_size], before[:sample_size], after[:sample_size],
                            name_of)
    result.balance = _balance(before_keys, before_codes, after_keys, after_codes,
                              potential_of, workload_of, name_of)
    goals_before, goals_after = _goals(base), _goals(draft)
    for row in result.balance:
        row["goal_before"] = goals_before.get(row["territory"])
        row["goal_after"] = goals_after.get(row["territory"])
    return result


def _positions(ids: np.ndarray):
    """A function giving the position of each account id in `ids` (sorted, unique), and
    len(ids) for an id not there. Account ids are nearly dense, so a table indexed by id
    answers with one gather; a binary search per key cost 0.08 s per 2.2 million keys,
    done eight times in a what-if at a million accounts. Sparse ids keep the search."""
    missing = len(ids)
    if len(ids) and ids[0] >= 0 and ids[-1] <= 4 * len(ids) + 1024:
        table = np.full(int(ids[-1]) + 1, missing, dtype=np.int64)
        table[ids] = np.arange(len(ids))

        def from_table(wanted: np.ndarray) -> np.ndarray:
            inside = (wanted >= 0) & (wanted < len(table))
            return np.where(inside, table[np.clip(wanted, 0, len(table) - 1)], missing)
        return from_table

    def searched(wanted: np.ndarray) -> np.ndarray:
        if not len(ids):
            return np.full(len(wanted), missing, dtype=np.int64)
        at = np.minimum(np.searchsorted(ids, wanted), len(ids) - 1)
        return np.where(ids[at] == wanted, at, missing)
    return searched


def _workload(ids: np.ndarray, position) -> np.ndarray:
    """Activities of the last twelve months per account, aligned with `ids`. The
    accounts of the recent activities come as one text list and are counted here:
    grouping by account in the database made PostgreSQL walk the account index and fetch
    the activities in that order, a random read per activity (a minute for 2.5 million
    activities, against a few seconds for one pass over the table)."""
    since = timezone.now() - timedelta(days=365)
    recent = (Activity.objects.filter(due_at__gte=since, account_id__isnull=False).order_by()
              .values_list("account_id"))
    sql, params = recent.query.sql_with_params()
    # The inner query is the ORM's own; only its column is aggregated.
    sql = f"SELECT {_id_list('account_id')} FROM ({sql}) recent"  # noqa: S608
    if connection.vendor == "sqlite":
        # SQLite would walk the due-date index and look each activity's account up in
        # the table; kept off it ("+"), it reads the (account, due date) index alone,
        # seven times faster. The table name comes from the model.
        sql = (f"SELECT {_id_list('account_id')} FROM {_table(Activity)} "  # noqa: S608
               "WHERE account_id IS NOT NULL AND +due_at >= %s")
        params = (Activity._meta.get_field("due_at").get_db_prep_value(
            since, connection, prepared=False),)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        (text,) = cursor.fetchone()
    account_ids = _numbers([text] if text else [])
    if not len(ids) or not len(account_ids):
        return np.zeros(len(ids), dtype=np.int64)
    at = position(account_ids)
    return np.bincount(at[at < len(ids)], minlength=len(ids)).astype(np.int64)


def _goals(alignment: Alignment) -> dict[str, Decimal]:
    """Each territory's goal for the period covering today, by territory name."""
    today = company_today()
    return dict(TerritoryGoal.objects.filter(
        territory__alignment=alignment, period_start__lte=today, period_end__gte=today)
        .order_by("period_start").values_list("territory__name", "amount"))


def _pairs(keys, before, after, potential, name_of) -> list[dict]:
    if not len(keys):
        return []
    pair_key = (keys % 8) * (1 << 40) + (before + 1) * (1 << 20) + (after + 1)
    uniques, inverse, counts = np.unique(pair_key, return_inverse=True, return_counts=True)
    exact = {}
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(len(uniques) + 1))
    for i in range(len(uniques)):
        exact[i] = int(potential[order[bounds[i]:bounds[i + 1]]].sum())
    pipeline, booked = _pipeline_and_bookings(np.unique(keys // 8))
    pipe_by_pair = np.zeros(len(uniques), dtype=np.int64)
    booked_by_pair = np.zeros(len(uniques), dtype=np.int64)
    account_ids = keys // 8
    for i in range(len(uniques)):
        members = account_ids[order[bounds[i]:bounds[i + 1]]].tolist()
        pipe_by_pair[i] = sum(pipeline.get(a, 0) for a in members)
        booked_by_pair[i] = sum(booked.get(a, 0) for a in members)
    rows = []
    for i, key in enumerate(uniques.tolist()):
        kind, from_code, to_code = key >> 40, ((key >> 20) & 0xFFFFF) - 1, (key & 0xFFFFF) - 1
        rows.append({"type": TYPES[kind], "from": name_of.get(from_code),
                     "to": name_of.get(to_code), "accounts": int(counts[i]),
                     "potential": Decimal(exact[i]).scaleb(-2),
                     "open_pipeline": Decimal(int(pipe_by_pair[i])).scaleb(-2),
                     "bookings": Decimal(int(booked_by_pair[i])).scaleb(-2)})
    rows.sort(key=lambda r: -r["accounts"])
    return rows


def _pipeline_and_bookings(account_ids: np.ndarray) -> tuple[dict[int, int], dict[int, int]]:
    """Open pipeline, and won in the last twelve months, in hundredths per account, for
    the accounts that move: both from one visit to each account's opportunities (a
    plain IN list per batch: the ORM's per-value preparation cost more than the query;
    on PostgreSQL one array of every id, in one query: fifty thousand moved accounts
    cost a sixth less of its time than in batches)."""
    since = timezone.now() - timedelta(days=365)
    # Table names come from the models, never from input.
    sql = (f"SELECT account_id, SUM(CASE WHEN status = %s THEN {_cents('amount')} END), "  # noqa: S608
           f"SUM(CASE WHEN status = %s AND closed_at >= %s THEN {_cents('amount')} END) "
           f"FROM {_table(Opportunity)} WHERE status IN (%s, %s) "
           "AND account_id {} GROUP BY account_id")
    ids = account_ids.tolist()
    head = [StageKind.OPEN, StageKind.WON, since, StageKind.OPEN, StageKind.WON]
    if connection.vendor == "postgresql":
        queries = [(sql.format("= ANY(%s)"), [*head, ids])] if ids else []
    else:
        queries = [(sql.format(f"IN ({', '.join(['%s'] * len(part))})"), [*head, *part])
                   for part in (ids[i:i + ID_BATCH] for i in range(0, len(ids), ID_BATCH))]
    pipeline: dict[int, int] = {}
    booked: dict[int, int] = {}
    with connection.cursor() as cursor:
        for query, params in queries:
            cursor.execute(query, params)
            for account_id, open_total, won_total in cursor.fetchall():
                if open_total is not None:
                    pipeline[account_id] = int(open_total)
                if won_total is not None:
                    booked[account_id] = int(won_total)
    return pipeline, booked


def _sample(keys, before, after, name_of) -> list[dict]:
    accounts = Account.objects.in_bulk((keys // 8).tolist())
    return [{"account_id": int(k // 8), "account": accounts[int(k // 8)].name,
             "type": TYPES[int(k % 8)], "from": name_of.get(int(b)), "to": name_of.get(int(a)),
             "potential": accounts[int(k // 8)].potential}
            for k, b, a in zip(keys.tolist(), before.tolist(), after.tolist(), strict=True)
            if int(k // 8) in accounts]


def _balance(before_keys, before_codes, after_keys, after_codes, potential_of, workload_of,
             name_of) -> list[dict]:
    size = len(name_of) + 1
    rows = []
    counts_before = np.bincount(before_codes, minlength=size)
    counts_after = np.bincount(after_codes, minlength=size)
    pot_before = _int_sums(before_codes, potential_of(before_keys), size)
    pot_after = _int_sums(after_codes, potential_of(after_keys), size)
    work_before = _int_sums(before_codes, workload_of(before_keys), size)
    work_after = _int_sums(after_codes, workload_of(after_keys), size)
    for code, name in sorted(name_of.items(), key=lambda item: item[1]):
        rows.append({"territory": name, "accounts_before": int(counts_before[code]),
                     "accounts_after": int(counts_after[code]),
                     "potential_before": Decimal(int(pot_before[code])).scaleb(-2),
                     "potential_after": Decimal(int(pot_after[code])).scaleb(-2),
                     "workload_before": int(work_before[code]),
                     "workload_after": int(work_after[code])})
    return rows


def _int_sums(codes: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Exact integer sums per code (bincount would go through floats)."""
    sums = np.zeros(size, dtype=np.int64)
    np.add.at(sums, codes, values)
    return sums
