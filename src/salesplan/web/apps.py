from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "salesplan.web"
    label = "web"
