"""Quality-control benchmark: the duplicate scan and the quality-control lists.

    .venv/bin/python bench/bench_quality.py duplicates --contacts 1000000
    .venv/bin/python bench/bench_quality.py lists [--reuse]   # 1M accounts, 5M deals
    .venv/bin/python bench/bench_quality.py lists --database-url postgres://…/bench_quality
    .venv/bin/python bench/bench_quality.py stored --db /tmp/bench-copy.sqlite3 --snapshot

`duplicates` generates synthetic contacts in memory (names drawn with a long-tailed
surname distribution, company e-mail addresses, phones, accounts) with planted
duplicates of four kinds (same e-mail with a typo in the name; same phone written
differently with the name in the other order; same account with a typo; a Gmail
address with dots), runs the matching engine and reports its time and the recall of the
planted pairs; the baseline is the same scoring without blocking on a sample (all pairs),
extrapolated to the full size.

`lists` builds (or with --reuse keeps) a database of 1,000,000 accounts and 5,000,000
opportunities under /work/tmp-quality/ by generating rows straight into the tables
(executemany on SQLite, COPY on PostgreSQL), then times the executive's overview (stored
exact counts of every check) against counting every check live, and the first page of
every quality-control list for the executive and for a rep against a naive ORM version
(records loaded in list order and tested in Python).

Prints one JSON object per line: {"metric", "value", "unit"} plus "baseline"/"ratio"
where a figure is compared. Not part of the test suite.
"""

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

import company_rows  # noqa: E402


def emit(metric: str, value=None, unit: str = "", **extra) -> None:
    line: dict = {"metric": metric}
    if value is not None:
        line.update(value=round(value, 3) if isinstance(value, float) else value, unit=unit)
    line.update(extra)
    print(json.dumps(line), flush=True)


# --- synthetic contacts ----------------------------------------------------------------

SYLLABLES = ("an", "ber", "cal", "dor", "el", "fen", "gar", "hol", "ing", "jor", "kel", "lin",
             "mar", "nor", "ol", "pet", "quin", "ros", "sel", "tor", "ul", "ven", "wil", "yor",
             "zan", "bro", "cha", "dre", "ste", "tha")


def _typo(rng: random.Random, word: str) -> str:
    """One substitution, deletion or transposition after the first letter."""
    if len(word) < 4:
        return word + rng.choice("aeiou")
    i = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(3)
    if kind == 0:
        return word[:i] + rng.choice("aeiouy") + word[i + 1:]
    if kind == 1:
        return word[:i] + word[i + 1:]
    return word[:i] + word[i + 1] + word[i] + word[i + 2:]


