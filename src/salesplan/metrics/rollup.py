"""Keeping the rollups up to date (see `metrics.models` for what they hold).

`refresh()` runs before a report reads the facts. It re-reads the source records that
are new (id above the last one seen) or named in the audit trail since the last entry
read, and applies the difference between each record's new line and its stored line to
the fact cells. Re-reading a record that did not change costs a little time and changes
nothing, so the watermarks can safely overlap. `rebuild()` recomputes everything from
the source tables (the first run, and `salesplan reports rebuild`).
"""

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, models, transaction
from django.db.models import Max, Min, Q
from django.utils import timezone

from salesplan.activities.models import Activity
from salesplan.core.clock import company_zone
from salesplan.core.models import AuditEntry
from salesplan.core.request_memo import remembered
from salesplan.customers.models import Lead, LeadStatus
from salesplan.pipeline.models import Opportunity, OpportunityChange, Stage, StageKind
from salesplan.territories.models import AccountTerritory, Alignment, TerritoryType

from .models import (
    NO_TERRITORY,
    ActivityFact,
    ActivityLine,
    LeadFact,
    LeadLine,
    OpportunityFact,
    OpportunityLine,
    RollupState,
)
from .rebuild import rebuild_in_database

logger = logging.getLogger(__name__)

CHUNK = 5_000
# Above this many source records a full rebuild is left to a background job, never run
# inside a request.
LARGE = 200_000
WEIGHT = Decimal("0.0001")
CLOSED_KINDS = (StageKind.WON, StageKind.LOST)
REACHING_KINDS = (StageKind.OPEN, StageKind.WON)
# Audit ids skipped over (on PostgreSQL: a transaction still open when its neighbours were
# read) are looked at again until they appear or this many seconds have passed.
GAP_SECONDS = 600

Line = tuple
FactKey = tuple
Measures = tuple


class Context:
    """What computing lines needs besides the record: stages, time zone, territories."""

    def __init__(self) -> None:
        self.zone: ZoneInfo = company_zone()
        self.stages = {pk: (position, kind) for pk, position, kind in
                       Stage.objects.values_list("id", "position", "kind")}
        self.alignment_id, self.territory_key = active_territory_key()

    def territories_of(self, account_ids: Iterable[int]) -> dict[int, int]:
        if self.alignment_id is None:
            return {}

        ids = sorted(set(account_ids))
        found: dict[int, int] = {}
        for start in range(0, len(ids), CHUNK):
            found.update(AccountTerritory.objects.filter(
                alignment_id=self.alignment_id, type=TerritoryType.GEOGRAPHIC,
                account_id__in=ids[start:start + CHUNK]).values_list("account_id",
                                                                     "territory_id"))
        return found


def month_of_instant(value: datetime, zone: ZoneInfo) -> date:
    """The calendar month (its first day) an instant falls in, in the company's zone."""
    return value.astimezone(zone).date().replace(day=1)


def active_territory_key() -> tuple[int | None, str]:
    """The active alignment and a key that changes whenever its assignment is rerun
    (read once per page)."""
    return remembered("active-territory-key", _read_territory_key)


def _read_territory_key() -> tuple[int | None, str]:
    alignment = Alignment.objects.filter(status=Alignment.Status.ACTIVE).values(
        "id", "assigned_version", "assigned_at").first()
    if alignment is None:
        return None, ""
    stamp = alignment["assigned_at"].isoformat() if alignment["assigned_at"] else ""
    return alignment["id"], f"{alignment['id']}:{alignment['assigned_version']}:{stamp}"


class Rollup:
    """One source model summed into one fact table through its line table."""

    name: str
    source: type[models.Model]
    record_type: str
    line_model: type[models.Model]
    fact_model: type[models.Model]
    line_fields: tuple[str, ...]
    key_fields: tuple[str, ...]
    measure_fields: tuple[str, ...]
    # Deleting these records (audited) deletes this rollup's records by cascade:
    # (record type, line field naming it).
    cascades: tuple[tuple[str, str], ...] = ()
    uses_territories = False

    def read_lines(self, where: dict[str, Any], ctx: Context) -> dict[int, Line]:
        """Lines of the source records matching `where` (a filter on `pk`)."""
        raise NotImplementedError

    def facts_of(self, line: Line) -> list[tuple[FactKey, Measures]]:
        raise NotImplementedError

    def key_filter(self, keys: list[FactKey]) -> dict[str, Any]:
        """A coarse filter that finds the stored cells of these keys in one query."""
        months = {k[self.key_fields.index("month")] for k in keys}
        owners = {k[self.key_fields.index("owner_id")] for k in keys}
        return {"month__in": months, "owner_id__in": owners}

    @property
    def pk_name(self) -> str:
        return self.line_model._meta.pk.name


