"""The API caller fixture, shared with the API tests."""

from ..api.conftest import api_as  # noqa: F401 - a fixture
