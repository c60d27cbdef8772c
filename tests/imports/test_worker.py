"""A job enqueued by the web process runs in a `salesplan worker` on a real broker.

Runs only when SALESPLAN_TASK_BROKER is set (redis://127.0.0.1:6379/0 or
amqp://guest:guest@127.0.0.1:5672//) and the test database is one a second process can
open: PostgreSQL, or SQLite in a file (the default test settings use in-memory SQLite,
which a worker cannot share). The test starts its own worker on a queue of its own,
pointed at the test database, so a worker already running elsewhere neither helps nor
interferes:

    SALESPLAN_TASK_BROKER=redis://127.0.0.1:6379/0 \\
    DATABASE_URL=postgres://USER:PASSWORD@127.0.0.1:5432/salesplan \\
    .venv/bin/pytest -m worker tests/imports/test_worker.py
"""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from salesplan.core.models import BackgroundJob
from salesplan.customers.models import Contact

pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(not os.environ.get("SALESPLAN_TASK_BROKER"),
                       reason="needs SALESPLAN_TASK_BROKER (Redis or RabbitMQ)"),
]


def database_url() -> str:
    """The URL of the database this test runs on, for the worker process."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return f"postgres://{credentials}@{host}/{db['NAME']}"


@pytest.fixture
def worker(worker_process) -> str:
    """A `salesplan worker` process consuming its own queue; the queue's name."""
    return worker_process.queue


@pytest.fixture
def worker_process(settings, tmp_path):
    """The worker process (its `queue` attribute names the queue it consumes)."""
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("the worker cannot share an in-memory database; use PostgreSQL or a "
                    "file SQLite database")
    queue = f"test-{uuid.uuid4().hex[:12]}"
    env = {**os.environ, "DATABASE_URL": database_url(),
           # The test settings (local-memory cache, fast hashing); the database comes
           # from DATABASE_URL, which names the test database.
           "DJANGO_SETTINGS_MODULE": os.environ["DJANGO_SETTINGS_MODULE"],
           "SALESPLAN_VAR_DIR": str(Path(settings.MEDIA_ROOT).parent)}
    log = open(tmp_path / "worker.log", "w+")  # noqa: SIM115 - closed below
    process = subprocess.Popen(  # noqa: S603 - our own console command
        [sys.executable, "-m", "salesplan.cli", "worker", "--concurrency", "1",
         "--queues", queue, "--loglevel", "warning"],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    process.queue = queue  # type: ignore[attr-defined]
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.seek(0)
        print(log.read())  # shown by pytest when the test fails
        log.close()


@pytest.mark.django_db(transaction=True)
def test_import_job_runs_in_a_worker_and_reports_progress(org, worker, monkeypatch):
    from salesplan.imports import services, tasks

    # Route this test's job to this test's worker only.
    monkeypatch.setattr(tasks, "run_import", tasks.run_import.using(queue_name=worker))
    rows = "".join(f"Person{i},person{i}@worker.example\n" for i in range(3000))
    upload = SimpleUploadedFile("people.csv", ("Last name,Email\n" + rows).encode())
    import_file = services.upload_import_file(by=org.west_rep, resource="contact",
                                              upload=upload)
    dry_run = services.start_import(import_file, by=org.west_rep,
                                    mapping=["last_name", "email"], dry_run=True)
    assert wait_for(dry_run).result["created"] == 3000
    commit = services.start_import(import_file, by=org.west_rep,
                                   mapping=["last_name", "email"], dry_run=False)
    finished = wait_for(commit)
    assert (finished.progress_done, finished.progress_total) == (3000, 3000)
    assert finished.result["created"] == 3000 and finished.message.startswith("Imported")
    assert finished.task_result_id  # enqueued through the broker, not run inline
    assert Contact.objects.filter(owner=org.west_rep).count() == 3000


def wait_for(job: BackgroundJob, timeout: float = 90) -> BackgroundJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.finished:
            assert job.status == BackgroundJob.Status.SUCCEEDED, job.result
            return job
        time.sleep(0.25)
    raise AssertionError(f"job {job.pk} still {job.status} after {timeout}s "
                         f"({job.progress_done}/{job.progress_total})")
