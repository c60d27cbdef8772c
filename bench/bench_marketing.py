"""Marketing benchmarks: lead capture over HTTP, and attribution over millions of
opportunities.

    .venv/bin/python bench/bench_marketing.py                         # both, default sizes
    .venv/bin/python bench/bench_marketing.py --part capture --submissions 3000
    .venv/bin/python bench/bench_marketing.py --part attribution --opportunities 500000

1. capture: a fresh SQLite database in a temporary folder (migrated, then seeded with an
   active alignment of `--territories` state territories with two reps each, `--leads`
   existing leads and `--contacts` contacts), served by `salesplan serve` with ONE worker
   process (gthread, `--threads` threads). A client process sends `--submissions` POSTs to
   /api/v1/marketing/capture/{key} from `--connections` concurrent keep-alive connections.
   A share (`--repeat-share`) reuses addresses of existing leads or contacts, so
   de-duplication does real work; every new lead is routed through the territory rules
   and round-robin with capacity checks. All requests come from 127.0.0.1, so the form's
   per-address allowance is raised to 1,000,000 a minute for the run (the rate limiter
   still counts every request in the cache). Prints leads/s, p50/p95 latency, and checks
   that no address produced two leads.
2. attribution: `--opportunities` opportunities' touches (each touched by 1–3 of
   `--campaigns` campaigns, shares computed by the same code as a refresh) bulk-inserted
   into the touch table of a temporary SQLite file; then the refresh's summing step is
   timed, and the report for each model (best and median of `--repeat`) from the summary,
   with the grouped scan of the whole touch table as the baseline (both must give the
   same totals). The full refresh (responses → touches → summary) is timed on
   `--refresh-opportunities` real opportunities, and its rate reported.
"""

import argparse
import http.client
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def emit(metric: str, value, unit: str, **extra) -> None:
    print(json.dumps({"metric": metric, "value": value, "unit": unit, **extra}), flush=True)


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


