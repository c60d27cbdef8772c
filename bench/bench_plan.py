"""Sales plan benchmarks.

(a) Effort allocation: the exact optimiser on 100,000 accounts × 10 effort levels × 200
    reps (target ≤ 2 s), and on instances small enough for a MILP both objectives and
    the gap (must be 0 within tolerance); the MILP's time is the baseline.
(b) Plan vs actual for every objective of a company plan (company, teams, reps) over a
    company of --reps reps and --opportunities opportunities (target ≤ 1 s for 1,000
    reps and 5,000,000 opportunities), built with bulk inserts in a temporary SQLite file.

    .venv/bin/python bench/bench_plan.py --part a
    .venv/bin/python bench/bench_plan.py --part b --opportunities 500000

Prints one JSON object per line: {"metric", "value", "unit"} plus the scale and the load
average, and "baseline"/"ratio" where a figure compares with another. Not part of the
test suite.
"""

import argparse
import json
import os
import random
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import bench_db
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def emit(metric: str, value, unit: str, **extra) -> None:
    line = {"metric": metric, "value": round(value, 4) if isinstance(value, float) else value,
            "unit": unit, **extra, "load_average": round(os.getloadavg()[0], 1)}
    print(json.dumps(line), flush=True)


# --- (a) allocation ------------------------------------------------------------------------


