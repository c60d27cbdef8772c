from django.apps import AppConfig


class SavedViewsConfig(AppConfig):
    """Saved list views: a list's filters, search, sort and columns under a name."""

    name = "salesplan.savedviews"
    label = "savedviews"
    default_auto_field = "django.db.models.BigAutoField"
