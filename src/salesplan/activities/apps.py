from django.apps import AppConfig


class ActivitiesConfig(AppConfig):
    name = "salesplan.activities"
    label = "activities"

    def ready(self) -> None:
        from salesplan.core.handover import field_provider
        from salesplan.core.hooks import user_handover

        from .models import Activity

        user_handover.register(field_provider("activities", [
            ("activities", "Open activities",
             lambda u: Activity.objects.filter(owner=u, done=False), "owner"),
        ]))
