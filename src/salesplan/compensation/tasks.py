"""Background work for compensation (django.tasks; inline or on a worker)."""

from django.tasks import task


@task
def run_calculation(job_id: int) -> dict:
    """Calculate a period's statements; progress goes to the job row."""
    from .services import run_calculation_job

    return run_calculation_job(job_id)
