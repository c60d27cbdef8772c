"""API of the forecasting app (mounted at /api/v1/forecasts)."""

from ninja import Router

router = Router(tags=["forecasting"])
