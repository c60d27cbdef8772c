"""API of the collab app (mounted at /api/v1/collab)."""

from ninja import Router

router = Router(tags=["collab"])