def synthetic_contacts(n: int, seed: int, planted_share: float = 0.02):
    """Columns of n contacts, of which about planted_share × n are planted twins;
    returns (records columns, planted pairs as a set of (i, j))."""
    from salesplan.demo.names import FIRST_NAMES

    rng = random.Random(seed)
    surnames = sorted({"".join(rng.choice(SYLLABLES) for _ in range(rng.choice((2, 3, 3, 4))))
                       for _ in range(60_000)})
    weights = [1 / (rank + 10) for rank in range(len(surnames))]
    firsts = [f.lower() for f in FIRST_NAMES]
    accounts = max(1, n // 5)
    planted_target = int(n * planted_share)
    base = n - planted_target
    last_names = rng.choices(surnames, weights=weights, k=base)
    ids, names, emails, phones, groups = [], [], [], [], []
    for i in range(base):
        first, last = rng.choice(firsts), last_names[i]
        account = rng.randrange(accounts)
        ids.append(i + 1)
        names.append(f"{first.title()} {last.title()}")
        emails.append(f"{first}.{last}{i}@firm{account}.example.com")
        phones.append(f"+1 {rng.randrange(200, 999)} 555 {rng.randrange(10_000):04d}"
                      if rng.random() < 0.6 else "")
        groups.append(account)
    planted = set()
    for k in range(planted_target):
        src = rng.randrange(base)
        first, last = names[src].lower().split(" ", 1)
        kind = k % 4
        email, phone, group = "", "", rng.randrange(accounts)
        if kind == 0:  # same e-mail, typo in the surname
            name, email = f"{first} {_typo(rng, last)}", emails[src].upper()
        elif kind == 1 and phones[src]:  # same phone written differently, swapped order
            digits = "".join(c for c in phones[src] if c.isdigit())[-10:]
            name, phone = f"{last}, {first}", f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
            email = f"{first[0]}{last}@other{src}.example.net"
        elif kind == 2 or kind == 1:  # same account, typo in the first name
            name, group = f"{_typo(rng, first)} {last}", groups[src]
            email = f"{first}{src}@home.example.org"
        else:  # a Gmail address with dots and a tag, same name
            gmail = f"{first}{last}{src}@gmail.com"
            emails[src] = gmail
            name, email = f"{first} {last}", f"{first}.{last}.{src}+crm@gmail.com"
        ids.append(base + k + 1)
        names.append(name.title())
        emails.append(email)
        phones.append(phone)
        groups.append(group)
        planted.add((src + 1, base + k + 1))
    return (ids, names, emails, phones, groups), planted


def bench_duplicates(args) -> None:
    from salesplan.engines.duplicates import Records, ScanStats, find_duplicates

    started = time.perf_counter()
    (ids, names, emails, phones, groups), planted = synthetic_contacts(args.contacts, args.seed)
    emit("duplicates.generate", time.perf_counter() - started, "s", contacts=args.contacts)
    records = Records(ids=ids, names=names, emails=emails, phones=phones, groups=groups)
    stats = ScanStats()
    started = time.perf_counter()
    found = find_duplicates(records, stats=stats)
    elapsed = time.perf_counter() - started
    pairs = {(c.left_id, c.right_id) for c in found}
    hits = len(planted & pairs)
    # Baseline: every pair scored (no blocking), timed on a sample and extrapolated.
    sample = min(args.baseline_sample, args.contacts)
    from rapidfuzz import fuzz, process

    from salesplan.engines.duplicates import name_tokens

    sample_names = [" ".join(name_tokens(x)) for x in names[:sample]]
    t0 = time.perf_counter()
    process.cdist(sample_names, sample_names, scorer=fuzz.token_sort_ratio, workers=-1)
    sample_time = time.perf_counter() - t0
    baseline = sample_time * (args.contacts / sample) ** 2
    emit("duplicates.scan", elapsed, "s", contacts=args.contacts, baseline=round(baseline, 1),
         ratio=round(baseline / elapsed, 1), baseline_note=(
             f"all-pairs cdist timed on {sample:,} contacts, extrapolated"),
         limit_s=60, met=elapsed <= 60, timings=stats.timings,
         load_average=round(os.getloadavg()[0], 2))
    emit("duplicates.pairs_compared", stats.pairs_compared, "pairs", contacts=args.contacts)
    emit("duplicates.recall", 100.0 * hits / max(1, len(planted)), "%",
         planted=len(planted), found=hits)
    emit("duplicates.flagged", len(found), "pairs", not_planted=len(pairs - planted))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="part", required=True)
    dup = sub.add_parser("duplicates")
    dup.add_argument("--contacts", type=int, default=1_000_000)
    dup.add_argument("--seed", type=int, default=7)
    dup.add_argument("--baseline-sample", type=int, default=5_000)
    lists = sub.add_parser("lists")
    lists.add_argument("--db", default=str(TMP / "quality.sqlite3"),
                       help="The SQLite database to build (or reuse with --reuse).")
    lists.add_argument("--database-url", default=os.environ.get("DATABASE_URL", "")
                       if os.environ.get("DATABASE_URL", "").startswith("postgres") else None,
                       help="A PostgreSQL database instead (rebuilt with "
                       "COPY unless --reuse), e.g. postgres://postgres@127.0.0.1:5432/bench_quality")
    lists.add_argument("--reuse", action="store_true",
                       help="Keep the database if it already holds data (else build it).")
    lists.add_argument("--accounts", type=int, default=1_000_000)
    lists.add_argument("--opportunities", type=int, default=5_000_000)
    lists.add_argument("--open-share", type=float, default=0.4,
                       help="Share of the opportunities that are open.")
    lists.add_argument("--activities-per-deal", type=float, default=0.5)
    lists.add_argument("--deals-per-quote", type=int, default=25)
    lists.add_argument("--teams", type=int, default=20)
    lists.add_argument("--reps-per-team", type=int, default=24)
    lists.add_argument("--seed", type=int, default=11)
    lists.add_argument("--requests", type=int, default=3)
    lists.add_argument("--budget", type=float, default=30.0,
                       help="Seconds the naive version may run per list before it stops.")
    lists.add_argument("--only", action="append",
                       help="Only this check, or 'overview' (repeat).")
    lists.add_argument("--build-only", action="store_true")
    stored = sub.add_parser("stored", help="The scan and the snapshot on a database (a copy).")
    stored.add_argument("--db", required=True)
    stored.add_argument("--type", dest="types", action="append",
                        choices=["account", "contact", "lead"])
    stored.add_argument("--snapshot", action="store_true", help="Also time the score snapshot.")
    args = parser.parse_args()
    if args.part == "duplicates":
        bench_duplicates(args)
    elif args.part == "stored":
        bench_stored(args)
    else:
        bench_lists(args)


def bench_stored(args) -> None:
    """The duplicate scan as the job runs it: read the records, match, store the pairs."""
    configure(args.db)
    from django.core.management import call_command

    from salesplan.quality.scanning import run_scan
    from salesplan.quality.scoring import take_snapshot

    call_command("migrate", "quality", verbosity=0)
    for record_type in args.types or ["contact"]:
        started = time.perf_counter()
        scan = run_scan(record_type)
        emit(f"stored.duplicate_scan.{record_type}", time.perf_counter() - started, "s",
             records=scan.records, pairs_compared=scan.pairs_compared,
             candidates=scan.candidates, timings=getattr(scan, "timings", {}), limit_s=60,
             met=time.perf_counter() - started <= 60,
             load_average=round(os.getloadavg()[0], 2))
    if args.snapshot:
        started = time.perf_counter()
        result = take_snapshot()
        emit("stored.score_snapshot", time.perf_counter() - started, "s",
             people=result["people"], load_average=round(os.getloadavg()[0], 2))


# --- building a large database fast ----------------------------------------------------


