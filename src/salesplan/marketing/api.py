"""API of the marketing app (mounted at /api/v1/marketing)."""

from ninja import Router

router = Router(tags=["marketing"])
