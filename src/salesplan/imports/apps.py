from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "salesplan.imports"
    label = "imports"