def _default_of(field):
    """A value for a column the generator leaves alone: its default, else empty."""
    from django.db import models

    if field.has_default():
        value = field.get_default()
        if isinstance(field, models.JSONField):
            return json.dumps(value)
        return str(value) if hasattr(value, "value") else value  # TextChoices → text
    if field.null:
        return None
    if isinstance(field, (models.CharField, models.TextField)):
        return ""
    if isinstance(field, models.BooleanField):
        return False
    return 0


def _sqlite_literal(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


class TableWriter:
    """Writes generated rows into one table: executemany on SQLite (with the table's
    indexes dropped while loading and rebuilt after), COPY on PostgreSQL (foreign-key
    triggers off while loading). Rows give the `columns` named; every other column gets
    its default."""

    def __init__(self, model, columns: list[str]):
        from django.db import connection

        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        rest = [f for f in fields if f.column not in columns]
        self.table = model._meta.db_table
        self.columns = list(columns) + [f.column for f in rest]
        self.tail = tuple(_default_of(f) for f in rest)
        self.connection = connection
        self.rows = 0

    def write(self, rows) -> int:
        tail = self.tail
        if self.connection.vendor == "postgresql":
            return self._copy(tuple(row) + tail for row in rows)
        cols = ", ".join(self.columns)
        # The defaults are the same on every row: written once into the statement as
        # constants, they cost SQLite no binding per row (half the columns of a table).
        marks = ", ".join(["?"] * (len(self.columns) - len(tail))
                          + [_sqlite_literal(v) for v in tail])
        raw = self.connection.connection
        indexes = raw.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND "
                              "tbl_name = ? AND sql IS NOT NULL", (self.table,)).fetchall()
        own = not self.connection.in_atomic_block  # (tests build inside one)
        if own:
            # One transaction for the load (in autocommit each row would be its own), the
            # foreign keys unchecked while it runs, as the triggers are off on PostgreSQL.
            raw.execute("PRAGMA foreign_keys = OFF")
            raw.execute("BEGIN")
        for name, _sql in indexes:
            raw.execute(f'DROP INDEX "{name}"')
        # The table name and constants come from the model, never from input.
        self.rows += raw.executemany(
            f"INSERT INTO {self.table} ({cols}) VALUES ({marks})", rows).rowcount  # noqa: S608
        for _name, sql in indexes:
            raw.execute(sql)
        if own:
            raw.execute("COMMIT")
            raw.execute("PRAGMA foreign_keys = ON")
        return self.rows

    def _copy(self, rows) -> int:
        raw = self.connection.connection
        with raw.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {self.table} DISABLE TRIGGER ALL")
            # One sort per index after the load beats updating each index row by row;
            # unique ones stay (they back primary keys and constraints).
            cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = "
                           "current_schema() AND tablename = %s AND indexdef NOT LIKE "
                           "'CREATE UNIQUE%%'", [self.table])
            indexes = cursor.fetchall()
            for name, _sql in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
            with cursor.copy(f"COPY {self.table} ({', '.join(self.columns)}) FROM STDIN") as copy:
                write = copy.write_row
                for row in rows:
                    write(row)
                    self.rows += 1
            for _name, sql in indexes:
                # A partitioned table's own index reads "ON ONLY": made again as it reads,
                # it would cover no partition and stay invalid, and every read by
                # territory would scan the whole table.
                cursor.execute(sql.replace(" ON ONLY ", " ON ", 1))
            cursor.execute(f"ALTER TABLE {self.table} ENABLE TRIGGER ALL")
            if "id" in self.columns:  # the next row the product adds comes after ours
                cursor.execute(f"SELECT setval(pg_get_serial_sequence(%s, 'id'), "
                               f"COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM {self.table}",
                               [self.table])
        if not self.connection.in_atomic_block:  # (tests build inside one)
            raw.commit()
        return self.rows


def _stamp(vendor: str):
    """Datetimes as the database stores them (SQLite: naive UTC text)."""
    if vendor == "postgresql":
        return lambda dt: dt
    from functools import lru_cache

    # The generated times fall on a few thousand distinct values: format each once.
    return lru_cache(maxsize=100_000)(lambda dt: dt.strftime("%Y-%m-%d %H:%M:%S.%f"))


def build_org(reps_per_team: int, teams: int) -> dict:
    """A region of `teams` teams, each with a manager and reps; an executive and an admin."""
    from django.contrib.auth.hashers import make_password

    from salesplan.org.models import Role, Team, User

    no_login = make_password(None)  # bench users never sign in
    region = Team.objects.create(name="Company")
    made: dict[str, list[int]] = {"reps": [], "managers": []}
    staff = [User(username="exec", role=Role.EXECUTIVE, team=region, password=no_login,
                  first_name="Erin", last_name="Exec", email="exec@example.com"),
             User(username="admin", role=Role.ADMIN, team=region, password=no_login,
                  is_superuser=True, is_staff=True, first_name="Ada", last_name="Admin",
                  email="admin@example.com")]
    User.objects.bulk_create(staff)
    for t in range(teams):
        team = Team.objects.create(name=f"Team {t + 1}", parent=region)
        manager = User.objects.create(username=f"mgr{t}", role=Role.MANAGER, team=team,
                                      password=no_login, first_name="Manager", last_name=str(t),
                                      email=f"mgr{t}@example.com")
        team.manager = manager
        team.save()
        made["managers"].append(manager.pk)
        reps = User.objects.bulk_create(
            User(username=f"rep{t}_{r}", role=Role.REP, team=team, password=no_login,
                 first_name="Rep", last_name=f"{t}-{r}", email=f"rep{t}_{r}@example.com")
            for r in range(reps_per_team))
        made["reps"].extend(u.pk for u in reps)
    return made


