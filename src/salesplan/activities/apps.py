from django.apps import AppConfig


class ActivitiesConfig(AppConfig):
    name = "salesplan.activities"
    label = "activities"
