import pytest

from ..api.conftest import api_as  # noqa: F401 - the API caller fixture, shared


@pytest.fixture
def as_user(client):
    def _as(user):
        client.force_login(user)
        return client
    return _as
