"""What each kind of request in the load test costs, one request at a time: SQL queries,
the web process's CPU time and the database server's CPU time.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/load_bench \
        .venv/bin/python bench/bench_request_cost.py [--requests 10] [--warmup 2]
        [--only manager.dashboard,manager.forecast]

Runs on a database the load test built (bench/loadtest.py --company …), in-process with
Django's test Client and production settings (no debug), for the first rep and the first
manager of the company, the same paths as bench/locustfile.py. Wall time on a shared
machine mostly measures the other engineers' work; CPU time does not: `value` is the
median web-process CPU per request (`time.process_time`), `db_cpu_ms` the mean CPU of
the PostgreSQL backend serving the connection (from /proc, PostgreSQL on this host
only; the kernel counts it in 10 ms ticks, hence the mean), `queries` the queries of
one request. One JSON object per line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def emit(metric: str, value=None, unit: str = "", **extra) -> None:
    print(json.dumps({"metric": metric, "value": value, "unit": unit, **extra}), flush=True)


def backend_cpu_seconds(pid: int | None) -> float:
    """CPU seconds the database backend `pid` has used (0 when it cannot be read)."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def kinds(rep, manager, token: str, plan_id, account_id, deal_id) -> list[tuple]:
    """(kind, user or None for the token, path) as the load test's users send them."""
    api = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    rows = [
        ("rep.my_day", rep, "/", {}),
        ("rep.list.accounts", rep, "/accounts/", {}),
        ("rep.list.opportunities", rep, "/opportunities/", {}),
        ("rep.list.contacts", rep, "/contacts/", {}),
        ("rep.list.activities", rep, "/activities/", {}),
        ("rep.search", rep, "/search/?q=smi", {}),
        ("rep.quotes", rep, "/quotes/", {}),
        ("rep.account_page", rep, f"/accounts/{account_id}/", {}),
        ("rep.opportunity_page", rep, f"/opportunities/{deal_id}/", {}),
        ("rep.api_deal", rep, f"/api/v1/opportunities/{deal_id}", {}),
        ("manager.dashboard", manager, "/reports/", {}),
        ("manager.opportunity_list", manager, "/opportunities/", {}),
        ("manager.approvals", manager, "/quotes/approvals/", {}),
        ("manager.forecast", manager, "/forecasts/", {}),
        ("api.opportunities", None, "/api/v1/opportunities?limit=50", api),
        ("api.accounts", None, "/api/v1/accounts?limit=50", api),
        ("api.search", None, "/api/v1/search?q=smi", api),
    ]
    if plan_id:
        rows.insert(13, ("manager.plan_vs_actual", manager, f"/plans/{plan_id}/actual/", {}))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--only", default="", help="Comma-separated kinds (default all).")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        raise SystemExit("Set DATABASE_URL to a database the load test built.")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesplan.config.settings")
    os.environ.setdefault("SALESPLAN_DEBUG", "0")
    os.environ["SALESPLAN_ALLOWED_HOSTS"] = "localhost,testserver"
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from salesplan.customers.models import Account
    from salesplan.org.models import ApiToken, Role, User
    from salesplan.pipeline.models import Opportunity, StageKind
    from salesplan.planning.models import Plan

    rep = User.objects.filter(is_active=True, role=Role.REP).order_by("pk").first()
    manager = User.objects.filter(is_active=True, role=Role.MANAGER).order_by("pk").first()
    admin = User.objects.filter(is_active=True, role=Role.ADMIN).first()
    key = ApiToken.new_key()
    ApiToken.objects.create(user=admin, name="request cost", prefix=key[:12],
                            key_hash=ApiToken.hash_key(key))
    plan = Plan.objects.order_by("-pk").first()
    account_id = Account.objects.filter(owner=rep).values_list("pk", flat=True).first()
    deal_id = Opportunity.objects.filter(owner=rep, status=StageKind.OPEN).values_list(
        "pk", flat=True).first()
    clients: dict = {}
    only = set(filter(None, args.only.split(",")))
    emit("cost.load_average_start", round(os.getloadavg()[0], 2), "")
    for kind, user, path, headers in kinds(rep, manager, key, plan and plan.pk, account_id,
                                           deal_id):
        if only and kind not in only:
            continue
        client = clients.get(user)
        if client is None:
            client = clients[user] = Client()
            if user is not None:
                client.force_login(user)
        for _ in range(args.warmup):
            client.get(path, **headers)
        connection.ensure_connection()
        pid = connection.connection.info.backend_pid if connection.vendor == "postgresql" \
            else None
        cpu, db_cpu, wall, queries, statuses = [], [], [], [], set()
        for _ in range(args.requests):
            db0, c0, w0 = backend_cpu_seconds(pid), time.process_time(), time.perf_counter()
            with CaptureQueriesContext(connection) as captured:
                response = client.get(path, **headers)
            cpu.append((time.process_time() - c0) * 1000)
            wall.append((time.perf_counter() - w0) * 1000)
            db_cpu.append((backend_cpu_seconds(pid) - db0) * 1000)
            queries.append(len(captured))
            statuses.add(response.status_code)
        emit(f"cost.{kind}", round(statistics.median(cpu), 1), "ms_cpu",
             db_cpu_ms=round(statistics.mean(db_cpu), 1),
             queries=int(statistics.median(queries)),
             wall_ms=round(statistics.median(wall), 1), status=sorted(statuses),
             requests=args.requests, load_average=round(os.getloadavg()[0], 2))


if __name__ == "__main__":
    main()
