from django.apps import AppConfig


class PlanningConfig(AppConfig):
    """The Sales Management Plan: objectives, allocation, commitments, plan vs actual."""

    name = "salesplan.planning"
    label = "planning"
    default_auto_field = "django.db.models.BigAutoField"
