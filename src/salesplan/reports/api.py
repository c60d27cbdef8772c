"""API of the reports app (mounted at /api/v1/reports)."""

from ninja import Router

router = Router(tags=["reports"])
