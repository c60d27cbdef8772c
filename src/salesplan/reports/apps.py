from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """Performance reports, dashboards, exports, saved and scheduled reports."""

    name = "salesplan.reports"
    label = "reports"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from salesplan.core.hooks import user_handover

        from .handover import provider

        user_handover.register(provider)
