"""Starting background jobs and reporting their progress."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, transaction
from django.tasks import Task
from django.utils import timezone

from . import hooks
from .models import BackgroundJob


def start_job(kind: str, *, by, task: Task, params: dict | None = None,
              file=None, result: dict | None = None) -> BackgroundJob:
    """Create the job record and enqueue its task once the record is committed.

    With the inline backend the task has run when this returns; with a worker pool it
    runs in the background and the job's page follows its progress. `result` is what is
    known of the outcome from the start (an import's `dry_run`); the task replaces it.
    """
    job = BackgroundJob.objects.create(kind=kind, created_by=by, params=params or {},
                                       result=result or {}, task_path=task.module_path)
    if file is not None:
        job.file.save(getattr(file, "name", f"{kind}.dat"), file, save=True)

    def enqueue() -> None:
        result = task.enqueue(job.pk)
        BackgroundJob.objects.filter(pk=job.pk).update(task_result_id=result.id)

    transaction.on_commit(enqueue)
    return job


PROGRESS_ALIAS = "job_progress"
# How many transactions were open when run_job began the job's own one (None: it did not).
_job_transaction: ContextVar[int | None] = ContextVar("job_transaction", default=None)


def _progress_database() -> str:
    """The database alias progress is written through.

    A job that writes everything in one transaction (an import's commit) would keep its
    progress invisible until the end. On PostgreSQL progress therefore goes through a
    second connection that commits each update at once. Not on SQLite, where a second
    writer would wait for the job's own write lock; and not when the job itself runs
    inside an outer transaction (tests), where a second connection could not see the
    job row — unless that transaction is the job's own (`run_job(one_transaction=True)`),
    whose row was committed before it began.
    """
    own_transaction = _job_transaction.get() == 0
    if connection.vendor == "sqlite" or (connection.in_atomic_block and not own_transaction):
        return DEFAULT_DB_ALIAS
    if PROGRESS_ALIAS not in connections.settings:
        connections.settings[PROGRESS_ALIAS] = dict(connections.settings[DEFAULT_DB_ALIAS])
    return PROGRESS_ALIAS


class Progress:
    """Writes progress to the job row at most every `every` units, so a million-row
    import does not spend its time updating its own progress bar."""

    def __init__(self, job: BackgroundJob, total: int, every: int = 2000):
        self.job = job
        self.total = total
        self.every = every
        self._last = 0
        self._using = _progress_database()
        BackgroundJob.objects.using(self._using).filter(pk=job.pk).update(
            status=BackgroundJob.Status.RUNNING, progress_total=total, progress_done=0
        )

    def advance_to(self, done: int, message: str = "") -> None:
        if done - self._last >= self.every or done >= self.total:
            self._last = done
            fields: dict[str, object] = {"progress_done": min(done, self.total)}
            if message:
                fields["message"] = message[:500]
            BackgroundJob.objects.using(self._using).filter(pk=self.job.pk).update(**fields)


def finish_job(job: BackgroundJob, *, result: dict, message: str = "",
               failed: bool = False) -> None:
    job.status = BackgroundJob.Status.FAILED if failed else BackgroundJob.Status.SUCCEEDED
    job.result = result
    job.message = message[:500]
    job.finished_at = timezone.now()
    if not failed:
        job.progress_done = job.progress_total
    job.save(update_fields=["status", "result", "message", "finished_at", "progress_done",
                            "updated_at"])
    hooks.job_finished(job)


# A job that killed its worker twice would kill the next one too (memory, a crash in a
# library); after this many starts it is marked failed instead of retried.
MAX_ATTEMPTS = 2


def claim_job(job_id: int) -> BackgroundJob | None:
    """Mark the job as started by this worker, or None when it must not run.

    A broker delivers a message again when the worker that held it died, and the
    recovery sweep may enqueue a job whose message is still somewhere: a job that has
    finished is never run again, and one that has been started MAX_ATTEMPTS times is
    marked failed with the reason.
    """
    with transaction.atomic():
        job = BackgroundJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.finished:
            return None
        if job.attempts >= MAX_ATTEMPTS:
            finish_job(job, failed=True, result={"error": "worker lost"},
                       message=(f"Failed: the worker running it stopped {job.attempts} times "
                                "(out of memory or killed); nothing of it was applied. "
                                "Start it again, or ask an administrator to look at the "
                                "worker's log."))
            return None
        job.attempts += 1
        job.status = BackgroundJob.Status.RUNNING
        job.started_at = timezone.now()
        job.save(update_fields=["attempts", "status", "started_at", "updated_at"])
    return job


# The advisory-lock key space of running jobs (PostgreSQL): (JOB_LOCK_SPACE, job id).
JOB_LOCK_SPACE = 7_310_001


@contextmanager
def running_alone(job_id: int) -> Iterator[bool]:
    """Whether this process may run the job now: False while another worker runs it.

    A job can be delivered twice at once: `salesplan jobs recover` enqueues a job whose
    first message was only late, or two workers hold copies after a broker's failover.
    On PostgreSQL a session lock marks the running job; the database releases it when the
    worker's connection ends, so a worker that died never keeps its job locked. SQLite
    serves one host, where the claim's write lock is enough.
    """
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [JOB_LOCK_SPACE, job_id])
        alone = bool(cursor.fetchone()[0])
    try:
        yield alone
    finally:
        if alone:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [JOB_LOCK_SPACE, job_id])
            except DatabaseError:
                pass  # the connection is gone, and the lock with it


class JobBusy(Exception):
    """Another worker holds the job: try this delivery again later (the worker's task
    runner re-queues it). By then the job has finished, and is skipped, or the other
    worker has died, its session has ended, and this delivery runs it."""


def run_job(job_id: int, work: Callable[[BackgroundJob], tuple[dict, str]], *,
            one_transaction: bool = False) -> dict:
    with running_alone(job_id) as alone:
        if not alone:
            raise JobBusy(job_id)
        return _run_job(job_id, work, one_transaction=one_transaction)


def _run_job(job_id: int, work: Callable[[BackgroundJob], tuple[dict, str]], *,
             one_transaction: bool = False) -> dict:
    """Run `work(job)` and record its outcome; a crash is recorded as a failed job.

    `one_transaction`: the work's writes and the job's "succeeded" commit together. A
    worker killed at any moment then leaves either nothing (and the broker's second
    delivery runs the job from the start) or the finished job (which is not run again),
    never writes without a finished job that a second run would apply twice.
    """
    job = claim_job(job_id)
    if job is None:
        return {}
    try:
        if one_transaction:
            token = _job_transaction.set(len(connection.atomic_blocks))
            try:
                with transaction.atomic():
                    result, message = work(job)
                    job.refresh_from_db()
                    finish_job(job, result=result, message=message)
            finally:
                _job_transaction.reset(token)
            return result
        result, message = work(job)
    except Exception as exc:
        job.refresh_from_db()
        finish_job(job, result={"error": str(exc)}, message=f"Failed: {exc}", failed=True)
        raise
    job.refresh_from_db()
    finish_job(job, result=result, message=message)
    return result


def recover_stalled_jobs(*, older_than_seconds: int = 600) -> list[int]:
    """Enqueue again the jobs still waiting after `older_than_seconds`.

    A broker that keeps its queue in memory loses waiting messages when it restarts; their
    jobs would wait forever. Claiming (above) makes a second delivery harmless, so a job
    whose first message does arrive after all still runs once.
    """
    from django.utils.module_loading import import_string

    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    stalled = BackgroundJob.objects.filter(status=BackgroundJob.Status.QUEUED,
                                           created_at__lt=cutoff).exclude(task_path="")
    recovered = []
    for job in stalled.order_by("created_at")[:1000]:
        result = import_string(job.task_path).enqueue(job.pk)
        BackgroundJob.objects.filter(pk=job.pk).update(task_result_id=result.id)
        recovered.append(job.pk)
    return recovered
