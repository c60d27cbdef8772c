"""Background work for plans (django.tasks; inline or on a worker)."""

from django.tasks import task

from salesplan.core.jobs import run_job


def _effort(job) -> tuple[dict, str]:
    from .effort import execute
    from .models import EffortAllocationRun

    run = EffortAllocationRun.objects.select_related("plan").get(pk=job.params["run_id"])
    return execute(run, job)


@task
def run_effort_allocation(job_id: int) -> dict:
    """Fit the response curves and optimise a plan's effort; progress goes to the job."""
    return run_job(job_id, _effort)


def _evaluate(job) -> tuple[dict, str]:
    from datetime import date

    from .evaluation import evaluate_plan
    from .models import Plan

    plan = Plan.objects.get(pk=job.params["plan_id"])
    alerts = evaluate_plan(plan, as_of=date.fromisoformat(job.params["as_of"]))
    return {"open_alerts": len(alerts)}, f"{len(alerts)} objectives off track or to watch."


@task
def run_evaluation(job_id: int) -> dict:
    """Evaluate a plan against actuals and raise alerts for what is off track."""
    return run_job(job_id, _evaluate)


@task
def run_plan_change(job_id: int) -> dict:
    """Apply a previewed change to a plan's targets (allocation, re-plan or an undo)."""
    from .changes import apply_change

    return run_job(job_id, apply_change)
