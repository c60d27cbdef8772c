"""Generated requests from the OpenAPI schema, as an admin and as a rep: the API never
answers with a server error, and its answers match the documented shapes.

Opt-in (`SALESPLAN_FUZZ=1`, with schemathesis installed): at two examples per operation
it takes about six minutes on two cores, too long for every run. The seed is fixed
(derandomize), so a run finds the same cases each time."""

import os

import pytest

if not os.environ.get("SALESPLAN_FUZZ"):
    pytest.skip("set SALESPLAN_FUZZ=1 to run the schema fuzz test", allow_module_level=True)
schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error, response_schema_conformance  # noqa: E402

from salesplan.config.api import api  # noqa: E402
from salesplan.config.wsgi import application  # noqa: E402
from salesplan.org.services import create_api_token  # noqa: E402

schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
schema.app = application
EXAMPLES = int(os.environ.get("SALESPLAN_FUZZ_EXAMPLES", "2"))


@pytest.fixture
def tokens(org):
    return {role: create_api_token(user, "fuzz")[1]
            for role, user in (("admin", org.admin), ("rep", org.west_rep))}


@schema.parametrize()
@settings(max_examples=EXAMPLES, derandomize=True, deadline=None,
          suppress_health_check=list(HealthCheck))
@pytest.mark.parametrize("role", ["admin", "rep"])
def test_no_server_errors_and_documented_shapes(case, role, tokens):
    case.call_and_validate(headers={"Authorization": f"Bearer {tokens[role]}"},
                           checks=[not_a_server_error, response_schema_conformance])
