from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "salesplan.org"
    label = "org"