def fill_activity_accounts() -> int:
    """Give activities logged on a deal the deal's account where an older build left
    it out (the product records both); returns how many rows changed."""
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE activities_activity SET account_id = (SELECT o.account_id FROM "
            "pipeline_opportunity o WHERE o.id = activities_activity.opportunity_id) "
            "WHERE account_id IS NULL AND opportunity_id IS NOT NULL")
        changed = cursor.rowcount
        if changed:
            cursor.execute("ANALYZE activities_activity")
    if changed:
        emit("build.activity_accounts", time.perf_counter() - started, "s", rows=changed)
    return changed


def build_territories(seed: int, owners=None) -> int | None:
    """Give the org an active territory map as a real deployment has one: one alignment,
    a region territory per team (its manager a member) with a territory per rep below it
    (the rep its owner), and every account assigned to one rep territory — about 90% the
    territory of the account's owner, the rest a teammate's, so a rep sees colleagues'
    deals on their territory accounts and owns deals outside it. `owners` is the
    generator's account → owner list (index = account id); without it the owners are read
    back from the database. Returns the rows written, or None when an active alignment
    already exists."""
    from array import array
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    from salesplan.core.clock import company_today
    from salesplan.customers.models import Account
    from salesplan.org.models import Role, Team, User
    from salesplan.territories.models import (
        AccountTerritory,
        Alignment,
        MemberRole,
        Territory,
        TerritoryMember,
        TerritoryType,
    )

    if Alignment.objects.filter(status=Alignment.Status.ACTIVE).exists():
        return None
    started = time.perf_counter()
    rng = random.Random(seed * 7919 + 3)
    now = timezone.now()
    since = company_today() - timedelta(days=730)
    kind = TerritoryType.GEOGRAPHIC
    reps_by_team: dict[int, list[int]] = {}
    names = {}
    for pk, team_id, username in User.objects.filter(
            role=Role.REP, is_active=True, team__isnull=False).order_by("pk").values_list(
            "pk", "team_id", "username"):
        reps_by_team.setdefault(team_id, []).append(pk)
        names[pk] = username
    teams = list(Team.objects.filter(pk__in=reps_by_team).order_by("pk"))
    alignment = Alignment.objects.create(
        name="Benchmark territories", status=Alignment.Status.ACTIVE, activated_at=now,
        assigned_version=1, assigned_at=now,
        description="One region per team, one territory per rep.")
    regions = Territory.objects.bulk_create(
        Territory(alignment=alignment, name=f"{team.name} region", type=kind)
        for team in teams)
    rep_territory: dict[int, int] = {}
    team_of_rep: dict[int, int] = {}
    members = []
    for team, region in zip(teams, regions, strict=True):
        reps = reps_by_team[team.pk]
        made = Territory.objects.bulk_create(
            Territory(alignment=alignment, parent=region, type=kind,
                      name=f"{team.name} – {names[rep]}") for rep in reps)
        for rep, territory in zip(reps, made, strict=True):
            rep_territory[rep] = territory.pk
            team_of_rep[rep] = team.pk
            members.append(TerritoryMember(territory=territory, user_id=rep,
                                           role=MemberRole.OWNER, start_date=since))
        if team.manager_id:
            members.append(TerritoryMember(territory=region, user_id=team.manager_id,
                                           role=MemberRole.MANAGER, start_date=since))
    TerritoryMember.objects.bulk_create(members)
    territories_of_team = {team.pk: [rep_territory[r] for r in reps_by_team[team.pk]]
                           for team in teams}
    all_rep_territories = list(rep_territory.values())

    if owners is None:  # read (id, owner) back in chunks, before the writer holds the line
        ids, owner_ids = array("q"), array("q")
        table = Account._meta.db_table
        last = 0
        with connection.cursor() as cursor:
            while True:
                cursor.execute(f"SELECT id, owner_id FROM {table} WHERE id > %s "
                               "ORDER BY id LIMIT 200000", [last])
                chunk = cursor.fetchall()
                if not chunk:
                    break
                for pk, owner in chunk:
                    ids.append(pk)
                    owner_ids.append(owner or 0)
                last = chunk[-1][0]
        pairs = zip(ids, owner_ids, strict=True)
    else:
        pairs = ((pk, owners[pk]) for pk in range(1, len(owners)))

    def rows():
        for pk, owner in pairs:
            own = rep_territory.get(owner)
            if own is None:  # not a rep's account: anyone's territory
                territory = all_rep_territories[rng.randrange(len(all_rep_territories))]
            elif rng.random() < 0.9:
                territory = own
            else:
                mates = territories_of_team[team_of_rep[owner]]
                territory = mates[rng.randrange(len(mates))]
                if territory == own and len(mates) > 1:
                    territory = mates[(mates.index(own) + 1 + rng.randrange(len(mates) - 1))
                                      % len(mates)]
            yield (pk, alignment.pk, territory, kind.value, "benchmark")

    written = TableWriter(AccountTerritory, ["account_id", "alignment_id", "territory_id",
                                             "type", "reason"]).write(rows())
    tables = [m._meta.db_table for m in (Alignment, Territory, TerritoryMember,
                                         AccountTerritory)]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {', '.join(tables)}")
    else:
        for table in tables:
            connection.connection.execute(f"ANALYZE {table}")
        if not connection.in_atomic_block:
            connection.connection.commit()
    emit("build.territories", time.perf_counter() - started, "s", rows=written,
         territories=len(regions) + len(rep_territory), members=len(members),
         load_average=round(os.getloadavg()[0], 2))
    return written


