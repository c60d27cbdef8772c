"""Starting background jobs and reporting their progress."""

from collections.abc import Callable

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
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
                                       result=result or {})
    if file is not None:
        job.file.save(getattr(file, "name", f"{kind}.dat"), file, save=True)

    def enqueue() -> None:
        result = task.enqueue(job.pk)
        BackgroundJob.objects.filter(pk=job.pk).update(task_result_id=result.id)

    transaction.on_commit(enqueue)
    return job


PROGRESS_ALIAS = "job_progress"


def _progress_database() -> str:
    """The database alias progress is written through.

    A job that writes everything in one transaction (an import's commit) would keep its
    progress invisible until the end. On PostgreSQL progress therefore goes through a
    second connection that commits each update at once. Not on SQLite, where a second
    writer would wait for the job's own write lock; and not when the job itself runs
    inside an outer transaction (tests), where a second connection could not see the
    job row.
    """
    if connection.vendor == "sqlite" or connection.in_atomic_block:
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
        BackgroundJob.objects.filter(pk=job.pk).update(
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


def run_job(job_id: int, work: Callable[[BackgroundJob], tuple[dict, str]]) -> dict:
    """Run `work(job)` and record its outcome; a crash is recorded as a failed job."""
    job = BackgroundJob.objects.get(pk=job_id)
    BackgroundJob.objects.filter(pk=job.pk).update(status=BackgroundJob.Status.RUNNING)
    try:
        result, message = work(job)
    except Exception as exc:
        finish_job(job, result={"error": str(exc)}, message=f"Failed: {exc}", failed=True)
        raise
    job.refresh_from_db()
    finish_job(job, result=result, message=message)
    return result
