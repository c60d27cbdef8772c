from django.apps import AppConfig


class CompensationConfig(AppConfig):
    """Incentive compensation: plans, crediting, statements, disputes and payroll export."""

    name = "salesplan.compensation"
    label = "compensation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from salesplan.core import hooks

        from .services import deal_changed

        hooks.opportunity_changed.register(deal_changed)
