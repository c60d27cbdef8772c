"""A period's statements calculated together: the won deals and their splits read as
columns (one query per table), every rep's totals summed in integer cents
(`engines.compensation_columns`), and the statements with their lines written in one
transaction. The figures are the exact path's, cent for cent; the per-deal trace behind
a line is not stored but worked out by the exact path for the one rep when someone asks
to explain the line (`line_trace`). Closing a period stores the traces (`traced=True`),
since the deals behind a locked statement may change afterwards.

Which deal credited whom at the last calculation is kept per block of deal ids
(`CompCreditIndex`), so a changed deal finds the statements that counted it."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import numpy as np
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from salesplan.core.money import CURRENCY_CHOICES
from salesplan.engines import compensation as engine
from salesplan.engines.compensation_columns import (
    ColumnTotals,
    CreditColumns,
    RepTotals,
    factorize,
    statement_from_totals,
)
from salesplan.org.models import User
from salesplan.pipeline.models import Opportunity, Pipeline, StageKind

from . import calculation, mbo, rule_credits
from .definitions import plan_from_definition
from .models import (
    CompAdjustment,
    CompCreditIndex,
    CompLine,
    CompPeriod,
    CompPlan,
    CompStatement,
    DealSplit,
    PeriodStatus,
    PlanStatus,
)

BLOCK = 512  # deal ids per row of the credit index: a changed deal rewrites one small row


# --- reading -------------------------------------------------------------------------------


@dataclass
class WonColumns:
    """The period's won deals as columns, ordered by deal id."""

    id: np.ndarray
    cents: np.ndarray
    currency: np.ndarray  # a number standing for the currency (`_currency`)
    day: np.ndarray  # days since 1970-01-01
    pipeline: np.ndarray
    account: np.ndarray
    owner: np.ndarray


CURRENCIES = [code for code, _ in CURRENCY_CHOICES]
LISTED = "|" + "|".join(CURRENCIES) + "|"  # SQLite finds a code's place in this text


def _sql_parts(details: bool) -> list[str]:
    """The deal columns in this database's SQL, integers only so the rows come back as
    fixed-width columns: the id, cents, the currency as a number (`_currency`), the
    pipeline and the owner, then the day number and the account when `details` (only
    contests, new logos and crediting rules read them)."""
    # A code's place in `LISTED` (0 when not listed), the most used codes first.
    places = " ".join(f"WHEN '{code}' THEN {LISTED.index(f'|{code}|') + 1}"
                      for code in CURRENCIES)
    currency = f"CASE o.currency {places} ELSE 0 END"
    if connection.vendor == "postgresql":
        day = "(o.close_date - DATE '1970-01-01')::bigint"
        cents = "(o.amount * 100)::bigint"
        currency = f"({currency})::bigint"  # eight bytes, as the binary COPY is read
    else:
        day = "CAST(julianday(o.close_date) - 2440587.5 AS INTEGER)"
        cents = "CAST(ROUND(o.amount * 100) AS INTEGER)"
    columns = ["o.id", cents, currency, "o.pipeline_id", "o.owner_id"]
    return columns + ([day, "o.account_id"] if details else [])


