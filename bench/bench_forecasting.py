"""Forecasts and customer health at scale.

Builds a fresh SQLite file database in a temporary folder (migrated here) with
`--accounts` accounts, five opportunities per account (40 % open, 35 % won, 25 % lost,
close dates over the last three years and the next six months) each with its recorded
stage history, three activities per account (calls and meetings done, some tasks past
due), 100 reps in 10 teams under one region, and nine quarters of forecast submissions.
Prints one JSON line per metric:

    .venv/bin/python bench/bench_forecasting.py [--accounts 100000] [--repeat 5]

- calibration.refresh: the nightly recount of closed deals per stage and close month.
- calibration.read: stage calibration of the default pipeline over 12 months from the
  stored counts, cache empty; `baseline` is a naive live version (every closed deal's
  stage history read and counted in Python), `ratio` = baseline / optimised.
- api.*: in-process requests (Django test client, logged in) for a rep, a manager and the
  executive, median of `--repeat` after a first request (`first_request`, which fills
  the one-minute shared caches of company-wide amounts; the statistical forecasts and
  calibration counts were stored by the refresh job before): weighted pipeline (stated
  and calibrated), roll-up, calibration, statistical forecast, accuracy of commits,
  at-risk accounts, renewals, the at-risk and forecast pages.
- statistical.cold: the company's forecast with the backtest that chooses its model
  (seven candidates at eight origins, six months ahead); `baseline` is reading the kept
  result, as the page does after the nightly refresh.
- health.compute_all: every account scored and stored (the background job's work);
  `per_million_estimate` extrapolates linearly. `baseline` is a naive per-account version
  (five queries and one save per account) timed on `--naive-sample` accounts and
  extrapolated to all of them, and said so.
- snapshot: this week's snapshot of every rep, team and the company.
"""

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path

import bench_db

SCALE: dict[str, int] = {}


def emit(metric: str, value, unit: str, **extra) -> None:
    extra["load_average"] = round(os.getloadavg()[0], 1)
    print(json.dumps({"metric": metric, "value": value, "unit": unit, **SCALE, **extra}),
          flush=True)


def setup_django(db_path: Path, *, wipe: bool = True) -> None:
    bench_db.point_at(db_path, wipe=wipe)
    os.environ["DJANGO_SETTINGS_MODULE"] = "salesplan.config.settings"
    os.environ.setdefault("SALESPLAN_VAR_DIR", str(db_path.parent))
    os.environ.pop("SALESPLAN_TASK_BROKER", None)
    os.environ["SALESPLAN_DEBUG"] = "0"
    hosts = os.environ.get("SALESPLAN_ALLOWED_HOSTS", "localhost")
    os.environ["SALESPLAN_ALLOWED_HOSTS"] = hosts + ",testserver"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)


# --- Data ---------------------------------------------------------------------------------


def build_org():
    from django.contrib.auth.hashers import make_password

    from salesplan.org.models import Role, Team, User

    password = make_password("bench")
    region = Team.objects.create(name="Region")
    vp = User.objects.create(username="vp", role=Role.MANAGER, team=region, password=password)
    region.manager = vp
    region.save()
    User.objects.create(username="admin", role=Role.ADMIN, team=region, password=password,
                        is_superuser=True, is_staff=True)
    User.objects.create(username="ceo", role=Role.EXECUTIVE, team=region, password=password)
    reps = []
    for t in range(10):
        team = Team.objects.create(name=f"Team {t}", parent=region)
        team.manager = User.objects.create(username=f"mgr{t}", role=Role.MANAGER, team=team,
                                           password=password)
        team.save()
        for r in range(10):
            reps.append(User.objects.create(username=f"rep{t}_{r}", role=Role.REP, team=team,
                                            password=password, last_name=f"Rep {t}.{r}"))
    return reps


def _insert(cursor, sql: str, rows: list) -> None:
    if rows:
        cursor.executemany(sql, rows)
        rows.clear()


