"""Background work for marketing (django.tasks; inline or on a Celery worker)."""

from django.tasks import task

from salesplan.core.jobs import Progress, run_job
from salesplan.pipeline.models import Opportunity


def _refresh(job) -> tuple[dict, str]:

    from .attribution import refresh

    progress = Progress(job, total=Opportunity.objects.count(), every=20_000)
    result = refresh(progress=lambda done: progress.advance_to(done, "Reading opportunities"))
    return result, (f"{result['touches']:,} campaign touches on "
                    f"{result['opportunities']:,} opportunities.")


@task
def refresh_attribution(job_id: int) -> dict:
    """Recompute every opportunity's campaign touches and their sums."""
    return run_job(job_id, _refresh)
