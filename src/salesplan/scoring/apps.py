from django.apps import AppConfig


class ScoringConfig(AppConfig):
    """Lead scoring: fit and engagement rules, and a predictive score."""

    name = "salesplan.scoring"
    label = "scoring"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from salesplan.core import hooks

        from .services import rescore_committed_lead

        hooks.lead_committed.register(rescore_committed_lead)