class OpportunityRollup(Rollup):
    name = "opportunities"
    source = Opportunity
    record_type = "opportunity"
    line_model = OpportunityLine
    fact_model = OpportunityFact
    line_fields = ("owner_id", "pipeline_id", "stage_id", "status", "currency", "territory_id",
                   "close_month", "created_month", "reached_position", "amount", "weighted",
                   "cycle_days")
    key_fields = ("basis", "month", "owner_id", "pipeline_id", "stage_id", "status", "currency",
                  "territory_id", "reached_position")
    measure_fields = ("count", "amount", "weighted", "cycle_days")
    uses_territories = True

    def read_lines(self, where: dict[str, Any], ctx: Context) -> dict[int, Line]:
        rows = list(Opportunity.objects.filter(**where).values_list(
            "id", "owner_id", "pipeline_id", "stage_id", "status", "currency", "account_id",
            "close_date", "created_at", "amount", "probability", "closed_at"))
        # The stage history, summed per deal in the database: first recorded change, last
        # move into a closed stage, furthest open or won stage entered.
        history = {h[0]: h[1:] for h in OpportunityChange.objects.filter(
            field=OpportunityChange.Field.STAGE,
            **{k.replace("pk", "opportunity_id", 1): v for k, v in where.items()}).values(
            "opportunity_id").annotate(
            first=Min("changed_at"),
            closing=Max("changed_at", filter=Q(to_stage__kind__in=CLOSED_KINDS)),
            reached=Max("to_stage__position", filter=Q(to_stage__kind__in=REACHING_KINDS)),
        ).values_list("opportunity_id", "first", "closing", "reached")}
        territory = ctx.territories_of(r[6] for r in rows)
        return {row[0]: opportunity_line(row, history.get(row[0]), territory, ctx)
                for row in rows}

    def facts_of(self, line: Line) -> list[tuple[FactKey, Measures]]:
        (owner, pipeline, stage, status, currency, territory, close_month, created_month,
         reached, amount, weighted, cycle) = line
        measures = (1, amount, weighted, cycle)
        return [
            (("close", close_month, owner, pipeline, stage, status, currency, territory, 0),
             measures),
            (("created", created_month, owner, pipeline, stage, status, currency, territory,
              reached), measures),
        ]

    def key_filter(self, keys: list[FactKey]) -> dict[str, Any]:
        return {**super().key_filter(keys), "basis__in": {k[0] for k in keys}}


def opportunity_line(row: tuple, history: tuple | None, territory: dict[int, int],
                     ctx: Context) -> Line:
    """One opportunity's line: its dimensions, its weighted amount, the furthest stage it
    reached (from the recorded history and its current stage) and, once closed, its
    sales-cycle length in days from the first recorded stage to the change that closed
    it. `history` is (first change, last closing change, furthest position) or None."""
    (_, owner, pipeline, stage, status, currency, account, close_date, created_at, amount,
     probability, closed_at) = row
    amount = Decimal(amount)
    first, closing, furthest = history or (None, None, None)
    reached = reached_position([stage], ctx.stages)
    if furthest is not None:
        reached = max(reached, furthest)
    cycle = 0
    if status != StageKind.OPEN:
        start = first or created_at
        end = closing or closed_at
        if end is not None:
            cycle = max(0, (end.astimezone(ctx.zone).date()
                            - start.astimezone(ctx.zone).date()).days)
    weighted = (amount * probability / Decimal(100)).quantize(WEIGHT)
    return (owner, pipeline, stage, status, currency, territory.get(account, NO_TERRITORY),
            close_date.replace(day=1), month_of_instant(created_at, ctx.zone), reached,
            amount, weighted, cycle)


def reached_position(stage_ids: Iterable[int], stages: dict[int, tuple[int, str]]) -> int:
    """The furthest stage position entered, not counting lost stages (0 if none)."""
    positions = [stages[s][0] for s in stage_ids
                 if s in stages and stages[s][1] != StageKind.LOST]
    return max(positions, default=0)


