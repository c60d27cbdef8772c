from django.apps import AppConfig


class CollabConfig(AppConfig):
    """Comments with @mentions on records, and notifications."""

    name = "salesplan.collab"
    label = "collab"
    default_auto_field = "django.db.models.BigAutoField"