def build(args) -> None:
    """Fill an empty database with `args.accounts` accounts and `args.opportunities`
    opportunities (and contacts, leads, activities, history and quotes in proportion)."""
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from salesplan.activities.models import Activity
    from salesplan.customers.models import Account, Contact, Lead
    from salesplan.pipeline.models import Opportunity, OpportunityChange, Pipeline, StageKind
    from salesplan.proposals.models import Approval, Quote, QuoteLine, QuoteVersion
    from salesplan.quality.models import RequiredField

    started = time.perf_counter()
    if not getattr(args, "skip_migrate", False):
        call_command("migrate", verbosity=0)
        emit("build.migrate", time.perf_counter() - started, "s")
    vendor = connection.vendor
    if vendor == "sqlite" and not connection.in_atomic_block:  # (tests build in one)
        connection.ensure_connection()
        # Loading only: the generator writes consistent keys, so no row-by-row checks,
        # and a build that stops half-way is started again, so no rollback journal.
        for pragma in ("journal_mode = OFF", "synchronous = OFF", "cache_size = -2000000",
                       "temp_store = MEMORY", "foreign_keys = OFF"):
            connection.connection.execute(f"PRAGMA {pragma}")
    elif vendor == "postgresql":
        with connection.cursor() as cursor:  # (a lost build is made again from its seed)
            cursor.execute("SET synchronous_commit = off")
            cursor.execute("SET maintenance_work_mem = '256MB'")
    stamp = _stamp(vendor)
    rng = random.Random(args.seed)
    # A fixed `as_of` makes the whole database a function of the seed.
    now = (getattr(args, "as_of", None) or timezone.now()).replace(microsecond=0)
    org = build_org(args.reps_per_team, args.teams)
    reps = org["reps"]
    pipeline = Pipeline.objects.get(is_default=True)
    stages = list(pipeline.stages.order_by("position"))
    open_stages = [s for s in stages if s.kind == StageKind.OPEN]
    won = next(s for s in stages if s.kind == StageKind.WON)
    lost = next(s for s in stages if s.kind == StageKind.LOST)

    def timed(name: str, writer: TableWriter, rows) -> None:
        t0 = time.perf_counter()
        n = writer.write(rows)
        emit(f"build.{name}", time.perf_counter() - t0, "s", rows=n,
             load_average=round(os.getloadavg()[0], 2))

    n_accounts, n_opps = args.accounts, args.opportunities
    n_contacts, n_leads = n_accounts, n_accounts // 2
    draw = np.random.default_rng(args.seed)
    clock = company_rows.Clock(now, vendor)
    made = company_rows.Company()
    staff = np.array(reps, dtype=np.int64)
    timed("accounts", TableWriter(Account, ["id", "created_at", "updated_at", "name",
                                            "name_key", "industry", "owner_id"]),
          company_rows.accounts(draw, clock, made, n_accounts, staff))
    timed("contacts", TableWriter(Contact, ["id", "created_at", "updated_at", "first_name",
                                            "last_name", "name_key", "title", "email",
                                            "account_id", "owner_id"]),
          company_rows.contacts(draw, clock, made, n_contacts, n_accounts))
    kinds = company_rows.Stages(
        open_pks=np.array([s.pk for s in open_stages], dtype=np.int64),
        open_probabilities=np.array([s.probability for s in open_stages], dtype=np.int64),
        won=(won.pk, won.probability), lost=(lost.pk, lost.probability), pipeline=pipeline.pk)
    timed("opportunities", TableWriter(Opportunity, [
        "id", "created_at", "updated_at", "name", "name_key", "account_id", "contact_id",
        "pipeline_id", "stage_id", "status", "amount", "close_date", "probability",
        "next_step", "owner_id"]), company_rows.opportunities(
            draw, clock, made, n_opps, n_accounts, kinds, args.open_share))
    timed("leads", TableWriter(Lead, ["id", "created_at", "updated_at", "first_name",
                                      "last_name", "name_key", "company", "status",
                                      "owner_id"]),
          company_rows.leads(draw, clock, made, n_leads, staff))
    timed("activities", TableWriter(Activity, [
        "id", "created_at", "updated_at", "kind", "subject", "due_at", "done", "owner_id",
        "account_id", "opportunity_id", "lead_id"]), company_rows.activities(
            draw, clock, made, int(n_opps * args.activities_per_deal), n_leads))
    timed("opportunity_changes", TableWriter(OpportunityChange, [
        "id", "opportunity_id", "field", "from_stage_id", "to_stage_id", "from_close_date",
        "to_close_date", "changed_at"]),
        company_rows.opportunity_changes(draw, clock, made, kinds.open_pks))
    open_ids = made.open_deals().tolist()
    opp_owner = made.opp_owner.tolist()
    account_owner = made.account_owner.tolist()

    build_quotes(rng, now, stamp, open_ids, opp_owner, n_opps // args.deals_per_quote,
                 timed, (Quote, QuoteVersion, QuoteLine, Approval))
    build_territories(args.seed, account_owner)
    proposal = pipeline.stages.filter(name="Proposal").first()
    RequiredField.objects.create(record_type="account", field="industry")
    RequiredField.objects.create(record_type="opportunity", field="contact", stage=proposal)
    RequiredField.objects.create(record_type="opportunity", field="amount", stage=proposal)
    RequiredField.objects.create(record_type="contact", field="title")
    RequiredField.objects.create(record_type="lead", field="company")
    t0 = time.perf_counter()
    if vendor == "sqlite":
        connection.connection.execute("ANALYZE")
    else:
        # A company that has been in use has its rows marked visible (hint bits and the
        # visibility map) by autovacuum; fresh from COPY, the first reader of each table
        # does it and writes the table out again, inside whatever it was timing. VACUUM
        # needs autocommit.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)")
    emit("build.analyze", time.perf_counter() - t0, "s")
    if vendor == "sqlite" and not connection.in_atomic_block:
        connection.connection.execute("PRAGMA journal_mode = WAL")  # as the product runs
    emit("build.total", time.perf_counter() - started, "s", accounts=n_accounts,
         opportunities=n_opps, database=vendor, load_average=round(os.getloadavg()[0], 2))


