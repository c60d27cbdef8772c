"""Two web processes and two workers on one PostgreSQL database give the results of one.

The same scripted workload runs twice against real `salesplan serve` and
`salesplan worker` processes, with the production settings (the cache is the database
cache table, shared by every process): first through one web process and one worker,
then alternately through two web processes with two workers. Each run works on records
of its own, seeded beforehand, and its outcome is summed up in the same terms; the two
summaries must be equal, and each must be right on its own: every accepted web-form
submission is exactly one lead, the allowance per address holds across processes, every
job ran once, a stale version gets 409 on whichever process it reaches, and a change made
through one process is what the other answers with next.

Runs with the other worker tests (`-m worker`, a real broker), on PostgreSQL:

    SALESPLAN_TASK_BROKER=redis://127.0.0.1:6379/0 \\
    DATABASE_URL=postgres://USER@127.0.0.1:5432/DB .venv/bin/pytest -m worker \\
    tests/test_scale_out.py
"""

import itertools
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest
import requests
from django.db import connection

from salesplan.core.models import BackgroundJob
from salesplan.customers.models import Contact, Lead
from salesplan.marketing import services as marketing
from salesplan.marketing.models import CaptureSubmission
from salesplan.org.models import Role
from salesplan.org.services import create_api_token
from salesplan.territories.models import Alignment, BoundaryRule, Territory
from tests.factories import make_opportunity, make_team, make_user
from tests.imports.test_worker import database_url

pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(not os.environ.get("SALESPLAN_TASK_BROKER"),
                       reason="needs SALESPLAN_TASK_BROKER (Redis or RabbitMQ)"),
    pytest.mark.django_db(transaction=True),
]

VISITORS = 24  # web-form submissions with addresses of their own
REPEATS = 4  # submissions of one address, alternately through each web process
ALLOWANCE = 3  # per address and minute on the strict form
FLOOD = 5  # submissions from one visitor's address to the strict form
IMPORT_ROWS = 200


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Processes:
    """The server and worker processes of the test, all on one queue of their own."""

    env: dict
    tmp_path: object
    running: list = field(default_factory=list)

    def start(self, *args: str, name: str, queue: str = "") -> subprocess.Popen:
        log = open(self.tmp_path / f"{name}.log", "w+")  # noqa: SIM115 - closed in stop()
        process = subprocess.Popen(  # noqa: S603 - our own console command
            [sys.executable, "-m", "salesplan.cli", *args],
            env={**self.env, "SALESPLAN_TASK_QUEUE": queue}, stdout=log,
            stderr=subprocess.STDOUT)
        process.log = log  # type: ignore[attr-defined]
        self.running.append(process)
        return process

    def web(self, name: str, queue: str) -> str:
        """A server process sending its jobs to `queue`; its address."""
        port = _free_port()
        self.start("serve", "--port", str(port), "--workers", "1", "--threads", "8",
                   "--no-collectstatic", "--control-socket", str(self.tmp_path / f"{name}.ctl"),
                   name=name, queue=queue)
        return f"http://127.0.0.1:{port}"

    def worker(self, name: str, *queues: str) -> None:
        self.start("worker", "--concurrency", "1", "--loglevel", "warning", "--queues",
                   ",".join(queues), name=name)

    def stop(self) -> None:
        for process in self.running:
            # gunicorn stops at once on SIGINT (SIGTERM waits for a graceful end).
            process.send_signal(signal.SIGINT if "serve" in process.args else signal.SIGTERM)
        for process in self.running:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
            process.log.seek(0)
            print(process.args[3], process.log.read()[-3000:])  # shown when the test fails
            process.log.close()


def _wait_until_up(base: str) -> None:
    # Generous: five processes load Django at once, and a busy machine is slow at it.
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            requests.get(f"{base}/login/", timeout=5)
            return
        except requests.ConnectionError:
            time.sleep(0.3)
    raise AssertionError(f"{base} did not start")


