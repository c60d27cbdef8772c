"""Background work for reports (django.tasks; inline or on a Celery worker)."""

from django.tasks import task

from salesplan.core.jobs import run_job


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


def _refresh(job) -> tuple[dict, str]:
    from . import rollup

    counts = rollup.rebuild()
    return counts, "Rebuilt the report rollups: " + ", ".join(
        f"{n:,} {name}" for name, n in counts.items())


@task
def rebuild_rollups(job_id: int) -> dict:
    """Recompute the report rollups from the source tables."""
    return run_job(job_id, _refresh)
