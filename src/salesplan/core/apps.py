from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "salesplan.core"
    label = "core"
    verbose_name = "Core"
