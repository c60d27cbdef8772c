from django.apps import AppConfig


class ProposalsConfig(AppConfig):
    """Quotes with versions, discount approvals and PDF proposals."""

    name = "salesplan.proposals"
    label = "proposals"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from salesplan.core.hooks import user_handover

        from .handover import provider

        user_handover.register(provider)
