from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "salesplan.search"
    label = "search"
