"""A year's pay period calculated through the services, database included, against the
naive per-deal path on a subset of reps in the same run, and one deal's change
recalculating its reps' statements (the hook on the deal's change path).

Builds a fresh SQLite file database (migrated here), or uses the database in
DATABASE_URL (which it fills: never point it at one you keep), with --reps (1,000) reps,
--deals (1,000,000) won deals over 2026 (one account per 50 deals, a tenth in EUR, a
fifth split 60/40 between two reps), one pay period for the year and a marginal
commission plan with an attainment bonus. The deals and splits are written straight into
the tables (executemany in one transaction on SQLite, COPY on PostgreSQL: `TableWriter` of
bench_quality.py), every column of a run of deals drawn at once with numpy. `--keep FILE`
builds into that SQLite file (with DATABASE_URL: into that database, not emptied) and
reuses it as it stands on later runs. Prints one JSON line per metric, with `cpu_s` (this
process) and `server_cpu_s` (PostgreSQL's backend, from /proc) beside the wall time:

    .venv/bin/python bench/bench_comp_db.py [--reps 1000] [--deals 1000000] [--naive-reps 5]
        [--changes 20] [--keep FILE] [--no-full]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_comp \
        .venv/bin/python bench/bench_comp_db.py

- build: seconds to write the deals and splits.
- db_full_calculation: `calculate_period` — what `salesplan comp calculate` runs: the
  deals and splits read as columns, every rep's statement summed and stored with its lines
  (target ≤ 10 s for 1,000 reps over 5,000,000 deals); `extrapolated_5m` scales it
  linearly when run on fewer deals.
- db_naive_subset / db_fast_subset: the first --naive-reps reps' statements by the naive
  per-deal path (ORM rows, the Decimal engine per credit line, every trace stored) and
  by the one-pass path; ratio = naive ÷ one-pass; both are checked to agree.
  db_naive_all_reps_extrapolated scales the naive time to every rep (linear in reps) and
  divides it by the full one-pass run.
- db_recalculation_only.p50 / .p95: what the hook does once a deal's change is saved
  (`compensation.services.deal_changed`: the statements that counted the deal found, its
  reps' open statements recalculated, the credit index brought up to date), for a deal
  whose amount was written straight into its row; `queries` is the median count.
- db_recalculate_one_deal.p50 / .p95: the whole change, `update_opportunity` of one won
  deal's amount (the deal's own update, audit and history) with the recalculation after
  the commit (target ≤ 100 ms); `queries` is the median count.
"""

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

DEFINITION = {"commissions": [{"key": "bookings", "label": "Bookings", "quota": "25000000",
                               "method": "marginal",
                               "tiers": [{"from": "0", "rate": "0.02"},
                                         {"from": "1", "rate": "0.05"}]}],
              "bonuses": [{"key": "attain", "label": "Attainment", "target": "25000000",
                           "steps": [{"at": "1", "amount": "5000"}]}]}
YEAR = date(2026, 1, 1)


def emit(metric: str, value, unit: str, **extra) -> None:
    extra["load_average"] = round(os.getloadavg()[0], 1)
    print(json.dumps({"metric": metric, "value": value, "unit": unit, **extra}), flush=True)


def setup_django(keep: Path | None) -> str:
    """Django on a fresh database, or on the one `keep` names (a SQLite file, or with
    DATABASE_URL set the PostgreSQL database) when it was built by an earlier run."""
    from bench_db import point_at

    folder = Path(tempfile.mkdtemp(prefix="bench-comp-"))
    os.environ.setdefault("SALESPLAN_VAR_DIR", str(folder))
    point_at(keep or folder / "bench.sqlite3", wipe=keep is None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "salesplan.config.settings"
    os.environ.pop("SALESPLAN_TASK_BROKER", None)
    os.environ["SALESPLAN_DEBUG"] = "0"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        # A benchmark file: losing it to a crash costs nothing, and loading is faster.
        for pragma in ("journal_mode = WAL", "synchronous = OFF", "cache_size = -500000"):
            connection.connection.execute(f"PRAGMA {pragma}")
    return connection.vendor


def _reset_sequences(models) -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in models:
            table = model._meta.db_table
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                           f"COALESCE(MAX(id), 1)) FROM {table}")


