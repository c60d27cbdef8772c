"""A pay period calculated through the services, database included, and one deal's
change recalculating its rep's statement (the hook on the deal's change path).

Builds a fresh SQLite file database (migrated here), or uses the database in
DATABASE_URL (which it fills: never point it at one you keep), with --reps (100) reps,
--deals (20,000) won deals in one month, a tenth in EUR, a fifth split between two reps,
and a marginal commission plan. Prints one JSON line per metric:

    .venv/bin/python bench/bench_comp_db.py [--reps 100] [--deals 20000]

- db_full_calculation: `calculate_period` (read the deals, credit them, one statement
  per rep with its lines and trace stored), with the deals and reps it covered.
- db_recalculate_one_deal.p50 / .p95: `update_opportunity` of one won deal's amount,
  the rep's open statement recalculated after the commit (target ≤ 100 ms for the
  recalculation; this figure includes the deal's own update).
"""

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

DEFINITION = {"commissions": [{"key": "bookings", "label": "Bookings", "quota": "500000",
                               "method": "marginal",
                               "tiers": [{"from": "0", "rate": "0.02"},
                                         {"from": "1", "rate": "0.05"}]}]}


def emit(metric: str, value, unit: str, **extra) -> None:
    extra["load_average"] = round(os.getloadavg()[0], 1)
    print(json.dumps({"metric": metric, "value": value, "unit": unit, **extra}), flush=True)


def setup_django() -> str:
    if "DATABASE_URL" not in os.environ:
        folder = Path(tempfile.mkdtemp(prefix="bench-comp-"))
        os.environ["DATABASE_URL"] = f"sqlite:///{folder / 'bench.sqlite3'}"
        os.environ.setdefault("SALESPLAN_VAR_DIR", str(folder))
    os.environ["DJANGO_SETTINGS_MODULE"] = "salesplan.config.settings"
    os.environ.pop("SALESPLAN_TASK_BROKER", None)
    os.environ["SALESPLAN_DEBUG"] = "0"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    return connection.vendor


def build(reps: int, deals: int, rng: random.Random):
    from salesplan.compensation import services
    from salesplan.compensation.models import DealSplit
    from salesplan.customers.models import Account
    from salesplan.org.models import Role, User
    from salesplan.pipeline.models import Opportunity, Pipeline, StageKind
    from salesplan.pricing import services as pricing

    admin = User.objects.create_user(f"bench-admin-{rng.random()}", role=Role.ADMIN)
    people = User.objects.bulk_create(User(username=f"bench-rep-{i}-{rng.random()}",
                                           role=Role.REP) for i in range(reps))
    accounts = Account.objects.bulk_create(
        Account(name=f"Account {i}", name_key=f"account {i}", owner=people[i])
        for i in range(reps))
    pipeline = Pipeline.objects.get(is_default=True)
    won = pipeline.stages.get(kind=StageKind.WON)
    opps = Opportunity.objects.bulk_create(
        Opportunity(name=f"Deal {i}", name_key=f"deal {i}", account=accounts[i % reps],
                    pipeline=pipeline, stage=won, status=StageKind.WON, probability=100,
                    amount=Decimal(rng.randrange(1_000_00, 50_000_00)) / 100,
                    currency="EUR" if i % 10 == 0 else "USD",
                    close_date=date(2026, 1, 1 + i % 28), owner=people[i % reps])
        for i in range(deals))
    DealSplit.objects.bulk_create(
        DealSplit(opportunity=o, rep=rep, share=share) for j, o in enumerate(opps) if j % 5 == 0
        for rep, share in ((o.owner, Decimal("0.6")),
                           (people[(j + 1) % reps], Decimal("0.4"))))
    pricing.create_exchange_rate(by=admin, base="EUR", quote="USD", rate=Decimal("1.0851"),
                                 date=date(2025, 12, 1))
    period = services.create_period(by=admin, data={"name": "January", "starts": date(2026, 1, 1),
                                                    "ends": date(2026, 1, 31)})
    plan = services.create_plan(by=admin, data={
        "name": "Bench plan", "role": "rep", "starts": date(2026, 1, 1),
        "ends": date(2026, 12, 31), "effective_from": date(2026, 1, 1), "currency": "USD",
        "definition": DEFINITION})
    services.activate_plan(plan, by=admin, expected_version=plan.version)
    return admin, period, opps


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=100)
    parser.add_argument("--deals", type=int, default=20_000)
    parser.add_argument("--changes", type=int, default=20)
    args = parser.parse_args()
    vendor = setup_django()
    rng = random.Random(7)
    admin, period, opps = build(args.reps, args.deals, rng)

    from salesplan.compensation import services
    from salesplan.pipeline import services as pipeline
    from salesplan.pipeline.models import Opportunity

    started = time.perf_counter()
    result = services.calculate_period(period)
    emit("db_full_calculation", round(time.perf_counter() - started, 3), "s",
         database=vendor, deals=result["deals"], statements=result["statements"])

    timings = []
    for opp in rng.sample(opps, args.changes):
        deal = Opportunity.objects.get(pk=opp.pk)
        started = time.perf_counter()
        pipeline.update_opportunity(deal, by=admin, expected_version=deal.version,
                                    data={"amount": deal.amount + 1})
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    emit("db_recalculate_one_deal.p50", round(statistics.median(timings), 1), "ms",
         database=vendor, target=100, deals=args.deals)
    emit("db_recalculate_one_deal.p95", round(timings[int(len(timings) * 0.95)], 1), "ms",
         database=vendor, target=100, deals=args.deals)


if __name__ == "__main__":
    main()