class ActivityRollup(Rollup):
    name = "activities"
    source = Activity
    record_type = "activity"
    line_model = ActivityLine
    fact_model = ActivityFact
    line_fields = ("owner_id", "kind", "done", "month", "account_id", "opportunity_id",
                   "lead_id")
    key_fields = ("month", "owner_id", "kind", "done")
    measure_fields = ("count",)
    cascades = (("account", "account_id"), ("opportunity", "opportunity_id"),
                ("lead", "lead_id"))

    def read_lines(self, where: dict[str, Any], ctx: Context) -> dict[int, Line]:
        return {
            pk: (owner, kind, done, month_of_instant(due_at, ctx.zone), account, opp, lead)
            for pk, owner, kind, done, due_at, account, opp, lead in Activity.objects.filter(
                **where).values_list("id", "owner_id", "kind", "done", "due_at",
                                        "account_id", "opportunity_id", "lead_id")
        }

    def facts_of(self, line: Line) -> list[tuple[FactKey, Measures]]:
        owner, kind, done, month = line[:4]
        return [((month, owner, kind, done), (1,))]


class LeadRollup(Rollup):
    name = "leads"
    source = Lead
    record_type = "lead"
    line_model = LeadLine
    fact_model = LeadFact
    line_fields = ("owner_id", "source", "converted", "month")
    key_fields = ("month", "owner_id", "source", "converted")
    measure_fields = ("count",)

    def read_lines(self, where: dict[str, Any], ctx: Context) -> dict[int, Line]:
        return {
            pk: (owner, source, status == LeadStatus.CONVERTED,
                 month_of_instant(created_at, ctx.zone))
            for pk, owner, source, status, created_at in Lead.objects.filter(
                **where).values_list("id", "owner_id", "source", "status", "created_at")
        }

    def facts_of(self, line: Line) -> list[tuple[FactKey, Measures]]:
        owner, source, converted, month = line
        return [((month, owner, source, converted), (1,))]


ROLLUPS: dict[str, Rollup] = {r.name: r for r in (OpportunityRollup(), ActivityRollup(),
                                                   LeadRollup())}


def _add(a: Measures, b: Measures, sign: int = 1) -> Measures:
    return tuple(x + sign * y for x, y in zip(a, b, strict=True))


def _stored_lines(rollup: Rollup, ids: list[int]) -> dict[int, Line]:
    pk = rollup.pk_name
    return {row[0]: tuple(row[1:]) for row in rollup.line_model._default_manager.filter(
        **{f"{pk}__in": ids}).values_list(pk, *rollup.line_fields)}


def apply_records(rollup: Rollup, ids: Iterable[int], ctx: Context) -> int:
    """Re-read these records and move their contributions; returns how many changed."""
    ids = sorted(set(ids))
    changed = 0
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        new, old = rollup.read_lines({"pk__in": chunk}, ctx), _stored_lines(rollup, chunk)
        deltas: dict[FactKey, Measures] = {}
        moved: list[int] = []
        for pk in chunk:
            before, after = old.get(pk), new.get(pk)
            if before == after:
                continue
            moved.append(pk)
            for line, sign in ((before, -1), (after, 1)):
                if line is None:
                    continue
                for key, measures in rollup.facts_of(line):
                    zero = tuple(0 for _ in measures)
                    deltas[key] = _add(deltas.get(key, zero), measures, sign)
        if not moved:
            continue
        changed += len(moved)
        pk_name = rollup.pk_name
        rollup.line_model._default_manager.filter(**{f"{pk_name}__in": moved}).delete()
        insert_rows(rollup.line_model, (pk_name, *rollup.line_fields),
                    [(pk, *new[pk]) for pk in moved if pk in new])
        _apply_deltas(rollup, deltas)
    return changed


def _apply_deltas(rollup: Rollup, deltas: dict[FactKey, Measures]) -> None:
    """Add the deltas to their cells in one statement (created when missing), then drop
    the cells left with no record. Loading the touched cells first and updating them
    one by one read a large part of the facts after a few hundred scattered changes."""
    deltas = {k: d for k, d in deltas.items() if any(d)}
    if not deltas:
        return
    meta = rollup.fact_model._meta
    ops = connection.ops
    keys = [ops.quote_name(_column(meta, f)) for f in rollup.key_fields]
    measures = [ops.quote_name(_column(meta, f)) for f in rollup.measure_fields]
    table = ops.quote_name(meta.db_table)
    # Table and column names come from the models, never from input.
    sql = (f"INSERT INTO {table} ({', '.join(keys + measures)}) "  # noqa: S608
           f"VALUES ({', '.join(['%s'] * (len(keys) + len(measures)))}) "
           f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET "
           + ", ".join(f"{m} = {table}.{m} + excluded.{m}" for m in measures))
    with connection.cursor() as cursor:
        cursor.executemany(sql, [key + delta for key, delta in deltas.items()])
    rollup.fact_model._default_manager.filter(**rollup.key_filter(list(deltas)),
                                              count=0).delete()


