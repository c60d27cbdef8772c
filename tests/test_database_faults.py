"""The database connection dropped under a running server (PostgreSQL): between requests
the server reconnects without anyone noticing; during a request that request answers 503
and writes nothing, and the next one succeeds.

The drop is placed without the clock: the test holds a lock on the row the request
changes, waits until the server's connection waits for it, and terminates that backend.
"""

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import psycopg
import pytest
from django.db import connection

from salesplan.org.services import create_api_token
from tests.factories import make_account
from tests.imports.test_worker import database_url

pytestmark = pytest.mark.django_db(transaction=True)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _call(port: int, method: str, path: str, token: str, body: dict | None = None):
    request = urllib.request.Request(  # noqa: S310 - localhost
        f"http://127.0.0.1:{port}/api/v1{path}", method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


@pytest.fixture
def server(settings, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("drops a PostgreSQL connection")
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database_url(),
           "DJANGO_SETTINGS_MODULE": os.environ["DJANGO_SETTINGS_MODULE"],
           "SALESPLAN_VAR_DIR": str(tmp_path), "HOME": str(tmp_path)}
    process = subprocess.Popen(  # noqa: S603 - our own console command
        [sys.executable, "-m", "salesplan.cli", "serve", "--port", str(port), "--workers", "1",
         "--threads", "2", "--no-collectstatic"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=5)  # noqa: S310
            break
        except OSError:
            time.sleep(0.3)
    yield port
    process.terminate()
    process.wait(timeout=30)


def _server_backends(blocker, waiting: bool = False) -> list[int]:
    query = ("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
             "AND pid <> pg_backend_pid()")
    if waiting:
        query += " AND wait_event_type = 'Lock'"
    mine = connection.connection.info.backend_pid
    return [pid for (pid,) in blocker.execute(query).fetchall() if pid != mine]


def test_a_dropped_connection_fails_one_request_cleanly_and_the_next_succeeds(org, server):
    account = make_account(org.west_rep, name="Steady Ltd")
    _, token = create_api_token(org.west_rep, "faults")
    assert _call(server, "GET", f"/accounts/{account.pk}", token)[0] == 200

    with psycopg.connect(database_url(), autocommit=True) as admin:
        # Between requests: every connection of the server is dropped; the next request
        # does not notice.
        for pid in _server_backends(admin):
            admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        status, body = _call(server, "GET", f"/accounts/{account.pk}", token)
        assert (status, body["name"]) == (200, "Steady Ltd")

        # During a request: the change waits on a row lock, and its connection is dropped.
        with psycopg.connect(database_url()) as blocker:
            blocker.execute("SELECT id FROM customers_account WHERE id = %s FOR UPDATE",
                            [account.pk])
            answer: dict = {}
            patch = threading.Thread(target=lambda: answer.update(result=_call(
                server, "PATCH", f"/accounts/{account.pk}", token,
                {"industry": "Lost", "version": 1})))
            patch.start()
            deadline = time.monotonic() + 60
            while not (waiting := _server_backends(admin, waiting=True)):
                assert time.monotonic() < deadline, "the change never waited on the lock"
                time.sleep(0.1)
            for pid in waiting:
                admin.execute("SELECT pg_terminate_backend(%s)", [pid])
            patch.join(timeout=60)
            blocker.rollback()
    status, body = answer["result"]
    assert status == 503, body
    assert body["title"] == "The database could not be reached"
    account.refresh_from_db()
    assert (account.industry, account.version) == ("", 1), "nothing of it was written"

    status, body = _call(server, "PATCH", f"/accounts/{account.pk}", token,
                         {"industry": "Kept", "version": 1})
    assert (status, body["industry"], body["version"]) == (200, "Kept", 2)
