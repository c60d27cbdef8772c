"""API of the pricing app (mounted at /api/v1/pricing)."""

from ninja import Router

router = Router(tags=["pricing"])
