from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "salesplan.imports"
    label = "imports"

    def ready(self) -> None:
        from .bulk_export import register

        register()  # the lists' bulk action "export"
