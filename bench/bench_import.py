"""Import throughput: a 100,000-row contact CSV with 5% duplicates and 1% bad rows.

Runs against a fresh SQLite file database (migrated here), so it measures what a
small installation sees. Prints one JSON line per metric:
    .venv/bin/python bench/bench_import.py [--rows 100000]
The dry run checks the full file (and reports its 1% bad rows); the commit imports the
file as the person would after fixing those rows (bad rows removed), updating the 5%
that duplicate existing contacts.
"""

import argparse
import csv
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import bench_db


def setup_django(db_path: Path) -> None:
    bench_db.point_at(db_path)
    os.environ["DJANGO_SETTINGS_MODULE"] = "salesplan.config.settings"
    os.environ.setdefault("SALESPLAN_VAR_DIR", str(db_path.parent))
    os.environ.pop("SALESPLAN_TASK_BROKER", None)
    os.environ["SALESPLAN_DEBUG"] = "0"  # as in production: no query log
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def write_files(folder: Path, rows: int, existing_emails: list[str]) -> tuple[Path, Path, int]:
    """The full file (with bad rows) and the corrected file (bad rows dropped)."""
    rng = random.Random(42)
    header = ["First Name", "Last Name", "Email", "Job Title", "Phone", "Buying role",
              "Do not contact"]
    full, fixed = folder / "contacts.csv", folder / "contacts-fixed.csv"
    bad = 0
    with open(full, "w", newline="") as f_all, open(fixed, "w", newline="") as f_ok:
        w_all, w_ok = csv.writer(f_all), csv.writer(f_ok)
        w_all.writerow(header)
        w_ok.writerow(header)
        for i in range(rows):
            roll = rng.random()
            email = (existing_emails[i % len(existing_emails)] if roll < 0.05
                     else f"person{i}@company{i % 997}.example.com")
            row = [f"First{i}", f"Last{i}", email, "Buyer", f"+1 555 {i:07d}",
                   rng.choice(["champion", "Decision maker", "user", ""]),
                   rng.choice(["yes", "no", ""])]
            if 0.05 <= roll < 0.06:
                row[2] = f"not-an-email-{i}"
                bad += 1
            w_all.writerow(row)
            if not 0.05 <= roll < 0.06:
                w_ok.writerow(row)
    return full, fixed, bad


def emit(metric: str, value: float, unit: str, **extra) -> None:
    print(json.dumps({"metric": metric, "value": round(value, 1), "unit": unit, **extra}))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        setup_django(folder / "bench.sqlite3")
        from salesplan.customers.models import Contact
        from salesplan.imports.services import import_path
        from salesplan.org.models import Role, User

        user = User.objects.create_user("bench", "bench@example.com", "x", role=Role.ADMIN)
        seed = [Contact(first_name="Old", last_name=f"Seed{i}", name_key=f"seed{i} old",
                        email=f"seed{i}@old.example.com", owner=user) for i in range(5000)]
        Contact.objects.bulk_create(seed, batch_size=1000)
        full, fixed, bad = write_files(folder, args.rows, [c.email for c in seed])

        started, cpu = time.perf_counter(), time.process_time()
        dry = import_path(str(full), by=user, resource="contact", on_duplicate="update",
                          dry_run=True)
        dry_seconds = time.perf_counter() - started
        dry_cpu = time.process_time() - cpu
        assert dry.error_count == bad, (dry.error_count, bad)

        started, cpu = time.perf_counter(), time.process_time()
        done = import_path(str(fixed), by=user, resource="contact", on_duplicate="update")
        commit_seconds = time.perf_counter() - started
        commit_cpu = time.process_time() - cpu
        assert done.committed and not done.error_count
        good = args.rows - bad

        emit("import_contacts_dry_run_rows_per_second", args.rows / dry_seconds, "rows/s",
             rows=args.rows, bad_rows=dry.error_count, seconds=round(dry_seconds, 2),
             cpu_seconds=round(dry_cpu, 2))
        emit("import_contacts_commit_rows_per_second", good / commit_seconds, "rows/s",
             rows=good, created=done.created, updated=done.updated, skipped=done.skipped,
             seconds=round(commit_seconds, 2), cpu_seconds=round(commit_cpu, 2))
        emit("import_contacts_rows_per_second", args.rows / (dry_seconds + commit_seconds),
             "rows/s", seconds=round(dry_seconds + commit_seconds, 2),
             cpu_seconds=round(dry_cpu + commit_cpu, 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
