from django.apps import AppConfig


class ForecastingConfig(AppConfig):
    """Calibrated weighted pipeline, forecast submissions, statistical forecasts."""

    name = "salesplan.forecasting"
    label = "forecasting"
    default_auto_field = "django.db.models.BigAutoField"
