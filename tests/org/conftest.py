from tests.api.conftest import api_as  # noqa: F401 (fixture)
from tests.smtp_server import smtp_server  # noqa: F401 (fixture)