def _currency(code: int) -> str:
    """A currency from its number, its place in `LISTED`."""
    return CURRENCIES[(code - 1) // 4] if code > 0 else "?"


CHUNK = 1_000_000  # deal ids per text the database builds (tens of megabytes)


def _fetch(columns: list[str], tail: str, params: list,
           chunks: str | None = None) -> list[np.ndarray]:
    """`SELECT columns tail` (integer columns, none null) as one int64 array per column.

    A cursor (or PostgreSQL's COPY, a message per row) hands over a Python object per
    row or value; instead each column of a run of rows comes back as one text made by
    the database (`string_agg`, `group_concat`: every aggregate of a query is fed the
    same rows in the same order) and parsed by numpy. Runs are `CHUNK` values of the id
    column `chunks` (in `tail`'s table): groups of one pass on PostgreSQL, one range
    query each on SQLite (a range of rowids is a range of the table; grouping would sort)."""
    postgres = connection.vendor == "postgresql"
    texts = ", ".join(f"string_agg(({column})::text, ',')" if postgres
                      else f"group_concat({column})" for column in columns)
    select = f"SELECT count(*), {texts} {tail}"  # noqa: S608
    queries: list[tuple[str, list]] = [(select, params)]
    if chunks is not None and postgres:
        queries = [(f"{select} GROUP BY {chunks} / {CHUNK}", params)]
    elif chunks is not None:
        table = tail.split()[1]  # the table `tail` reads FROM
        with connection.cursor() as cursor:
            # Apart: SQLite finds a lone min() or max() in the index, both by a scan.
            cursor.execute(f"SELECT (SELECT min(id) FROM {table}), "  # noqa: S608
                           f"(SELECT max(id) FROM {table})")
            low, high = cursor.fetchone()
        queries = [(f"{select} AND {chunks} >= %s AND {chunks} < %s", [*params, start,
                                                                       start + CHUNK])
                   for start in range(low or 0, (high or 0) + 1, CHUNK)]
    parts: list[list[np.ndarray]] = [[np.zeros(0, dtype=np.int64)] for _ in columns]
    with connection.cursor() as cursor:
        for sql, values in queries:
            cursor.execute(sql, values)
            for count, *read in cursor.fetchall():
                for i, text in enumerate(read if count else ()):
                    column = np.fromstring(text or "", dtype=np.int64, sep=",")
                    if len(column) != count:  # a null would have left its row out
                        raise ValueError(f"{columns[i]}: {len(column)} values, {count} rows")
                    parts[i].append(column)
    return [np.concatenate(part) for part in parts]


def _won_in_period(period: CompPeriod, reps: set[int] | None) -> tuple[str, str, list]:
    """The period's won deals as a relation `o` with its condition, and their parameters.
    Named reps: their own deals and the deals split to them, each found by its index
    (two branches rather than an OR, which the planners answer with a scan)."""
    table = Opportunity._meta.db_table
    won = "o.status = %s AND o.close_date >= %s AND o.close_date <= %s"
    params: list = [StageKind.WON, period.starts, period.ends]
    if reps is None:
        return f"{table} o", won, params
    marks = ", ".join(["%s"] * len(reps))
    ids = sorted(reps)
    # Table names and placeholders only; every value is a bound parameter.
    relation = (f"(SELECT o.* FROM {table} o WHERE {won} AND o.owner_id IN ({marks}) "  # noqa: S608
                f"UNION ALL SELECT o.* FROM {table} o WHERE {won} AND o.owner_id NOT IN "
                f"({marks}) AND o.id IN (SELECT opportunity_id FROM "
                f"{DealSplit._meta.db_table} WHERE rep_id IN ({marks}))) o")
    return relation, "1 = 1", params + ids + params + ids + ids


def _scanned(period: CompPeriod) -> bool:
    """Whether SQLite should read the whole deals table in id order rather than the
    period's dates through their index: when the period spans most of the close dates
    (a step through the index costs a lookup of the row; a scan reads pages in order)."""
    if connection.vendor != "sqlite":
        return False  # PostgreSQL's planner weighs this from its statistics
    with connection.cursor() as cursor:
        table = Opportunity._meta.db_table
        cursor.execute(f"SELECT (SELECT min(close_date) FROM {table}), "  # noqa: S608
                       f"(SELECT max(close_date) FROM {table})")
        first, last = cursor.fetchone()
    if first is None:
        return False
    first, last = date.fromisoformat(str(first)), date.fromisoformat(str(last))
    overlap = (min(last, period.ends) - max(first, period.starts)).days + 1
    return overlap * 4 >= (last - first).days + 1


def read_won(period: CompPeriod, reps: set[int] | None = None, *,
             details: bool = True) -> WonColumns:
    """The period's won deals (only those owned or split by `reps`, when named)."""
    columns = _sql_parts(details)
    relation, where, where_params = _won_in_period(period, reps)
    chunks = None
    if reps is None:
        chunks = "o.id"
        if _scanned(period):
            relation = f"{relation} NOT INDEXED"
    read = _fetch(columns, f"FROM {relation} WHERE {where}", where_params, chunks)
    if len(read[0]) > 1 and not (np.diff(read[0]) > 0).all():
        order = np.argsort(read[0], kind="stable")  # cheaper here than in the database
        read = [column[order] for column in read]
    if not details:  # days and accounts, when not read
        read += [np.zeros(len(read[0]), dtype=np.int64)] * 2
    deal, cents, currency, pipeline, owner, day, account = read
    return WonColumns(deal, cents, currency, day, pipeline, account, owner)


def plans_in_force(day: date) -> list[CompPlan]:
    """The active plan versions in effect on `day`, the latest version of each first."""
    return list(CompPlan.objects.filter(status=PlanStatus.ACTIVE, starts__lte=day,
                                        ends__gte=day, effective_from__lte=day)
                .order_by("-effective_from", "-number", "-id"))


def _details_needed(plans: list[CompPlan], crediting: calculation.Crediting) -> bool:
    """Whether any plan in force pays contests or new logos, or a crediting rule applies
    (they need the deals' days and accounts)."""
    if crediting.rules:
        return True
    return any(p.definition.get("spiffs") or p.definition.get("new_logo") for p in plans)


def read_splits(period: CompPeriod, reps: set[int] | None = None,
                won_ids: np.ndarray | None = None) -> np.ndarray:
    """(deal id, rep id, share in millionths) of the splits of the period's won deals
    `won_ids` (sorted): looked up by their index when reps are named (a few thousand),
    else the splits of the deals' id range read and kept where their deal is one of
    them (the deals are not read a second time to join them)."""
    share = ("(s.share * 1000000)::bigint" if connection.vendor == "postgresql"
             else "CAST(ROUND(s.share * 1000000) AS INTEGER)")
    columns = ["s.opportunity_id", "s.rep_id", share]
    table = DealSplit._meta.db_table
    if won_ids is None:
        won_ids = read_won(period, reps, details=False).id
    if not len(won_ids):
        return np.zeros((0, 3), dtype=np.int64)
    if reps is not None:
        parts = [np.zeros((0, 3), dtype=np.int64)]
        for start in range(0, len(won_ids), 20_000):  # SQLite's limit on parameters
            chunk = won_ids[start:start + 20_000].tolist()
            marks = ", ".join(["%s"] * len(chunk))
            parts.append(np.stack(_fetch(
                columns, f"FROM {table} s WHERE s.opportunity_id IN ({marks})", chunk),
                axis=1))
        return np.concatenate(parts)
    bounds = [int(won_ids[0]), int(won_ids[-1])]
    # SQLite: in id order rather than a lookup of the row per index entry.
    scan = " NOT INDEXED" if connection.vendor == "sqlite" else ""
    found = np.stack(_fetch(columns, f"FROM {table} s{scan} WHERE s.opportunity_id >= %s "
                                     f"AND s.opportunity_id <= %s", bounds, "s.id"), axis=1)
    place = np.minimum(np.searchsorted(won_ids, found[:, 0]), len(won_ids) - 1)
    return found[won_ids[place] == found[:, 0]]


# --- crediting -----------------------------------------------------------------------------


@dataclass
class Credits:
    """Credit lines as columns: the deal (a row of `WonColumns`), the rep, the share."""

    deal: np.ndarray
    rep: np.ndarray
    share: np.ndarray


def credit(won: WonColumns, splits: np.ndarray, crediting: calculation.Crediting) -> Credits:
    """The owner holds a deal unless it is split; then each split holds its share. Active
    crediting rules (overlay members, manager roll-up) add theirs (`rule_credits`)."""
    split_rows = np.searchsorted(won.id, splits[:, 0])
    is_split = np.zeros(len(won.id), dtype=bool)
    is_split[split_rows] = True
    owned = np.flatnonzero(~is_split)
    deal = np.concatenate([owned, split_rows])
    rep = np.concatenate([won.owner[owned], splits[:, 1]])
    share = np.concatenate([np.full(len(owned), 1_000_000, dtype=np.int64), splits[:, 2]])
    _check_splits(won, split_rows, splits[:, 2])
    extra = _rule_credits(won, crediting)
    if extra is not None:
        deal, rep, share = (np.concatenate([a, b]) for a, b in
                            zip((deal, rep, share), extra, strict=True))
    return Credits(deal, rep, share)


def _check_splits(won: WonColumns, rows: np.ndarray, shares: np.ndarray) -> None:
    totals = np.bincount(rows, weights=shares, minlength=len(won.id))
    wrong = np.flatnonzero((totals != 0) & (totals != 1_000_000))
    if len(wrong):
        total = Decimal(int(totals[wrong[0]])).scaleb(-4)
        raise ValidationError({"splits": f"Deal {int(won.id[wrong[0]])}: split shares add up "
                                         f"to {total}%, not 100%"})


def _rule_credits(won: WonColumns,
                  crediting: calculation.Crediting) -> tuple[np.ndarray, ...] | None:
    """Overlay and roll-up credit lines under the active rules, for all deals at once."""
    if not crediting.rules:
        return None
    deals = rule_credits.DealColumns(won.id, won.day, won.account, won.owner)
    return rule_credits.rule_credits(deals, crediting.rules)


# --- calculating ---------------------------------------------------------------------------


@dataclass
class PeriodColumns:
    """Everything the period's statements are summed from, read once."""

    period: CompPeriod
    won: WonColumns
    credits: Credits
    kinds: dict[int, str]

    @classmethod
    def read(cls, period: CompPeriod, reps: set[int] | None = None,
             plans: list[CompPlan] | None = None) -> "PeriodColumns":
        crediting = calculation.Crediting()
        if reps is not None and crediting.rules:
            reps = None  # overlay or roll-up may credit them with others' deals
        if plans is None:
            plans = plans_in_force(period.ends)
        won = read_won(period, reps, details=_details_needed(plans, crediting))
        kinds = dict(Pipeline.objects.values_list("id", "kind"))
        splits = read_splits(period, reps, won.id)
        return cls(period, won, credit(won, splits, crediting), kinds)

    def reps(self) -> set[int]:
        return set(np.unique(self.credits.rep).tolist())

    def columns(self, reps: np.ndarray, new_logo: bool) -> CreditColumns:
        """The credit lines of `reps` as the engine reads them."""
        mask = np.isin(self.credits.rep, reps)
        rows = self.credits.deal[mask]
        won = self.won
        codes, currency = factorize(won.currency[rows])
        pipelines, category = factorize(won.pipeline[rows])
        firsts = self._new_logos(rows) if new_logo else np.zeros(len(rows), dtype=bool)
        return CreditColumns(
            self.credits.rep[mask], self.credits.share[mask], won.cents[rows],
            currency.astype(np.int64), category.astype(np.int64), won.day[rows], firsts,
            [_currency(int(c)) for c in codes], [("", self.kinds[int(p)]) for p in pipelines])

    def _new_logos(self, rows: np.ndarray) -> np.ndarray:
        accounts = self.won.account[rows]
        firsts = calculation.first_wins(np.unique(accounts).tolist())
        first = np.array([firsts.get(int(a), 0) for a in accounts], dtype=np.int64)
        return first == self.won.id[rows]

    def currencies(self) -> set[str]:
        return {_currency(int(c)) for c in np.unique(self.won.currency)}


def plans_for(reps: Iterable[User], rows: list[CompPlan]) -> dict[int, CompPlan]:
    """Each rep's plan version among those in force (`plans_in_force`), as
    `calculation.plan_for` chooses it."""
    by_person: dict[int, CompPlan] = {}
    by_role: dict[str, CompPlan] = {}
    for plan in rows:
        if plan.person_id is not None:
            by_person.setdefault(plan.person_id, plan)
        else:
            by_role.setdefault(plan.role, plan)
    found = {}
    for rep in reps:
        chosen = by_person.get(rep.pk) or by_role.get(rep.role)
        if chosen is not None:
            found[rep.pk] = chosen
    return found


def _adjustments(period: CompPeriod, reps: set[int]) -> dict[int, list[engine.Adjustment]]:
    out: dict[int, list[engine.Adjustment]] = {}
    rows = (CompAdjustment.objects.filter(period=period, rep_id__in=reps)
            .select_related("created_by").order_by("id"))
    for a in rows:
        by = a.created_by.get_full_name() if a.created_by else ""
        out.setdefault(a.rep_id, []).append(engine.Adjustment(Decimal(a.amount), a.reason, by))
    return out


def _history(period: CompPeriod, reps: set[int]) -> tuple[dict[int, Decimal], set[int]]:
    """Each rep's draw balance carried from their latest earlier statement, and the reps
    a clawback may reach (those holding a statement in a closed period)."""
    balances: dict[int, Decimal] = {}
    closed: set[int] = set()
    rows = (CompStatement.objects.filter(rep_id__in=reps)
            .filter(Q(period__starts__lt=period.starts) | Q(period__status=PeriodStatus.CLOSED))
            .order_by("rep_id", "-period__starts")
            .values_list("rep_id", "period__starts", "period__status", "draw_balance"))
    for rep_id, starts, status, balance in rows:
        if starts < period.starts:
            balances.setdefault(rep_id, Decimal(balance))
        if status == PeriodStatus.CLOSED:
            closed.add(rep_id)
    return balances, closed


@dataclass
class Outcome:
    statements: dict[int, tuple[CompPlan, engine.Statement]]
    without_plan: list[int]
    deals: int
    credits: Credits | None = None
    won_ids: np.ndarray | None = None


def _fast_statements(book: PeriodColumns, people: list[User],
                     plans: dict[int, CompPlan]) -> dict[int, tuple[CompPlan, engine.Statement]]:
    period = book.period
    ids = {rep.pk for rep in people if rep.pk in plans}
    adjustments = _adjustments(period, ids)
    balances, clawed = _history(period, ids)
    scores = mbo.scores_of(period, ids)
    clawbacks = calculation.clawbacks_of(clawed, period) if clawed else {}
    out = {}
    by_plan: dict[int, list[int]] = {}
    for rep_id in sorted(ids):
        by_plan.setdefault(plans[rep_id].pk, []).append(rep_id)
    currencies = book.currencies()
    for rep_ids in by_plan.values():
        plan_row = plans[rep_ids[0]]
        plan = plan_from_definition(plan_row.definition, plan_row.currency)
        try:
            rates = calculation.rates_for(plan, currencies, period.ends)
            columns = book.columns(np.array(rep_ids, dtype=np.int64), plan.new_logo is not None)
            totals = ColumnTotals(plan, rates, columns).totals()
            for rep_id in rep_ids:
                claws = clawbacks.get(rep_id, [])
                statement = statement_from_totals(
                    rep_id, plan, totals.get(rep_id) or RepTotals(),
                    draw_balance=balances.get(rep_id, Decimal(0)),
                    adjustments=adjustments.get(rep_id, ()), clawbacks=claws,
                    mbo_scores=scores.get(rep_id))
                out[rep_id] = (plan_row, statement)
        except engine.PlanError as error:
            raise ValidationError({error.field: error.message}) from None
    return out


def _reads_quotes(definition: dict) -> bool:
    """Whether a plan pays on what only a deal's quote tells (its product family, its
    products or its margin): the columns do not carry those, the exact path reads them."""
    return (any(c.get("families") or c.get("on_margin") for c in definition.get("commissions", ()))
            or any(b.get("families") for b in definition.get("bonuses", ()))
            or any(s.get("products") for s in definition.get("spiffs", ())))


def _traced_statements(period: CompPeriod, people: list[User], plans: dict[int, CompPlan],
                       reps: set[int] | None) -> dict[int, tuple[CompPlan, engine.Statement]]:
    """The exact path (every line's trace) for the covered reps, its side inputs read for
    all of them at once (`_SideInputs`), so closing a period issues the same queries
    however many reps it holds."""
    book = calculation.PeriodBook(period, reps)
    ids = {rep.pk for rep in people if rep.pk in plans}
    side = _SideInputs.read(period, ids)
    out = {}
    for rep_id in sorted(ids):
        plan = plan_from_definition(plans[rep_id].definition, plans[rep_id].currency)
        try:
            out[rep_id] = (plans[rep_id], engine.calculate_statement(
                rep_id, plan, book.by_rep.get(rep_id, []), book.deals, book.rates(plan),
                **side.of(rep_id)))
        except engine.PlanError as error:
            raise ValidationError({error.field: error.message}) from None
    return out


@dataclass
class _SideInputs:
    """What a statement takes besides its credits, for many reps in a few queries."""

    adjustments: dict[int, list[engine.Adjustment]]
    balances: dict[int, Decimal]
    clawbacks: dict[int, list[engine.PayoutLine]]
    scores: dict[int, dict[str, Decimal]]

    @classmethod
    def read(cls, period: CompPeriod, ids: set[int]) -> "_SideInputs":
        balances, clawed = _history(period, ids)
        return cls(_adjustments(period, ids), balances,
                   calculation.clawbacks_of(clawed, period) if clawed else {},
                   mbo.scores_of(period, ids))

    def of(self, rep_id: int) -> dict:
        return {"draw_balance": self.balances.get(rep_id, Decimal(0)),
                "adjustments": self.adjustments.get(rep_id, ()),
                "clawbacks": self.clawbacks.get(rep_id, []),
                "mbo_scores": self.scores.get(rep_id)}


def covered(period: CompPeriod, credited: set[int], reps: set[int] | None) -> list[User]:
    """The people a calculation covers: credited in the period, or holding a statement in
    it or before it (a balance or a clawback may reach them with no deal of the period)."""
    if reps is not None:
        return list(User.objects.filter(pk__in=reps, is_active=True).order_by("id"))
    ids = credited | set(CompStatement.objects.filter(period__starts__lte=period.starts)
                         .values_list("rep_id", flat=True))
    return list(User.objects.filter(Q(pk__in=ids), is_active=True).order_by("id"))


def calculate(period: CompPeriod, reps: set[int] | None = None, *,
              traced: bool = False) -> Outcome:
    """Every statement of an open period (or those of `reps`), calculated and stored."""
    in_force = plans_in_force(period.ends)
    book = PeriodColumns.read(period, reps, in_force)
    people = covered(period, book.reps(), reps)
    plans = plans_for(people, in_force)
    traced = traced or any(_reads_quotes(plan.definition) for plan in plans.values())
    statements = (_traced_statements(period, people, plans, reps) if traced
                  else _fast_statements(book, people, plans))
    without = [rep.pk for rep in people if rep.pk not in plans]
    outcome = Outcome(statements, without, len(book.won.id), book.credits, book.won.id)
    write(period, outcome, traced=traced, whole=reps is None)
    return outcome


# --- writing -------------------------------------------------------------------------------


def _statement_row(rep_id: int, period: CompPeriod, plan: CompPlan,
                   result: engine.Statement, now) -> CompStatement:
    bookings = sum((line.measure or Decimal(0) for line in result.lines
                    if line.kind == "commission"), Decimal(0))
    return CompStatement(
        rep_id=rep_id, period=period, plan=plan, currency=result.currency,
        earned=result.earned, paid=result.paid, draw_balance=result.draw_balance,
        bookings=engine.money(bookings),
        attainment={k: str(v.quantize(Decimal("0.0001"))) for k, v in result.attainment.items()},
        next_tiers=[calculation.next_tier_row(n) for n in result.next_tiers],
        calculated_at=now, created_at=now, updated_at=now)


def _line_rows(statement_id: int, result: engine.Statement, traced: bool) -> list[CompLine]:
    # A line's trace is stored when it is short (clawbacks, adjustments) or asked for.
    return [CompLine(statement_id=statement_id, position=i, kind=line.kind,
                     component=line.component, label=line.label[:200], amount=line.amount,
                     rule=line.rule, measure=line.measure,
                     trace=([t.as_dict() for t in line.trace]
                            if traced or line.kind not in TRACE_ON_DEMAND else None))
            for i, line in enumerate(result.lines, start=1)]


TRACE_ON_DEMAND = ("commission", "cap", "bonus", "new_logo", "spiff")


def write(period: CompPeriod, outcome: Outcome, *, traced: bool, whole: bool) -> None:
    """The statements and their lines, replacing those of the same reps, in one go."""
    # No savepoint of its own inside a caller's transaction (a recalculation after a
    # deal's change): nothing is written once the period is found closed, so the refusal
    # is raised after the block and leaves the caller's transaction usable.
    with transaction.atomic(savepoint=False):
        locked = CompPeriod.objects.select_for_update().get(pk=period.pk)
        if not locked.is_closed:
            _replace_statements(period, outcome, traced=traced, whole=whole)
    if locked.is_closed:
        raise ValidationError({"period": f"{period} is closed; its statements are locked."})


def _replace_statements(period: CompPeriod, outcome: Outcome, *, traced: bool,
                        whole: bool) -> None:
    now = timezone.now()
    reps = sorted(outcome.statements)
    CompLine.objects.filter(statement__period=period, statement__rep_id__in=reps).delete()
    rows = CompStatement.objects.bulk_create(
        [_statement_row(rep_id, period, plan, result, now)
         for rep_id, (plan, result) in sorted(outcome.statements.items())],
        update_conflicts=True, unique_fields=["rep", "period"],
        update_fields=["plan", "currency", "earned", "paid", "draw_balance", "bookings",
                       "attainment", "next_tiers", "calculated_at", "updated_at"])
    ids = {row.rep_id: row.pk for row in rows}
    if any(pk is None for pk in ids.values()):  # a database that returns no ids on upsert
        ids = dict(CompStatement.objects.filter(period=period, rep_id__in=reps)
                   .values_list("rep_id", "id"))
    CompLine.objects.bulk_create(
        [row for rep_id in reps
         for row in _line_rows(ids[rep_id], outcome.statements[rep_id][1], traced)],
        batch_size=5000)
    if whole and outcome.credits is not None and outcome.won_ids is not None:
        index_period(period, outcome.won_ids[outcome.credits.deal], outcome.credits.rep)


# --- which statements counted a deal -------------------------------------------------------


def index_period(period: CompPeriod, deals: np.ndarray, reps: np.ndarray) -> None:
    """Replace the period's record of which rep each deal credited."""
    deals, reps = deals.astype(np.int64), reps.astype(np.int64)
    order = _by_deal_then_rep(deals, reps)
    deals, reps = deals[order], reps[order]
    blocks = deals // BLOCK
    starts: list[int] = (np.flatnonzero(np.r_[True, blocks[1:] != blocks[:-1]]).tolist()
                         if len(deals) else [])
    ends = starts[1:] + [len(deals)] if starts else []
    CompCreditIndex.objects.filter(period=period).delete()
    CompCreditIndex.objects.bulk_create(
        [CompCreditIndex(period=period, block=int(blocks[s]), deals=deals[s:e].tobytes(),
                         reps=reps[s:e].tobytes())
         for s, e in zip(starts, ends, strict=True)], batch_size=500)


def _by_deal_then_rep(deals: np.ndarray, reps: np.ndarray) -> np.ndarray:
    """The order of (deal, rep) pairs: one key when both fit in it, sorted stably (the
    credit lines come in a few runs already in deal order, which that sort uses)."""
    if len(deals) and int(deals.min()) >= 0 and int(reps.min()) >= 0:
        width = int(reps.max()) + 1
        if int(deals.max()) < 2**62 // width:
            return np.argsort(deals * width + reps, kind="stable")
    return np.lexsort((reps, deals))


def counted_by(deal_id: int) -> set[tuple[int, int]]:
    """(rep, period) of the open statements whose last calculation credited the deal."""
    found = set()
    rows = CompCreditIndex.objects.filter(block=deal_id // BLOCK,
                                          period__status=PeriodStatus.OPEN)
    for row in rows:
        deals = np.frombuffer(bytes(row.deals), dtype=np.int64)
        reps = np.frombuffer(bytes(row.reps), dtype=np.int64)
        found |= {(int(r), row.period_id) for r in reps[deals == deal_id]}
    return found


def reindex_deal(deal_id: int, credited: dict[int, set[int]]) -> None:
    """Record the reps a changed deal credits now, per open period (`credited`)."""
    block = deal_id // BLOCK
    rows = {row.period_id: row for row in CompCreditIndex.objects.select_for_update()
            .filter(block=block, period__status=PeriodStatus.OPEN)}
    for period_id in set(rows) | set(credited):
        row = rows.get(period_id) or CompCreditIndex(period_id=period_id, block=block,
                                                     deals=b"", reps=b"")
        deals = np.frombuffer(bytes(row.deals), dtype=np.int64)
        reps = np.frombuffer(bytes(row.reps), dtype=np.int64)
        keep = deals != deal_id
        if set(reps[~keep].tolist()) == credited.get(period_id, set()):
            continue  # the same reps as before (an amount changed): nothing to record
        new = sorted(credited.get(period_id, ()))
        deals = np.r_[deals[keep], np.full(len(new), deal_id, dtype=np.int64)]
        reps = np.r_[reps[keep], np.array(new, dtype=np.int64)]
        order = np.lexsort((reps, deals))
        row.deals, row.reps = deals[order].tobytes(), reps[order].tobytes()
        row.save()


def line_trace(statement: CompStatement, line: CompLine) -> list[dict]:
    """The trace behind a line whose trace was not stored: the exact path for the rep."""
    if line.trace is not None:
        return line.trace
    period, rep = statement.period, statement.rep
    plan = statement.plan
    if plan is None:
        return []
    book = calculation.PeriodBook(period, {rep.pk})
    result = calculation.compute(rep, period, book, plan)
    if line.position > len(result.lines):
        return []
    again = result.lines[line.position - 1]
    if (again.kind, again.component) != (line.kind, line.component):
        return []
    return [t.as_dict() for t in again.trace]
