"""Territory assignment at scale: 1,000,000 accounts against 5,000 territories.

Builds a fresh SQLite file database (migrated here) with a realistic map: 5 regions
with catch-all state rules, 50 districts, 4,810 leaf territories cut out of the ZIP
space by 4-digit postal prefixes (two thirds) and ZIP ranges (one third), 30 vertical
territories (six industries AND the region's states), 5 overlays (strategic tier AND
revenue >= 1M AND the region's states), 100 named-account territories holding 2,000
named accounts. Prints one JSON line per metric:

    .venv/bin/python bench/bench_territories.py [--accounts 1000000]

- full_assignment: every account assigned and the results written (the background job's
  work, without the job row); full_assignment_again: the same over existing results.
- naive vs indexed: both engines on the same sample of accounts (the naive one tests
  every rule against every account; at a million accounts it would take hours, so its
  full time is extrapolated from the sample and said so).
- incremental: one rule edited through the service so ~1% of the accounts move.
- what_if: a draft copy with a changed district compared with the active alignment.

Timed metrics carry cpu_seconds: the CPU time of this process (on SQLite that includes
the database's work; on PostgreSQL the server's is not counted), steadier than wall time
on a shared machine.
"""

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import bench_db

STATES = [f"S{i:02d}" for i in range(50)]
_SERVER_CPU = [0.0]  # the database session's processor time when the timing started


def start_clock() -> tuple[float, float]:
    """Wall and processor time now, and the database server's processor time (for
    `server_cpu_seconds` in the next figure emitted with `cpu_seconds`)."""
    _SERVER_CPU[0] = bench_db.server_cpu_seconds() or 0.0
    return time.perf_counter(), time.process_time()
INDUSTRIES = [f"industry {i}" for i in range(20)]
TIERS = ["smb", "mid_market", "enterprise", "strategic"]


def emit(metric: str, value, unit: str, **extra) -> None:
    # The load average says how much the machine was shared while measuring.
    extra["load_average"] = round(os.getloadavg()[0], 1)
    server = bench_db.server_cpu_seconds() if "cpu_seconds" in extra else None
    if server is not None:  # PostgreSQL on this host: its share of the timed work
        extra["server_cpu_seconds"] = round(server - _SERVER_CPU[0], 2)
    print(json.dumps({"metric": metric, "value": value, "unit": unit, **extra}), flush=True)


def setup_django(db_path: Path, database_url: str | None = None) -> None:
    os.environ["DATABASE_URL"] = database_url or f"sqlite:///{db_path}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "salesplan.config.settings"
    os.environ.setdefault("SALESPLAN_VAR_DIR", str(db_path.parent))
    os.environ.pop("SALESPLAN_TASK_BROKER", None)
    os.environ["SALESPLAN_DEBUG"] = "0"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)


def state_of(zip5: str) -> str:
    return STATES[int(zip5[:3]) * 50 // 1000]


def insert_accounts(count: int, owner_ids: list[int]) -> None:
    from django.db import connection, transaction
    from django.utils import timezone

    rng = random.Random(7)
    now = timezone.now().isoformat()
    sql = ("INSERT INTO customers_account (name, name_key, domain, website, industry, employees, "
           "annual_revenue, street, city, postal_code, state, county, country, owner_id, tier, "
           "lifecycle, potential, currency, created_at, updated_at, version) VALUES "
           "(%s,%s,'','',%s,%s,%s,'','',%s,%s,'','US',%s,%s,'prospect',%s,'USD',%s,%s,1)")
    batch = []
    with transaction.atomic(), connection.cursor() as cursor:
        for i in range(count):
            zip5 = f"{rng.randrange(100000):05d}"
            name = f"Account {i}"
            batch.append((name, name.lower(), rng.choice(INDUSTRIES), rng.randrange(1, 5000),
                          str(rng.randrange(10_000, 50_000_000)), zip5, state_of(zip5),
                          rng.choice(owner_ids), rng.choice(TIERS),
                          str(rng.randrange(1_000, 500_000)), now, now))
            if len(batch) >= 50_000:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)


