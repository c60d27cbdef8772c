"""What each kind of request in the load test costs, one request at a time: SQL queries,
the web process's CPU time and the database server's CPU time.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/load_bench \
        .venv/bin/python bench/bench_request_cost.py [--requests 10] [--warmup 2]
        [--only manager.dashboard,manager.forecast] [--writes] [--profile 30]

Runs on a database the load test built (bench/loadtest.py --company …), in-process with
Django's test Client and production settings (no debug), for the first rep and the first
manager of the company, the same paths as bench/locustfile.py. Wall time on a shared
machine mostly measures the other engineers' work; CPU time does not: `value` is the
median web-process CPU per request (`time.process_time`), `db_cpu_ms` the mean CPU of
the PostgreSQL backend serving the connection (from /proc, PostgreSQL on this host
only; the kernel counts it in 10 ms ticks, hence the mean), `queries` the queries of
one request. One JSON object per line.

The last line, `cost.weighted_mix`, is the CPU of an average request of the load test's
mix at 100 users (`MIX_AT_100`), web process and database server, from the kinds run.
`--writes` adds the load test's writes (a call logged on a deal, a deal moved with its
version, a web-form capture: they add rows to the database they run on). `--profile N`
runs each kind's measured requests under cProfile as well and prints its N costliest
functions (own time) to stderr; the CPU figures are then cProfile's, not comparable.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
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


# Requests per second of each kind at 100 users as bench/locustfile.py sends them: users
# split 10 : 3 : 3 : 2 (reps, managers, web forms, API clients), each sending a task per
# mean pause (2.5 s for browsers, 2 s for forms, 1.25 s for API clients), tasks drawn by
# their weights (a rep's list is one of four, a record page half accounts and half
# deals, a deal move reads the deal from the API first). The time a request itself takes
# is left out, so these are what 100 users ask for, not what a saturated server serves.
MIX_AT_100 = {
    "rep.my_day": 6.06, "rep.list.accounts": 1.01, "rep.list.opportunities": 1.01,
    "rep.list.contacts": 1.01, "rep.list.activities": 1.01, "rep.search": 3.03,
    "rep.account_page": 2.53, "rep.opportunity_page": 2.53, "rep.log_call": 2.02,
    "rep.api_deal": 1.01, "rep.move_deal": 1.01, "rep.quotes": 1.01,
    "manager.dashboard": 2.22, "manager.opportunity_list": 1.67, "manager.approvals": 1.11,
    "manager.plan_vs_actual": 1.11, "manager.forecast": 0.56, "marketing.capture": 8.33,
    "api.opportunities": 4.44, "api.accounts": 2.96, "api.search": 1.48,
}


def emit_mix(measured: dict[str, tuple[float, float]]) -> None:
    """The CPU of an average request of the load test's mix, from the kinds measured
    (web process and database server; kinds not measured are left out and named)."""
    rates = {kind: rate for kind, rate in MIX_AT_100.items() if kind in measured}
    if not rates:
        return
    total = sum(rates.values())
    web = sum(measured[k][0] * r for k, r in rates.items()) / total
    db = sum(measured[k][1] * r for k, r in rates.items()) / total
    emit("cost.weighted_mix", round(web + db, 1), "ms_cpu", web_ms=round(web, 1),
         db_ms=round(db, 1), requests_per_second=round(total, 1),
         missing=sorted(set(MIX_AT_100) - set(rates)),
         load_average=round(os.getloadavg()[0], 2))


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


def write_kinds(rep, deal_id, stages: list[int], form_key: str) -> list[tuple]:
    """(kind, user or None, path, data maker) for the load test's POSTs."""
    from itertools import count

    n = count()
    call = {"kind": "call", "subject": "Follow-up call", "done": "on",
            "duration_minutes": "10", "outcome": "", "description": ""}

    def move(client):
        version = client.get(f"/api/v1/opportunities/{deal_id}").json()["version"]
        return {"stage": stages[next(n) % len(stages)], "version": version}, {
            "HTTP_ACCEPT": "application/json"}

    def capture(_client):
        i = next(n)
        return {"email": f"visitor{os.getpid()}x{i}@cost.example.com", "first_name": "V",
                "last_name": f"N{i}", "company": f"Cost {i % 50}"}, {
            "content_type": "application/json",
            "HTTP_X_FORWARDED_FOR": f"10.1.{i // 250 % 250}.{i % 250 + 1}"}

    return [
        ("rep.log_call", rep, f"/log/opportunity/{deal_id}/",
         lambda _client: (call, {"HTTP_HX_REQUEST": "true"})),
        ("rep.move_deal", rep, f"/opportunities/{deal_id}/move/", move),
        ("marketing.capture", None, f"/api/v1/marketing/capture/{form_key}", capture),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--only", default="", help="Comma-separated kinds (default all).")
    parser.add_argument("--deal", type=int, default=0,
                        help="The deal whose page is read (default the rep's first open one).")
    parser.add_argument("--writes", action="store_true",
                        help="Also the POSTs (they add rows to the database).")
    parser.add_argument("--profile", type=int, default=0,
                        help="Print each kind's N costliest functions (cProfile) to stderr.")
    parser.add_argument("--profile-sort", default="tottime", choices=("tottime", "cumulative"),
                        help="Order of --profile's functions: own time or with callees.")
    parser.add_argument("--profile-only", default="",
                        help="Keep only functions whose file path contains this (e.g. salesplan).")
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
    from salesplan.pipeline.models import Opportunity, Pipeline, StageKind
    from salesplan.planning.models import Plan

    rep = User.objects.filter(is_active=True, role=Role.REP).order_by("pk").first()
    manager = User.objects.filter(is_active=True, role=Role.MANAGER).order_by("pk").first()
    admin = User.objects.filter(is_active=True, role=Role.ADMIN).first()
    key = ApiToken.new_key()
    ApiToken.objects.create(user=admin, name="request cost", prefix=key[:12],
                            key_hash=ApiToken.hash_key(key))
    plan = Plan.objects.order_by("-pk").first()
    account_id = Account.objects.filter(owner=rep).values_list("pk", flat=True).first()
    deal_id = args.deal or Opportunity.objects.filter(
        owner=rep, status=StageKind.OPEN).values_list("pk", flat=True).first()
    clients: dict = {}
    measured: dict[str, tuple[float, float]] = {}
    only = set(filter(None, args.only.split(",")))
    emit("cost.load_average_start", round(os.getloadavg()[0], 2), "")
    rows = [(kind, user, path, lambda _c, h=headers: (None, h))
            for kind, user, path, headers in kinds(rep, manager, key, plan and plan.pk,
                                                   account_id, deal_id)]
    if args.writes:
        from salesplan.marketing.models import CaptureForm

        stages = list(Pipeline.objects.get(is_default=True).stages.filter(
            kind=StageKind.OPEN).values_list("pk", flat=True))
        from salesplan.marketing.services import create_form

        form = CaptureForm.objects.filter(is_active=True).first() or create_form(
            by=admin, data={"name": "Request cost form", "fields": ["company"]})
        # Another deal than the page read: its stage changes would pile up run after run.
        moved_id = Opportunity.objects.filter(owner=rep, status=StageKind.OPEN).values_list(
            "pk", flat=True).order_by("-pk").first()
        rows += write_kinds(rep, moved_id, stages, form.key)
    for kind, user, path, make in rows:
        if only and kind not in only:
            continue
        client = clients.get(user)
        if client is None:
            client = clients[user] = Client()
            if user is not None:
                client.force_login(user)

        def send(prepared, client=client, path=path):
            data, headers = prepared
            if data is None:
                return client.get(path, **headers)
            return client.post(path, data, **headers)

        for _ in range(args.warmup):
            send(make(client))
        connection.ensure_connection()
        pid = connection.connection.info.backend_pid if connection.vendor == "postgresql" \
            else None
        cpu, db_cpu, wall, queries, statuses = [], [], [], [], set()
        profiler = cProfile.Profile(time.process_time) if args.profile else None
        for _ in range(args.requests):
            prepared = make(client)  # a deal's version is read before the clock starts
            db0, c0, w0 = backend_cpu_seconds(pid), time.process_time(), time.perf_counter()
            with CaptureQueriesContext(connection) as captured:
                if profiler:
                    profiler.enable()
                response = send(prepared)
                if profiler:
                    profiler.disable()
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
        measured[kind] = (statistics.median(cpu), statistics.mean(db_cpu))
        if profiler:
            print(f"--- {kind}: {args.requests} requests", file=sys.stderr)
            restrictions = [args.profile_only, args.profile] if args.profile_only else [
                args.profile]
            pstats.Stats(profiler, stream=sys.stderr).sort_stats(
                args.profile_sort).print_stats(*restrictions)
    emit_mix(measured)


if __name__ == "__main__":
    main()
