"""Background work for bulk actions on accounts and opportunities (django.tasks)."""

from django.tasks import task

from salesplan.core.jobs import run_job


@task
def run_bulk(job_id: int) -> dict:
    """Apply a bulk action row by row; progress and per-row outcomes go to the job."""
    from .bulk import run_bulk_job

    return run_job(job_id, run_bulk_job)
