import random

import pytest

from ..api.conftest import api_as  # noqa: F401 - the API caller fixture, shared
from ..factories import make_lead


@pytest.fixture
def as_user(client):
    def _as(user):
        client.force_login(user)
        return client
    return _as


def closed_history(owners, *, converted: int, disqualified: int, seed: int = 5):
    """Closed leads where healthcare converts far more often than retail."""
    rng = random.Random(seed)
    made = []
    for status, count in (("converted", converted), ("unqualified", disqualified)):
        for _ in range(count):
            good = rng.random() < (0.8 if status == "converted" else 0.25)
            made.append(make_lead(rng.choice(owners), status=status,
                                  industry="Healthcare" if good else "Retail",
                                  employees=rng.choice([20, 200, 2000]), source="web"))
    return made
