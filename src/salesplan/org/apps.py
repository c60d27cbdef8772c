from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "salesplan.org"
    label = "org"

    def ready(self) -> None:
        from salesplan.core.handover import field_provider
        from salesplan.core.hooks import user_handover

        from .models import Team, User

        # A departing manager's teams and the people reporting to them go to the
        # successor (the apps above register what else a person holds).
        user_handover.register(field_provider("org", [
            ("teams_managed", "Teams managed", lambda u: Team.objects.filter(manager=u),
             "manager"),
            ("reports", "People reporting to them", lambda u: User.objects.filter(manager=u),
             "manager"),
        ]))
