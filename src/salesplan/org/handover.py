"""The hand-over of a departing user's records: the plan a preview shows and the
fingerprint that makes applying it refuse a changed situation.

What a user holds is listed by the apps that own the records, through
``core.hooks.user_handover`` (org sits below them and imports none of them)."""

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from salesplan.core.hooks import Holding


def plan_fingerprint(user: Any, successor: Any, holdings: list[Holding]) -> str:
    """A digest of who leaves, who takes over and exactly which records move."""
    content = {
        "user": user.pk,
        "successor": successor.pk if successor is not None else None,
        "held": sorted([h.kind, h.goes_to, sorted(h.record_ids)] for h in holdings),
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class HandoverPlan:
    """The preview: each kind of record the user holds, and who gets it."""

    user: Any
    successor: Any
    holdings: list[Holding]
    fingerprint: str

    @property
    def total(self) -> int:
        return sum(len(h.record_ids) for h in self.holdings)

    def rows(self) -> list[dict]:
        """One row per kind, for the page and the API."""
        return [{"kind": h.kind, "label": h.label, "count": len(h.record_ids),
                 "record_ids": list(h.record_ids), "examples": list(h.examples),
                 "goes_to": self._recipient(h)} for h in self.holdings]

    def _recipient(self, holding: Holding) -> str:
        if holding.goes_to != "successor":
            return holding.goes_to
        if self.successor is None:
            return "the successor (choose one)"
        return self.successor.get_full_name() or self.successor.username
