from django.apps import AppConfig


class PlanningConfig(AppConfig):
    """The Sales Management Plan: objectives, allocation, commitments, plan vs actual."""

    name = "salesplan.planning"
    label = "planning"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from salesplan.core.handover import field_provider
        from salesplan.core.hooks import user_handover

        from .models import Objective, Plan, PlanStatus

        # Targets of plans still running; a closed plan keeps who it measured.
        user_handover.register(field_provider("planning", [
            ("plans", "Plans owned", lambda u: Plan.objects.filter(owner=u).exclude(
                status=PlanStatus.CLOSED), "owner"),
            ("plan_targets", "Plan targets", lambda u: Objective.objects.filter(rep=u).exclude(
                plan__status=PlanStatus.CLOSED), "rep"),
        ]))
