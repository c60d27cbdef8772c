"""Load test: the production set-up under a working day's mix of users.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/salesplan_load \
        .venv/bin/python bench/loadtest.py [--accounts 3000] [--users 50,100,200]
        [--seconds 60] [--workers 4] [--broker redis://127.0.0.1:6379/0] [--reuse]

Starts what the README's production steps start — `salesplan serve` (gunicorn,
`--workers` processes) on the database in DATABASE_URL and `salesplan worker` on the
broker — building the demo company at `--accounts` first unless `--reuse` finds one.
Then, for each user count, runs bench/locustfile.py headless for `--seconds` and prints
one JSON line per kind of request: p50/p95/p99 (ms), requests per second, failures,
and a total line with the machine's load average. The servers are stopped at the end.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def emit(metric: str, value=None, unit: str = "", **extra) -> None:
    print(json.dumps({"metric": metric, "value": value, "unit": unit, **extra}), flush=True)


def production_env(args) -> dict:
    env = dict(os.environ)
    # As behind one reverse proxy of our own: the web-form visitors' addresses arrive in
    # X-Forwarded-For, and each address has its own capture allowance.
    env.update(SALESPLAN_PRODUCTION="1", SALESPLAN_HTTPS="0", SALESPLAN_DEBUG="0",
               SALESPLAN_TRUSTED_PROXIES="1",
               SALESPLAN_SECRET_KEY=env.get("SALESPLAN_SECRET_KEY", "load-test-" + "k" * 40),
               SALESPLAN_TASK_BROKER=args.broker, SALESPLAN_LOG_LEVEL="ERROR",
               SALESPLAN_EMAIL_URL="console://",
               SALESPLAN_BASE_URL=f"http://127.0.0.1:{args.port}")
    return env


def signed_in(user) -> str:
    """A session of `user` as logging in leaves it, made here so that the load measures
    the pages and not the password hashing of a crowd logging in at once."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    return store.session_key


def capture_form(admin):
    """The company's active web form, or one made for the load test."""
    from salesplan.marketing.models import CaptureForm
    from salesplan.marketing.services import create_form

    form = CaptureForm.objects.filter(is_active=True).first()
    return form or create_form(by=admin, data={
        "name": "Load test form", "fields": ["company"]})


def write_fixture(path: Path, env: dict) -> None:
    """Logins (with a signed-in session each) with record ids each one may see, a capture
    form's key, an API token."""
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesplan.config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.hashers import make_password

    from salesplan.customers.models import Account
    from salesplan.org.models import ApiToken, Role, User
    from salesplan.pipeline.models import Opportunity, Pipeline, StageKind
    from salesplan.planning.models import Plan

    password = "load-test-password"
    users = User.objects.filter(is_active=True)
    users.update(password=make_password(password))
    reps = []
    for rep in users.filter(role=Role.REP).order_by("pk")[:60]:
        reps.append({"username": rep.username, "session": signed_in(rep),
                     "accounts": list(Account.objects.filter(owner=rep)
                                      .values_list("pk", flat=True)[:30]),
                     "opportunities": list(Opportunity.objects.filter(
                         owner=rep, status=StageKind.OPEN).values_list("pk", flat=True)[:30])})
    managers = [{"username": m.username, "session": signed_in(m)}
                for m in users.filter(role=Role.MANAGER).order_by("pk")[:20]]
    admin = users.filter(role=Role.ADMIN).first()
    form = capture_form(admin)
    key = ApiToken.new_key()
    ApiToken.objects.create(user=admin, name="load test", prefix=key[:12],
                            key_hash=ApiToken.hash_key(key))
    pipeline = Pipeline.objects.get(is_default=True)
    plan = Plan.objects.order_by("-pk").first()
    path.write_text(json.dumps({
        "password": password, "reps": reps, "session_cookie": settings.SESSION_COOKIE_NAME,
        "csrf_cookie": settings.CSRF_COOKIE_NAME, "managers": managers,
        "form_key": form.key if form else "", "token": key,
        "plan": plan.pk if plan else None,
        "open_stages": list(pipeline.stages.filter(kind=StageKind.OPEN)
                            .values_list("pk", flat=True))}))


def prepare_database(env: dict) -> None:
    """Vacuum and analyse the company's tables, as autovacuum would in production, and
    print the server settings the figures depend on. The development and CI servers run
    with autovacuum off: a company reused after an hour of load-test writes then kept
    its dead rows and stale statistics (the fourth run's 23.6 requests/s against 32.5
    on a freshly built company), and even a fresh build was never vacuumed, so index-only
    scans read the table too (the manager dashboard's database time: 34 → 18 ms)."""
    import psycopg

    settings = ("autovacuum", "shared_buffers", "work_mem", "jit", "max_connections")
    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
        shown = {name: conn.execute(f"SHOW {name}").fetchone()[0] for name in settings}
        t0 = time.perf_counter()
        conn.execute("VACUUM (ANALYZE)")
    emit("load.vacuum_analyze", round(time.perf_counter() - t0, 1), "s", **shown)


