"""The benchmark company, fast and the same for a seed.

    .venv/bin/python bench/build_company.py --accounts 100000 [--db var/company.sqlite3]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_company \
        .venv/bin/python bench/build_company.py --accounts 1000000
        [--deals-per-account 5] [--seed 11] [--as-of 2026-06-30] [--digest]

Accounts, as many contacts, `--deals-per-account` deals each with close-date and stage
history, activities, leads, quotes with approvals, a sales organisation with an active
territory alignment covering every account, and the company's plan for the year —
generated straight into the tables (COPY on PostgreSQL, executemany with the indexes
rebuilt after loading on SQLite; see `build` in bench_quality.py, shared with the list
benchmarks), not through the ORM. The database is started afresh (SQLite file deleted;
the PostgreSQL database dropped and made again).

Every generated value comes from `--seed` and the fixed date `--as-of`, so two builds with
the same arguments hold the same rows; `--digest` prints a SHA-256 of the generated
tables to check it. Prints the time per table, the rows written, rows/s, and the time a
1,000,000-account build would take at the measured rate (`build.extrapolated_1m`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_quality  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DIGEST_TABLES = {  # table: columns that come from the seed (not the wall clock)
    "customers_account": "id, name, industry, owner_id, created_at",
    "customers_contact": "id, last_name, title, email, account_id, owner_id",
    "customers_lead": "id, last_name, company, status, owner_id",
    "pipeline_opportunity": "id, account_id, contact_id, stage_id, status, amount, "
                            "close_date, owner_id, created_at",
    "pipeline_opportunitychange": "id, opportunity_id, field, from_stage_id, to_stage_id, "
                                  "from_close_date, to_close_date, changed_at",
    "activities_activity": "id, kind, due_at, done, owner_id, account_id, opportunity_id, "
                           "lead_id",
}


def emit(metric: str, value=None, unit: str = "", **extra) -> None:
    print(json.dumps({"metric": metric, "value": value, "unit": unit, **extra}), flush=True)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--deals-per-account", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--as-of", default="2026-06-30",
                        help="The day the data is generated around (fixed: deterministic).")
    parser.add_argument("--db", default=str(ROOT / "var" / "company.sqlite3"))
    parser.add_argument("--teams", type=int, default=20)
    parser.add_argument("--reps-per-team", type=int, default=24)
    parser.add_argument("--digest", action="store_true")
    args = parser.parse_args(argv)
    url = os.environ.get("DATABASE_URL", "")
    return argparse.Namespace(
        **vars(args), database_url=url if url.startswith("postgres") else None,
        reuse=False, opportunities=int(args.accounts * args.deals_per_account),
        open_share=0.4, activities_per_deal=0.5, deals_per_quote=25,
        as_of_moment=datetime.fromisoformat(args.as_of).replace(hour=12, tzinfo=UTC))


def add_plan(fiscal_year: int) -> int:
    """The company's plan for the year, owned by the top manager, as a draft."""
    from salesplan.org.models import Role, User
    from salesplan.planning.services import create_plan

    admin = User.objects.filter(role=Role.ADMIN).order_by("pk").first()
    plan = create_plan(by=admin, name=f"Sales plan FY{fiscal_year}", fiscal_year=fiscal_year)
    return plan.pk


def digest() -> str:
    """SHA-256 of the generated rows, users named by username (their ids depend on the
    database's sequences), dates and times as UTC text."""
    from django.db import connection

    from salesplan.org.models import User

    usernames = dict(User.objects.values_list("pk", "username"))
    sha = hashlib.sha256()
    with connection.cursor() as cursor:
        for table, columns in DIGEST_TABLES.items():
            names = [c.strip() for c in columns.split(",")]
            cursor.execute(f"SELECT {columns} FROM {table} ORDER BY id")
            for row in cursor.fetchall():
                values = [usernames.get(v) if name == "owner_id" else _text(v)
                          for name, v in zip(names, row, strict=True)]
                sha.update(repr(values).encode())
    return sha.hexdigest()


def _text(value) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, str) and len(value) >= 19 and value[10] in " T" and value[4] == "-":
        return datetime.fromisoformat(value).replace(tzinfo=UTC).isoformat()
    return str(value)


def cpu_seconds() -> float:
    """Processor time spent so far by this process and, on PostgreSQL on this host, by
    its database session's server process (where COPY and the index builds run). On a
    shared machine the wall clock also counts other programs' turns; this does not."""
    from django.db import connection

    total = time.process_time()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:  # the server runs elsewhere: only the builder's share
            pass
    return total


def count_rows() -> int:
    from django.db import connection

    total = 0
    with connection.cursor() as cursor:
        for table in (*DIGEST_TABLES, "proposals_quote", "proposals_quoteline",
                      "territories_territoryassignment"):
            try:
                cursor.execute(f"SELECT COUNT(*) FROM {table}")
                total += cursor.fetchone()[0]
            except Exception:  # noqa: S112 - a table another version names otherwise
                continue
    return total


def main(argv=None) -> None:
    args = parse_args(argv)
    os.environ.setdefault("SALESPLAN_VAR_DIR", str(Path(args.db).resolve().parent))
    bench_quality.prepare_database(args)
    from django.core.management import call_command

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    emit("build.migrate", round(time.perf_counter() - t0, 1), "s")
    started = time.perf_counter()  # the data, not the schema
    cpu_started = cpu_seconds()
    args.as_of, args.skip_migrate = args.as_of_moment, True
    bench_quality.build(args)
    plan = add_plan(args.as_of.year)
    seconds = time.perf_counter() - started
    rows = count_rows()
    emit("build.plan", plan, "id")
    emit("build.rows", rows, "rows", accounts=args.accounts, opportunities=args.opportunities)
    emit("build.rows_per_second", round(rows / seconds), "rows/s", seconds=round(seconds, 1),
         load_average=round(os.getloadavg()[0], 2))
    emit("build.extrapolated_1m", round(seconds * 1_000_000 / args.accounts), "s",
         baseline=600, ratio=round(seconds * 1_000_000 / args.accounts / 600, 2),
         note="linear in accounts from this run; target 600 s")
    cpu = cpu_seconds() - cpu_started
    emit("build.cpu_extrapolated_1m", round(cpu * 1_000_000 / args.accounts), "s",
         baseline=600, ratio=round(cpu * 1_000_000 / args.accounts / 600, 2),
         cpu_seconds=round(cpu, 1), note="processor time of the builder and its database "
         "session, linear in accounts: the wall-clock time on a machine not shared")
    if args.digest:
        emit("build.digest", digest(), "sha256", seed=args.seed)


if __name__ == "__main__":
    main()
