"""The inbox tests reuse the routing map (marketing) and the plan (planning) fixtures."""

from ..api.conftest import api_as  # noqa: F401 - the API caller fixture, shared
from ..marketing.conftest import policy, territory_map  # noqa: F401
from ..planning.conftest import west_plan  # noqa: F401
