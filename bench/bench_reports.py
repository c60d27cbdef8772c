"""Reports benchmark: every performance report for a rep and for the executive, read from
the rollups (what the product does) against the naive ORM grouping of the source tables,
in the same process, with the ratio.

    .venv/bin/python bench/bench_reports.py --accounts 20000            # build a temp DB
    .venv/bin/python bench/bench_reports.py --db /tmp/copy.sqlite3 --reuse
    DATABASE_URL=postgres://… .venv/bin/python bench/bench_reports.py --accounts 20000

Prints one JSON object per line: {"metric", "value", "unit"} plus "baseline" (naive) and
"ratio" (value / baseline) where a report is compared. The scale (accounts,
opportunities, activities, leads) is printed first. Not part of the test suite.
"""

import argparse
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def emit(metric: str, value=None, unit: str = "", **extra) -> None:
    line: dict = {"metric": metric}
    if value is not None:
        line.update(value=round(value, 3) if isinstance(value, float) else value, unit=unit)
    line.update(extra)
    print(json.dumps(line), flush=True)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--base-accounts", type=int, default=2_000,
                        help="Accounts of the demo company; the rest are generated in SQL.")
    parser.add_argument("--opportunities-per-account", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", help="SQLite file (default: a new temporary file).")
    parser.add_argument("--reuse", action="store_true", help="Use the database as it is "
                        "(migrating it for the reports tables) instead of building one.")
    parser.add_argument("--period", default="", help="Default: the current fiscal year.")
    parser.add_argument("--repeat", type=int, default=3, help="Optimised runs per figure.")
    parser.add_argument("--naive-repeat", type=int, default=1,
                        help="Naive runs per figure (0: no naive baseline).")
    parser.add_argument("--naive-budget", type=float, default=120.0,
                        help="Seconds after which a naive computation is stopped.")
    parser.add_argument("--reports", default="", help="Comma-separated subset.")
    parser.add_argument("--people", default="", help="rep,executive (default: both).")
    parser.add_argument("--no-forecasts", action="store_true",
                        help="Leave out the forecast views.")
    parser.add_argument("--no-rebuild", action="store_true",
                        help="Keep the rollups as they are (refreshed, not rebuilt).")
    return parser.parse_args()


def configure(args) -> str:
    if not os.environ.get("DATABASE_URL"):
        db = args.db or str(Path(tempfile.mkdtemp(prefix="bench-reports-")) / "bench.sqlite3")
        os.environ["DATABASE_URL"] = f"sqlite:///{Path(db).resolve()}"
        args.db = db
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesplan.config.settings")
    os.environ.setdefault("SALESPLAN_DEBUG", "0")
    import django

    django.setup()
    from django.db import connection

    return connection.vendor


def build(args, vendor: str) -> None:
    """The demo company at `--base-accounts`, then (past that) accounts, deals with their
    stage history, activities and leads generated in the database itself with
    INSERT … SELECT over a table of numbers: the demo generator goes through Python
    objects and would take most of an hour at a million accounts."""
    from django.core.management import call_command
    from django.db import connection

    from salesplan.customers.models import Account
    from salesplan.demo.build import build_demo

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)  # (a reused company may have none yet)
    if args.reuse and Account.objects.exists():
        return
    started, cpu = time.perf_counter(), time.process_time()
    build_demo(seed=args.seed, accounts=min(args.accounts, args.base_accounts),
               reset=vendor != "sqlite", log=lambda line: print(line, file=sys.stderr, flush=True))
    emit("build.demo", time.perf_counter() - started, "s",
         accounts=min(args.accounts, args.base_accounts))
    extra = args.accounts - Account.objects.count()
    if extra > 0:
        bulk_started = time.perf_counter()
        counts = BulkCompany(connection, args.opportunities_per_account).add(extra)
        emit("build.bulk", time.perf_counter() - bulk_started, "s", **counts)
    emit("build", time.perf_counter() - started, "s", cpu_seconds=round(
        time.process_time() - cpu, 1), load_average=os.getloadavg()[0])


