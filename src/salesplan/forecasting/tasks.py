"""Background work for forecasts (django.tasks; inline or on a worker)."""

from django.tasks import task

from salesplan.core.jobs import Progress, run_job


def _snapshot(job) -> tuple[dict, str]:
    from .services import take_snapshot

    progress = Progress(job, total=1, every=1)
    rows = take_snapshot()
    progress.advance_to(1, "Snapshot taken")
    return {"rows": rows}, f"Recorded {rows:,} forecast lines for this week."


@task
def snapshot_job(job_id: int) -> dict:
    """Take this week's forecast snapshot (run weekly)."""
    return run_job(job_id, _snapshot)


def _refresh(job) -> tuple[dict, str]:
    from .services import refresh_forecasts

    progress = Progress(job, total=1, every=1)
    result = refresh_forecasts()
    progress.advance_to(1, "Refreshed")
    return result, (
        f"Counted {result['stage_months']:,} stage-months of closed deals; "
        f"fitted {result['forecasts']} statistical forecasts."
    )


@task
def refresh_job(job_id: int) -> dict:
    """Recount calibration and refit the statistical forecasts (run nightly)."""
    return run_job(job_id, _refresh)


@task
def fit_statistical_forecast(scope_key: str, scope_label: str, today: str) -> str:
    """Choose the model and fit one scope's forecast, and keep it for its page (the page
    started this because nothing was kept for the scope this month)."""
    from datetime import date

    from .statistical import Scope, statistical_forecast

    statistical_forecast(
        Scope(scope_key, scope_label), today=date.fromisoformat(today), refresh=True
    )
    return scope_key
