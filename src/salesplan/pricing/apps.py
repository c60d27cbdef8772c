from django.apps import AppConfig


class PricingConfig(AppConfig):
    """Catalogue, price books, pricing rules, taxes and exchange rates."""

    name = "salesplan.pricing"
    label = "pricing"
    default_auto_field = "django.db.models.BigAutoField"
