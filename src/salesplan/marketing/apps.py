from django.apps import AppConfig


class MarketingConfig(AppConfig):
    """Campaigns, attribution, lead capture, scoring, routing, handoff, SLA and feedback."""

    name = "salesplan.marketing"
    label = "marketing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from salesplan.core import hooks

        from . import bulk_members, intake  # noqa: F401 — intake connects the form signal
        from .notices import settle_lead
        from .routing import route_committed_lead

        # Registered before scoring's receiver (marketing comes first in INSTALLED_APPS):
        # a new lead is routed, then scored.
        hooks.lead_committed.register(route_committed_lead)
        # After routing: a lead touched, accepted or given away leaves its rep's inbox.
        hooks.lead_committed.register(settle_lead)
        # The lists' bulk action "add to campaign".
        bulk_members.register()
