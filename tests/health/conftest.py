from ..api.conftest import api_as  # noqa: F401 - the API caller fixture, shared
