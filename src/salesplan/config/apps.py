from django.apps import AppConfig


class ConfigConfig(AppConfig):
    """The assembly of the whole product; an app only so that the commands that need all
    of it (`salesplan openapi`, `salesplan serve`) live at the top layer."""

    name = "salesplan.config"
    label = "config"
    verbose_name = "Configuration"
