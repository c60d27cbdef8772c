"""Background work for territories (django.tasks; inline or on a Celery worker)."""

from django.tasks import task

from salesplan.core.jobs import Progress, run_job
from salesplan.customers.models import Account


def _assign_all(job) -> tuple[dict, str]:

    from .assignment import run_full_assignment
    from .models import Alignment

    alignment = Alignment.objects.get(pk=job.params["alignment_id"])
    progress = Progress(job, total=Account.objects.count(), every=20_000)
    result = run_full_assignment(
        alignment, progress=lambda done, _total: progress.advance_to(done, "Assigning accounts"))
    message = (f"Assigned {result['assigned']:,} territories to {result['accounts']:,} accounts; "
               f"{result['conflicts']:,} conflicts, {result['unclaimed']:,} unclaimed.")
    return result, message


@task
def run_assignment(job_id: int) -> dict:
    """Assign every account under an alignment's rules; progress goes to the job row."""
    return run_job(job_id, _assign_all, one_transaction=True)


def _optimise(job) -> tuple[dict, str]:
    from .models import OptimisationRun
    from .optimisation import optimise_run

    run = OptimisationRun.objects.select_related("source", "created_by").get(
        pk=job.params["run_id"])
    return optimise_run(run, job)


@task
def run_optimisation(job_id: int) -> dict:
    """Optimise territories into a new draft alignment; progress goes to the job row."""
    return run_job(job_id, _optimise)


@task
def run_activation(job_id: int) -> dict:
    """Activate a draft alignment as previewed (the preview is drawn again first)."""
    from .activation import run_activation_job

    return run_job(job_id, run_activation_job)
