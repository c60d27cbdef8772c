from django.apps import AppConfig


class ProposalsConfig(AppConfig):
    """Quotes with versions, discount approvals and PDF proposals."""

    name = "salesplan.proposals"
    label = "proposals"
    default_auto_field = "django.db.models.BigAutoField"
