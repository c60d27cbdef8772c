"""A web process killed in the middle of a burst of form submissions: every submission
the server accepted (202) becomes exactly one lead, and none becomes two.

Runs against `salesplan serve` on the PostgreSQL test database (two worker processes,
one killed with SIGKILL while the burst goes on; gunicorn starts another)."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.db.models import Count

from salesplan.customers.models import Lead
from salesplan.marketing import capture, services
from tests.imports.test_worker import database_url

pytestmark = pytest.mark.django_db(transaction=True)
SUBMISSIONS = 120


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("several server processes need a shared database server")
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database_url(),
           "DJANGO_SETTINGS_MODULE": os.environ["DJANGO_SETTINGS_MODULE"],
           "SALESPLAN_VAR_DIR": str(tmp_path), "HOME": str(tmp_path)}
    process = subprocess.Popen(  # noqa: S603 - our own console command
        [sys.executable, "-m", "salesplan.cli", "serve", "--port", str(port), "--workers", "2",
         "--threads", "4", "--no-collectstatic"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=5)  # noqa: S310
            break
        except OSError:
            time.sleep(0.3)
    process.port = port  # type: ignore[attr-defined]
    yield process
    process.terminate()
    process.wait(timeout=30)


def _submit(port: int, key: str, n: int) -> tuple[str, int]:
    email = f"visitor{n}@burst.example"
    body = {"first_name": "Visitor", "last_name": str(n), "email": email, "state": "CA"}
    request = urllib.request.Request(  # noqa: S310 - localhost
        f"http://127.0.0.1:{port}/api/v1/marketing/capture/{key}", method="POST",
        data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return email, response.status
    except urllib.error.HTTPError as error:
        return email, error.code
    except OSError:
        return email, 0  # the connection broke: the visitor does not know


def _workers(master_pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(master_pid)], capture_output=True,  # noqa: S603, S607
                           text=True, check=False)
    return [int(pid) for pid in found.stdout.split()]


def test_every_accepted_submission_becomes_one_lead_when_a_web_process_dies(
        org, campaign, territory_map, policy, server):
    form = services.create_form(by=org.marketer, data={
        "name": "Burst", "campaign": campaign, "fields": ["state"], "required_fields": ["state"],
        "response": "registered", "rate_limit": 100_000})
    killed = False
    answers: list[tuple[str, int]] = []
    with ThreadPoolExecutor(max_workers=12) as pool:
        futures = [pool.submit(_submit, server.port, form.key, n) for n in range(SUBMISSIONS)]
        for future in futures:
            answers.append(future.result())
            if not killed and len(answers) == SUBMISSIONS // 3:
                victim = _workers(server.pid)[0]
                os.kill(victim, signal.SIGKILL)
                killed = True
    accepted = {email for email, status in answers if status == 202}
    assert killed and len(accepted) >= SUBMISSIONS // 3
    # What a stopped server stored but did not process is taken by the scheduled intake.
    while capture.process_inbox():
        pass
    per_email = dict(Lead.objects.filter(email__endswith="@burst.example")
                     .values_list("email").annotate(n=Count("id")))
    assert accepted <= set(per_email), f"accepted but lost: {sorted(accepted - set(per_email))}"
    assert set(per_email.values()) == {1}, "a submission became two leads"
