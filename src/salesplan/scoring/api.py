"""API of the scoring app (mounted at /api/v1/scoring)."""

from ninja import Router

router = Router(tags=["scoring"])
