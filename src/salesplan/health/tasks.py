"""Background work for customer health (django.tasks; inline or on a worker)."""

from django.tasks import task

from salesplan.core.jobs import Progress, run_job
from salesplan.customers.models import Account


def _compute(job) -> tuple[dict, str]:

    from .services import compute_health

    progress = Progress(job, total=Account.objects.count(), every=20_000)
    result = compute_health(
        progress=lambda done, _total: progress.advance_to(done, "Scoring accounts"))
    message = (f"Scored {result['accounts']:,} accounts; {result['at_risk']:,} at risk.")
    return result, message


@task
def compute_all(job_id: int) -> dict:
    """Score every account's health; progress goes to the job row."""
    return run_job(job_id, _compute)
