"""Background work for email (django.tasks; inline or on a worker)."""

from django.tasks import task


@task
def fetch_mailboxes(mailbox_ids: list[int] | None = None) -> dict:
    """Read every active mailbox's new messages (schedule it, or run `salesplan mail
    fetch`); what it did comes back as counts."""
    from .inbound import fetch_all

    result = fetch_all(mailbox_ids=mailbox_ids)
    return {"read": result.read, "logged": result.logged, "waiting": result.waiting,
            "bounces": result.bounces, "skipped": result.skipped, "errors": result.errors}
