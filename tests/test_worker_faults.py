"""Faults survived on the real services: a worker killed in the middle of a job, a broker
that lost its waiting messages. Runs with the other worker tests (`-m worker`), on
PostgreSQL and a real broker (see tests/imports/test_worker.py).

The moment of the kill is not left to the clock: the test holds a lock on the contacts
table, so the worker, having claimed the job and started its transaction, blocks at its
first insert. Then the worker process is killed, and the lock released: the dead
worker's insert goes on in its session and is rolled back when the session ends.
"""

import os
import signal
import subprocess
import time

import psycopg
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from salesplan.core.jobs import recover_stalled_jobs
from salesplan.core.models import BackgroundJob
from salesplan.customers.models import Contact
from tests.imports.test_worker import (  # noqa: F401 - fixtures
    database_url,
    wait_for,
    worker,
    worker_process,
)

pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(not os.environ.get("SALESPLAN_TASK_BROKER"),
                       reason="needs SALESPLAN_TASK_BROKER (Redis or RabbitMQ)"),
    pytest.mark.django_db(transaction=True),
]

ROWS = 6000


def _dry_run(org, monkeypatch, queue: str):
    from salesplan.imports import services, tasks

    monkeypatch.setattr(tasks, "run_import", tasks.run_import.using(queue_name=queue))
    rows = "".join(f"Person{i},person{i}@faults.example\n" for i in range(ROWS))
    upload = SimpleUploadedFile("people.csv", ("Last name,Email\n" + rows).encode())
    import_file = services.upload_import_file(by=org.west_rep, resource="contact",
                                              upload=upload)
    mapping = ["last_name", "email"]
    wait_for(services.start_import(import_file, by=org.west_rep, mapping=mapping))
    return lambda: services.start_import(import_file, by=org.west_rep, mapping=mapping,
                                         dry_run=False)


def _pool_children(master_pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(master_pid)], capture_output=True,  # noqa: S603, S607
                           text=True, check=False)
    return [int(pid) for pid in found.stdout.split()]


def _wait(condition, what: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_worker_killed_mid_import_leaves_nothing_and_the_import_runs_once(
        org, monkeypatch, worker_process):  # noqa: F811
    if connection.vendor != "postgresql":
        pytest.skip("the kill is placed with a PostgreSQL row lock")
    master = worker_process
    start_commit = _dry_run(org, monkeypatch, master.queue)
    with psycopg.connect(database_url(), autocommit=False) as blocker, \
            psycopg.connect(database_url(), autocommit=True) as watcher:
        blocker.execute("LOCK TABLE customers_contact IN SHARE MODE")
        job = start_commit()
        # Its own connection: inside a transaction pg_stat_activity keeps its first reading.
        _wait(lambda: watcher.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND query LIKE %s", ["INSERT INTO \"customers_contact\"%"]).fetchone()[0],
            "the worker to wait to insert")
        job.refresh_from_db()
        assert (job.status, job.attempts) == ("running", 1)
        for pid in _pool_children(master.pid):
            os.kill(pid, signal.SIGKILL)
        blocker.rollback()
    finished = wait_for(job, timeout=120)
    assert finished.attempts == 2
    assert finished.result["created"] == ROWS
    assert Contact.objects.filter(email__endswith="@faults.example").count() == ROWS
    assert master.poll() is None, "the worker itself keeps running"


def test_jobs_a_broker_lost_are_recovered_and_run_once(org, monkeypatch, worker):  # noqa: F811
    """A broker that restarts without keeping its queue (Redis as configured here keeps
    nothing on disk) loses waiting messages; `salesplan jobs recover` enqueues them again.
    The loss is made by sending the job to a queue no worker reads, which a restart
    empties the same way."""
    from datetime import timedelta

    from django.utils import timezone

    from salesplan.imports import services, tasks

    task = tasks.run_import
    monkeypatch.setattr(tasks, "run_import", task.using(queue_name=f"lost-{worker}"))
    upload = SimpleUploadedFile("p.csv", b"Last name,Email\nDoe,doe@lost.example\n")
    import_file = services.upload_import_file(by=org.west_rep, resource="contact",
                                              upload=upload)
    job = services.start_import(import_file, by=org.west_rep, mapping=["last_name", "email"])
    job.refresh_from_db()
    assert job.status == "queued" and job.task_result_id
    BackgroundJob.objects.filter(pk=job.pk).update(
        created_at=timezone.now() - timedelta(minutes=30))
    # After the restart the task is enqueued where a worker reads.
    monkeypatch.setattr(tasks, "run_import", task.using(queue_name=worker))
    assert recover_stalled_jobs(older_than_seconds=600) == [job.pk]
    finished = wait_for(job)
    assert (finished.attempts, finished.result["created"]) == (1, 1)


def test_a_worker_killed_writing_an_optimised_draft_leaves_one_draft(
        org, monkeypatch, worker_process):  # noqa: F811
    if connection.vendor != "postgresql":
        pytest.skip("the kill is placed with a PostgreSQL table lock")
    from salesplan.territories import tasks
    from salesplan.territories.models import Alignment
    from salesplan.territories.optimisation import OptimisationRequest, start_optimisation
    from tests.territories.conftest import grant_map
    from tests.territories.test_optimisation import BUDGET, lopsided_map

    master = worker_process
    monkeypatch.setattr(tasks, "run_optimisation",
                        tasks.run_optimisation.using(queue_name=master.queue))
    grant_map(org.west_manager)
    alignment, region, _ = lopsided_map(org)
    with psycopg.connect(database_url(), autocommit=False) as blocker, \
            psycopg.connect(database_url(), autocommit=True) as watcher:
        blocker.execute("LOCK TABLE territories_namedaccount IN SHARE MODE")
        run = start_optimisation(alignment, by=org.west_manager, request=OptimisationRequest(
            parent_id=region.pk, budget=BUDGET, tau=0.05))
        _wait(lambda: watcher.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND query LIKE %s", ["%\"territories_namedaccount\"%"]).fetchone()[0],
            "the worker to wait to write the draft", timeout=120)
        for pid in _pool_children(master.pid):
            os.kill(pid, signal.SIGKILL)
        blocker.rollback()
    finished = wait_for(run.job, timeout=180)
    assert finished.status == "succeeded", finished.message
    assert finished.attempts == 2
    assert Alignment.objects.filter(status=Alignment.Status.DRAFT).count() == 1
