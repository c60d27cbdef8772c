from django.apps import AppConfig


class MetricsConfig(AppConfig):
    """The opportunity, activity and lead rollups every analysis reads: plan vs actual,
    forecasts and performance reports (one copy, kept current from the audit trail)."""

    name = "salesplan.metrics"
    label = "metrics"
    default_auto_field = "django.db.models.BigAutoField"
