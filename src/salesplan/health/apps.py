from django.apps import AppConfig


class HealthConfig(AppConfig):
    """Customer health scores with reasons, at-risk accounts and renewals."""

    name = "salesplan.health"
    label = "health"
    default_auto_field = "django.db.models.BigAutoField"
