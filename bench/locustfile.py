"""A working day on Salesplan, for Locust: reps, managers, marketing's web forms and API
clients in proportion. Run through bench/loadtest.py, which starts the production set-up
and writes the fixture this file reads (`LOADTEST_FIXTURE`, a JSON file: logins, record
ids per rep, a capture form key, an API token).

Every request is named by its kind (`rep.my_day`, `manager.dashboard`, …) so the
statistics come out per kind.
"""

from __future__ import annotations

import json
import os
import random
import secrets
from itertools import count

from locust import HttpUser, between, task

FIXTURE = json.loads(open(os.environ["LOADTEST_FIXTURE"]).read())  # noqa: SIM115
_rep_slots = count()
_manager_slots = count()
_submission = count()


class _Browser(HttpUser):
    """A signed-in browser. The session was made when the fixture was written (as a
    login leaves it), so the run measures the pages, not a crowd's password hashing."""

    abstract = True
    wait_time = between(1, 4)
    login: dict

    def on_start(self) -> None:
        self.csrf = secrets.token_hex(16)  # a CSRF secret of our own, sent back as header
        self.client.headers["Cookie"] = (f"{FIXTURE['session_cookie']}={self.login['session']}; "
                                         f"{FIXTURE['csrf_cookie']}={self.csrf}")

    def post(self, path: str, name: str, data: dict, **kw):
        headers = {"X-CSRFToken": self.csrf, "Referer": self.host + path,
                   **kw.pop("headers", {})}
        return self.client.post(path, data=data, name=name, headers=headers, **kw)


class Rep(_Browser):
    weight = 10

    def on_start(self) -> None:
        reps = FIXTURE["reps"]
        self.login = reps[next(_rep_slots) % len(reps)]
        super().on_start()

    @task(6)
    def my_day(self) -> None:
        self.client.get("/", name="rep.my_day")

    @task(4)
    def lists(self) -> None:
        path = random.choice(("/accounts/", "/opportunities/", "/contacts/", "/activities/"))
        self.client.get(path, name="rep.list")

    @task(3)
    def search(self) -> None:
        self.client.get("/search/?q=" + random.choice(("smi", "acme", "deal", "john")),
                        name="rep.search")

    @task(5)
    def record_page(self) -> None:
        if random.random() < 0.5 and self.login["accounts"]:
            self.client.get(f"/accounts/{random.choice(self.login['accounts'])}/",
                            name="rep.account_page")
        elif self.login["opportunities"]:
            self.client.get(f"/opportunities/{random.choice(self.login['opportunities'])}/",
                            name="rep.opportunity_page")

    @task(2)
    def log_call(self) -> None:
        if not self.login["opportunities"]:
            return
        pk = random.choice(self.login["opportunities"])
        self.post(f"/log/opportunity/{pk}/", "rep.log_call",
                  {"kind": "call", "subject": "Follow-up call", "done": "on",
                   "duration_minutes": "10", "outcome": "", "description": ""},
                  headers={"HX-Request": "true"})

    @task(1)
    def move_deal(self) -> None:
        if not self.login["opportunities"]:
            return
        pk = random.choice(self.login["opportunities"])
        deal = self.client.get(f"/api/v1/opportunities/{pk}", name="rep.api_deal")
        if deal.status_code != 200:
            return
        self.post(f"/opportunities/{pk}/move/", "rep.move_deal",
                  {"stage": random.choice(FIXTURE["open_stages"]),
                   "version": deal.json()["version"]},
                  headers={"Accept": "application/json"})

    @task(1)
    def quotes(self) -> None:
        self.client.get("/quotes/", name="rep.quotes")


class Manager(_Browser):
    weight = 3

    def on_start(self) -> None:
        managers = FIXTURE["managers"]
        self.login = managers[next(_manager_slots) % len(managers)]
        super().on_start()

    @task(4)
    def dashboard(self) -> None:
        self.client.get("/reports/", name="manager.dashboard")

    @task(3)
    def opportunity_list(self) -> None:
        self.client.get("/opportunities/", name="manager.opportunity_list")

    @task(2)
    def approvals(self) -> None:
        self.client.get("/quotes/approvals/", name="manager.approvals")

    @task(2)
    def plan_vs_actual(self) -> None:
        if FIXTURE.get("plan"):
            self.client.get(f"/plans/{FIXTURE['plan']}/actual/", name="manager.plan_vs_actual")

    @task(1)
    def forecast(self) -> None:
        self.client.get("/forecasts/", name="manager.forecast")


class WebForm(HttpUser):
    """Visitors filling in the marketing site's form: no login."""

    weight = 3
    wait_time = between(1, 3)

    @task
    def submit(self) -> None:
        n = next(_submission)
        # Each submission from its own visitor's address, as the proxy in front reports it.
        address = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
        self.client.post(f"/api/v1/marketing/capture/{FIXTURE['form_key']}",
                         name="marketing.capture", headers={"X-Forwarded-For": address},
                         json={"email": f"visitor{os.getpid()}x{n}@load.example.com",
                               "first_name": "Visitor", "last_name": f"N{n}",
                               "company": f"Load {n % 500}"})


class ApiClient(HttpUser):
    """An integration reading and paging through the API with a token."""

    weight = 2
    wait_time = between(0.5, 2)

    def on_start(self) -> None:
        self.client.headers["Authorization"] = f"Bearer {FIXTURE['token']}"

    @task(3)
    def opportunities(self) -> None:
        self.client.get("/api/v1/opportunities?limit=50", name="api.opportunities")

    @task(2)
    def accounts(self) -> None:
        self.client.get("/api/v1/accounts?limit=50", name="api.accounts")

    @task(1)
    def search(self) -> None:
        self.client.get("/api/v1/search?q=smi", name="api.search")
