from django.apps import AppConfig


class VisitsConfig(AppConfig):
    """Field visits: visit frequencies, each rep's routed days, check-in and coverage."""

    name = "salesplan.visits"
    label = "visits"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from salesplan.core.handover import field_provider
        from salesplan.core.hooks import account_workload, user_handover

        from .models import PlannedVisit, VisitStatus
        from .workload import PROVIDER

        # Territory goals and the alignment optimiser weigh accounts by their visit days.
        account_workload.register(PROVIDER)

        user_handover.register(field_provider("visits", [(
            "planned_visits", "Planned visits",
            lambda u: PlannedVisit.objects.filter(owner=u, status=VisitStatus.PLANNED),
            "owner")]))
