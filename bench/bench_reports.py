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
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", help="SQLite file (default: a new temporary file).")
    parser.add_argument("--reuse", action="store_true", help="Use the database as it is "
                        "(migrating it for the reports tables) instead of building one.")
    parser.add_argument("--period", default="", help="Default: the current fiscal year.")
    parser.add_argument("--repeat", type=int, default=3, help="Optimised runs per figure.")
    parser.add_argument("--naive-repeat", type=int, default=1)
    parser.add_argument("--reports", default="", help="Comma-separated subset.")
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
    from django.core.management import call_command

    from salesplan.customers.models import Account
    from salesplan.demo.build import build_demo

    call_command("migrate", verbosity=0)
    if args.reuse and Account.objects.exists():
        return
    call_command("createcachetable", verbosity=0)
    started = time.perf_counter()
    build_demo(seed=args.seed, accounts=args.accounts, reset=vendor != "sqlite",
               log=lambda line: print(line, file=sys.stderr, flush=True))
    emit("demo.build", time.perf_counter() - started, "s", accounts=args.accounts)


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


def timed(fn, repeat: int) -> tuple[float, object]:
    timings, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings), result


def main() -> None:
    args = parse_args()
    vendor = configure(args)
    build(args, vendor)
    from django.db import connection

    from salesplan.core.fiscal import CompanyCalendar
    from salesplan.reports import rollup
    from salesplan.reports.catalog import REPORTS, run_report
    from salesplan.reports.scope import current_period, parse_filters

    emit("scale", vendor=vendor, db=args.db or "DATABASE_URL", **scale(),
         load_average=os.getloadavg()[0])
    if not args.no_rebuild:
        started = time.perf_counter()
        counts = rollup.rebuild()
        emit("rollup.rebuild", time.perf_counter() - started, "s", **counts)
    period = args.period or current_period("year", CompanyCalendar.current()).code
    filters = parse_filters({"period": period})
    keys = args.reports.split(",") if args.reports else list(REPORTS)
    for who, user in people().items():
        for key in keys:
            report = REPORTS[key]
            by = report.default_by
            try:
                fast_ms, fast = timed(partial(run_report, key, user, filters, by), args.repeat)
                naive_ms, naive = timed(partial(run_report, key, user, filters, by, naive=True),
                                        args.naive_repeat)
            except Exception as exc:  # report the failure and go on with the others
                emit(f"report.{key}.{who}", skipped=f"{type(exc).__name__}: {exc}")
                continue
            same = fast.plain_rows() == naive.plain_rows()  # type: ignore[attr-defined]
            emit(f"report.{key}.{who}", fast_ms, "ms", baseline=round(naive_ms, 1),
                 ratio=round(fast_ms / naive_ms, 4) if naive_ms else None,
                 speedup=round(naive_ms / fast_ms, 1) if fast_ms else None,
                 identical=same, period=period, by=by, rows=len(fast.rows))  # type: ignore[attr-defined]
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
    emit("report.bookings.executive.after_200_changes", ms, "ms")
    ms, _ = timed(lambda: run_report("bookings", executive, filters, "owner"), 3)
    emit("report.bookings.executive.steady", ms, "ms")
    emit("load_average", os.getloadavg()[0], "", cores=os.cpu_count(), db_vendor=connection.vendor)


if __name__ == "__main__":
    main()
