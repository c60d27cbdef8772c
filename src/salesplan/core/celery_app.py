"""The Celery application that runs django.tasks in a worker pool on a real broker."""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesplan.config.settings")

app = Celery("salesplan")
app.conf.update(
    broker_url=os.environ.get("SALESPLAN_TASK_BROKER", "redis://127.0.0.1:6379/0"),
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_serializer="json",
    accept_content=["json"],
    broker_connection_retry_on_startup=True,
    # Jobs go to, and `salesplan worker` reads, this queue: installations sharing one
    # broker (staging beside production) each name their own.
    task_default_queue=os.environ.get("SALESPLAN_TASK_QUEUE", "celery"),
)


# A delivery of a job another worker holds is tried again this often, for up to an hour.
BUSY_RETRY_SECONDS = 5
BUSY_RETRIES = 720


@app.task(name="salesplan.run_django_task", bind=True)
def run_django_task(self, module_path: str, args: list, kwargs: dict, result_id: str) -> object:
    """Run one django.tasks Task in the worker; the task records its own outcome."""
    import django

    django.setup()
    from django.utils import timezone
    from django.utils.module_loading import import_string

    from salesplan.core.clock import activate_company_time_zone
    from salesplan.core.jobs import JobBusy

    task = import_string(module_path)
    # Mail, PDFs and exports rendered by a job show the company's wall clock, as a page
    # would; the worker thread is reused, so the zone is dropped afterwards.
    activate_company_time_zone()
    try:
        return task.call(*args, **kwargs)
    except JobBusy as exc:
        # A killed worker's database session can outlive it for a moment, still holding
        # the job; or another delivery of the same job is running. Either way, later.
        raise self.retry(exc=exc, countdown=BUSY_RETRY_SECONDS,
                         max_retries=BUSY_RETRIES) from exc
    finally:
        timezone.deactivate()


@task_prerun.connect
def _fresh_connections(**_kwargs) -> None:
    """Drop database connections that went stale while the worker waited for work."""
    from django.db import close_old_connections

    close_old_connections()


@task_postrun.connect
def _release_connections(**_kwargs) -> None:
    """Close connections after each job: jobs are long and rare enough that reconnecting
    costs nothing, and an idle worker then holds no database session open (which would
    otherwise block dropping or migrating the database)."""
    from django.db import connections

    connections.close_all()
