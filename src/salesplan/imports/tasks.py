"""Background work for imports and exports (django.tasks; inline or on a Celery worker)."""

from django.tasks import task

from salesplan.core.jobs import run_job


@task
def run_import(job_id: int) -> dict:
    """Dry-run or commit an uploaded file; progress and outcome go to the job row."""
    from .services import run_import_job

    # One transaction: a worker killed mid-import leaves nothing, and the broker's second
    # delivery imports the file once, from the start.
    return run_job(job_id, run_import_job, one_transaction=True)


@task
def run_export(job_id: int) -> dict:
    """Write a large export to a file attached to the job."""
    from .services import run_export_job

    return run_job(job_id, run_export_job)