def build_quotes(rng, now, stamp, open_ids, opp_owner, n_quotes, timed, models) -> None:
    """Quotes on open deals: one version each with one to three lines; discounts spread
    around the matrix's limits, in every status, with approvals given, missing and
    waiting."""
    from datetime import timedelta

    quote_model, version_model, line_model, approval_model = models
    plan = []
    # One quote per deal (a deal has at most one accepted quote).
    for i, opp in enumerate(rng.sample(open_ids, min(n_quotes, len(open_ids))), start=1):
        status = rng.choice(("draft", "draft", "in_approval", "approved", "sent", "sent",
                             "accepted", "rejected", "expired"))
        discounts = [rng.choice((0, 5, 8, 10, 12, 15, 18, 22, 25)) for _ in range(
            rng.randrange(1, 4))]
        touched = now - timedelta(days=rng.randrange(0, 60))
        plan.append((i, opp, status, discounts, touched))

    def quotes():
        for i, opp, status, _d, touched in plan:
            yield (i, stamp(touched), stamp(touched), f"B{i:08d}", opp, f"Quote {i}",
                   opp_owner[opp], status)

    def versions():
        for i, _opp, _s, _d, touched in plan:
            yield (i, stamp(touched), stamp(touched), i, 1,
                   (now.date() + timedelta(days=30)).isoformat())

    def lines():
        n = 0
        for i, _opp, _s, discounts, _t in plan:
            for position, discount in enumerate(discounts, start=1):
                n += 1
                net = round(1000 * (1 - discount / 100), 2)
                yield (n, i, position, 1, discount, "SKU-1", "Product", 1000, net, discount,
                       net, net, 40 - discount, rng.random() < 0.02)

    def approvals():
        n = 0
        for i, _opp, status, discounts, touched in plan:
            top = max(discounts)
            needed = [("manager", 1)] if top > 10 else []
            if top > 20:
                needed.append(("director", 2))
            for approver, step in needed:
                if status == "in_approval":
                    state = "pending"
                elif status in ("approved", "sent", "accepted"):
                    state = "approved" if rng.random() < 0.9 else None  # some never asked
                else:
                    state = None
                if state:
                    n += 1
                    yield (n, stamp(touched), stamp(touched), i, step, approver, state)

    timed("quotes", TableWriter(quote_model, ["id", "created_at", "updated_at", "number",
                                              "opportunity_id", "title", "owner_id",
                                              "status"]), quotes())
    timed("quote_versions", TableWriter(version_model, ["id", "created_at", "updated_at",
                                                        "quote_id", "number",
                                                        "valid_until"]), versions())
    timed("quote_lines", TableWriter(line_model, [
        "id", "quote_version_id", "position", "quantity", "requested_discount_pct", "sku",
        "name", "list_unit_price", "net_unit_price", "discount_pct", "line_net",
        "line_total", "margin_pct", "below_floor"]), lines())
    timed("approvals", TableWriter(approval_model, ["id", "created_at", "updated_at",
                                                    "quote_version_id", "step", "approver",
                                                    "status"]), approvals())


# --- the quality-control lists ---------------------------------------------------------


TMP = Path("/work/tmp-quality")


def configure(db: str, database_url: str | None = None) -> None:
    os.environ["DATABASE_URL"] = database_url or f"sqlite:///{Path(db).resolve()}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesplan.config.settings")
    os.environ.setdefault("SALESPLAN_DEBUG", "0")
    import django

    django.setup()
    from django.conf import settings

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


