"""Foundation benchmark: build (or reuse) a big demo database and time the pages and API
calls people use all day.

    .venv/bin/python bench/bench_foundation.py --accounts 1000000      # build, then measure
    .venv/bin/python bench/bench_foundation.py --reuse                 # measure an existing DB
    DATABASE_URL=postgres://… .venv/bin/python bench/bench_foundation.py --accounts 20000

Prints one JSON object per line: {"metric", "value", "unit"} (plus "baseline" and "ratio"
where a figure compares with another), or {"metric", "skipped": reason}. Requests go
through Django's test Client in-process (no network, no server), logged in with
force_login; each figure is over --requests requests after --warmup unmeasured ones.
Not part of the test suite.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
CPU_MS: dict[str, list[float]] = {}  # processor ms per request of the last measurement, by path


def emit(metric: str, value=None, unit: str = "", **extra) -> None:
    line = {"metric": metric}
    if value is not None:
        line.update(value=round(value, 3) if isinstance(value, float) else value, unit=unit)
    line.update(extra)
    print(json.dumps(line), flush=True)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", default=str(ROOT / "var" / "bench.sqlite3"),
                        help="SQLite file (ignored when DATABASE_URL is set).")
    parser.add_argument("--reuse", action="store_true",
                        help="Measure the existing database instead of building a new one.")
    parser.add_argument("--read-only", action="store_true",
                        help="With --reuse: write nothing (sessions in signed cookies, cache in "
                             "memory, no migrate), so it can measure a database that a build "
                             "is still writing.")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--deep-rows", type=int, default=10_000,
                        help="How deep the 'deep page' starts (200 pages of 50 by default).")
    return parser.parse_args()


def configure(args) -> bool:
    """Point Django at the benchmark database; returns True when it is SQLite."""
    sqlite = not os.environ.get("DATABASE_URL")
    if sqlite:
        Path(args.db).parent.mkdir(parents=True, exist_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{Path(args.db).resolve()}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesplan.config.settings")
    # Measure what production runs: no debug pages, no query log.
    os.environ.setdefault("SALESPLAN_DEBUG", "0")
    hosts = os.environ.get("SALESPLAN_ALLOWED_HOSTS", "localhost")
    os.environ["SALESPLAN_ALLOWED_HOSTS"] = hosts + ",testserver"
    import django

    django.setup()
    if args.read_only:
        from django.conf import settings
        from django.contrib.auth import user_logged_in
        from django.contrib.auth.models import update_last_login

        settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
        settings.CACHES = {"default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
        user_logged_in.disconnect(update_last_login, dispatch_uid="update_last_login")
    return sqlite


def build(args, sqlite: bool) -> None:
    from django.core.management import call_command

    from salesplan.customers.models import Account
    from salesplan.demo.build import build_demo

    if args.reuse:
        if not args.read_only:
            call_command("migrate", verbosity=0)
            # The benchmark company of build_company.py has no cache table yet.
            call_command("createcachetable", verbosity=0)
        if Account.objects.exists():
            emit("demo.generate.total", skipped="--reuse: measuring the existing database",
                 accounts=Account.objects.count())
            return
    if sqlite and not args.reuse:
        for suffix in ("", "-wal", "-shm"):
            Path(args.db + suffix).unlink(missing_ok=True)
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    result = build_demo(seed=args.seed, accounts=args.accounts, reset=not sqlite,
                        log=lambda line: print(line, file=sys.stderr, flush=True))
    for name, seconds in result.seconds.items():
        emit(f"demo.generate.{name.replace(' ', '_')}", seconds, "s")
    for name, count in result.counts.items():
        emit(f"demo.rows.{name}", count, "rows")
    emit("demo.generate.total", result.total_seconds, "s", accounts=args.accounts)
    emit("demo.generate.rate", args.accounts / result.total_seconds, "accounts/s")
    emit("demo.generate.cpu_main_process", result.cpu_seconds, "s")


def measure(client, path: str, args) -> tuple[list[float], int, str]:
    """Timings in ms of `args.requests` GETs after warm-up; the status of the first
    response, and the start of its body when it failed."""
    first = client.get(path)
    if first.status_code != 200:
        return [], first.status_code, first.content[:200].decode(errors="replace")
    for _ in range(args.warmup - 1):
        client.get(path)
    timings, cpu = [], []
    for _ in range(args.requests):
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    CPU_MS[path] = cpu
    return timings, 200, ""


def report(metric: str, client, path: str | None, args, baseline: float | None = None,
           skipped: str = "") -> float | None:
    """Measure one request and print its p50 and p95; returns the p50."""
    if path is None:
        emit(metric, skipped=skipped)
        return None
    timings, status, body = measure(client, path, args)
    if not timings:
        emit(metric, skipped=f"HTTP {status} from {path}: {body}")
        return None
    p50 = statistics.median(timings)
    p95 = statistics.quantiles(timings, n=20)[-1]
    cpu = CPU_MS.pop(path, [])
    # This process's processor time per request (on SQLite the database's work too): on
    # a shared machine the wall time also counts the neighbours' turns.
    steady = {"cpu_ms_p50": round(statistics.median(cpu), 2),
              "cpu_ms_p95": round(statistics.quantiles(cpu, n=20)[-1], 2)} if len(cpu) > 1 else {}
    steady["load_average"] = round(os.getloadavg()[0], 1)
    extra = {}
    if baseline:
        extra = {"baseline": round(baseline, 3), "ratio": round(p50 / baseline, 2)}
    emit(f"{metric}.p50", p50, "ms", path=path, **extra, **steady)
    emit(f"{metric}.p95", p95, "ms", **steady)
    return p50


def url_exists(path: str) -> bool:
    from django.urls import Resolver404, resolve

    try:
        resolve(path.split("?")[0])
    except Resolver404:
        return False
    return True


def deep_cursor(queryset, position: int) -> str | None:
    """A cursor starting `position` rows into the list: what following next_cursor
    page after page would reach, without paying for the pages in between."""
    from salesplan.core.listing import make_cursor

    rows = list(queryset.order_by("close_date", "id").values_list("close_date", "id")[
        position - 1: position])
    return make_cursor(rows[0][0], rows[0][1]) if rows else None


def manager_of(rep):
    """The manager of the rep's team (the benchmark company's managers have no
    `manager.` names); the rep when the team has none."""
    team = rep.team if rep is not None else None
    return (team.manager if team is not None and team.manager_id else None) or rep


def opportunity_benchmarks(args) -> None:
    from django.test import Client

    from salesplan.org.models import Role, User
    from salesplan.pipeline.models import Opportunity, Stage

    stage = Stage.objects.get(pipeline__is_default=True, kind="lost")  # the biggest stage
    rep = (User.objects.filter(role=Role.REP, team__name="Great Lakes").order_by("id").first()
           or User.objects.filter(role=Role.REP).order_by("id").first())
    manager = User.objects.filter(username="manager.central").first() or manager_of(rep)
    for who, user in (("rep", rep), ("manager", manager)):
        client = Client()
        client.force_login(user)
        params = {"owner": rep.pk, "stage": stage.pk, "sort": "close_date"}
        base = "/api/v1/opportunities?" + urlencode(params)
        first = report(f"api.opportunities.first_page.{who}", client, base, args)
        rows = Opportunity.objects.filter(owner=rep, stage=stage)
        total = rows.count()
        position = min(args.deep_rows, max(1, int(total * 0.8)))
        cursor = deep_cursor(rows, position)
        report(f"api.opportunities.deep_page.{who}", client,
               f"{base}&{urlencode({'cursor': cursor})}" if cursor else None, args,
               baseline=first, skipped="no rows to page through")
        emit(f"api.opportunities.deep_page.{who}.position", position, "rows", of=total)


def page_benchmarks(args) -> None:
    from django.db.models import Count
    from django.test import Client

    from salesplan.customers.models import Account
    from salesplan.org.models import Role, User

    rep = User.objects.filter(role=Role.REP).order_by("id").first()
    manager = (User.objects.filter(role=Role.MANAGER, username__startswith="manager.").first()
               or manager_of(rep))
    # A busy account: the one with most activities among the rep's first hundred.
    candidates = Account.objects.filter(owner=rep).order_by("id")[:100]
    account = (Account.objects.filter(pk__in=candidates.values("pk"))
               .annotate(n=Count("activities")).order_by("-n", "id").first())
    detail = f"/accounts/{account.pk}/" if account else None
    if detail and not url_exists(detail):
        detail = None
    for who, user in (("rep", rep), ("manager", manager or rep)):
        client = Client()
        client.force_login(user)
        report(f"page.account_detail.{who}", client, detail, args,
               skipped="no account detail page at /accounts/<id>/ yet")
    term = "smi"
    for who, user in (("rep", rep), ("manager", manager or rep)):
        client = Client()
        client.force_login(user)
        report(f"api.search.{who}", client, f"/api/v1/search?q={term}", args)
        page = f"/search/?q={term}"
        report(f"page.search.{who}", client, page if url_exists(page) else None, args,
               skipped="no /search/ page yet")


def main() -> None:
    args = parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    sqlite = configure(args)
    build(args, sqlite)
    if not args.read_only:
        # The code may have moved on during a long build: bring the schema up to date.
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
    # What the server does once loaded (config/wsgi.py): routes built, start-up objects
    # frozen out of the garbage collector's full collections.
    from salesplan.config.startup import prepare_process

    prepare_process()
    opportunity_benchmarks(args)
    page_benchmarks(args)


if __name__ == "__main__":
    main()