# Multipliers of the hash that turns a row number into its pseudo-random choices.
MIX = (2654435761, 2246822519, 3266489917, 668265263, 374761393, 1181783497, 2870177450)
PRIME = 4294967291
BULK_TABLES = ("customers_account", "pipeline_opportunity", "pipeline_opportunitychange",
               "activities_activity", "customers_lead")


def mixed(expr: str, k: int) -> str:
    """A reproducible pseudo-random number in [0, PRIME) of a row number, in SQL."""
    return f"((({expr}) * {MIX[k]}) % {PRIME})"


class BulkCompany:
    """Adds accounts (each with its owner's territory), `per_account` deals each with the
    stage history that led to its stage, three activities per account and one lead per
    two accounts, spread over the last three and a half years and the next six months:
    40 % of deals open (all those closing later than today), the rest 45 % won."""

    def __init__(self, connection, per_account: int) -> None:
        from django.utils import timezone

        self.connection = connection
        self.vendor = connection.vendor
        self.per_account = per_account
        self.today = timezone.localdate().isoformat()

    # -- dialect --
    def day(self, offset: str) -> str:
        if self.vendor == "sqlite":
            return f"date('{self.today}', ({offset}) || ' days')"
        return f"(DATE '{self.today}' + ({offset})::int)"

    def instant(self, offset: str, hour: int) -> str:
        if self.vendor == "sqlite":
            return f"datetime('{self.today}', ({offset}) || ' days', '+{hour} hours')"
        return (f"((DATE '{self.today}' + ({offset})::int) + TIME '{hour:02}:00') "
                "AT TIME ZONE 'UTC'")

    def padded(self, number: str) -> str:
        """The number with leading zeros, so that names sort (and index) in id order."""
        if self.vendor == "sqlite":
            return f"printf('%09d', {number})"
        return f"lpad(({number})::text, 9, '0')"

    def run(self, sql: str, label: str = "") -> None:
        started = time.perf_counter()
        with self.connection.cursor() as cursor:
            cursor.execute(sql)
        if label:
            print(f"  {label}: {time.perf_counter() - started:.1f} s", file=sys.stderr,
                  flush=True)

    def top(self, table: str) -> int:
        with self.connection.cursor() as cursor:
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608
            return int(cursor.fetchone()[0])

    # -- reference tables the generated rows pick from --
    def prepare(self, rows: int) -> int:
        from collections import Counter

        from salesplan.customers.models import Account
        from salesplan.org.models import Role, User
        from salesplan.pipeline.models import Pipeline
        from salesplan.territories.models import AccountTerritory, Alignment, TerritoryType

        for table in ("bench_n", "bench_rep", "bench_stage", "bench_pipe", "bench_opp",
                      "bench_deal"):
            self.run(f"DROP TABLE IF EXISTS {table}")
        self.run("CREATE TABLE bench_n (i bigint PRIMARY KEY)")
        if self.vendor == "sqlite":
            self.run("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                     f"WHERE i < {rows}) INSERT INTO bench_n SELECT i FROM n", "numbers")
        else:
            self.run(f"INSERT INTO bench_n SELECT generate_series(1, {rows})", "numbers")
        alignment = Alignment.objects.filter(status=Alignment.Status.ACTIVE).first()
        self.alignment_id = alignment.pk if alignment else None
        reps = list(User.objects.filter(role=Role.REP, is_active=True).order_by("id")
                    .values_list("id", flat=True))
        territory_of: dict[int, Counter] = {rep: Counter() for rep in reps}
        if alignment is not None:
            owner_of = dict(Account.objects.values_list("id", "owner_id"))
            for account, territory in AccountTerritory.objects.filter(
                    alignment=alignment, type=TerritoryType.GEOGRAPHIC).values_list(
                    "account_id", "territory_id"):
                if owner_of.get(account) in territory_of:
                    territory_of[owner_of[account]][territory] += 1
        self.run("CREATE TABLE bench_rep (idx integer PRIMARY KEY, user_id bigint, "
                 "territory_id bigint)")
        values = ", ".join(
            f"({i}, {rep}, {c.most_common(1)[0][0] if c else 'NULL'})"
            for i, (rep, c) in enumerate((r, territory_of[r]) for r in reps))
        self.run(f"INSERT INTO bench_rep VALUES {values}")
        self.reps = len(reps)
        self.run("CREATE TABLE bench_pipe (idx integer PRIMARY KEY, pipeline_id bigint, "
                 "n_open integer, won_id bigint, lost_id bigint)")
        self.run("CREATE TABLE bench_stage (pipeline_id bigint, position integer, "
                 "stage_id bigint, previous_id bigint, probability integer)")
        pipelines = list(Pipeline.objects.filter(active=True).order_by("-is_default", "id"))
        for idx, pipeline in enumerate(pipelines[:3]):
            stages = list(pipeline.stages.order_by("position"))
            opened = [s for s in stages if s.kind == "open"]
            won = next(s for s in stages if s.kind == "won")
            lost = next(s for s in stages if s.kind == "lost")
            self.run(f"INSERT INTO bench_pipe VALUES ({idx}, {pipeline.pk}, {len(opened)}, "
                     f"{won.pk}, {lost.pk})")
            for position, stage in enumerate(opened):
                previous = opened[position - 1].pk if position else "NULL"
                self.run(f"INSERT INTO bench_stage VALUES ({pipeline.pk}, {position}, "
                         f"{stage.pk}, {previous}, {stage.probability})")
            self.won_probability, self.lost_probability = won.probability, lost.probability
        self.pipelines = min(3, len(pipelines))
        return len(reps)

    def add(self, accounts: int) -> dict[str, int]:
        deals = accounts * self.per_account
        self.prepare(max(deals, accounts * 3))
        if self.vendor == "sqlite":
            self.run("PRAGMA synchronous=OFF")
        else:
            self.run("SET maintenance_work_mem = '1GB'")
            # The rows are consistent by construction: skip the foreign-key triggers,
            # which checked some hundred million references one by one.
            self.run("SET session_replication_role = replica")
        counts = {"accounts": accounts, "opportunities": deals}
        # Secondary indexes are dropped and made again afterwards: sorting once is much
        # faster than millions of inserts at random places of a dozen indexes.
        indexes = self.drop_indexes(BULK_TABLES)
        self.add_accounts(accounts)
        counts["stage_changes"] = self.add_deals(deals)
        counts["activities"] = self.add_activities(accounts * 3)
        counts["leads"] = self.add_leads(accounts // 2)
        for sql in indexes:
            self.run(sql)
        print(f"  {len(indexes)} indexes made again", file=sys.stderr, flush=True)
        if self.vendor == "postgresql":  # ids were given: move the sequences past them
            self.run("SET session_replication_role = DEFAULT")
            for table in BULK_TABLES:
                self.run(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                         f"(SELECT MAX(id) FROM {table}))")
        for table in ("bench_n", "bench_rep", "bench_stage", "bench_pipe", "bench_opp",
                      "bench_deal"):
            self.run(f"DROP TABLE IF EXISTS {table}")
        self.run("ANALYZE", "analyze")
        return counts

    def drop_indexes(self, tables: tuple[str, ...]) -> list[str]:
        """Drop the secondary indexes of these tables; returns the statements that make
        them again (unique ones and those of constraints stay)."""
        names = ", ".join(f"'{t}'" for t in tables)
        with self.connection.cursor() as cursor:
            if self.vendor == "sqlite":
                cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' "  # noqa: S608
                               f"AND tbl_name IN ({names}) AND sql IS NOT NULL "
                               "AND sql NOT LIKE 'CREATE UNIQUE%'")
            else:
                cursor.execute("SELECT i.indexname, i.indexdef FROM pg_indexes i "  # noqa: S608
                               f"WHERE i.tablename IN ({names}) AND i.indexdef NOT LIKE "
                               "'CREATE UNIQUE%' AND i.indexname NOT IN (SELECT conname "
                               "FROM pg_constraint)")
            found = cursor.fetchall()
        for name, _ in found:
            self.run(f'DROP INDEX "{name}"')
        # A partitioned table's own index reads "ON ONLY"; made again as it reads, it would
        # cover no partition and stay invalid.
        return [sql.replace(" ON ONLY ", " ON ", 1) for _, sql in found]

    def owner_of(self, account_number: str) -> str:
        return f"{mixed(account_number, 0)} % {self.reps}"

    def add_accounts(self, n: int) -> None:
        first = self.top("customers_account")
        self.first_account = first
        now = self.instant("0", 8)
        self.run(f"""
            INSERT INTO customers_account (id, created_at, updated_at, version, name, name_key,
                domain, website, industry, employees, annual_revenue, street, city,
                postal_code, state, county, country, tier, lifecycle, potential, currency,
                owner_id)
            SELECT {first} + n.i, {now}, {now}, 1, 'Bench account ' || {self.padded('n.i')},
                'bench account ' || {self.padded('n.i')}, '', '', '', NULL, NULL, '', '', '',
                '', '', 'US', '', 'customer', NULL, 'USD', r.user_id
            FROM bench_n n JOIN bench_rep r ON r.idx = {self.owner_of('n.i')}
            WHERE n.i <= {n}""", f"{n} accounts")
        if self.alignment_id is not None:
            self.run(f"""
                INSERT INTO territories_accountterritory (type, reason, account_id,
                    alignment_id, territory_id)
                SELECT 'geographic', 'bench', {first} + n.i, {self.alignment_id},
                    r.territory_id
                FROM bench_n n JOIN bench_rep r ON r.idx = {self.owner_of('n.i')}
                WHERE n.i <= {n} AND r.territory_id IS NOT NULL""", "territories")

    def add_deals(self, n: int) -> int:
        first = self.top("pipeline_opportunity")
        per = self.per_account
        # One staging row per deal with its random choices, read by the three inserts.
        self.run(f"""
            CREATE TABLE bench_opp AS
            SELECT i, account, pipe_idx, close_off, roll, depth_roll, amount, cycle
            FROM (SELECT n.i, (n.i - 1) / {per} + 1 AS account,
                    CASE WHEN {mixed('n.i', 1)} % 10 < 6 THEN 0
                         WHEN {mixed('n.i', 1)} % 10 < 8 THEN 1 ELSE 2 END
                         % {self.pipelines} AS pipe_idx,
                    {mixed('n.i', 2)} % 1460 - 1280 AS close_off,
                    {mixed('n.i', 3)} % 100 AS roll,
                    {mixed('n.i', 4)} AS depth_roll,
                    1000 + {mixed('n.i', 5)} % 99000 AS amount,
                    20 + {mixed('n.i', 6)} % 160 AS cycle
                  FROM bench_n n WHERE n.i <= {n}) raw""", "deal choices")
        status = ("CASE WHEN o.close_off >= 0 OR o.roll < 8 THEN 'open' "
                  "WHEN o.roll < 52 THEN 'won' ELSE 'lost' END")
        self.run(f"""
            CREATE TABLE bench_deal AS
            SELECT {first} + o.i AS id, {self.first_account} + o.account AS account_id,
                r.user_id AS owner_id, p.pipeline_id, {status} AS status,
                o.depth_roll % p.n_open + 1 AS depth, o.amount, o.close_off, o.cycle,
                p.won_id, p.lost_id
            FROM bench_opp o JOIN bench_pipe p ON p.idx = o.pipe_idx
            JOIN bench_rep r ON r.idx = {self.owner_of('o.account')}""", "deal rows")
        self.run("DROP TABLE bench_opp")
        self.run(f"""
            INSERT INTO pipeline_opportunity (id, created_at, updated_at, version, name,
                name_key, status, amount, currency, close_date, probability, forecast_category,
                next_step, lost_reason, closed_at, account_id, contact_id, owner_id,
                pipeline_id, stage_id)
            SELECT d.id, {self.instant('d.close_off - d.cycle', 9)},
                {self.instant('d.close_off - d.cycle', 9)}, 1,
                'Bench deal ' || {self.padded('d.id')}, 'bench deal ' || {self.padded('d.id')},
                d.status, d.amount, 'USD', {self.day('d.close_off')},
                CASE d.status WHEN 'open' THEN s.probability WHEN 'won'
                    THEN {self.won_probability} ELSE {self.lost_probability} END,
                'pipeline', '', '',
                CASE WHEN d.status = 'open' THEN NULL ELSE {self.instant('d.close_off', 12)}
                    END,
                d.account_id, NULL, d.owner_id, d.pipeline_id,
                CASE d.status WHEN 'open' THEN s.stage_id WHEN 'won' THEN d.won_id
                    ELSE d.lost_id END
            FROM bench_deal d JOIN bench_stage s ON s.pipeline_id = d.pipeline_id
                AND s.position = d.depth - 1
            ORDER BY d.id""", f"{n} deals")
        # The stages passed on the way, spread over the cycle, then the closing move.
        self.run(f"""
            INSERT INTO pipeline_opportunitychange (field, from_amount, to_amount,
                from_close_date, to_close_date, changed_at, changed_by_id, opportunity_id,
                from_stage_id, to_stage_id)
            SELECT 'stage', NULL, NULL, NULL, NULL,
                {self.instant('d.close_off - d.cycle + s.position * d.cycle / d.depth', 10)},
                NULL, d.id, s.previous_id, s.stage_id
            FROM bench_deal d JOIN bench_stage s ON s.pipeline_id = d.pipeline_id
                AND s.position < d.depth
            ORDER BY d.id, s.position""", "stage history")
        self.run(f"""
            INSERT INTO pipeline_opportunitychange (field, from_amount, to_amount,
                from_close_date, to_close_date, changed_at, changed_by_id, opportunity_id,
                from_stage_id, to_stage_id)
            SELECT 'stage', NULL, NULL, NULL, NULL, {self.instant('d.close_off', 12)}, NULL,
                d.id, s.stage_id, CASE d.status WHEN 'won' THEN d.won_id ELSE d.lost_id END
            FROM bench_deal d JOIN bench_stage s ON s.pipeline_id = d.pipeline_id
                AND s.position = d.depth - 1
            WHERE d.status <> 'open'""", "closing moves")
        self.run("DROP TABLE bench_deal")
        with self.connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM pipeline_opportunitychange "  # noqa: S608
                           f"WHERE opportunity_id > {first}")
            return int(cursor.fetchone()[0])

    def add_activities(self, n: int) -> int:
        first = self.top("activities_activity")
        kind = (f"CASE {mixed('n.i', 1)} % 4 WHEN 0 THEN 'call' WHEN 1 THEN 'meeting' "
                "WHEN 2 THEN 'email' ELSE 'task' END")
        due = f"{mixed('n.i', 2)} % 800 - 700"
        self.run(f"""
            INSERT INTO activities_activity (id, created_at, updated_at, version, kind,
                subject, description, due_at, duration_minutes, outcome, done, done_at,
                account_id, contact_id, lead_id, opportunity_id, owner_id)
            SELECT {first} + n.i, {self.instant(due, 8)}, {self.instant(due, 8)}, 1, {kind},
                'Touch base', '', {self.instant(due, 15)}, 30, '',
                {mixed('n.i', 1)} % 4 <> 3 OR {mixed('n.i', 3)} % 2 = 0, NULL,
                {self.first_account} + (n.i - 1) / 3 + 1, NULL, NULL, NULL, r.user_id
            FROM bench_n n JOIN bench_rep r ON r.idx = {self.owner_of('(n.i - 1) / 3 + 1')}
            WHERE n.i <= {n}""", f"{n} activities")
        return n

    def add_leads(self, n: int) -> int:
        first = self.top("customers_lead")
        sources = ("web", "referral", "event", "outbound", "partner", "advertising", "other")
        statuses = ("converted", "new", "working", "nurturing", "qualified", "unqualified")
        source = " ".join(f"WHEN {i} THEN '{s}'" for i, s in enumerate(sources))
        status = " ".join(f"WHEN {i} THEN '{s}'" for i, s in enumerate(statuses))
        created = f"{mixed('n.i', 2)} % 1100 - 1080"
        self.run(f"""
            INSERT INTO customers_lead (id, created_at, updated_at, version, first_name,
                last_name, name_key, title, email, phone, company, website, industry,
                employees, city, state, postal_code, country, source, campaign, status,
                converted_at, converted_account_id, converted_contact_id,
                converted_opportunity_id, owner_id)
            SELECT {first} + n.i, {self.instant(created, 9)}, {self.instant(created, 9)}, 1,
                'Lead', 'Bench ' || n.i, 'lead bench ' || {self.padded('n.i')}, '', '', '',
                '', '', '', NULL, '', '', '', 'US', CASE {mixed('n.i', 1)} % 7 {source} END, '',
                CASE {mixed('n.i', 3)} % 6 {status} END,
                CASE WHEN {mixed('n.i', 3)} % 6 = 0 THEN {self.instant(created + ' + 20', 9)}
                    END, NULL, NULL, NULL, r.user_id
            FROM bench_n n JOIN bench_rep r ON r.idx = {mixed('n.i', 4)} % {self.reps}
            WHERE n.i <= {n}""", f"{n} leads")
        return n