def naive_items(check, user, ctx, *, limit: int, budget: float):
    """The naive ORM version: walk the records in list order and test each one in Python
    (with a query per record where the test needs related rows) until a page is full.
    Returns (rows, finished) — not finished when the time budget ran out."""
    from datetime import timedelta

    from salesplan.activities.models import Activity
    from salesplan.pipeline.models import OpportunityChange, StageKind
    from salesplan.quality import checks as qc

    started = time.perf_counter()
    cutoff = ctx.now - timedelta(days=ctx.settings.stale_after_days)
    rules = qc.rules_for(check.record_type) if check.fix == "required_field" else []

    def test(record) -> bool:
        key = check.key
        if check.record_type == "opportunity" and key != "stage_jump" \
                and record.status != StageKind.OPEN:
            return False
        if key == "stale_opportunity":
            return record.created_at < cutoff and not Activity.objects.filter(
                opportunity=record, due_at__gte=cutoff).exists()
        if key == "past_close_date":
            return record.close_date < ctx.today
        if key == "close_date_pushed":
            pushes = [c for c in OpportunityChange.objects.filter(
                opportunity=record, field="close_date")
                if c.to_close_date and c.from_close_date and c.to_close_date > c.from_close_date]
            return len(pushes) >= ctx.settings.close_date_pushes
        if key == "stage_jump":
            since = ctx.now - timedelta(days=ctx.settings.stage_history_days)
            for c in OpportunityChange.objects.filter(opportunity=record, field="stage",
                                                      changed_at__gte=since):
                a, b = c.from_stage, c.to_stage
                if a is not None and b is not None:
                    if (b.position > a.position + 1 and b.kind != "lost") \
                            or b.position < a.position:
                        return True
            return False
        if key == "no_next_step":
            return record.next_step == "" and not Activity.objects.filter(
                opportunity=record, done=False, due_at__gte=ctx.now).exists()
        if check.fix == "required_field":
            return bool(qc.missing_in(record, check.record_type, rules))
        if key == "overdue_activity":
            return (not record.done and record.due_at < ctx.start_of_today
                    and record.kind != "note")
        if key == "lead_not_followed_up":
            hours = ctx.settings.lead_first_touch_hours
            return (record.status in ("new", "working")
                    and record.created_at < ctx.now - timedelta(hours=hours)
                    and not Activity.objects.filter(lead=record, done=True).exists())
        raise ValueError(key)

    model = check.model
    rows = model.objects.visible_to(user).order_by(check.order, "pk")
    if check.record_type == "opportunity":
        rows = rows.select_related("stage")
    if check.record_type == "quote":
        from salesplan.proposals.approvals import LEVEL_ORDER, active_rules, required_approvals
        from salesplan.proposals.models import ApproverLevel

        matrix = active_rules()
        wait = ctx.now - timedelta(days=ctx.settings.quote_approval_wait_days)

        def test(record) -> bool:  # noqa: F811 - the quotes' own test
            version = record.versions.get(number=record.current_number)
            approvals = list(version.approvals.all())
            if record.status == "in_approval":
                return any(a.status == "pending" and a.created_at < wait for a in approvals)
            needed = required_approvals(list(version.lines.order_by("position")), matrix)
            if not needed:
                return False
            if record.status == "draft":
                return record.updated_at < wait
            given = [LEVEL_ORDER[ApproverLevel(a.approver)] for a in approvals
                     if a.status == "approved"]
            return record.status in ("approved", "sent", "accepted") and any(
                not any(g >= LEVEL_ORDER[ApproverLevel(n.approver)] for g in given)
                for n in needed)
    found = []
    for record in rows.iterator(chunk_size=2000):
        if test(record):
            found.append(record)
            if len(found) >= limit:
                return found, True
        if time.perf_counter() - started > budget:
            return found, False
    return found, True


def prepare_database(args) -> bool:
    """Point Django at the bench database, starting it afresh unless --reuse; True when
    it holds no data yet (and must be built)."""
    if args.database_url:
        if not args.reuse:
            import psycopg

            name = args.database_url.rsplit("/", 1)[1]
            admin_url = args.database_url.rsplit("/", 1)[0] + "/postgres"
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{name}"')
    else:
        path = Path(args.db)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not args.reuse:
            for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                leftover.unlink(missing_ok=True)
    configure(args.db, args.database_url)
    from django.db import connection

    if "pipeline_opportunity" not in connection.introspection.table_names():
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pipeline_opportunity LIMIT 1")
        return cursor.fetchone() is None