@pytest.fixture
def processes(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("several processes on one database: PostgreSQL")
    # Production settings with the database cache table, whatever this shell configures.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SALESPLAN_"))}
    env.update(DATABASE_URL=database_url(), DJANGO_SETTINGS_MODULE="salesplan.config.settings",
               SALESPLAN_TASK_BROKER=os.environ["SALESPLAN_TASK_BROKER"],
               SALESPLAN_VAR_DIR=str(tmp_path), HOME=str(tmp_path),
               SALESPLAN_TRUSTED_PROXIES="1", SALESPLAN_DB_CONN_MAX_AGE="0",
               SALESPLAN_LOG_LEVEL="WARNING")
    found = Processes(env, tmp_path)
    try:
        yield found
    finally:
        found.stop()


@dataclass
class Run:
    """The records one run of the workload works on, and the tokens it acts with."""

    tag: str
    form_key: str
    strict_form_key: str
    form_id: int
    deal_id: int
    racing_deal_id: int
    newcomer_id: int
    newcomer_deal_id: int
    alignment_id: int
    team_id: int
    stage_ids: tuple[int, int]


def seed(org, tag: str) -> Run:
    campaign = marketing.create_campaign(by=org.marketer, data={
        "name": f"Webinar {tag}", "type": "webinar", "channel": "email", "status": "active",
        "budget": "1000", "actual_cost": "0", "currency": "USD"})
    form = marketing.create_form(by=org.marketer, data={
        "name": f"Sign-up {tag}", "campaign": campaign, "fields": ["company"],
        "response": "registered", "rate_limit": 1000})
    strict = marketing.create_form(by=org.marketer, data={
        "name": f"Strict {tag}", "campaign": campaign, "fields": [], "response": "registered",
        "rate_limit": ALLOWANCE})
    elsewhere = make_team(f"Elsewhere {tag}")
    newcomer = make_user(Role.REP, elsewhere, username=f"newcomer-{tag}")
    alignment = Alignment.objects.create(name=f"Draft {tag}")
    territory = Territory.objects.create(alignment=alignment, name=f"California {tag}")
    BoundaryRule.objects.create(territory=territory, position=1, combine="all",
                                conditions=[{"field": "state", "op": "in", "values": ["CA"]}])
    deal = make_opportunity(org.west_rep)
    later = deal.pipeline.stages.filter(position__gt=deal.stage.position).order_by("position")
    return Run(tag, form.key, strict.key, form.pk, deal.pk, make_opportunity(org.west_rep).pk,
               newcomer.pk, make_opportunity(newcomer).pk, alignment.pk, org.west.pk,
               tuple(later.values_list("id", flat=True)[:2]))


class Client:
    """Requests as one user, each to the next web process in turn."""

    def __init__(self, webs: list[str], token: str = ""):
        self.webs = itertools.cycle(webs)
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def __call__(self, method: str, path: str, web: str | None = None, **kwargs):
        base = web or next(self.webs)
        return requests.request(method, f"{base}/api/v1{path}", headers={
            **self.headers, **kwargs.pop("headers", {})}, timeout=60, **kwargs)


def _wait_for_job(api: Client, job_id: int) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = api("GET", f"/jobs/{job_id}").json()
        if job["finished"]:
            assert job["status"] == "succeeded", job
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish: {job}")


def captures(webs: list[str], run: Run) -> dict:
    """A burst of submissions through every web process at once: visitors of their own,
    one visitor sending again and again, and one flooding the strict form."""
    submit = Client(webs)
    sends = [(run.form_key, f"v{i}-{run.tag}@capture.example", f"198.51.100.{i + 1}")
             for i in range(VISITORS)]
    sends += [(run.form_key, f"again-{run.tag}@capture.example", "198.51.100.200")] * REPEATS
    sends += [(run.strict_form_key, f"flood-{run.tag}@capture.example", "203.0.113.9")] * FLOOD

    def send(item):
        key, email, address = item
        fields = {"last_name": "Visitor", "email": email}
        if key == run.form_key:
            fields["company"] = "Example"
        return key, submit("POST", f"/marketing/capture/{key}", json=fields,
                           headers={"X-Forwarded-For": address}).status_code

    # The allowance counts per calendar minute: a flood straddling a minute's end would
    # meet two allowances.
    left = 60 - time.time() % 60
    if left < 15:
        time.sleep(left + 0.1)
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(send, sends))
    deadline = time.monotonic() + 60
    while CaptureSubmission.objects.filter(form__campaign__name=f"Webinar {run.tag}").exclude(
            status=CaptureSubmission.Status.DONE).exists():
        assert time.monotonic() < deadline, "the submissions were not all turned into leads"
        time.sleep(0.2)
    leads = Lead.objects.filter(email__endswith=f"-{run.tag}@capture.example")
    per_email = {email: leads.filter(email=email).count()
                 for email in {email for _, email, _ in sends}}
    return {
        "accepted": sum(1 for key, status in answers if key == run.form_key and status == 202),
        "strict": sorted(status for key, status in answers if key == run.strict_form_key),
        "leads per address": sorted(set(per_email.values())),
        "leads": leads.count(),
    }


