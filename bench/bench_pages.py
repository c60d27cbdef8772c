"""Page load times: every main page, for each role, on the demo company.

    .venv/bin/python bench/bench_pages.py                                  # 3,000 accounts
    .venv/bin/python bench/bench_pages.py --accounts 100000 --db var/pages_100k.sqlite3
    .venv/bin/python bench/bench_pages.py --reuse --db var/pages_demo.sqlite3   # measure again
    DATABASE_URL=postgres://… .venv/bin/python bench/bench_pages.py --accounts 3000

Builds the demo company (`salesplan demo`'s generator) at --accounts in a fresh SQLite
file (or the database in DATABASE_URL, wiped first), then times a GET of each main page
through Django's test Client, in-process, logged in with force_login, production settings
(SALESPLAN_DEBUG=0). For each page and role it prints the first request (`first_ms`: cold
caches, what a person opening the page after a change waits) and the median of the
--requests after it (`value`). Target: no page over 1 s at the demo size.
One JSON object per line; not part of the test suite.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_MS = 1000.0


def emit(metric: str, value=None, unit: str = "", **extra) -> None:
    line: dict = {"metric": metric}
    if value is not None:
        line.update(value=round(value, 1) if isinstance(value, float) else value, unit=unit)
    line.update(extra)
    print(json.dumps(line), flush=True)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=3_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", default=str(ROOT / "var" / "pages_demo.sqlite3"),
                        help="SQLite file (ignored when DATABASE_URL is set).")
    parser.add_argument("--reuse", action="store_true",
                        help="Measure the existing database instead of building a new one.")
    parser.add_argument("--requests", type=int, default=3)
    parser.add_argument("--roles", default="rep,manager,executive,admin")
    parser.add_argument("--only", action="append", default=[],
                        help="Time only the pages with this name (repeatable).")
    return parser.parse_args()


def configure(args) -> bool:
    sqlite = not os.environ.get("DATABASE_URL")
    if sqlite:
        Path(args.db).parent.mkdir(parents=True, exist_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{Path(args.db).resolve()}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesplan.config.settings")
    os.environ.setdefault("SALESPLAN_DEBUG", "0")
    hosts = os.environ.get("SALESPLAN_ALLOWED_HOSTS", "localhost")
    os.environ["SALESPLAN_ALLOWED_HOSTS"] = hosts + ",testserver"
    import django

    django.setup()
    return sqlite


def build(args, sqlite: bool) -> None:
    from django.core.management import call_command

    from salesplan.customers.models import Account
    from salesplan.demo.build import build_demo

    if args.reuse:
        call_command("migrate", verbosity=0)
        if Account.objects.exists():
            emit("pages.database", Account.objects.count(), "accounts", reused=True)
            return
    if sqlite:
        for suffix in ("", "-wal", "-shm"):
            Path(args.db + suffix).unlink(missing_ok=True)
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    result = build_demo(seed=args.seed, accounts=args.accounts, reset=not sqlite,
                        log=lambda line: print(line, file=sys.stderr, flush=True))
    emit("pages.demo_build", result.total_seconds, "s", accounts=args.accounts)


def people() -> dict:
    """One person per role: the rep with the most accounts, their manager, the executive
    and an administrator."""
    from django.db.models import Count

    from salesplan.org.models import Role, User

    active = User.objects.filter(is_active=True)
    rep = (active.filter(role=Role.REP).annotate(n=Count("accounts"))
           .order_by("-n", "id").first())
    chosen = {
        "rep": rep,
        "manager": rep.manager if rep and rep.manager_id else
        active.filter(role=Role.MANAGER).order_by("id").first(),
        "executive": active.filter(role=Role.EXECUTIVE).order_by("id").first(),
        "admin": active.filter(role=Role.ADMIN).order_by("id").first()
        or active.filter(is_superuser=True).order_by("id").first(),
    }
    return {role: user for role, user in chosen.items() if user is not None}


def pages(user) -> dict[str, str]:
    """The main pages, by name, with the records the user would open."""
    from django.urls import reverse

    from salesplan.customers.models import Account
    from salesplan.pipeline.models import Opportunity
    from salesplan.planning.models import Plan
    from salesplan.territories.models import Alignment, Territory

    found = {
        "home": reverse("web:my_day"),
        "dashboard": reverse("web:reports:dashboard"),
        "accounts": reverse("web:account_list"),
        "opportunities": reverse("web:opportunity_list"),
        "board": reverse("web:board"),
        "search": reverse("web:search") + "?q=pharma",
        "territories": reverse("web:territories:tree"),
        "plans": reverse("web:planning:list"),
        "forecast": reverse("web:forecasting:overview"),
        "forecast_statistical": reverse("web:forecasting:statistical"),
        "data_quality": reverse("web:quality:overview"),
    }
    account = Account.objects.visible_to(user).order_by("id").first()
    if account:
        found["account"] = reverse("web:account_detail", args=[account.pk])
    deal = Opportunity.objects.visible_to(user).order_by("id").first()
    if deal:
        found["opportunity"] = reverse("web:opportunity_detail", args=[deal.pk])
    alignment = Alignment.objects.filter(status="active").order_by("id").first()
    if alignment:
        top = Territory.objects.filter(alignment=alignment, parent=None).order_by("id").first()
        if top:
            found["territory"] = reverse("web:territories:territory", args=[top.pk])
    plan = Plan.objects.order_by("-id").first()
    if plan:
        found["plan"] = reverse("web:planning:detail", args=[plan.pk])
        found["plan_vs_actual"] = reverse("web:planning:evaluation", args=[plan.pk])
        run = plan.effort_runs.order_by("-id").first() if hasattr(plan, "effort_runs") else None
        if run:
            found["effort_run"] = reverse("web:planning:effort_run", args=[plan.pk, run.pk])
    if user.role in ("rep", "manager"):
        found["my_plan"] = reverse("web:planning:mine")
    return found


def time_page(client, path: str, repeat: int) -> tuple[float, float | None, float, int]:
    """The first request's wall time, the median wall time and median CPU time of the
    requests after it (CPU: this process, which on SQLite includes the database's work;
    steadier than wall time on a shared machine), and the first status."""
    started = time.perf_counter()
    response = client.get(path)
    first = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        return first, None, 0.0, response.status_code
    timings, cpu = [], []
    for _ in range(repeat):
        started, cpu_started = time.perf_counter(), time.process_time()
        client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
    if not timings:
        return first, first, 0.0, 200
    return first, statistics.median(timings), statistics.median(cpu), 200


def measure(args) -> None:
    from django.core.cache import cache
    from django.test import Client
    from django.urls import get_resolver

    from salesplan.customers.models import Account

    accounts = Account.objects.count()
    assert get_resolver().url_patterns  # load the URL conf and the API before timing anything
    cache.clear()  # first loads are first loads: no figure kept from an earlier run
    slow = []
    for role, user in people().items():
        if role not in args.roles.split(","):
            continue
        client = Client()
        client.force_login(user)
        for name, path in pages(user).items():
            if args.only and name not in args.only:
                continue
            first, median, cpu, status = time_page(client, path, args.requests)
            metric = f"page.{name}.{role}"
            if median is None:
                emit(metric, skipped=f"HTTP {status} from {path}")
                continue
            emit(metric, median, "ms", first_ms=round(first, 1), cpu_ms=round(cpu, 1),
                 accounts=accounts,
                 path=path, load_average=round(os.getloadavg()[0], 2))
            if max(first, median) > TARGET_MS:
                slow.append(metric)
    emit("pages.over_target", len(slow), "pages", target_ms=TARGET_MS, pages=slow)


def main() -> None:
    args = parse_args()
    sqlite = configure(args)
    build(args, sqlite)
    measure(args)


if __name__ == "__main__":
    main()
