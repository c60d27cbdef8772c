"""Lists benchmark: the account list with its facet counts and numbered pages, against the
same list without them, on a fresh database of generated accounts.

    .venv/bin/python bench/bench_lists.py                        # 100,000 accounts, SQLite
    .venv/bin/python bench/bench_lists.py --accounts 20000       # quick check
    DATABASE_URL=postgres://… .venv/bin/python bench/bench_lists.py --accounts 100000

Prints one JSON object per line: {"metric", "value", "unit"}, with "baseline" and "ratio"
where a figure compares with another measured in the same run. Requests go through
Django's test Client in-process, logged in with force_login (a manager of two teams of
five reps, who sees about a fifth of the accounts, and an admin who sees them all); each
figure is the median over --requests requests after --warmup unmeasured ones. Not part
of the test suite.
"""

import argparse
import json
import os
import random
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INDUSTRIES = ("Pharma", "Retail", "Manufacturing", "Software", "Banking", "Logistics",
              "Energy", "Healthcare", "Education", "Media", "Telecom", "Food")
STATES = ("CA", "NY", "TX", "WA", "IL", "FL", "MA", "GA", "OH", "PA", "CO", "NC")


def emit(metric: str, value=None, unit: str = "", **extra) -> None:
    line = {"metric": metric}
    if value is not None:
        line.update(value=round(value, 3) if isinstance(value, float) else value, unit=unit)
    line.update(extra)
    print(json.dumps(line), flush=True)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", default=str(ROOT / "var" / "bench_lists.sqlite3"),
                        help="SQLite file (ignored when DATABASE_URL is set; that one is "
                             "emptied of accounts first).")
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    return parser.parse_args()


def configure(args) -> None:
    if not os.environ.get("DATABASE_URL"):
        Path(args.db).parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(args.db + suffix).unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{Path(args.db).resolve()}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesplan.config.settings")
    os.environ.setdefault("SALESPLAN_DEBUG", "0")
    hosts = os.environ.get("SALESPLAN_ALLOWED_HOSTS", "localhost")
    os.environ["SALESPLAN_ALLOWED_HOSTS"] = hosts + ",testserver"
    import django

    django.setup()


def build(args):
    """Teams, people and `--accounts` accounts spread over them (bulk inserted)."""
    from django.core.management import call_command

    from salesplan.customers.models import Account, Lifecycle, Tier
    from salesplan.org.models import Role, Team, User

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    Account.objects.all().delete()
    rng = random.Random(args.seed)
    region = Team.objects.create(name="Bench region")
    admin = User.objects.create_user(username="bench-admin", role=Role.ADMIN, team=region)
    managers, reps = [], []
    for t in range(5):
        team = Team.objects.create(name=f"Bench team {t}", parent=region)
        manager = User.objects.create_user(username=f"bench-mgr{t}", role=Role.MANAGER,
                                           team=team)
        team.manager = manager
        team.save()
        managers.append(manager)
        reps += [User.objects.create_user(username=f"bench-rep{t}-{r}", role=Role.REP,
                                          team=team, first_name="Rep", last_name=f"{t}-{r}")
                 for r in range(5)]
    started = time.perf_counter()
    batch = []
    for i in range(args.accounts):
        name = f"{rng.choice(INDUSTRIES)} Company {i:07}"
        batch.append(Account(
            name=name, name_key=name.lower(), industry=rng.choice(INDUSTRIES),
            state=rng.choice(STATES), city="Springfield", postal_code=f"{rng.randint(1, 99999):05}",
            lifecycle=rng.choice(Lifecycle.values), tier=rng.choice(Tier.values),
            owner=rng.choice(reps)))
        if len(batch) == 5000:
            Account.objects.bulk_create(batch)
            batch = []
    Account.objects.bulk_create(batch)
    emit("lists.build.accounts", time.perf_counter() - started, "s", accounts=args.accounts)
    return admin, managers[0]


def median_ms(client, path: str, args) -> float:
    for _ in range(args.warmup):
        response = client.get(path)
        assert response.status_code == 200, (path, response.content[:300])
    timings = []
    for _ in range(args.requests):
        started = time.perf_counter()
        response = client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, path
    return statistics.median(timings)


def compare(metric: str, client, path: str, baseline_path: str, args) -> None:
    """The p50 of `path` beside the p50 of `baseline_path` measured just before."""
    baseline = median_ms(client, baseline_path, args)
    value = median_ms(client, path, args)
    emit(metric, value, "ms", path=path, baseline=round(baseline, 3),
         ratio=round(value / baseline, 2), baseline_path=baseline_path)


def main() -> None:
    args = parse_args()
    configure(args)
    from django.test import Client

    admin, manager = build(args)
    for who, user in (("manager", manager), ("admin", admin)):
        client = Client()
        client.force_login(user)
        # The page shows its rows, then asks for the facet counts (htmx, on load).
        compare(f"lists.page.accounts.facets.{who}", client, "/accounts/?facets_only=1",
                "/accounts/", args)
        compare(f"lists.page.accounts.filtered_facets.{who}", client,
                "/accounts/?industry=pharma&state=CA&facets_only=1",
                "/accounts/?industry=pharma&state=CA", args)
        compare(f"lists.page.accounts.page_150.{who}", client, "/accounts/?page=150",
                "/accounts/", args)
        compare(f"lists.api.accounts.facets.{who}", client, "/api/v1/accounts/facets",
                "/api/v1/accounts", args)


if __name__ == "__main__":
    main()
