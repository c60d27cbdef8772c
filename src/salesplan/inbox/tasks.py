"""Background work of the inbox (django.tasks; inline or on the worker)."""

from django.tasks import task


@task
def send_inbox_digests() -> dict:
    """Email every user who chose a daily digest the items waiting for them (run once a
    day, e.g. `salesplan inbox digest` from cron or this task from the scheduler)."""
    from .services import send_digests

    return {"sent": send_digests()}