def instance(units: int, levels: int, reps: int, *, seed: int, concave: bool = True):
    """Accounts with ADBUDG curves, calls of 30 to 120 minutes, reps able to give every
    account about a third of the effort levels' range."""
    from salesplan.engines.effort import EffortProblem, contribution

    rng = np.random.default_rng(seed)
    calls = np.arange(levels, dtype=float)
    minutes = rng.choice([0.5, 0.75, 1.0, 1.5, 2.0], units)
    hours = calls[None, :] * minutes[:, None]
    ceiling = rng.uniform(1_000, 50_000, units)
    floor = ceiling * rng.uniform(0, 0.3, units)
    shape = rng.uniform(0.5, 1.0, units) if concave else rng.uniform(0.5, 3.0, units)
    scale = rng.uniform(0.5, 5.0, units) ** shape
    xc = calls[None, :] ** shape[:, None]
    response = floor[:, None] + (ceiling - floor)[:, None] * xc / (scale[:, None] + xc)
    value = contribution(response, 0.3, hours, 60.0)
    group = rng.integers(0, reps, units)
    capacity = np.bincount(group, weights=hours[:, levels // 3], minlength=reps)
    allowed = np.ones((units, levels), dtype=bool)
    allowed[rng.random(units) < 0.1, 0] = False  # tier A: at least one call a month
    return EffortProblem(hours, value, group, capacity, allowed)


def part_a(args) -> None:
    from salesplan.engines.effort import solve, solve_milp

    scale = {"units": args.units, "levels": args.levels, "reps": args.reps}
    problem = instance(args.units, args.levels, args.reps, seed=1)
    times = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        solution = solve(problem)
        times.append(time.perf_counter() - started)
    emit("allocation_seconds", min(times), "s", **scale, target=2.0,
         method=solution.method, objective=round(solution.objective, 2),
         lp_bound=round(solution.lp_bound, 2))
    for units, reps, concave in ((args.milp_units, args.milp_units // 100, True),
                                 (args.milp_units // 4, args.milp_units // 400, False)):
        small = instance(units, args.levels, max(reps, 1), seed=2, concave=concave)
        started = time.perf_counter()
        ours = solve(small)
        ours_time = time.perf_counter() - started
        started = time.perf_counter()
        _, milp = solve_milp(small, time_limit=600)
        milp_time = time.perf_counter() - started
        gap = abs(ours.objective - milp)
        emit("allocation_vs_milp_gap", gap, "contribution", units=units, levels=args.levels,
             reps=max(reps, 1), concave=concave, objective=round(ours.objective, 4),
             milp_objective=round(milp, 4), relative_gap=gap / max(abs(milp), 1.0),
             exact=bool(gap <= 1e-6 * max(abs(milp), 1.0)))
        emit("allocation_small_seconds", ours_time, "s", units=units, concave=concave,
             baseline=round(milp_time, 4), ratio=round(milp_time / max(ours_time, 1e-9), 1),
             baseline_is="HiGHS MILP on the same instance")


# --- (b) plan vs actual --------------------------------------------------------------------


def setup_django(db_path: Path) -> None:
    bench_db.point_at(db_path)
    os.environ["DJANGO_SETTINGS_MODULE"] = "salesplan.config.settings"
    os.environ.setdefault("SALESPLAN_VAR_DIR", str(db_path.parent))
    os.environ.pop("SALESPLAN_TASK_BROKER", None)
    os.environ["SALESPLAN_DEBUG"] = "0"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)


def _row_template(model) -> tuple[list[str], dict]:
    """Every concrete column of a model with its default database value."""
    from django.db import connection

    columns, defaults = [], {}
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(field.column)
        value = field.get_default() if field.has_default() else (
            None if field.null else "" if field.get_internal_type() in (
                "CharField", "TextField") else None)
        defaults[field.column] = field.get_db_prep_save(value, connection)
    return columns, defaults


def _inserter(model, cursor):
    columns, defaults = _row_template(model)
    sql = (f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) VALUES "
           f"({', '.join(['%s'] * len(columns))})")

    def insert(rows: list[dict]) -> None:
        cursor.executemany(sql, [tuple(r.get(c, defaults[c]) for c in columns) for r in rows])

    return insert


def build_company(reps: int, opportunities: int, today: date, year_start: date) -> dict:
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction

    from salesplan.customers.models import Account
    from salesplan.org.models import Role, Team, User
    from salesplan.pipeline.models import Opportunity, Pipeline

    rng = random.Random(5)
    password = make_password("bench")
    region = Team.objects.create(name="Company")
    admin = User.objects.create(username="admin", role=Role.ADMIN, team=region,
                                password=password, is_superuser=True)
    teams = []
    for t in range(max(reps // 20, 1)):
        team = Team.objects.create(name=f"Team {t:03d}", parent=region)
        team.manager = User.objects.create(username=f"mgr{t}", role=Role.MANAGER, team=team,
                                           password=password)
        team.save()
        teams.append(team)
    User.objects.bulk_create(User(username=f"rep{i}", role=Role.REP, team=teams[i % len(teams)],
                                  password=password, last_name=f"Rep {i:04d}")
                             for i in range(reps))
    rep_ids = list(User.objects.filter(role=Role.REP).values_list("id", flat=True))
    pipeline = Pipeline.objects.get(is_default=True)
    stages = list(pipeline.stages.order_by("position"))
    open_stages = [s for s in stages if s.kind == "open"]
    won = next(s for s in stages if s.kind == "won")
    lost = next(s for s in stages if s.kind == "lost")
    accounts = max(opportunities // 50, 1)
    now = datetime.now().isoformat(sep=" ")
    span = (today - year_start).days + 365
    with transaction.atomic(), connection.cursor() as cursor:
        insert_account = _inserter(Account, cursor)
        insert_opportunity = _inserter(Opportunity, cursor)
        insert_account([{"name": f"Account {a}", "name_key": f"account {a}",
                         "owner_id": rep_ids[a % len(rep_ids)], "currency": "USD",
                         "created_at": now, "updated_at": now} for a in range(accounts)])
        first_account = Account.objects.order_by("id").values_list("id", flat=True).first()
        batch: list[dict] = []
        for i in range(opportunities):
            account = first_account + i % accounts
            owner = rep_ids[(i % accounts) % len(rep_ids)]
            close = year_start - timedelta(days=365) + timedelta(days=rng.randrange(span + 180))
            roll = rng.random()
            stage = (rng.choice(open_stages) if close > today or roll < 0.3
                     else won if roll < 0.65 else lost)
            created = close - timedelta(days=rng.randrange(10, 120))
            batch.append({"name": f"Deal {i}", "name_key": f"deal {i}", "account_id": account,
                          "pipeline_id": pipeline.pk, "stage_id": stage.pk,
                          "status": stage.kind, "amount": str(rng.randrange(1_000, 100_000)),
                          "currency": "USD", "close_date": close.isoformat(),
                          "probability": stage.probability, "owner_id": owner,
                          "created_at": f"{created} 10:00:00", "updated_at": now})
            if len(batch) >= 50_000:
                insert_opportunity(batch)
                batch.clear()
        insert_opportunity(batch)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"admin": admin, "teams": teams}


def build_plan(company: dict, fiscal_year: int):
    from salesplan.planning import services

    admin = company["admin"]
    plan = services.create_plan(by=admin, name="Bench plan", fiscal_year=fiscal_year)
    top = services.set_plan_target(plan, by=admin, measure="bookings",
                                   total=Decimal("500000000"))
    for region in services.allocate(top, by=admin, to="teams", method="even"):
        for team in services.allocate(region, by=admin, to="teams", method="even"):
            services.allocate(team, by=admin, to="reps", method="even")
    return plan


def part_b(args) -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-plan-"))
    setup_django(folder / "bench.sqlite3")
    from salesplan.core.fiscal import CompanyCalendar
    from salesplan.planning import evaluation, selectors

    calendar = CompanyCalendar.current()
    today = date.today()
    fiscal_year = calendar.year_of(today)
    year_start = calendar.year_bounds(fiscal_year)[0]
    started = time.perf_counter()
    company = build_company(args.reps_b, args.opportunities, today, year_start)
    plan = build_plan(company, fiscal_year)
    scale = {"reps": args.reps_b, "opportunities": args.opportunities,
             "objectives": plan.objectives.count()}
    emit("plan_vs_actual_build_seconds", time.perf_counter() - started, "s", **scale)
    admin = company["admin"]
    from salesplan.metrics import rollup

    t0 = time.perf_counter()
    rollup.rebuild(["opportunities"])  # the one opportunity rollup, from scratch
    emit("rollup_full_rebuild_seconds", time.perf_counter() - t0, "s", **scale)
    manager = company["teams"][0].manager
    for name, run in (
            ("evaluation", lambda: evaluation.evaluate(plan, admin, as_of=today,
                                                       calendar=calendar)),
            ("evaluation_team_manager", lambda: evaluation.evaluate(
                plan, manager, as_of=today, calendar=calendar)),
            ("plan_vs_actual_bookings", lambda: selectors.plan_vs_actual(
                plan, admin, as_of=today, calendar=calendar))):
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            rows = run()
            times.append(time.perf_counter() - t0)
        emit(f"{name}_seconds", min(times), "s", **scale, rows=len(rows), target=1.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=["a", "b", "all"], default="all")
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--levels", type=int, default=10)
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--milp-units", type=int, default=2_000)
    parser.add_argument("--reps-b", type=int, default=1_000)
    parser.add_argument("--opportunities", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.part in ("a", "all"):
        part_a(args)
    if args.part in ("b", "all"):
        part_b(args)


if __name__ == "__main__":
    main()
