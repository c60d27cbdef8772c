from django.apps import AppConfig


class MarketingConfig(AppConfig):
    """Campaigns, attribution, lead capture, scoring, routing, handoff, SLA and feedback."""

    name = "salesplan.marketing"
    label = "marketing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import intake  # noqa: F401 — connects the form-change signal