def configure(db_path: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{db_path}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "salesplan.config.settings"
    os.environ["SALESPLAN_VAR_DIR"] = str(db_path.parent)
    os.environ.pop("SALESPLAN_TASK_BROKER", None)
    os.environ.pop("SALESPLAN_CACHE_URL", None)
    os.environ["SALESPLAN_DEBUG"] = "0"
    os.environ["SALESPLAN_ALLOWED_HOSTS"] = "127.0.0.1,localhost"
    os.environ.setdefault("SALESPLAN_SECRET_KEY", "bench-only-" + "x" * 40)
    import django

    django.setup()


def migrate() -> None:
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    emit("setup.migrate", round(time.perf_counter() - started, 1), "s")


# --- part 1: capture ---------------------------------------------------------------------

STATES = ["AL", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "ID", "IL", "IN", "IA", "KS",
          "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ",
          "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT",
          "VT", "VA", "WA", "WV", "WI", "WY"]


def seed_capture(args) -> tuple[str, list[str]]:
    """Org, alignment, reps, existing leads and contacts; returns the form key and the
    addresses already known."""
    from datetime import date

    from salesplan.customers.models import Contact, Lead
    from salesplan.marketing import services
    from salesplan.marketing.models import MarketingPolicy
    from salesplan.org.models import Role, Team, User
    from salesplan.territories.models import (
        Alignment,
        BoundaryRule,
        MemberRole,
        Territory,
        TerritoryMember,
    )

    started = time.perf_counter()
    team = Team.objects.create(name="Sales")
    marketer = User.objects.create_user("marketer", role=Role.MARKETING, team=team)
    alignment = Alignment.objects.create(name="Bench", status=Alignment.Status.ACTIVE)
    reps = []
    for state in STATES[:args.territories]:
        territory = Territory.objects.create(alignment=alignment, name=f"T {state}")
        BoundaryRule.objects.create(territory=territory, position=1, combine="all",
                                    conditions=[{"field": "state", "op": "in",
                                                 "values": [state]}])
        for i in range(2):
            rep = User.objects.create_user(f"rep-{state}-{i}", role=Role.REP, team=team)
            TerritoryMember.objects.create(territory=territory, user=rep, role=MemberRole.OWNER,
                                           start_date=date(2020, 1, 1))
            reps.append(rep)
    policy = MarketingPolicy.current()
    policy.default_capacity = 100_000
    policy.save()
    rng = random.Random(7)
    Lead.objects.bulk_create(
        (Lead(first_name="Known", last_name=f"Lead{i}", email=f"known{i}@bench.example",
              state=rng.choice(STATES), country="US", owner=rng.choice(reps),
              name_key=f"lead{i} known")
         for i in range(args.leads)), batch_size=2000)
    Contact.objects.bulk_create(
        (Contact(first_name="Known", last_name=f"Contact{i}", email=f"contact{i}@bench.example",
                 owner=rng.choice(reps), name_key=f"contact{i} known")
         for i in range(args.contacts)), batch_size=2000)
    campaign = services.create_campaign(by=marketer, data={"name": "Bench webinar"})
    form = services.create_form(by=marketer, data={
        "name": "Bench form", "campaign": campaign, "fields": ["company", "state", "country"],
        "rate_limit": 1_000_000})
    known = ([f"known{i}@bench.example" for i in range(args.leads)]
             + [f"contact{i}@bench.example" for i in range(args.contacts)])
    emit("setup.capture_seed", round(time.perf_counter() - started, 1), "s",
         territories=args.territories, reps=len(reps), leads=args.leads, contacts=args.contacts)
    return form.key, known


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, threads: int) -> subprocess.Popen:
    command = [str(ROOT / ".venv/bin/salesplan"), "serve", "--port", str(port), "--workers", "1",
               "--threads", str(threads), "--no-collectstatic"]
    server = subprocess.Popen(command, env=os.environ.copy(), stdout=subprocess.DEVNULL,  # noqa: S603
                              stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/v1/marketing/capture/none")
            conn.getresponse().read()
            return server
        except OSError:
            time.sleep(0.5)
    server.kill()
    raise SystemExit("The server did not start.")


def submissions(n: int, known: list[str], repeat_share: float, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    bodies = []
    for i in range(n):
        email = (rng.choice(known) if known and rng.random() < repeat_share
                 else f"new{seed}-{i}@prospect.example")
        bodies.append(json.dumps({"first_name": "Pat", "last_name": f"Prospect {i}",
                                  "email": email, "company": f"Company {i % 997}",
                                  "state": rng.choice(STATES), "country": "US"}).encode())
    return bodies


def drive(port: int, key: str, bodies: list[bytes], connections: int) -> tuple[float, list, dict]:
    """Send the bodies over `connections` keep-alive connections; returns seconds, the
    latencies and the count per status."""
    path = f"/api/v1/marketing/capture/{key}"
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    chunks = [bodies[i::connections] for i in range(connections)]

    def worker(chunk: list[bytes]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine, codes = [], {}
        for body in chunk:
            t0 = time.perf_counter()
            try:
                conn.request("POST", path, body=body,
                             headers={"Content-Type": "application/json"})
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                status = 0
            mine.append(time.perf_counter() - t0)
            codes[status] = codes.get(status, 0) + 1
        conn.close()
        with lock:
            latencies.extend(mine)
            for code, count in codes.items():
                statuses[code] = statuses.get(code, 0) + count

    threads = [threading.Thread(target=worker, args=(chunk,)) for chunk in chunks]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started, latencies, statuses


def bench_capture(args) -> None:
    from django.db import connection
    from django.db.models import Count

    from salesplan.customers.models import Lead
    from salesplan.marketing.models import LeadHandoff

    key, known = seed_capture(args)
    connection.close()
    port = free_port()
    server = start_server(port, args.threads)
    try:
        drive(port, key, submissions(args.warmup, known, args.repeat_share, seed=1),
              args.connections)
        bodies = submissions(args.submissions, known, args.repeat_share, seed=2)
        before = Lead.objects.count()
        seconds, latencies, statuses = drive(port, key, bodies, args.connections)
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
    accepted = statuses.get(202, 0)
    latencies.sort()
    scale = (f"{args.submissions} submissions, {args.connections} connections, 1 worker × "
             f"{args.threads} threads, {args.territories} territories, {args.leads} leads + "
             f"{args.contacts} contacts known, {args.repeat_share:.0%} repeat addresses")
    emit("capture.leads_per_second", round(accepted / seconds, 1), "leads/s", target=500,
         scale=scale, load_average=load_average())
    emit("capture.latency_p50", round(1000 * latencies[len(latencies) // 2], 1), "ms")
    emit("capture.latency_p95", round(1000 * latencies[int(len(latencies) * 0.95)], 1), "ms")
    emit("capture.statuses", statuses, "count")
    duplicates = (Lead.objects.exclude(email="").values("email").annotate(n=Count("id"))
                  .filter(n__gt=1).count())
    emit("capture.duplicate_addresses", duplicates, "emails")
    emit("capture.new_leads", Lead.objects.count() - before, "leads")
    emit("capture.routed_share", round(LeadHandoff.objects.filter(queued=False).count()
                                       / max(1, LeadHandoff.objects.count()), 3), "ratio")


# --- part 2: attribution ---------------------------------------------------------------------


def bench_attribution(args) -> None:
    from django.db import connection

    from salesplan.marketing import attribution
    from salesplan.marketing.models import Campaign, OpportunityTouch

    campaigns = [Campaign(name=f"C{i}", owner_id=_owner_id()) for i in range(args.campaigns)]
    Campaign.objects.bulk_create(campaigns)
    ids = list(Campaign.objects.values_list("id", flat=True))
    table = OpportunityTouch._meta.db_table
    rng = random.Random(11)
    started = time.perf_counter()
    connection.ensure_connection()
    raw = connection.connection  # the sqlite3 connection: no per-row Django wrapping
    raw.execute("PRAGMA synchronous=OFF")
    raw.execute("DROP INDEX IF EXISTS touch_attribution")
    sql = (f"INSERT INTO {table} (opportunity_id, campaign_id, touched_at, status, "  # noqa: S608
           "currency, first_cents, last_cents, linear_cents) VALUES (?,?,?,?,?,?,?,?)")
    statuses = ("open",) * 5 + ("won",) * 3 + ("lost",) * 2
    rows = 0
    batch: list[tuple] = []
    for opp in range(1, args.opportunities + 1):
        touched = rng.sample(ids, rng.randint(1, 3))
        status = statuses[rng.randrange(10)]
        units = rng.randrange(100_000, 10_000_000)
        for cid, first, last, linear in attribution.shares(units, touched):
            batch.append((opp, cid, "2026-01-01 00:00:00", status, "USD", first, last, linear))
        if len(batch) >= 100_000:
            raw.executemany(sql, batch)
            rows += len(batch)
            batch = []
    raw.executemany(sql, batch)
    rows += len(batch)
    raw.commit()
    built = time.perf_counter()
    raw.execute(f"CREATE INDEX touch_attribution ON {table} (campaign_id, status, "
                "currency, first_cents, last_cents, linear_cents)")
    raw.execute("ANALYZE")
    raw.commit()
    emit("setup.attribution_touches", rows, "rows", opportunities=args.opportunities,
         insert_seconds=round(built - started, 1),
         index_seconds=round(time.perf_counter() - built, 1))
    t0 = time.perf_counter()
    summary_rows = attribution.summarise()
    scale = f"{args.opportunities:,} opportunities, {rows:,} touches, {args.campaigns} campaigns"
    emit("attribution.summarise", round(time.perf_counter() - t0, 3), "s", rows=summary_rows,
         scale=scale, load_average=load_average())
    campaign_objects = list(Campaign.objects.order_by("id"))
    for model in ("first", "last", "linear"):
        timings = {}
        totals = {}
        for name, source in (("summary", attribution.sums),
                             ("touches", attribution.sums_from_touches)):
            times = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                results = attribution.report(model, campaign_objects, source=source)
                times.append(time.perf_counter() - t0)
            timings[name] = (min(times), statistics.median(times))
            totals[name] = sum(sum(r.pipeline.values()) + sum(r.bookings.values())
                               for r in results)
        best, median = timings["summary"]
        baseline = timings["touches"][0]
        emit(f"attribution.report.{model}", round(best, 4), "s", median=round(median, 4),
             target=2.0, baseline=round(baseline, 3), baseline_is="grouped scan of the "
             "touch table", ratio=round(baseline / best, 1), scale=scale,
             same_totals=totals["summary"] == totals["touches"], load_average=load_average())


def _owner_id() -> int:
    from salesplan.org.models import Role, User

    user = User.objects.filter(username="bench-marketer").first() or User.objects.create_user(
        "bench-marketer", role=Role.MARKETING)
    return user.pk


def bench_refresh(args) -> None:
    """The refresh on real rows: accounts with contacts who responded, opportunities."""
    from datetime import UTC, datetime, timedelta
    from decimal import Decimal

    from salesplan.customers.models import Account, Contact
    from salesplan.marketing import attribution
    from salesplan.marketing.models import Campaign, CampaignMember, OpportunityTouch
    from salesplan.pipeline.models import Opportunity, Pipeline

    OpportunityTouch.objects.all().delete()
    owner = _owner_id()
    n = args.refresh_opportunities
    accounts = Account.objects.bulk_create(
        [Account(name=f"A{i}", name_key=f"a{i}", owner_id=owner) for i in range(n // 2)],
        batch_size=2000)
    contacts = Contact.objects.bulk_create(
        [Contact(last_name=f"C{i}", name_key=f"c{i}", owner_id=owner, account=a)
         for i, a in enumerate(accounts)], batch_size=2000)
    ids = list(Campaign.objects.values_list("id", flat=True))
    rng = random.Random(5)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    CampaignMember.objects.bulk_create(
        [CampaignMember(campaign_id=cid, contact=c, response="responded",
                        responded_at=base + timedelta(days=rng.randrange(60)))
         for c in contacts for cid in rng.sample(ids, 2)], batch_size=2000)
    pipeline = Pipeline.objects.get(is_default=True)
    stage = pipeline.stages.order_by("position").first()
    Opportunity.objects.bulk_create(
        [Opportunity(name=f"O{i}", name_key=f"o{i}", account=accounts[i // 2], pipeline=pipeline,
                     stage=stage, status="open", amount=Decimal("1000.00"), currency="USD",
                     close_date=base.date(), probability=10, owner_id=owner)
         for i in range(n)], batch_size=2000)
    Opportunity.objects.update(created_at=base + timedelta(days=90))
    started = time.perf_counter()
    outcome = attribution.refresh()
    seconds = time.perf_counter() - started
    emit("attribution.refresh", round(seconds, 2), "s", opportunities=outcome["opportunities"],
         touches=outcome["touches"], rate=round(outcome["opportunities"] / seconds),
         rate_unit="opportunities/s", load_average=load_average())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=["capture", "attribution", "both"], default="both")
    parser.add_argument("--submissions", type=int, default=5000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--territories", type=int, default=48)
    parser.add_argument("--leads", type=int, default=20_000)
    parser.add_argument("--contacts", type=int, default=5_000)
    parser.add_argument("--repeat-share", type=float, default=0.3)
    parser.add_argument("--opportunities", type=int, default=5_000_000)
    parser.add_argument("--campaigns", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--refresh-opportunities", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="Keep the temporary folder.")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="salesplan-bench-marketing-"))
    sys.path.insert(0, str(ROOT / "src"))
    try:
        configure(folder / "bench.sqlite3")
        migrate()
        if args.part in ("capture", "both"):
            bench_capture(args)
        if args.part in ("attribution", "both"):
            bench_attribution(args)
            bench_refresh(args)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