def imports(webs: list[str], admin_token: str, run: Run) -> dict:
    """Two imports, each uploaded through one web process and committed through the
    other, followed through both."""
    api = Client(webs, admin_token)
    started = []
    for part in (1, 2):
        rows = "".join(f"Person{i},p{i}-{part}-{run.tag}@import.example\n"
                       for i in range(IMPORT_ROWS))
        answer = api("POST", "/imports/contact", files={
            "file": ("people.csv", f"Last name,Email\n{rows}".encode())},
            data={"mapping": json.dumps({"Last name": "last_name", "Email": "email"})})
        assert answer.status_code == 202, answer.text
        started.append(answer.json()["id"])
    committed = []
    for job_id in started:
        assert _wait_for_job(api, job_id)["result"]["created"] == IMPORT_ROWS
        answer = api("POST", f"/imports/jobs/{job_id}/commit")
        assert answer.status_code == 202, answer.text
        committed.append(answer.json()["id"])
    created = [_wait_for_job(api, job_id)["result"]["created"] for job_id in committed]
    return {"created": created, "contacts": Contact.objects.filter(
        email__endswith=f"-{run.tag}@import.example").count()}


def deal_moves(webs: list[str], rep_token: str, run: Run) -> dict:
    """Moves with the version read: a stale one is refused on either process, and of
    two moves racing with the same version through both processes one wins."""
    api = Client(webs, rep_token)
    first, second = webs[0], webs[-1]
    deal = api("GET", f"/opportunities/{run.deal_id}", web=first).json()
    stages = run.stage_ids
    statuses = [
        api("POST", f"/opportunities/{run.deal_id}/move", web=first,
            json={"stage_id": stages[0], "version": deal["version"]}).status_code,
        api("POST", f"/opportunities/{run.deal_id}/move", web=second,
            json={"stage_id": stages[1], "version": deal["version"]}).status_code,
    ]
    fresh = api("GET", f"/opportunities/{run.deal_id}", web=second).json()
    statuses.append(api("POST", f"/opportunities/{run.deal_id}/move", web=second,
                        json={"stage_id": stages[1], "version": fresh["version"]}).status_code)
    racing = api("GET", f"/opportunities/{run.racing_deal_id}", web=first).json()

    def move(web_and_stage):
        web, stage = web_and_stage
        return api("POST", f"/opportunities/{run.racing_deal_id}/move", web=web,
                   json={"stage_id": stage, "version": racing["version"]}).status_code

    with ThreadPoolExecutor(2) as pool:
        race = sorted(pool.map(move, [(first, stages[0]), (second, stages[1])]))
    final = api("GET", f"/opportunities/{run.deal_id}", web=first).json()
    return {"in turn": statuses, "race": race, "moved": final["stage_id"] == stages[1],
            "versions": final["version"] - deal["version"]}


