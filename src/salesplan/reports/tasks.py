"""Background work for reports (django.tasks; inline or on a Celery worker)."""

from django.tasks import task

from salesplan.activities.models import Activity
from salesplan.core.jobs import Progress, run_job
from salesplan.customers.models import Lead
from salesplan.metrics import rollup
from salesplan.pipeline.models import Opportunity


def _deliver(job) -> tuple[dict, str]:
    from .models import ScheduledReport
    from .services import deliver

    schedule = ScheduledReport.objects.select_related("saved_report__owner").get(
        pk=job.params["schedule_id"])
    try:
        result = deliver(schedule)
    except Exception as exc:
        ScheduledReport.objects.filter(pk=schedule.pk).update(last_error=str(exc)[:500])
        raise
    return result, f"Sent {result['attachment']} to {result['recipients']} recipient(s)."


@task
def deliver_scheduled_report(job_id: int) -> dict:
    """Email one scheduled report with its export attached."""
    return run_job(job_id, _deliver)


def _rebuild(job) -> tuple[dict, str]:
    sizes = {"opportunities": Opportunity.objects.count(),
             "activities": Activity.objects.count(), "leads": Lead.objects.count()}
    before = {"opportunities": 0, "activities": sizes["opportunities"],
              "leads": sizes["opportunities"] + sizes["activities"]}
    progress = Progress(job, total=sum(sizes.values()), every=20_000)
    counts = rollup.rebuild(progress=lambda name, done: progress.advance_to(
        before[name] + done, f"Summing {name}"))
    return counts, "Rebuilt the report rollups: " + ", ".join(
        f"{n:,} {name}" for name, n in counts.items())


@task
def rebuild_rollups(job_id: int) -> dict:
    """Recompute the report rollups from the source tables."""
    return run_job(job_id, _rebuild)