def bench_overview(executive, rep, ctx, scale: dict) -> None:
    """The executive's overview (stored exact counts of every check), the background count
    that stores them, and the naive baseline: every check counted live, uncapped."""
    from salesplan.quality import selectors
    from salesplan.quality.counting import latest_counts, refresh_issue_counts

    started, cpu = time.perf_counter(), time.process_time()
    live = {key: check.query(executive, ctx).count()
            for key, check in __import__("salesplan.quality.checks", fromlist=["CHECKS"])
            .CHECKS.items()}
    naive = time.perf_counter() - started
    naive_cpu = time.process_time() - cpu
    started = time.perf_counter()
    run = refresh_issue_counts(ctx)
    emit("lists.issue_counts_refresh", time.perf_counter() - started, "s",
         note="the background count behind the executive's overview (per owner, every check)",
         issues=sum(run.counts.values_list("count", flat=True)), **scale)
    times, cpus = [], []
    for _ in range(3):
        started, cpu = time.perf_counter(), time.process_time()
        counts, _rows, _notes = selectors.overview_counts(executive, ctx)
        times.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
    value = sorted(times)[1]
    stored = latest_counts()
    equal = stored is not None and all(stored.totals.get(k, 0) == n for k, n in live.items())
    emit("lists.overview_counts.executive", value, "s", cpu_s=round(sorted(cpus)[1], 3),
         baseline=round(naive, 3), baseline_cpu_s=round(naive_cpu, 3),
         ratio=round(naive / value, 1) if value else None,
         baseline_note="every check counted live over every record (exact, uncapped)",
         equal_to_naive=equal, counts={c.check.key: c.count for c in counts},
         limit_s=1.0, met=value <= 1.0, **scale)
    times, cpus = [], []
    for _ in range(3):
        started, cpu = time.perf_counter(), time.process_time()
        selectors.overview_counts(rep, ctx)
        times.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
    value = sorted(times)[1]
    emit("lists.overview_counts.rep", value, "s", cpu_s=round(sorted(cpus)[1], 3),
         first_s=round(times[0], 3),
         note="the rep's own overview, counted live (each check up to 1,000); median of 3, "
              "first_s the first request", limit_s=1.0, met=max(times) <= 1.0, **scale)


def bench_lists(args) -> None:
    import statistics

    if prepare_database(args):
        build(args)
    if args.build_only:
        return
    from django.core.management import call_command
    from django.db import connection

    from salesplan.customers.models import Account
    from salesplan.org.models import Role, User
    from salesplan.pipeline.models import Opportunity, Pipeline
    from salesplan.quality import checks as qc
    from salesplan.quality import selectors
    from salesplan.quality.models import RequiredField

    call_command("migrate", "quality", verbosity=0)
    call_command("migrate", "marketing", verbosity=0)  # the first-touch SLA it reads
    call_command("migrate", "territories", verbosity=0)
    build_territories(args.seed)  # a database built before reps had territories
    fill_activity_accounts()  # a database built before activities carried their account
    accounts, opportunities = Account.objects.count(), Opportunity.objects.count()
    scale = {"accounts": accounts, "opportunities": opportunities,
             "load_average": round(os.getloadavg()[0], 2)}
    if not RequiredField.objects.exists():
        proposal = Pipeline.objects.filter(is_default=True).first()
        stage = proposal.stages.filter(name="Proposal").first() if proposal else None
        RequiredField.objects.create(record_type="account", field="industry")
        RequiredField.objects.create(record_type="opportunity", field="contact", stage=stage)
        RequiredField.objects.create(record_type="opportunity", field="amount", stage=stage)
        RequiredField.objects.create(record_type="contact", field="title")
        RequiredField.objects.create(record_type="lead", field="company")
    executive = User.objects.filter(role=Role.EXECUTIVE, is_active=True).first() \
        or User.objects.filter(is_superuser=True).first()
    rep = (User.objects.filter(role=Role.REP, is_active=True, opportunities__isnull=False)
           .order_by("pk").first())
    users = [("executive", executive), ("rep", rep)]
    from salesplan.territories.models import AccountTerritory
    from salesplan.territories.selectors import member_territory_ids

    rep_territories = member_territory_ids(rep)
    emit("lists.scale", accounts, "accounts", **scale, rep=rep.username,
         rep_territories=len(rep_territories),
         rep_territory_accounts=AccountTerritory.objects.filter(
             territory_id__in=rep_territories).count(),
         rep_owned_opportunities=Opportunity.objects.filter(owner=rep).count())
    ctx = qc.Context.current()
    from django.urls import reverse

    reverse("web:quality:overview")  # load the URL configuration before timing anything
    started = time.perf_counter()
    copied = qc.sync_stage_jumps(ctx)
    emit("lists.stage_jumps_sync", time.perf_counter() - started, "s", copied=copied,
         note="copying the window's stage jumps (once; later syncs read only new changes)",
         **scale)
    if not args.only or "overview" in args.only:
        bench_overview(executive, rep, ctx, scale)
    for key, check in qc.CHECKS.items():
        if args.only and key not in args.only:
            continue
        for label, user in users:
            times = []
            selectors.check_page(user, check, limit=50, ctx=ctx)  # warm-up, not timed
            for _ in range(args.requests):
                started = time.perf_counter()
                page, items = selectors.check_page(user, check, limit=50, ctx=ctx)
                times.append(time.perf_counter() - started)
                connection.close()  # no warm statement cache carried between runs
            value = statistics.median(times)
            scale["load_average"] = round(os.getloadavg()[0], 2)
            started = time.perf_counter()
            naive, finished = naive_items(check, user, ctx, limit=50, budget=args.budget)
            baseline = time.perf_counter() - started
            extra = {} if finished else {"baseline_note": f"stopped at the {args.budget:.0f} s "
                                                          f"budget with {len(naive)} rows"}
            emit(f"lists.{key}.{label}", value, "s", rows=len(items),
                 baseline=round(baseline, 3), ratio=round(baseline / value, 1) if value else None,
                 limit_s=1.0, met=value <= 1.0, **extra, **scale)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