def give_addresses() -> int:
    """Postal codes, states, tiers and revenues for accounts that have no postal code,
    derived from their ids in SQL (the benchmark company's accounts have none); the
    values follow the same vocabulary as insert_accounts. Returns the rows changed."""
    from django.db import connection

    if connection.vendor == "postgresql":
        zip5 = "lpad(((id * 7919) % 100000)::text, 5, '0')"
        state = "'S' || lpad(((((id * 7919) % 100000) / 100) * 50 / 1000)::text, 2, '0')"
    else:
        zip5 = "printf('%05d', (id * 7919) % 100000)"
        state = "printf('S%02d', ((((id * 7919) % 100000) / 100) * 50 / 1000))"
    tiers = " ".join(f"WHEN {i} THEN '{t}'" for i, t in enumerate(TIERS))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE customers_account SET postal_code = {zip5}, state = {state}, "  # noqa: S608
            f"tier = CASE (id * 31) % {len(TIERS)} {tiers} END, "
            "annual_revenue = 10000 + (id * 104729) % 49990000 WHERE postal_code = ''")
        changed = cursor.rowcount
        if changed and connection.vendor == "postgresql":
            # As autovacuum would within a minute of rewriting every account: the old
            # versions cleared and the new ones marked visible. Left to the timed full
            # run, its first read of the accounts did that work (and wrote the table
            # out again) on a server running without autovacuum.
            cursor.execute("VACUUM (ANALYZE) customers_account")
    return changed


def company_industries() -> list[str]:
    """The industries the company's accounts carry, for the vertical territories."""
    from salesplan.customers.models import Account

    found = sorted(set(Account.objects.exclude(industry="").values_list("industry", flat=True)
                       .distinct()[:20]))
    return found or INDUSTRIES