def write_deals(people: list, n_deals: int, seed: int) -> int:
    """Accounts, won deals and splits written straight into the tables; returns rows.

    Every column of a chunk of deals is drawn at once with numpy (as `company_rows` does
    for the benchmark company): only the names are formatted per row."""
    from bench_quality import TableWriter, _stamp
    from company_rows import _chunks
    from django.db import connection

    from salesplan.compensation.models import DealSplit
    from salesplan.customers.models import Account
    from salesplan.pipeline.models import Opportunity, Pipeline, StageKind

    rng = np.random.default_rng(seed)
    now = _stamp(connection.vendor)(datetime(2026, 12, 31, 12, tzinfo=UTC))
    pipeline = Pipeline.objects.get(is_default=True)
    won = pipeline.stages.get(kind=StageKind.WON)
    reps = np.array([p.pk for p in people], dtype=np.int64)
    n_accounts = max(1, n_deals // 50)
    account_place = np.arange(n_accounts) % len(reps)  # the owner's place among the reps
    base = (Account.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    rows = TableWriter(Account, ["id", "created_at", "updated_at", "name", "name_key",
                                 "owner_id"]).write(
        (base + i, now, now, f"Account {i}", f"account {i:07d}", int(reps[account_place[i]]))
        for i in range(n_accounts))
    days = np.array([(YEAR + timedelta(days=d)).isoformat() for d in range(365)],
                    dtype=object)
    split_ids: list[np.ndarray] = []
    split_owners: list[np.ndarray] = []

    def deals():
        for ids in _chunks(n_deals):
            m = len(ids)
            account = rng.integers(0, n_accounts, m)
            place = account_place[account]
            owner = reps[place]
            split = ids % 5 == 0
            split_ids.append(ids[split])
            split_owners.append(np.stack([owner[split],
                                          reps[(place[split] + 1) % len(reps)]], axis=1))
            # Floats with two decimals: what SQLite stores for the text, exact text in COPY.
            amount = (rng.integers(1_000_00, 50_000_00, m) / 100).tolist()
            currency = np.where(ids % 10 == 0, "EUR", "USD").tolist()
            close = days[rng.integers(0, 365, m)].tolist()
            numbers = ids.tolist()
            yield from zip(numbers, [now] * m, [now] * m, [f"Deal {i}" for i in numbers],
                           [f"deal {i:08d}" for i in numbers], (account + base).tolist(),
                           [pipeline.pk] * m, [won.pk] * m, [StageKind.WON.value] * m,
                           amount, currency, close, [100] * m, owner.tolist(), strict=True)

    rows += TableWriter(Opportunity, [
        "id", "created_at", "updated_at", "name", "name_key", "account_id", "pipeline_id",
        "stage_id", "status", "amount", "currency", "close_date", "probability",
        "owner_id"]).write(deals())

    def splits():
        for ids, owners in zip(split_ids, split_owners, strict=True):
            for deal, (owner, partner) in zip(ids.tolist(), owners.tolist(), strict=True):
                yield deal, owner, "0.6"
                yield deal, partner, "0.4"

    rows += TableWriter(DealSplit, ["opportunity_id", "rep_id", "share"]).write(splits())
    _reset_sequences([Account, Opportunity, DealSplit])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # as autovacuum would after a load this size
    return rows


def build(reps: int, deals: int, rng: random.Random):
    from salesplan.compensation import services
    from salesplan.org.models import Role, User
    from salesplan.pricing import services as pricing

    admin = User.objects.create_user(f"bench-admin-{rng.random()}", role=Role.ADMIN)
    people = User.objects.bulk_create(User(username=f"bench-rep-{i}-{rng.random()}",
                                           role=Role.REP) for i in range(reps))
    started, cpu = time.perf_counter(), time.process_time()
    rows = write_deals(people, deals, seed=7)
    emit("build", round(time.perf_counter() - started, 1), "s", rows=rows,
         cpu_s=round(time.process_time() - cpu, 1))
    pricing.create_exchange_rate(by=admin, base="EUR", quote="USD", rate=Decimal("1.0851"),
                                 date=date(2025, 12, 1))
    period = services.create_period(by=admin, data={"name": "2026", "starts": YEAR,
                                                    "ends": date(2026, 12, 31)})
    plan = services.create_plan(by=admin, data={
        "name": "Bench plan", "role": "rep", "starts": YEAR,
        "ends": date(2026, 12, 31), "effective_from": YEAR, "currency": "USD",
        "definition": DEFINITION})
    services.activate_plan(plan, by=admin, expected_version=plan.version)
    return admin, period, people


def server_cpu() -> float:
    """CPU seconds of this connection's PostgreSQL backend on this machine; 0 on SQLite
    (which runs in this process) or when unreadable."""
    from bench_db import server_cpu_seconds

    return server_cpu_seconds() or 0.0


def built():
    """The admin, period and reps of a database an earlier run built (`--keep`), or None."""
    from salesplan.compensation.models import CompPeriod
    from salesplan.org.models import User

    period = CompPeriod.objects.filter(name="2026").first()
    if period is None:
        return None
    admin = User.objects.get(username__startswith="bench-admin-")
    people = list(User.objects.filter(username__startswith="bench-rep-").order_by("id"))
    return admin, period, people


def figures(period, reps) -> dict:
    from salesplan.compensation.models import CompStatement

    return {s.rep_id: (s.earned, s.paid, [(line.kind, line.amount) for line in s.lines.all()])
            for s in CompStatement.objects.filter(period=period, rep_id__in=reps)}


def compare_subset(period, people, n: int, vendor: str, full_seconds: float) -> None:
    from salesplan.compensation import batch

    subset = {p.pk for p in people[:n]}
    started, cpu, server = time.perf_counter(), time.process_time(), server_cpu()
    naive = batch.calculate(period, subset, traced=True)
    naive_s = time.perf_counter() - started
    naive_cpu = time.process_time() - cpu + server_cpu() - server
    naive_figures = figures(period, subset)
    started, cpu, server = time.perf_counter(), time.process_time(), server_cpu()
    batch.calculate(period, subset)
    fast_s = time.perf_counter() - started
    fast_cpu = time.process_time() - cpu + server_cpu() - server
    assert figures(period, subset) == naive_figures, "the two paths disagree"
    emit("db_naive_subset", round(naive_s, 3), "s", database=vendor, reps=n,
         deals=naive.deals, cpu_s=round(naive_cpu, 3))
    emit("db_fast_subset", round(fast_s, 3), "s", database=vendor, reps=n,
         baseline=round(naive_s, 3), ratio=round(naive_s / fast_s, 1),
         cpu_s=round(fast_cpu, 3), cpu_ratio=round(naive_cpu / max(fast_cpu, 1e-3), 1))
    every = naive_s * len(people) / n  # the naive path is linear in the reps it covers
    emit("db_naive_all_reps_extrapolated", round(every, 1), "s", database=vendor,
         reps=len(people), baseline=round(every, 1), ratio=round(every / full_seconds, 1),
         note=f"naive path timed on {n} reps, scaled to all; ratio against the full run")


def _percentiles(metric: str, timings: list[float], counts: list[int], cpu: list[float],
                 **extra) -> None:
    timings, cpu = sorted(timings), sorted(cpu)
    queries = int(statistics.median(counts))
    for name, at in (("p50", len(timings) // 2), ("p95", int(len(timings) * 0.95))):
        emit(f"{metric}.{name}", round(timings[at], 1), "ms", queries=queries,
             cpu_ms=round(cpu[at], 1), **extra)


def _timed(action) -> tuple[float, int, list[str], float]:
    """Milliseconds, the queries one call of `action` ran, and CPU milliseconds (this
    process and PostgreSQL's backend)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        cpu, server = time.process_time(), server_cpu()
        started = time.perf_counter()
        action()
        ms = (time.perf_counter() - started) * 1000
        cpu_ms = (time.process_time() - cpu + server_cpu() - server) * 1000
    return ms, len(captured), [q["sql"] for q in captured.captured_queries], cpu_ms


def one_deal_changes(admin, changes: int, vendor: str, n_deals: int, rng,
                     show_queries: bool = False) -> None:
    """Half the sampled deals changed through `update_opportunity` (the whole change), the
    other half written directly and handed to the hook (the recalculation alone: outside a
    transaction, its after-commit work runs at once)."""
    from django.db.models import F

    from salesplan.compensation import services as comp
    from salesplan.pipeline import services as pipeline
    from salesplan.pipeline.models import Opportunity

    deals = rng.sample(range(1, n_deals + 1), changes * 2)
    recalc: tuple[list[float], list[int], list[float]] = ([], [], [])
    whole: tuple[list[float], list[int], list[float]] = ([], [], [])
    for pk in deals[:changes]:
        Opportunity.objects.filter(pk=pk).update(amount=F("amount") + 1)
        deal = Opportunity.objects.get(pk=pk)
        ms, count, sql, cpu = _timed(lambda deal=deal: comp.deal_changed(deal, by=admin))
        recalc[0].append(ms)
        recalc[1].append(count)
        recalc[2].append(cpu)
        if show_queries and len(recalc[0]) == 1:
            print("\n".join(sql), file=sys.stderr)
    for pk in deals[changes:]:
        deal = Opportunity.objects.get(pk=pk)
        ms, count, _, cpu = _timed(lambda deal=deal: pipeline.update_opportunity(
            deal, by=admin, expected_version=deal.version, data={"amount": deal.amount + 1}))
        whole[0].append(ms)
        whole[1].append(count)
        whole[2].append(cpu)
    _percentiles("db_recalculation_only", *recalc, database=vendor, target=100,
                 deals=n_deals, changes=changes)
    _percentiles("db_recalculate_one_deal", *whole, database=vendor, target=100,
                 deals=n_deals, changes=changes)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=1_000)
    parser.add_argument("--deals", type=int, default=1_000_000)
    parser.add_argument("--naive-reps", type=int, default=5)
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--show-queries", action="store_true",
                        help="print the SQL of one recalculation to stderr")
    parser.add_argument("--keep", type=Path, metavar="SQLITE_FILE",
                        help="build into this SQLite file (with DATABASE_URL: into that "
                             "database, not emptied) and use it as it is on later runs")
    parser.add_argument("--no-full", action="store_true",
                        help="with --keep: only the deal changes (the statements stand)")
    args = parser.parse_args()
    vendor = setup_django(args.keep)
    rng = random.Random(7)
    admin, period, people = built() or build(args.reps, args.deals, rng)

    from salesplan.compensation import services
    from salesplan.pipeline.models import Opportunity

    n_deals = Opportunity.objects.count()
    if args.no_full:
        one_deal_changes(admin, args.changes, vendor, n_deals, rng, args.show_queries)
        return
    started, cpu, server = time.perf_counter(), time.process_time(), server_cpu()
    result = services.calculate_period(period)
    seconds = time.perf_counter() - started
    emit("db_full_calculation", round(seconds, 3), "s", database=vendor, deals=result["deals"],
         statements=result["statements"], target=10,
         cpu_s=round(time.process_time() - cpu, 2),
         server_cpu_s=round(server_cpu() - server, 2),
         extrapolated_5m=round(seconds * 5_000_000 / max(result["deals"], 1), 1))
    if args.naive_reps:
        compare_subset(period, people, args.naive_reps, vendor, seconds)
    if args.changes:
        one_deal_changes(admin, args.changes, vendor, n_deals, rng, args.show_queries)


if __name__ == "__main__":
    main()