def scale() -> dict:
    from salesplan.activities.models import Activity
    from salesplan.customers.models import Account, Lead
    from salesplan.pipeline.models import Opportunity, OpportunityChange

    return {"accounts": Account.objects.count(), "opportunities": Opportunity.objects.count(),
            "stage_changes": OpportunityChange.objects.count(),
            "activities": Activity.objects.count(), "leads": Lead.objects.count()}


def people():
    from django.db.models import Count

    from salesplan.org.models import Role, User

    rep = (User.objects.filter(role=Role.REP, is_active=True)
           .annotate(n=Count("opportunities")).order_by("-n", "id").first())
    executive = User.objects.filter(role=Role.EXECUTIVE, is_active=True).first()
    if executive is None:
        executive = User.objects.create_user(username="bench-executive", role=Role.EXECUTIVE)
    return {"rep": rep, "executive": executive}


# Medians of the last `timed` call's processor time: this process's and, on PostgreSQL on
# this host, its database session's (what a shared machine's load hardly changes).
LAST_CPU: dict[str, float] = {}


def timed(fn, repeat: int) -> tuple[float, object]:
    import bench_db

    timings, cpus, servers, result = [], [], [], None
    for _ in range(repeat):
        server = bench_db.server_cpu_seconds()
        started, cpu = time.perf_counter(), time.process_time()
        result = fn()
        timings.append((time.perf_counter() - started) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
        if server is not None:
            servers.append(((bench_db.server_cpu_seconds() or server) - server) * 1000)
    LAST_CPU.clear()
    LAST_CPU["cpu_ms"] = round(statistics.median(cpus), 1)
    if servers:
        LAST_CPU["server_cpu_ms"] = round(statistics.median(servers), 1)
    return statistics.median(timings), result


class BudgetSpent(Exception):
    """A naive computation ran past its time budget."""


def _out_of_budget(signum, frame) -> None:
    raise BudgetSpent


def naive_within(fn, repeat: int, budget: float) -> tuple[float, object]:
    """Time the naive computation, stopping its queries after `budget` seconds (then the
    result is None and the time is the budget: the baseline is at least that)."""
    from django.db import OperationalError, connection
    from django.db.utils import DatabaseError

    connection.ensure_connection()
    deadline = [0.0]
    if connection.vendor == "sqlite":
        connection.connection.set_progress_handler(
            lambda: int(time.perf_counter() > deadline[0]), 100_000)
    try:
        timings, result = [], None
        for _ in range(repeat):
            started = time.perf_counter()
            deadline[0] = started + budget
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(f"SET statement_timeout = {int(budget * 1000)}")
            # The database stops a long statement; the alarm stops the Python work
            # between statements (a naive report is many statements).
            signal.signal(signal.SIGALRM, _out_of_budget)
            # (a little later than the statement timeout, so that a statement running
            # at the budget is cancelled by the database, leaving the connection usable)
            signal.setitimer(signal.ITIMER_REAL, budget + 2)
            try:
                result = fn()
            except (OperationalError, DatabaseError, BudgetSpent):
                if connection.vendor != "sqlite":
                    connection.close()  # a query cut short leaves the connection busy
                return budget * 1000, None
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            timings.append((time.perf_counter() - started) * 1000)
        return statistics.median(timings), result
    finally:
        if connection.vendor == "sqlite":
            connection.connection.set_progress_handler(None, 0)
        elif connection.connection is not None:
            with connection.cursor() as cursor:
                cursor.execute("SET statement_timeout = 0")


FORECAST_PATHS = {
    "weighted_pipeline": "/api/v1/forecasts/weighted-pipeline",
    "weighted_pipeline_calibrated": "/api/v1/forecasts/weighted-pipeline?probabilities=calibrated",
    "rollup": "/api/v1/forecasts/rollup",
    "calibration": "/api/v1/forecasts/calibration",
    "statistical": "/api/v1/forecasts/statistical",
    "accuracy": "/api/v1/forecasts/accuracy",
    "page.overview": "/forecasts/",
    "page.statistical": "/forecasts/statistical/",
}


def naive_forecast_amounts(user) -> bool:
    """What the forecast views summed before the rollups: open amounts per quarter and
    stage, and won and open amounts per owner of the quarter, from the deals."""
    from django.utils import timezone

    from salesplan.core.fiscal import CompanyCalendar
    from salesplan.forecasting import calibration, periods
    from salesplan.forecasting.rollup import _sum_by_owner
    from salesplan.pipeline.models import Opportunity

    calendar = CompanyCalendar.current()
    today = timezone.localdate()
    quarter = periods.quarter_of(calendar, today)
    calibration.open_by_period_and_stage(
        Opportunity.objects.visible_to(user).filter(currency="USD"),
        calendar.quarters(calendar.year_of(today)))
    owners = None if user.role == "executive" else [user.pk]
    _sum_by_owner(quarter, "USD", "won", None, owners)
    _sum_by_owner(quarter, "USD", "open", None, owners)
    return True


def bench_forecasts(users: dict, repeat: int, naive_repeat: int, budget: float) -> None:
    """Each forecast view through the test client (in process, logged in): first request
    and the median of `repeat` more, with the naive sums the views used to make."""
    from django.conf import settings
    from django.test import Client

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    # The nightly job first, as in production: stage calibration counts and the
    # statistical forecasts, which requests then read.
    from salesplan.forecasting import services

    started, cpu = time.perf_counter(), time.process_time()
    result = services.refresh_forecasts()
    emit("forecast.refresh_job", time.perf_counter() - started, "s",
         cpu_seconds=round(time.process_time() - cpu, 1), load_average=os.getloadavg()[0],
         **{k: v for k, v in result.items() if isinstance(v, int)})
    for who, user in users.items():
        client = Client()
        client.force_login(user)
        baseline = None
        if naive_repeat > 0:
            ms, done = naive_within(partial(naive_forecast_amounts, user), naive_repeat, budget)
            baseline = round(ms, 1)
            emit(f"forecast.naive_amounts.{who}", ms, "ms", stopped_at_budget=done is None)
        # The process's first request loads the URL configuration and the API's routes;
        # a light view pays that, so each view's first request below is its own.
        started = time.perf_counter()
        client.get(FORECAST_PATHS["calibration"])
        emit(f"forecast.process_first_request.{who}", (time.perf_counter() - started) * 1000,
             "ms", path=FORECAST_PATHS["calibration"])
        for name, path in FORECAST_PATHS.items():
            if name == "rollup" and who == "rep":
                continue  # a rep has no teams to roll up
            started = time.perf_counter()
            status = client.get(path).status_code
            first = (time.perf_counter() - started) * 1000
            ms, _ = timed(partial(client.get, path), repeat)
            extra = {"first_request_ms": round(first, 1), "status": status,
                     "load_average": round(os.getloadavg()[0], 2), **LAST_CPU}
            if baseline is not None and name.startswith(("weighted", "rollup", "page.overview")):
                extra.update(baseline=baseline, ratio=round(ms / baseline, 5))
            emit(f"forecast.{name}.{who}", ms, "ms", **extra)


def main() -> None:
    args = parse_args()
    vendor = configure(args)
    build(args, vendor)
    from django.db import connection

    from salesplan.core.fiscal import CompanyCalendar
    from salesplan.metrics import rollup
    from salesplan.reports.catalog import REPORTS, run_report
    from salesplan.reports.scope import current_period, parse_filters

    emit("scale", vendor=vendor, db=args.db or "DATABASE_URL", **scale(),
         load_average=os.getloadavg()[0])
    if not args.no_rebuild:
        ms, counts = timed(rollup.rebuild, 1)
        emit("rollup.rebuild", ms / 1000, "s", **counts,  # type: ignore[arg-type]
             cpu_seconds=round(LAST_CPU["cpu_ms"] / 1000, 1),
             server_cpu_seconds=round(LAST_CPU.get("server_cpu_ms", 0) / 1000, 1),
             load_average=os.getloadavg()[0])
    period = args.period or current_period("year", CompanyCalendar.current()).code
    filters = parse_filters({"period": period})
    keys = args.reports.split(",") if args.reports else list(REPORTS)
    chosen = {who: user for who, user in people().items()
              if not args.people or who in args.people.split(",")}
    for who, user in chosen.items():
        for key in keys:
            report = REPORTS[key]
            by = report.default_by
            try:
                fast_ms, fast = timed(partial(run_report, key, user, filters, by), args.repeat)
            except Exception as exc:  # report the failure and go on with the others
                emit(f"report.{key}.{who}", skipped=f"{type(exc).__name__}: {exc}")
                continue
            extra = {"period": period, "by": by, "rows": len(fast.rows),  # type: ignore[attr-defined]
                     "load_average": round(os.getloadavg()[0], 2), **LAST_CPU}
            if args.naive_repeat < 1:
                emit(f"report.{key}.{who}", fast_ms, "ms", **extra)
                continue
            naive_ms, naive = naive_within(
                partial(run_report, key, user, filters, by, naive=True), args.naive_repeat,
                args.naive_budget)
            if naive is None:  # stopped at the budget: the baseline is at least that
                emit(f"report.{key}.{who}", fast_ms, "ms", baseline=round(naive_ms, 1),
                     baseline_stopped_at_budget=True, ratio=round(fast_ms / naive_ms, 5),
                     **extra)
                continue
            same = fast.plain_rows() == naive.plain_rows()  # type: ignore[attr-defined]
            emit(f"report.{key}.{who}", fast_ms, "ms", baseline=round(naive_ms, 1),
                 ratio=round(fast_ms / naive_ms, 5) if naive_ms else None,
                 speedup=round(naive_ms / fast_ms, 1) if fast_ms else None,
                 identical=same, **extra)
    if not args.no_forecasts:
        bench_forecasts(chosen, args.repeat, args.naive_repeat, args.naive_budget)
    # What one report costs right after people changed 200 deals through the services.
    from salesplan.pipeline import services
    from salesplan.pipeline.models import Opportunity

    admin = people()["executive"]
    admin.role = "admin"
    changed = list(Opportunity.objects.filter(status="open").order_by("-id")[:200])
    for opp in changed:
        services.update_opportunity(opp, by=admin, data={"amount": opp.amount + 1})
    executive = people()["executive"]
    ms, _ = timed(lambda: run_report("bookings", executive, filters, "owner"), 1)
    emit("report.bookings.executive.after_200_changes", ms, "ms", **LAST_CPU)
    ms, _ = timed(lambda: run_report("bookings", executive, filters, "owner"), 3)
    emit("report.bookings.executive.steady", ms, "ms", **LAST_CPU)
    emit("load_average", os.getloadavg()[0], "", cores=os.cpu_count(), db_vendor=connection.vendor)


if __name__ == "__main__":
    main()
