"""A job runs once, whatever its messages do: delivered again after a worker died,
enqueued again after a broker lost it, or delivered after it finished."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from salesplan.core.jobs import MAX_ATTEMPTS, claim_job, recover_stalled_jobs
from salesplan.core.models import BackgroundJob
from salesplan.customers.models import Contact
from salesplan.imports import services, tasks


@pytest.fixture
def queued_import(org, monkeypatch, django_capture_on_commit_callbacks):
    """An import commit whose message never reached a worker (the broker lost it)."""
    upload = SimpleUploadedFile("people.csv", b"Last name,Email\nDoe,doe@example.com\n")
    import_file = services.upload_import_file(by=org.west_rep, resource="contact",
                                              upload=upload)
    with django_capture_on_commit_callbacks(execute=True):
        services.start_import(import_file, by=org.west_rep, mapping=["last_name", "email"])
    with django_capture_on_commit_callbacks(execute=False):
        job = services.start_import(import_file, by=org.west_rep,
                                    mapping=["last_name", "email"], dry_run=False)
    return job


def test_a_job_a_broker_lost_is_enqueued_again_and_runs_once(queued_import, monkeypatch):
    job = queued_import
    assert job.status == "queued" and job.task_path == tasks.run_import.module_path
    # Too recent: it may still be on its way.
    assert recover_stalled_jobs(older_than_seconds=600) == []
    BackgroundJob.objects.filter(pk=job.pk).update(
        created_at=timezone.now() - timedelta(minutes=11))
    assert recover_stalled_jobs(older_than_seconds=600) == [job.pk]
    job.refresh_from_db()
    assert (job.status, job.attempts, job.result["created"]) == ("succeeded", 1, 1)
    # The lost message turns up after all: the finished job does not run again.
    tasks.run_import.call(job.pk)
    assert Contact.objects.count() == 1
    job.refresh_from_db()
    assert job.attempts == 1


def test_the_recover_command_reports_what_it_enqueued(queued_import):
    BackgroundJob.objects.filter(pk=queued_import.pk).update(
        created_at=timezone.now() - timedelta(hours=1))
    from io import StringIO

    out = StringIO()
    call_command("jobs", "recover", stdout=out)
    assert out.getvalue().strip() == f"Enqueued again 1 waiting job: #{queued_import.pk}."
    assert Contact.objects.count() == 1


def test_a_job_that_keeps_killing_its_worker_is_failed_with_the_reason(queued_import):
    job = queued_import
    # Each start by a worker that then died left the job running, attempt by attempt.
    for attempt in range(1, MAX_ATTEMPTS + 1):
        claimed = claim_job(job.pk)
        assert claimed is not None and claimed.attempts == attempt
    assert claim_job(job.pk) is None
    job.refresh_from_db()
    assert job.status == "failed"
    assert job.message.startswith(f"Failed: the worker running it stopped {MAX_ATTEMPTS} times")
    assert not Contact.objects.exists()


@pytest.mark.django_db(transaction=True, databases=["default", "job_progress"])
def test_a_job_another_worker_is_running_is_not_started_again(org, monkeypatch):
    """Two deliveries at once (a late message and a recovered one): while one worker runs
    the job, the other leaves it alone."""
    from types import SimpleNamespace

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the running mark is a PostgreSQL session lock")
    import psycopg

    from salesplan.core.jobs import JOB_LOCK_SPACE, JobBusy
    from tests.imports.test_worker import database_url

    task = tasks.run_import
    upload = SimpleUploadedFile("people.csv", b"Last name,Email\nDoe,doe@example.com\n")
    import_file = services.upload_import_file(by=org.west_rep, resource="contact",
                                              upload=upload)
    services.start_import(import_file, by=org.west_rep, mapping=["last_name", "email"])
    # The commit's message is on its way (not delivered yet).
    monkeypatch.setattr(tasks, "run_import", SimpleNamespace(
        module_path=task.module_path, enqueue=lambda pk: SimpleNamespace(id="in-flight")))
    job = services.start_import(import_file, by=org.west_rep, mapping=["last_name", "email"],
                                dry_run=False)
    monkeypatch.undo()
    with psycopg.connect(database_url(), autocommit=True) as other_worker:
        other_worker.execute("SELECT pg_advisory_lock(%s, %s)", [JOB_LOCK_SPACE, job.pk])
        with pytest.raises(JobBusy):  # the worker's task runner delivers it again later
            task.call(job.pk)
        job.refresh_from_db()
        assert (job.status, job.attempts) == ("queued", 0)
        other_worker.execute("SELECT pg_advisory_unlock(%s, %s)", [JOB_LOCK_SPACE, job.pk])
    # That worker is done with it (finished, or died and its session ended): it can run.
    task.call(job.pk)
    job.refresh_from_db()
    assert (job.status, job.attempts) == ("succeeded", 1)
    assert Contact.objects.count() == 1
