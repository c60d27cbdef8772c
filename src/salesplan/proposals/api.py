"""API of the proposals app (mounted at /api/v1/quotes)."""

from ninja import Router

router = Router(tags=["proposals"])
