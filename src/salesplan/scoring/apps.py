from django.apps import AppConfig


class ScoringConfig(AppConfig):
    """Lead scoring: fit and engagement rules, and a predictive score."""

    name = "salesplan.scoring"
    label = "scoring"
    default_auto_field = "django.db.models.BigAutoField"
