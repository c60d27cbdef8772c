"""Background work of field visits (django.tasks; inline or on a worker)."""

from datetime import date

from django.tasks import task

from salesplan.core.jobs import Progress, run_job


def _plan(job) -> tuple[dict, str]:
    from .services import plan_reps

    params = job.params
    progress = Progress(job, total=len(params["rep_ids"]), every=1)
    run = plan_reps(by=job.created_by, rep_ids=params["rep_ids"],
                    start=date.fromisoformat(params["start"]), days=params["days"], job=job,
                    progress=lambda done, total: progress.advance_to(done, "Planning reps"))
    summary = run.summary
    return ({"run_id": run.pk, **summary},
            f"Planned {summary['planned']:,} of {summary['required']:,} visits for "
            f"{summary['reps']:,} reps; {summary['unmet']:,} could not be planned.")


@task
def plan_visits_task(job_id: int) -> dict:
    """Plan reps' visits over a horizon; progress goes to the job row, one rep at a time."""
    return run_job(job_id, _plan)
