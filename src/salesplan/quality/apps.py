from django.apps import AppConfig


class QualityConfig(AppConfig):
    """Quality control of the sales data and process, duplicates and merges."""

    name = "salesplan.quality"
    label = "quality"
    default_auto_field = "django.db.models.BigAutoField"