def build_records(accounts: int, reps, today: date) -> dict[str, int]:
    from django.db import connection, transaction

    from salesplan.pipeline.models import Pipeline

    rng = random.Random(11)
    pipeline = Pipeline.objects.get(is_default=True)
    stages = list(pipeline.stages.order_by("position"))
    open_stages = [s for s in stages if s.kind == "open"]
    won = next(s for s in stages if s.kind == "won")
    lost = next(s for s in stages if s.kind == "lost")
    rep_ids = [r.pk for r in reps]
    now = datetime.now().isoformat(sep=" ")
    account_sql = (
        "INSERT INTO customers_account (id, name, name_key, domain, website, industry, "
        "employees, annual_revenue, street, city, postal_code, state, county, country, "
        "owner_id, tier, lifecycle, potential, currency, created_at, updated_at, version) "
        "VALUES (%s,%s,%s,'','','',NULL,NULL,'','','','','','US',%s,'','customer',NULL,"
        "'USD',%s,%s,1)")
    opp_sql = (
        "INSERT INTO pipeline_opportunity (id, name, name_key, account_id, contact_id, "
        "pipeline_id, stage_id, status, amount, currency, close_date, probability, "
        "forecast_category, next_step, lost_reason, owner_id, closed_at, created_at, "
        "updated_at, version) VALUES (%s,%s,%s,%s,NULL,%s,%s,%s,%s,'USD',%s,%s,'pipeline',"
        "'','',%s,%s,%s,%s,1)")
    change_sql = (
        "INSERT INTO pipeline_opportunitychange (opportunity_id, field, from_stage_id, "
        "to_stage_id, changed_at) VALUES (%s,'stage',%s,%s,%s)")
    activity_sql = (
        "INSERT INTO activities_activity (kind, subject, description, due_at, "
        "duration_minutes, outcome, done, done_at, owner_id, account_id, created_at, "
        "updated_at, version) VALUES (%s,%s,'',%s,0,'',%s,NULL,%s,%s,%s,%s,1)")
    acc_rows: list = []
    opp_rows: list = []
    change_rows: list = []
    act_rows: list = []
    counts = {"accounts": 0, "opportunities": 0, "stage_changes": 0, "activities": 0}
    opp_id = 0
    with transaction.atomic(), connection.cursor() as cursor:
        for a in range(1, accounts + 1):
            owner = rng.choice(rep_ids)
            acc_rows.append((a, f"Account {a}", f"account {a}", owner, now, now))
            for _ in range(5):
                opp_id += 1
                close = today + timedelta(days=rng.randrange(-3 * 365, 180))
                roll = rng.random()
                if close > today or roll < 0.4:
                    final = rng.choice(open_stages)
                    close = max(close, today)
                elif roll < 0.75:
                    final = won
                else:
                    final = lost
                depth = (final.position if final.kind == "open"
                         else rng.randrange(1, len(open_stages) + 1))
                path = open_stages[:depth + 1] if final.kind == "open" else (
                    open_stages[:depth] + [final])
                amount = rng.randrange(1_000, 100_000)
                closed_at = None if final.kind == "open" else f"{close} 12:00:00"
                opp_rows.append((opp_id, f"Deal {opp_id}", f"deal {opp_id}", a, pipeline.pk,
                                 final.pk, final.kind, amount, close.isoformat(),
                                 final.probability, owner, closed_at, now, now))
                previous = None
                for i, stage in enumerate(path):
                    at = close - timedelta(days=10 * (len(path) - i))
                    change_rows.append((opp_id, previous, stage.pk, f"{at} 09:00:00"))
                    previous = stage.pk
            for _ in range(3):
                kind = rng.choice(("call", "meeting", "email", "task"))
                due = datetime.combine(today, datetime.min.time()) - timedelta(
                    days=rng.randrange(-30, 400))
                done = kind != "task" or rng.random() < 0.5
                act_rows.append((kind, "Touch base", due.isoformat(sep=" "), done, owner, a,
                                 now, now))
            if len(opp_rows) >= 50_000:
                counts["opportunities"] += len(opp_rows)
                counts["stage_changes"] += len(change_rows)
                counts["accounts"] += len(acc_rows)
                counts["activities"] += len(act_rows)
                _insert(cursor, account_sql, acc_rows)
                _insert(cursor, opp_sql, opp_rows)
                _insert(cursor, change_sql, change_rows)
                _insert(cursor, activity_sql, act_rows)
        counts["opportunities"] += len(opp_rows)
        counts["stage_changes"] += len(change_rows)
        counts["accounts"] += len(acc_rows)
        counts["activities"] += len(act_rows)
        _insert(cursor, account_sql, acc_rows)
        _insert(cursor, opp_sql, opp_rows)
        _insert(cursor, change_sql, change_rows)
        _insert(cursor, activity_sql, act_rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return counts


def build_submissions(reps, today: date) -> int:
    from decimal import Decimal

    from django.utils import timezone

    from salesplan.core.fiscal import CompanyCalendar
    from salesplan.forecasting import periods, services
    from salesplan.forecasting.models import ForecastSubmission

    calendar = CompanyCalendar.current()
    current = periods.quarter_of(calendar, today)
    rng = random.Random(5)
    count = 0
    for n in range(8, -1, -1):
        quarter = periods.shift(calendar, current, -n)
        day = max(quarter.start, today - timedelta(days=2000)) if n else today
        for rep in reps:
            commit = Decimal(rng.randrange(100_000, 400_000))
            row = services.submit_forecast(by=rep, fiscal_year=quarter.fiscal_year,
                                           quarter=quarter.number, commit=commit,
                                           best_case=commit * 2, pipeline=commit * 3,
                                           today=day)
            ForecastSubmission.objects.filter(pk=row.pk).update(
                submitted_at=timezone.make_aware(datetime.combine(day, datetime.min.time())))
            count += 1
    return count


# --- Measurements ---------------------------------------------------------------------------


# The last `timed` call's processor time: this process's and, on PostgreSQL on this host,
# its database session's (what a shared machine's load hardly changes).
LAST_CPU: dict[str, float] = {}


def timed(func) -> tuple[float, object]:
    server = bench_db.server_cpu_seconds()
    started, cpu = time.perf_counter(), time.process_time()
    result = func()
    seconds = time.perf_counter() - started
    LAST_CPU.clear()
    LAST_CPU["cpu_seconds"] = round(time.process_time() - cpu, 3)
    if server is not None:
        LAST_CPU["server_cpu_seconds"] = round(
            (bench_db.server_cpu_seconds() or server) - server, 2)
    return seconds, result


def naive_calibration(pipeline, start: date, end: date) -> dict[int, tuple[int, int]]:
    """Every closed deal in the window and its stage history, counted in Python."""
    from salesplan.pipeline.models import Opportunity

    outcomes: dict[int, list[int]] = {}
    deals = Opportunity.objects.filter(pipeline=pipeline, status__in=("won", "lost"),
                                       close_date__gte=start, close_date__lte=end)
    for opp in deals.prefetch_related("changes").iterator(chunk_size=2000):
        entered = {c.to_stage_id for c in opp.changes.all() if c.field == "stage"}
        for stage_id in entered:
            counts = outcomes.setdefault(stage_id, [0, 0])
            counts[0 if opp.status == "won" else 1] += 1
    return {k: (v[0], v[1]) for k, v in outcomes.items()}


def bench_calibration() -> None:
    from django.core.cache import cache
    from django.utils import timezone

    from salesplan.forecasting import calibration
    from salesplan.pipeline.models import Pipeline

    pipeline = Pipeline.objects.get(is_default=True)
    start, end = calibration.window(12, timezone.localdate())
    cache.clear()
    refresh_seconds, stored = timed(lambda: calibration.refresh_outcomes())
    emit("calibration.refresh", round(refresh_seconds, 3), "s", stage_months=stored, **LAST_CPU,
         note="the nightly job: every closed deal's stage history counted per close month")
    cache.clear()
    seconds, rows = timed(lambda: calibration.calibration(pipeline, months=12))
    read_cpu = dict(LAST_CPU)
    naive_seconds, naive = timed(lambda: naive_calibration(pipeline, start, end))
    optimised = {r.stage.pk: (r.row.won, r.row.lost) for r in rows}  # type: ignore[attr-defined]
    same = all(naive.get(k, (0, 0)) == v for k, v in optimised.items())
    emit("calibration.read", round(seconds, 3), "s", baseline=round(naive_seconds, 3),
         ratio=round(naive_seconds / seconds, 1), same_counts=same, **read_cpu,
         note="from the stored counts, cache empty; baseline reads the history live")


def bench_api(repeat: int) -> None:
    from django.test import Client

    from salesplan.org.models import User

    users = {"rep": User.objects.get(username="rep0_0"),
             "manager": User.objects.get(username="mgr0"),
             "executive": User.objects.filter(username="ceo").first()
             or User.objects.filter(role="executive").order_by("pk").first()}
    paths = {
        "weighted_pipeline": "/api/v1/forecasts/weighted-pipeline",
        "weighted_pipeline_calibrated":
            "/api/v1/forecasts/weighted-pipeline?probabilities=calibrated",
        "rollup": "/api/v1/forecasts/rollup",
        "calibration": "/api/v1/forecasts/calibration",
        "statistical": "/api/v1/forecasts/statistical",
        "accuracy": "/api/v1/forecasts/accuracy",
        "at_risk": "/api/v1/health/at-risk",
        "renewals": "/api/v1/health/renewals?days=90",
        "page.at_risk": "/health/",
        "page.forecast_overview": "/forecasts/",
    }
    for role, user in users.items():
        client = Client()
        client.force_login(user)
        for name, path in paths.items():
            if name == "rollup" and role == "rep":
                continue
            started = time.perf_counter()
            client.get(path)  # the first request fills the one-minute shared caches
            first = time.perf_counter() - started
            times, cpus, servers = [], [], []
            status = 0
            for _ in range(repeat):
                seconds, response = timed(partial(client.get, path))
                times.append(seconds)
                cpus.append(LAST_CPU["cpu_seconds"])
                servers.append(LAST_CPU.get("server_cpu_seconds"))
                status = response.status_code  # type: ignore[attr-defined]
            cpu = {"cpu_seconds": round(statistics.median(cpus), 3)}
            if None not in servers:
                cpu["server_cpu_seconds"] = round(statistics.median(servers), 2)
            emit(f"api.{name}.{role}", round(statistics.median(times), 3), "s",
                 p_max=round(max(times), 3), first_request=round(first, 3), status=status,
                 **cpu)


def bench_statistical() -> None:
    import statsforecast.models  # noqa: F401 - import once, outside the timing
    from django.core.cache import cache

    from salesplan.core.clock import company_today
    from salesplan.forecasting import statistical

    cache.clear()
    scope = statistical.Scope("company", "Whole company")
    seconds, result = timed(lambda: statistical.statistical_forecast(
        scope, today=company_today()))
    cold_cpu = dict(LAST_CPU)
    kept, _ = timed(lambda: statistical.statistical_forecast(scope, today=company_today()))
    sel = result.selection  # type: ignore[attr-defined]
    score = sel.score if sel else None
    base = sel.baseline if sel else None
    emit("statistical.cold", round(seconds, 3), "s",
         months=len(result.history),  # type: ignore[attr-defined]
         model=sel.chosen if sel else None, folds=len(sel.folds) if sel else 0,
         backtest_mase=round(score.mase, 3) if score else None,
         seasonal_naive_mase=round(base.mase, 3) if base else None,
         coverage=round(score.coverage, 3) if score else None,
         baseline=round(kept, 4), baseline_name="kept result read",
         ratio=round(seconds / kept, 1) if kept else None, **cold_cpu)


def naive_health(account_ids: list[int]) -> None:
    """Per account: five queries and one save, as an ORM loop would do it."""
    from decimal import Decimal

    from django.db.models import Max, Sum
    from django.utils import timezone

    from salesplan.activities.models import Activity
    from salesplan.engines import health as engine
    from salesplan.health.models import AccountHealth
    from salesplan.pipeline.models import Opportunity

    now = timezone.now()
    today = timezone.localdate()
    for account_id in account_ids:
        contacts = Activity.objects.filter(account_id=account_id, done=True,
                                           kind__in=("call", "meeting", "email"),
                                           due_at__lte=now)
        last = contacts.aggregate(m=Max("due_at"))["m"]
        recent = contacts.filter(due_at__gt=now - timedelta(days=90)).count()
        overdue = Activity.objects.filter(account_id=account_id, done=False, kind="task",
                                          due_at__lt=now).count()
        opps = Opportunity.objects.filter(account_id=account_id)
        open_count = opps.filter(status="open").count()
        this = opps.filter(status="won", close_date__gt=today - timedelta(days=365)).aggregate(
            s=Sum("amount"))["s"] or Decimal(0)
        facts = engine.Facts(None if last is None else (now - last).days, recent, open_count,
                             this, Decimal(0), overdue)
        points = engine.score(facts)
        AccountHealth.objects.update_or_create(account_id=account_id, defaults={
            "score": points["score"], "recency_points": points["recency"],
            "frequency_points": points["frequency"],
            "opportunity_points": points["opportunities"], "trend_points": points["trend"],
            "follow_up_points": points["follow_ups"], "computed_at": now})


def bench_health(accounts: int, naive_sample: int) -> None:
    from salesplan.health import services

    seconds, result = timed(lambda: services.compute_health())
    health_cpu = dict(LAST_CPU)
    rate = accounts / seconds
    sample = list(range(1, min(naive_sample, accounts) + 1))
    naive_seconds, _ = timed(lambda: naive_health(sample))
    naive_total = naive_seconds / len(sample) * accounts
    emit("health.compute_all", round(seconds, 1), "s", accounts_per_second=round(rate),
         per_million_estimate_s=round(1_000_000 / rate), at_risk=result["at_risk"],  # type: ignore[index]
         baseline=round(naive_total, 1),
         baseline_note=f"naive timed on {len(sample):,} accounts and extrapolated",
         ratio=round(naive_total / seconds, 1), **health_cpu)
    seconds, _ = timed(lambda: services.compute_health())
    emit("health.recompute_all", round(seconds, 1), "s", note="second run: upserts over "
         "existing rows, previous scores kept", **LAST_CPU)


def bench_snapshot() -> None:
    from salesplan.forecasting import services

    seconds, rows = timed(lambda: services.take_snapshot())
    emit("snapshot", round(seconds, 3), "s", rows=rows, **LAST_CPU)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--naive-sample", type=int, default=1_000)
    parser.add_argument("--keep", action="store_true", help="Keep the temporary database.")
    parser.add_argument("--reuse", type=Path, help="A database kept with --keep: measure "
                                                   "the requests again without rebuilding.")
    parser.add_argument("--company", type=Path,
                        help="Measure on the benchmark company of build_company.py (this "
                             "SQLite file, or the PostgreSQL database in DATABASE_URL, kept) "
                             "instead of building a database: every figure but the forecast "
                             "submissions, which the company has none of.")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    if args.company:
        measure_company(args)
        return
    if args.reuse:
        # (kept: on PostgreSQL, measured where it is, not emptied first)
        setup_django(args.reuse, wipe=False)
        from salesplan.customers.models import Account
        from salesplan.pipeline.models import Opportunity

        SCALE.update({"accounts": Account.objects.count(),
                      "opportunities": Opportunity.objects.count()})
        bench_api(args.repeat)
        return
    folder = Path(tempfile.mkdtemp(prefix="bench-forecasting-"))
    setup_django(folder / "bench.sqlite3")
    from django.utils import timezone

    today = timezone.localdate()
    reps = build_org()
    seconds, counts = timed(lambda: build_records(args.accounts, reps, today))
    SCALE.update({"accounts": counts["accounts"],  # type: ignore[index]
                  "opportunities": counts["opportunities"]})  # type: ignore[index]
    emit("build", round(seconds, 1), "s", **counts)  # type: ignore[arg-type]
    emit("build.submissions", build_submissions(reps, today), "rows")
    bench_calibration()
    bench_statistical()
    from salesplan.forecasting import services

    seconds, result = timed(lambda: services.refresh_forecasts())
    emit("refresh_job", round(seconds, 1), "s", **result)  # type: ignore[arg-type]
    bench_health(args.accounts, args.naive_sample)
    bench_snapshot()
    bench_api(args.repeat)
    emit("database_size", round((folder / "bench.sqlite3").stat().st_size / 1e6), "MB",
         path=str(folder) if args.keep else "removed")
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)


def measure_company(args) -> None:
    setup_django(args.company.resolve(), wipe=False)
    from salesplan.customers.models import Account
    from salesplan.forecasting import services
    from salesplan.pipeline.models import Opportunity

    accounts = Account.objects.count()
    SCALE.update({"accounts": accounts, "opportunities": Opportunity.objects.count()})
    bench_calibration()
    bench_statistical()
    seconds, result = timed(lambda: services.refresh_forecasts())
    emit("refresh_job", round(seconds, 1), "s", **result, **LAST_CPU)  # type: ignore[arg-type]
    bench_health(accounts, args.naive_sample)
    bench_snapshot()
    bench_api(args.repeat)


if __name__ == "__main__":
    main()