def build_map(alignment, owner_ids: list[int], leaves: int, account_count: int,
              industries: list[str] = INDUSTRIES) -> dict:
    """The territory map, written in bulk (the services validate rules one by one; here
    the map is known to be consistent)."""
    from salesplan.territories.models import BoundaryRule, NamedAccount, Territory, TerritoryMember

    rng = random.Random(11)
    today = "2020-01-01"

    def make(rows):
        return Territory.objects.bulk_create(
            [Territory(alignment=alignment, **row) for row in rows], batch_size=2000)

    regions = make([{"name": f"Region {r}"} for r in range(5)])
    districts = make([{"name": f"District {d}", "parent": regions[d // 10]} for d in range(50)])
    leaf_rows = [{"name": f"Territory {t}", "parent": districts[t * 50 // leaves]}
                 for t in range(leaves)]
    leaf_territories = make(leaf_rows)
    # Specialists: six industries per region, and strategic accounts over 1M revenue.
    verticals = make([{"name": f"Vertical {v % 6} ({industries[v % 6 % len(industries)]}) "
                               f"in region {v // 6}", "type": "vertical"}
                      for v in range(30)])
    overlays = make([{"name": f"Strategic overlay {r}", "type": "overlay"} for r in range(5)])
    named = make([{"name": f"Key accounts {n}", "type": "named_account"} for n in range(100)])
    rules = []
    for r, region in enumerate(regions):
        rules.append(BoundaryRule(territory=region, position=1, conditions=[
            {"field": "state", "op": "in", "values": STATES[r * 10:(r + 1) * 10]}]))
    for t, territory in enumerate(leaf_territories):
        first, last = t * 10_000 // leaves, (t + 1) * 10_000 // leaves  # 4-digit prefixes
        if t % 3:
            condition = {"field": "postal_code", "op": "prefix",
                         "values": [f"{p:04d}" for p in range(first, last)]}
        else:
            condition = {"field": "postal_code", "op": "range",
                         "values": [f"{first:04d}0", f"{last - 1:04d}9"]}
        rules.append(BoundaryRule(territory=territory, position=1, conditions=[condition]))
    for v, territory in enumerate(verticals):
        region = v // 6
        states = STATES[region * 10:(region + 1) * 10]
        if len(industries) < 6:  # fewer industries than verticals: split the states instead,
            states = states[v % 6::6]  # so that no account is claimed by two verticals
        rules.append(BoundaryRule(territory=territory, position=1, conditions=[
            {"field": "industry", "op": "in", "values": [industries[v % 6 % len(industries)]]},
            {"field": "state", "op": "in", "values": states}]))
    for r, territory in enumerate(overlays):
        rules.append(BoundaryRule(territory=territory, position=1, conditions=[
            {"field": "tier", "op": "in", "values": ["strategic"]},
            {"field": "annual_revenue", "op": "between", "values": ["1000000", None]},
            {"field": "state", "op": "in", "values": STATES[r * 10:(r + 1) * 10]}]))
    BoundaryRule.objects.bulk_create(rules, batch_size=2000)
    NamedAccount.objects.bulk_create(
        [NamedAccount(territory=named[n % 100], account_id=rng.randrange(1, account_count + 1))
         for n in range(2000)], ignore_conflicts=True, batch_size=2000)
    everyone = regions + districts + leaf_territories + verticals + overlays + named
    TerritoryMember.objects.bulk_create(
        [TerritoryMember(territory=t, user_id=owner_ids[i % len(owner_ids)], start_date=today)
         for i, t in enumerate(everyone)], batch_size=2000)
    return {"territories": len(everyone), "rules": len(rules), "leaves": leaf_territories}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--naive-sample", type=int, default=2_000)
    parser.add_argument("--company", default=None,
                        help="Measure on the benchmark company: this SQLite file, or with "
                             "DATABASE_URL set (any value here) that PostgreSQL database.")
    parser.add_argument("--database-url", default=None,
                        help="An EMPTY PostgreSQL database to use instead of a temporary "
                             "SQLite file, e.g. postgres://postgres@127.0.0.1/salesplan_bench")
    args = parser.parse_args()
    if args.company:
        main_on_company(args)
        return
    if args.database_url is None and bench_db.is_postgres():  # DATABASE_URL: emptied first
        bench_db.point_at(Path(tempfile.gettempdir()))
        args.database_url = os.environ["DATABASE_URL"]
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    folder = Path(tempfile.mkdtemp(prefix="bench-territories-"))
    setup_django(folder / "bench.sqlite3", args.database_url)
    from django.db import connection

    emit("database", connection.vendor, "")

    from salesplan.org.models import Role, User
    from salesplan.territories.models import Alignment

    admin = User.objects.create_user("admin", role=Role.ADMIN, password=None)
    reps = User.objects.bulk_create([User(username=f"rep{i}", role=Role.REP) for i in range(200)])
    owner_ids = [u.pk for u in reps]
    started = time.perf_counter()
    insert_accounts(args.accounts, owner_ids)
    if connection.vendor == "postgresql":
        # Planner statistics, as autovacuum would gather within a minute of such a load.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    alignment = Alignment.objects.create(name="FY27", created_by=admin)
    built = build_map(alignment, owner_ids, leaves=5000 - 190, account_count=args.accounts)
    emit("setup", round(time.perf_counter() - started, 1), "s", accounts=args.accounts,
         territories=built["territories"], rules=built["rules"])

    measure(alignment, built, admin, args.accounts, args.naive_sample)


def measure(alignment, built: dict, admin, account_count: int, naive_sample: int) -> None:
    """Everything timed, on an alignment whose map is built and an admin."""
    from django.db.models import F

    from salesplan.customers.models import Account
    from salesplan.engines.territory_rules import RuleIndex, assign_naively
    from salesplan.territories import services
    from salesplan.territories.assignment import account_rows, load_rules, run_full_assignment
    from salesplan.territories.models import AccountTerritory, Alignment, BoundaryRule
    from salesplan.territories.selectors import violations, what_if

    started, cpu = start_clock()
    result = run_full_assignment(alignment)
    full = time.perf_counter() - started
    emit("full_assignment", round(full, 2), "s", baseline=10.0, ratio=round(full / 10.0, 2),
         cpu_seconds=round(time.process_time() - cpu, 2),
         note="target <= 10 s on SQLite; includes reading accounts and writing results",
         **result)
    # The same run again, now replacing a million existing results.
    started, cpu = start_clock()
    result = run_full_assignment(alignment)
    again = time.perf_counter() - started
    emit("full_assignment_again", round(again, 2), "s", baseline=10.0,
         ratio=round(again / 10.0, 2), cpu_seconds=round(time.process_time() - cpu, 2),
         note="replacing the results of the run before", **result)
    loaded = load_rules(alignment)
    sample = []
    for batch in account_rows(Account.objects.filter(pk__lte=naive_sample)):
        sample.extend(batch)
    index = RuleIndex(loaded.rules, loaded.named)
    started = time.perf_counter()
    indexed_out = index.assign(sample)
    indexed_time = time.perf_counter() - started
    started = time.perf_counter()
    naive_out = assign_naively(loaded.rules, loaded.named, sample)
    naive_time = time.perf_counter() - started
    assert indexed_out.assignments == naive_out.assignments, "engines disagree"
    emit("engine_per_account_indexed", round(indexed_time / len(sample) * 1e6, 2), "us",
         sample=len(sample))
    emit("engine_per_account_naive", round(naive_time / len(sample) * 1e6, 1), "us",
         sample=len(sample), baseline=round(indexed_time / len(sample) * 1e6, 2),
         ratio=round(naive_time / indexed_time, 1))
    emit("naive_full_assignment_extrapolated", round(naive_time / len(sample) * account_count, 1),
         "s", baseline=round(full, 2),
         ratio=round(naive_time / len(sample) * account_count / full, 1),
         note=f"naive engine measured on {len(sample)} accounts, scaled to all")

    # Incremental: give one leaf priority and widen its rule over ~1% of the ZIP space.
    Alignment.objects.filter(pk=alignment.pk).update(status=Alignment.Status.ACTIVE)
    leaf = built["leaves"][len(built["leaves"]) // 2]
    services.update_territory(leaf, by=admin, data={"priority": 5})
    rule = BoundaryRule.objects.get(territory=leaf)
    low = int(rule.conditions[0]["values"][0][:4]) * 10
    before = AccountTerritory.objects.filter(territory=leaf).count()
    started, cpu = start_clock()
    services.update_rule(rule, by=admin, conditions=[
        {"field": "postal_code", "op": "range", "values": [f"{low:05d}", f"{low + 999:05d}"]}])
    incremental = time.perf_counter() - started
    incremental_cpu = time.process_time() - cpu
    after = AccountTerritory.objects.filter(territory=leaf).count()
    emit("incremental_reassignment", round(incremental, 3), "s", baseline=1.0,
         ratio=round(incremental / 1.0, 3), cpu_seconds=round(incremental_cpu, 3),
         accounts_moved=after - before,
         moved_share=round((after - before) / account_count, 4), note="target <= 1 s")

    # What-if: a draft copy where half the leaves of five districts are redrawn (renamed
    # territories: the comparison matches territories across alignments by name).
    draft = services.create_alignment(by=admin, name="FY28", copy_from=alignment)
    from salesplan.territories.models import Territory, new_token

    for district in draft.territories.filter(name__in=[f"District {d}" for d in range(7, 12)]):
        children = list(district.children.order_by("id"))
        for child in children[: len(children) // 2]:
            Territory.objects.filter(pk=child.pk).update(name=f"{child.name} (new)")
    Alignment.objects.filter(pk=draft.pk).update(rules_version=F("rules_version") + 1,
                                                 rules_token=new_token())
    draft.refresh_from_db()
    run_full_assignment(draft)
    started, cpu = start_clock()
    comparison = what_if(draft)
    what_if_time = time.perf_counter() - started
    emit("what_if", round(what_if_time, 2), "s", baseline=5.0, ratio=round(what_if_time / 5, 2),
         cpu_seconds=round(time.process_time() - cpu, 2),
         moved_accounts=comparison.moved_accounts, pairs=len(comparison.moves),
         territories_compared=len(comparison.balance), note="target <= 5 s")

    # The violations list (first page) for the manager who sees everything: owners who
    # are not members of their account's territory (every account here: reps are not
    # territory members in this map, so the list is as long as it gets).
    started = time.perf_counter()
    first_page = violations(admin, limit=100)
    emit("violations_first_page", round(time.perf_counter() - started, 3), "s",
         rows=len(first_page), note="first 100 of every account whose owner breaks a boundary")

    # The other write path, forced: a fresh table holding the other alignments' rows
    # copied across, swapped in (the path chosen when the other alignments hold few rows
    # next to this one's), or the live table. Last: on PostgreSQL the forced path is the
    # live table, which the product never takes there; run before the what-if, it left
    # the alignment compared there with its old rows deleted beside new ones not yet
    # marked visible, which no product path leaves.
    from salesplan.territories import bulk_write

    chosen = bulk_write._swap_is_cheaper
    bulk_write._swap_is_cheaper = lambda *args: not chosen(*args)
    try:
        started, cpu = start_clock()
        result = run_full_assignment(alignment)
        other = time.perf_counter() - started
    finally:
        bulk_write._swap_is_cheaper = chosen
    emit("full_assignment_other_write_path", round(other, 2), "s", baseline=round(again, 2),
         ratio=round(other / again, 2), cpu_seconds=round(time.process_time() - cpu, 2),
         note="as full_assignment_again through the write path not chosen", **result)


def main_on_company(args) -> None:
    """The same measurements on the benchmark company (see the module's notes)."""
    database_url = os.environ.get("DATABASE_URL") if bench_db.is_postgres() else None
    company = Path(args.company).resolve()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    setup_django(company, database_url)
    from django.db import connection

    from salesplan.customers.models import Account
    from salesplan.org.models import Role, User
    from salesplan.territories.models import Alignment

    emit("database", connection.vendor, "", company=True)
    admin = User.objects.filter(role=Role.ADMIN).order_by("pk").first()
    owner_ids = list(User.objects.filter(role=Role.REP).order_by("pk").values_list("pk", flat=True))
    account_count = Account.objects.count()
    started = time.perf_counter()
    addressed = give_addresses()
    company_alignments = list(Alignment.objects.filter(status=Alignment.Status.ACTIVE)
                              .values_list("pk", flat=True))
    Alignment.objects.filter(pk__in=company_alignments).update(status=Alignment.Status.ARCHIVED)
    alignment = Alignment.objects.create(name="FY27 benchmark map", created_by=admin)
    try:
        built = build_map(alignment, owner_ids, leaves=5000 - 190, account_count=account_count,
                          industries=company_industries())
        emit("setup", round(time.perf_counter() - started, 1), "s", accounts=account_count,
             territories=built["territories"], rules=built["rules"],
             accounts_given_addresses=addressed)
        measure(alignment, built, admin, account_count, args.naive_sample)
    finally:
        started = time.perf_counter()
        remove_benchmark_alignments(alignment.pk)
        Alignment.objects.filter(pk__in=company_alignments).update(
            status=Alignment.Status.ACTIVE)
        emit("cleanup", round(time.perf_counter() - started, 1), "s",
             note="the benchmark map and its results deleted, the company's alignment active")


def remove_benchmark_alignments(first_pk: int) -> None:
    """The benchmark's alignments (its map and the what-if draft copied from it, every
    alignment made from `first_pk` on) with their results, in SQL: the results are
    millions of rows."""
    from django.db import connection, transaction

    from salesplan.territories.models import (
        AccountTerritory,
        Alignment,
        AssignmentConflict,
        BoundaryRule,
        NamedAccount,
        Territory,
        TerritoryMember,
    )

    ids = list(Alignment.objects.filter(pk__gte=first_pk).values_list("pk", flat=True))
    with transaction.atomic():
        AccountTerritory.objects.filter(alignment_id__in=ids)._raw_delete(connection.alias)
        AssignmentConflict.objects.filter(alignment_id__in=ids)._raw_delete(connection.alias)
        territories = Territory.objects.filter(alignment_id__in=ids)
        for model in (BoundaryRule, NamedAccount, TerritoryMember):
            model.objects.filter(territory__in=territories).delete()
        Territory.objects.filter(alignment_id__in=ids).update(parent=None)
        Alignment.objects.filter(pk__in=ids).delete()


if __name__ == "__main__":
    main()
