from django.apps import AppConfig


class PipelineConfig(AppConfig):
    name = "salesplan.pipeline"
    label = "pipeline"

    def ready(self) -> None:
        from salesplan.core.handover import field_provider
        from salesplan.core.hooks import user_handover

        from .models import Opportunity, StageKind

        user_handover.register(field_provider("pipeline", [
            ("opportunities", "Open opportunities",
             lambda u: Opportunity.objects.filter(owner=u, status=StageKind.OPEN), "owner"),
        ]))