def settings_changes(webs: list[str], tokens: dict, run: Run) -> dict:
    """A person moved into a manager's team through one process: the manager's list,
    already cached by every process, shows the person's deal on the next request to
    any of them; a policy saved through one is read back through the other."""
    manager, admin, marketer = (Client(webs, tokens[k]) for k in ("manager", "admin",
                                                                   "marketer"))

    def manager_sees_newcomer() -> list[bool]:
        return [run.newcomer_deal_id in {o["id"] for o in manager(
            "GET", "/opportunities", web=web, params={"owner": run.newcomer_id,
                                                      "limit": 50}).json()["items"]}
                for web in webs]

    before = manager_sees_newcomer()
    newcomer = admin("GET", f"/people/{run.newcomer_id}", web=webs[0]).json()
    moved = admin("PATCH", f"/people/{run.newcomer_id}", web=webs[0],
                  json={"team_id": run.team_id, "version": newcomer["version"]})
    assert moved.status_code == 200, moved.text
    after = manager_sees_newcomer()
    policy = marketer("GET", "/marketing/policy", web=webs[-1]).json()
    policy["sla_hours"] = policy["sla_hours"] + 1
    saved = marketer("PUT", "/marketing/policy", web=webs[-1], json=policy)
    assert saved.status_code == 200, saved.text
    read_back = [marketer("GET", "/marketing/policy", web=web).json()["sla_hours"]
                 == policy["sla_hours"] for web in webs]
    stale = marketer("PUT", "/marketing/policy", web=webs[0], json=policy).status_code
    return {"before": set(before), "after": set(after), "policy read back": set(read_back),
            "stale policy": stale}


def assignment(webs: list[str], admin_token: str, run: Run) -> dict:
    api = Client(webs, admin_token)
    answer = api("POST", f"/territories/alignments/{run.alignment_id}/assign")
    assert answer.status_code == 202, answer.text
    return {"assigned": bool(_wait_for_job(api, answer.json()["id"])["finished"])}


def workload(webs: list[str], tokens: dict, run: Run) -> dict:
    from django.utils import timezone

    since, started = timezone.now(), time.monotonic()
    summary = {
        "captures": captures(webs, run),
        "imports": imports(webs, tokens["admin"], run),
        "deal moves": deal_moves(webs, tokens["rep"], run),
        "settings": settings_changes(webs, tokens, run),
        "assignment": assignment(webs, tokens["admin"], run),
    }
    jobs = BackgroundJob.objects.filter(created_at__gte=since)
    summary["jobs"] = sorted((j.kind, j.status, j.attempts) for j in jobs)
    print(run.tag, f"{time.monotonic() - started:.1f}s", summary)
    return summary


def test_two_web_processes_and_two_workers_give_the_results_of_one(org, processes):
    one, two = seed(org, "one"), seed(org, "two")
    tokens = {name: create_api_token(user, "scale-out")[1] for name, user in (
        ("admin", org.admin), ("manager", org.west_manager), ("rep", org.west_rep),
        ("marketer", org.marketer))}
    # Every process starts at once. The run through one web process sends its jobs to a
    # queue only the first worker reads; the run through two, to a queue both read.
    alone_queue, shared_queue = (f"scale-out-{uuid.uuid4().hex[:12]}" for _ in range(2))
    single = processes.web("web-alone", alone_queue)
    first, second = (processes.web(name, shared_queue) for name in ("web-a", "web-b"))
    processes.worker("worker-1", alone_queue, shared_queue)
    processes.worker("worker-2", shared_queue)
    for base in (single, first, second):
        _wait_until_up(base)
    with connection.cursor() as cursor:  # nothing cached by an earlier run of the suite
        cursor.execute("DELETE FROM salesplan_cache")

    alone = workload([single], tokens, one)
    together = workload([first, second], tokens, two)

    assert together == alone
    captured = alone["captures"]
    assert captured["accepted"] == VISITORS + REPEATS
    assert captured["strict"] == [202] * ALLOWANCE + [429] * (FLOOD - ALLOWANCE)
    assert captured["leads per address"] == [1]
    assert captured["leads"] == VISITORS + 1 + 1  # the visitors, the repeater, the flooder
    assert alone["imports"] == {"created": [IMPORT_ROWS] * 2, "contacts": 2 * IMPORT_ROWS}
    assert alone["deal moves"] == {"in turn": [200, 409, 200], "race": [200, 409],
                                   "moved": True, "versions": 2}
    assert alone["settings"] == {"before": {False}, "after": {True},
                                 "policy read back": {True}, "stale policy": 409}
    assert [job for job in alone["jobs"] if job[2] != 1 or job[1] != "succeeded"] == []
    assert len(alone["jobs"]) == 5  # two dry runs, two imports, one assignment