def _state(rollup: Rollup) -> RollupState:
    state, _ = RollupState.objects.get_or_create(name=rollup.name)
    return RollupState.objects.select_for_update().get(pk=state.pk)


def _max_audit_id() -> int:
    return AuditEntry.objects.aggregate(m=Max("id"))["m"] or 0


def _source_ranges(rollup: Rollup, above: int, upto: int) -> Iterator[tuple[int, int]]:
    """Consecutive id ranges (low, high] of at most CHUNK source records."""
    manager = rollup.source._default_manager
    low = above
    while low < upto:
        edge = list(manager.filter(pk__gt=low, pk__lte=upto).order_by("pk").values_list(
            "pk", flat=True)[CHUNK - 1:CHUNK])
        high = edge[0] if edge else upto
        yield low, high
        low = high


def insert_rows(model: type[models.Model], fields: tuple[str, ...], rows: list[tuple]) -> None:
    """Insert plain rows with one prepared statement (the ORM's bulk_create builds an
    object and an SQL fragment per row, which dominated rebuilding millions of lines)."""
    if not rows:
        return
    meta = model._meta
    ops = connection.ops
    # Table and column names come from the models, never from input.
    sql = (f"INSERT INTO {ops.quote_name(meta.db_table)} "  # noqa: S608
           f"({', '.join(ops.quote_name(_column(meta, f)) for f in fields)}) "
           f"VALUES ({', '.join(['%s'] * len(fields))})")
    # Decimals and dates go to the driver as they are: both drivers bind them natively
    # (per-value adaptation was a fifth of a rebuild).
    with connection.cursor() as cursor:
        for start in range(0, len(rows), CHUNK):
            cursor.executemany(sql, rows[start:start + CHUNK])


def _column(meta: Any, field: str) -> str:
    return str(meta.get_field(field).column)


def rebuild(names: Iterable[str] | None = None,
            progress: Callable[[str, int], None] | None = None) -> dict[str, int]:
    """Recompute the chosen rollups (all by default) from their source tables."""
    counts = {}
    for name in names or ROLLUPS:
        counts[name] = _rebuild_one(ROLLUPS[name], progress)
        _tidy_after_rebuild(ROLLUPS[name])
    return counts


def _tidy_after_rebuild(rollup: Rollup) -> None:
    """On PostgreSQL, clear the old rows a rebuild leaves dead and refresh the planner's
    statistics of the new ones.

    A rebuild deletes every row and writes them again: until autovacuum gets there (or
    for good, where it is off), the reports read past as many dead rows as live ones (at
    1M accounts up to three times the server time of a vacuumed table). VACUUM cannot run
    inside a transaction: within one (the rebuild job's, a caller's atomic block) the
    statistics are refreshed now and the vacuum runs once it has committed.
    """
    if connection.vendor != "postgresql":
        return
    tables = [connection.ops.quote_name(model._meta.db_table)
              for model in (rollup.line_model, rollup.fact_model)]

    def run(command: str) -> None:
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"{command} {table}")

    def vacuum() -> None:
        # A callback may still run inside a transaction (one opened around the commit
        # hooks, as tests do): the statistics are fresh already, the dead rows wait.
        if not connection.in_atomic_block:
            run("VACUUM (ANALYZE)")

    if connection.in_atomic_block:
        run("ANALYZE")
        transaction.on_commit(vacuum)
    else:
        vacuum()


@transaction.atomic
def _rebuild_one(rollup: Rollup, progress: Callable[[str, int], None] | None) -> int:
    state = _state(rollup)
    ctx = Context()
    audit_mark = _max_audit_id()
    top = rollup.source._default_manager.aggregate(m=Max("pk"))["m"] or 0
    rollup.line_model._default_manager.all().delete()
    rollup.fact_model._default_manager.all().delete()
    rebuild_in_database(rollup.name, top, ctx.zone, ctx.alignment_id)
    done = rollup.line_model._default_manager.count()
    if progress is not None:
        progress(rollup.name, done)
    now = timezone.now()
    state.max_id, state.audit_mark, state.gaps = top, audit_mark, []
    state.territory_key = ctx.territory_key
    state.built_at = state.refreshed_at = now
    state.save()
    return done


# Set while one report runs, so the rollups are brought up to date once per report and
# every figure of the report reads the same state.
_fresh: ContextVar[bool] = ContextVar("metrics_rollups_fresh", default=False)


