"""Background work for lead scoring (django.tasks; inline or on a worker)."""

from django.tasks import task

from salesplan.core.jobs import Progress, run_job
from salesplan.customers.models import Lead


def _rescore(job) -> tuple[dict, str]:

    from .services import rescore_all

    progress = Progress(job, total=Lead.objects.count(), every=5000)
    result = rescore_all(progress=lambda done, _t: progress.advance_to(done, "Scoring leads"))
    return result, f"Scored {result['leads']:,} leads with {result['rules']} rules" + (
        f" and model v{result['model_version']}." if result["model_version"] else
        " (no predictive model yet).")


@task
def run_rescore(job_id: int) -> dict:
    """Score every lead; progress goes to the job row."""
    return run_job(job_id, _rescore)


def _train(job) -> tuple[dict, str]:

    from .models import ModelStatus
    from .services import rescore_all, train_model

    total = Lead.objects.count()
    progress = Progress(job, total=total + 1, every=5000)
    model = train_model(by=job.created_by, min_per_class=job.params.get("min_per_class"),
                        test_fraction=job.params.get("test_fraction", 0.25),
                        split=job.params.get("split", "stratified"))
    progress.advance_to(1, "Trained; scoring leads")
    if model.status == ModelStatus.REFUSED:
        return {"model_id": model.pk, "version": model.version, "status": model.status,
                "reason": model.reason}, model.reason
    scored = rescore_all(progress=lambda done, _t: progress.advance_to(done + 1,
                                                                       "Scoring leads"))
    auc = model.metrics.get("auc", 0.0)
    return ({"model_id": model.pk, "version": model.version, "status": model.status,
             "metrics": model.metrics, "leads": scored["leads"]},
            f"Model v{model.version} trained (held-out AUC {auc:.3f}); "
            f"scored {scored['leads']:,} leads.")


@task
def run_training(job_id: int) -> dict:
    """Train the predictive model, then rescore every lead with it."""
    return run_job(job_id, _train)