def wait_up(url: str, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=5)  # noqa: S310
            return
        except Exception:
            time.sleep(1)
    raise SystemExit(f"server not answering at {url}")


def run_locust(args, users: int, fixture: Path, env: dict, out: Path) -> None:
    prefix = out / f"u{users}"
    subprocess.run([str(BIN / "locust"), "-f", str(ROOT / "bench" / "locustfile.py"),
                    "--headless", "-u", str(users), "-r", str(max(1, users // 10)),
                    "-t", f"{args.seconds}s", "--host", f"http://127.0.0.1:{args.port}",
                    "--csv", str(prefix), "--only-summary", "--loglevel", "ERROR"],
                   env={**env, "LOADTEST_FIXTURE": str(fixture)}, check=False,
                   stdout=subprocess.DEVNULL)
    load = round(os.getloadavg()[0], 2)
    with open(f"{prefix}_stats.csv") as fh:
        for row in csv.DictReader(fh):
            name = "total" if row["Name"] == "Aggregated" else row["Name"]
            emit(f"load.{users}.{name}", float(row["95%"]), "ms_p95",
                 p50_ms=float(row["50%"]), p99_ms=float(row["99%"]),
                 requests=int(row["Request Count"]), failures=int(row["Failure Count"]),
                 rps=round(float(row["Requests/s"]), 2), users=users,
                 seconds=args.seconds, load_average=load)
    failures = Path(f"{prefix}_failures.csv")
    if failures.exists():
        for row in list(csv.DictReader(failures.open()))[:10]:
            emit(f"load.{users}.failure", int(row["Occurrences"]), "count",
                 name=row["Name"], error=row["Error"][:200])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=3000)
    parser.add_argument("--users", default="50")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--port", type=int, default=8731)
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--company", type=int, default=0,
                        help="Build the benchmark company (bench/build_company.py) at this "
                             "many accounts instead of the demo company.")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        raise SystemExit("Set DATABASE_URL (the production set-up runs on PostgreSQL).")
    env = production_env(args)
    salesplan = str(BIN / "salesplan")
    if args.company and not args.reuse:  # it starts the database afresh, schema included
        t0 = time.perf_counter()
        subprocess.run([sys.executable, str(ROOT / "bench" / "build_company.py"),  # noqa: S603
                        "--accounts", str(args.company)], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        emit("load.build_company", round(time.perf_counter() - t0, 1), "s",
             accounts=args.company)
        # A large company's reports wait for their rollups (a background job after a
        # change; here once, before the users arrive).
        t0 = time.perf_counter()
        # The builder starts the schema afresh: the cache table (the reports' lock) with it.
        subprocess.run([salesplan, "createcachetable"], env=env, check=True)
        subprocess.run([salesplan, "reports", "rebuild"], env=env, check=True,  # noqa: S603
                       stdout=subprocess.DEVNULL)
        emit("load.build_rollups", round(time.perf_counter() - t0, 1), "s")
    subprocess.run([salesplan, "migrate", "--noinput", "--verbosity", "0"], env=env,
                   check=True)
    subprocess.run([salesplan, "createcachetable"], env=env, check=True)
    # Once, before the servers start (serve would do it too, inside its start-up wait);
    # minutes on a busy machine, so --reuse keeps files collected before.
    if not (args.reuse and (ROOT / "staticfiles" / "staticfiles.json").exists()):
        subprocess.run([salesplan, "collectstatic", "--noinput", "--verbosity", "0"], env=env,
                       check=True)
    if not args.reuse and not args.company:
        t0 = time.perf_counter()
        subprocess.run([salesplan, "demo", "--reset", "--accounts", str(args.accounts)],
                       env=env, check=True, stdout=subprocess.DEVNULL)
        emit("load.build_demo", round(time.perf_counter() - t0, 1), "s",
             accounts=args.accounts)
    out = Path(tempfile.mkdtemp(prefix="salesplan-load-"))
    fixture = out / "fixture.json"
    write_fixture(fixture, env)
    prepare_database(env)
    procs = [
        subprocess.Popen([salesplan, "serve", "--host", "127.0.0.1", "--port", str(args.port),
                          "--workers", str(args.workers), "--threads", str(args.threads),
                          "--no-collectstatic"],
                         env=env, stdout=subprocess.DEVNULL, start_new_session=True),
        subprocess.Popen([salesplan, "worker"], env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True),
    ]
    try:
        wait_up(f"http://127.0.0.1:{args.port}/login/")
        for users in (int(u) for u in args.users.split(",")):
            run_locust(args, users, fixture, env, out)
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
