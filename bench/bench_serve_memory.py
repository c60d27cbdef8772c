"""A web worker's memory over a long run, and the manager's opportunity list beside the
rep's.

    .venv/bin/python bench/bench_serve_memory.py [--requests 10000] [--accounts 3000]
        [--threads 4] [--clients 4] [--workers 1] [--db var/bench_memory.sqlite3] [--reuse]
    DATABASE_URL=postgres://…/bench_memory .venv/bin/python bench/bench_serve_memory.py

Builds the demo company at `--accounts` (unless `--reuse`), starts `salesplan serve`
with ONE worker process (or `--workers`), logs in a rep and a manager, and sends
`--requests` requests (list pages of accounts, contacts, deals, activities and the API's
opportunity list, for both) from `--clients` concurrent clients. Prints the worker's RSS
before, every tenth of the run and after (`serve.worker_rss`; the first and last lines
also give the whole server's PSS and RSS, master and workers summed), then the p50/p95 of
the API's opportunity list for the rep and for the manager, and the manager's ratio to
the rep's.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
PAGES = ["/accounts/", "/contacts/", "/opportunities/", "/activities/", "/",
         "/api/v1/opportunities?limit=50", "/api/v1/accounts?limit=50"]


def emit(metric: str, value=None, unit: str = "", **extra) -> None:
    print(json.dumps({"metric": metric, "value": value, "unit": unit, **extra}), flush=True)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def pss_mb(pid: int) -> float:
    """Proportional set size: pages shared between the master and its forked workers
    count once across them, so the sum over the processes is the server's memory."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024
    return 0.0


def worker_pids(master: int, count: int) -> list[int]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        children = Path(f"/proc/{master}/task/{master}/children")
        pids = children.read_text().split() if children.exists() else []
        if len(pids) >= count:
            return [int(pid) for pid in pids]
        time.sleep(0.5)
    raise SystemExit("the gunicorn workers did not all appear")


def server_memory(master: int, workers: list[int]) -> dict:
    return {"server_pss_mb": round(sum(pss_mb(pid) for pid in [master, *workers]), 1),
            "server_rss_mb": round(sum(rss_mb(pid) for pid in [master, *workers]), 1)}


def login(base: str, username: str, password: str) -> requests.Session:
    session = requests.Session()
    page = session.get(base + "/login/", timeout=30)
    token = CSRF.search(page.text)
    session.post(base + "/login/", data={"username": username, "password": password,
                                         "csrfmiddlewaretoken": token.group(1) if token else ""},
                 headers={"Referer": base + "/login/"}, timeout=30)
    return session


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--accounts", type=int, default=3000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=1,
                        help="Worker processes; the RSS line follows the first.")
    parser.add_argument("--samples", type=int, default=100, help="Latency samples per role.")
    parser.add_argument("--port", type=int, default=8741)
    parser.add_argument("--db", default=str(Path(tempfile.gettempdir()) / "bench_memory.sqlite3"))
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--password", default="",
                        help="Everyone's password is already this (as bench/loadtest.py "
                             "leaves it): not reset, so the load test's sessions stay valid.")
    parser.add_argument("--manager", default="vp",
                        help="Login of the one who sees many reps' deals (default: the demo "
                             "company's VP; `exec` on the benchmark company of "
                             "build_company.py).")
    args = parser.parse_args()
    env = dict(os.environ, SALESPLAN_PRODUCTION="1", SALESPLAN_HTTPS="0",
               SALESPLAN_SECRET_KEY="bench-" + "m" * 40, SALESPLAN_LOG_LEVEL="ERROR",
               SALESPLAN_EMAIL_URL="console://")
    env.pop("SALESPLAN_TASK_BROKER", None)
    env.setdefault("DATABASE_URL", f"sqlite:///{Path(args.db).resolve()}")
    salesplan = str(BIN / "salesplan")
    subprocess.run([salesplan, "migrate", "--noinput", "--verbosity", "0"],  # noqa: S603
                   env=env, check=True)
    subprocess.run([salesplan, "createcachetable"], env=env, check=True)  # noqa: S603
    if not args.reuse:  # minutes on a busy machine: --reuse skips it (collected before)
        subprocess.run([salesplan, "collectstatic", "--noinput", "--verbosity", "0"],  # noqa: S603
                       env=env, check=True)
    if not args.reuse:
        subprocess.run([salesplan, "demo", "--reset",  # noqa: S603
                        "--accounts", str(args.accounts)],
                       env=env, check=True, stdout=subprocess.DEVNULL)
    password = args.password or "bench-memory-password"  # noqa: S105 - a benchmark database
    if not args.password:
        subprocess.run([salesplan, "shell", "--no-imports", "-c",  # noqa: S603
                        "from django.contrib.auth.hashers import make_password;"
                        "from salesplan.org.models import User;"
                        f"User.objects.update(password=make_password({password!r}))"],
                       env=env, check=True)
    names = subprocess.run(  # noqa: S603
        [salesplan, "shell", "--no-imports", "-c",
         "from salesplan.org.models import User, Role;"
         "print(User.objects.filter(role=Role.REP).order_by('pk').first().username);"
         f"print(User.objects.get(username={args.manager!r}).username)"],
        env=env, check=True, capture_output=True, text=True).stdout.split()
    rep_name, manager_name = names[-2], names[-1]
    base = f"http://127.0.0.1:{args.port}"
    server = subprocess.Popen([salesplan, "serve", "--host", "127.0.0.1",  # noqa: S603
                               "--port", str(args.port), "--workers", str(args.workers),
                               "--threads", str(args.threads), "--no-collectstatic"], env=env,
                              stdout=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                requests.get(base + "/login/", timeout=5)
                break
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
        workers = worker_pids(server.pid, args.workers)
        worker = workers[0]
        sessions = [login(base, rep_name, password), login(base, manager_name, password)]
        emit("serve.worker_rss.start", rss_mb(worker), "MB", requests=0,
             **server_memory(server.pid, workers))
        sent = [0]
        errors = [0]
        lock = threading.Lock()
        step = max(1, args.requests // 10)

        def client(k: int) -> None:
            while True:
                with lock:
                    if sent[0] >= args.requests:
                        return
                    sent[0] += 1
                    n = sent[0]
                response = sessions[n % 2].get(base + PAGES[n % len(PAGES)], timeout=60)
                if response.status_code != 200:
                    with lock:
                        errors[0] += 1
                if n % step == 0:
                    emit("serve.worker_rss", rss_mb(worker), "MB", requests=n,
                         load_average=round(os.getloadavg()[0], 2))

        started = time.perf_counter()
        threads = [threading.Thread(target=client, args=(k,)) for k in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
        emit("serve.worker_rss.end", rss_mb(worker), "MB", requests=args.requests,
             errors=errors[0], seconds=round(wall, 1),
             rps=round(args.requests / wall, 1), load_average=round(os.getloadavg()[0], 2),
             **server_memory(server.pid, workers))
        p50 = {}
        for who, session in (("rep", sessions[0]), ("manager", sessions[1])):
            path = base + "/api/v1/opportunities?limit=50"
            times = []
            for _ in range(args.samples):
                t0 = time.perf_counter()
                session.get(path, timeout=60)
                times.append((time.perf_counter() - t0) * 1000)
            times.sort()
            p50[who] = statistics.median(times)
            extra = {"baseline": round(p50["rep"], 2),
                     "ratio": round(p50[who] / p50["rep"], 2)} if who == "manager" else {}
            emit(f"api.opportunities.{who}.p50", round(p50[who], 2), "ms",
                 p95=round(times[int(len(times) * 0.95) - 1], 2), **extra)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
