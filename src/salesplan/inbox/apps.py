from django.apps import AppConfig


class InboxConfig(AppConfig):
    """Each user's work inbox: what waits for them, and how they are told about it."""

    name = "salesplan.inbox"
    label = "inbox"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from salesplan.core import hooks

        from . import permissions  # noqa: F401 — the registry entries
        from .services import job_finished

        hooks.job_finished.register(job_finished)