@contextmanager
def one_refresh() -> Iterator[None]:
    """Refresh the rollups now and not again until the block ends."""
    if _fresh.get():
        yield
        return
    refresh()
    token = _fresh.set(True)
    try:
        yield
    finally:
        _fresh.reset(token)


def ensure_fresh(names: Iterable[str]) -> None:
    if not _fresh.get():
        refresh(names)


def refresh(names: Iterable[str] | None = None) -> dict[str, int]:
    """Bring the chosen rollups (all by default) up to date; returns records re-read."""
    chosen = list(names or ROLLUPS)
    # Their states and the audit trail's last entry read once for all of them: most
    # reads find nothing new, and every report page asks.
    states = {s.name: s for s in RollupState.objects.filter(name__in=chosen)}
    audit_top = _max_audit_id()
    return {name: _refresh_one(ROLLUPS[name], states.get(name), audit_top)
            for name in chosen}


def _new_entries(state: RollupState) -> tuple[list[tuple], int, list]:
    """Audit entries past the mark and in its remembered gaps; the new mark and gaps."""
    now = timezone.now()
    waiting = {int(pk): seen for pk, seen in state.gaps
               if (now - datetime.fromisoformat(seen)).total_seconds() < GAP_SECONDS}
    where = Q(pk__gt=state.audit_mark)
    if waiting:
        where |= Q(pk__in=list(waiting))
    entries = list(AuditEntry.objects.filter(where).values_list("id", "record_type",
                                                                "record_id"))
    fresh_ids = sorted(e[0] for e in entries if e[0] > state.audit_mark)
    mark = fresh_ids[-1] if fresh_ids else state.audit_mark
    found = {e[0] for e in entries}
    gaps = [[pk, seen] for pk, seen in waiting.items() if pk not in found]
    previous = state.audit_mark
    for pk in fresh_ids:
        gaps.extend([gap, now.isoformat()] for gap in range(previous + 1, pk))
        previous = pk
    return entries, mark, gaps[-10_000:]


class RollupsNotReady(Exception):
    """The rollups of a large company have not been built yet (a background job does it)."""


def territories_outdated() -> bool:
    """True when the opportunity lines still carry the territories of an earlier
    assignment run (a large company's rebuild waits for its background job)."""
    state = RollupState.objects.filter(name="opportunities").first()
    return state is not None and state.territory_key != active_territory_key()[1]


def _refresh_one(rollup: Rollup, state: RollupState | None, audit_top: int) -> int:
    top = rollup.source._default_manager.aggregate(m=Max("pk"))["m"] or 0
    large = top > LARGE
    if state is None or state.built_at is None:
        if large:
            raise RollupsNotReady(
                "The report figures of this company have not been prepared yet: an admin "
                "runs `salesplan reports rebuild` (or starts the rebuild job) once.")
        return _rebuild_one(rollup, None)
    if rollup.uses_territories and state.territory_key != active_territory_key()[1] \
            and not large:
        # The territory assignment was rerun: every line may move.
        return _rebuild_one(rollup, None)
    # Most reads find nothing new: say so without taking a lock.
    if top <= state.max_id and not state.gaps and audit_top <= state.audit_mark:
        return 0
    with transaction.atomic():
        state = _state(rollup)
        ctx = Context()
        top = rollup.source._default_manager.aggregate(m=Max("pk"))["m"] or 0
        entries, audit_mark, gaps = _new_entries(state)
        ids = {record_id for _, kind, record_id in entries if kind == rollup.record_type}
        parents: dict[str, set[int]] = {kind: set() for kind, _ in rollup.cascades}
        for _, kind, record_id in entries:
            if kind in parents:
                parents[kind].add(record_id)
        for kind, line_field in rollup.cascades:
            if parents[kind]:
                ids.update(rollup.line_model._default_manager.filter(
                    **{f"{line_field}__in": parents[kind]}).values_list(rollup.pk_name,
                                                                        flat=True))
        changed = apply_records(rollup, ids, ctx) if ids else 0
        for low, high in _source_ranges(rollup, state.max_id, top):
            changed += apply_records(rollup, range(low + 1, high + 1), ctx)
        if (top, audit_mark, gaps) != (state.max_id, state.audit_mark, state.gaps):
            state.max_id, state.audit_mark, state.gaps = max(state.max_id, top), audit_mark, gaps
            state.refreshed_at = timezone.now()
            state.save(update_fields=["max_id", "audit_mark", "gaps", "refreshed_at"])
    return changed
