"""The JSON API at /api/v1/: one NinjaAPI assembling each app's router.

Callers authenticate with an API token (`Authorization: Bearer sp_…`) or, from the
browser, with their login session (unsafe methods then need the CSRF token). Errors
are RFC 9457 problem details. The schema is committed as docs/openapi.json: after
changing an endpoint run `salesplan openapi` (CI runs `salesplan openapi --check`).
"""

from salesplan.activities.api import activity_router
from salesplan.core.api_support import (
    BrowserSessionAuth,
    EdgeParser,
    SalesplanAPI,
    SwaggerDocs,
    install_error_handlers,
)
from salesplan.core.jobs_api import router as jobs_router
from salesplan.customers.api import account_router, contact_router, lead_router
from salesplan.org.api import router as me_router
from salesplan.org.auth import ApiTokenAuth
from salesplan.pipeline.api import opportunity_router, pipeline_router
from salesplan.search.api import router as search_router

api = SalesplanAPI(
    title="Salesplan API",
    version="1",
    description=(
        "Accounts, contacts, leads, opportunities and activities of a Salesplan "
        "installation. Authenticate with `Authorization: Bearer <token>` (create one with "
        "`salesplan token create USERNAME`) or a browser session. Lists are paged with "
        "cursors: pass `next_cursor` back as `cursor`. Changes need the record's "
        "`version`; a stale one is refused with 409. Errors are problem details "
        "(`application/problem+json`) whose `errors` name each wrong field."
    ),
    urls_namespace="api",
    auth=[ApiTokenAuth(), BrowserSessionAuth()],
    docs=SwaggerDocs(),
    parser=EdgeParser(),
)
install_error_handlers(api)

api.add_router("/me", me_router)
api.add_router("/accounts", account_router)
api.add_router("/contacts", contact_router)
api.add_router("/leads", lead_router)
api.add_router("/pipelines", pipeline_router)
api.add_router("/opportunities", opportunity_router)
api.add_router("/activities", activity_router)
api.add_router("/search", search_router)
api.add_router("/jobs", jobs_router)
# --- Other apps' routers: add yours below (one line each). ---------------------------
# imports: api.add_router("/imports", imports_router)  (from salesplan.imports.api)
api.add_router("/imports", "salesplan.imports.api.imports_router")
api.add_router("/territories", "salesplan.territories.api.territory_router")
api.add_router("/plans", "salesplan.planning.api.plan_router")
api.add_router("/pricing", "salesplan.pricing.api.router")
api.add_router("/quotes", "salesplan.proposals.api.router")
api.add_router("/reports", "salesplan.reports.api.router")
api.add_router("/forecasts", "salesplan.forecasting.api.router")
api.add_router("/health", "salesplan.health.api.router")
api.add_router("/quality", "salesplan.quality.api.router")
api.add_router("/marketing", "salesplan.marketing.api.router")
api.add_router("/scoring", "salesplan.scoring.api.router")
api.add_router("/comp", "salesplan.compensation.api.router")
api.add_router("/collab", "salesplan.collab.api.router")
api.add_router("/mail", "salesplan.mail.api.router")
api.add_router("/inbox", "salesplan.inbox.api.router")
api.add_router("/people", "salesplan.org.api_people.people_router")
api.add_router("/teams", "salesplan.org.api_people.team_router")
api.add_router("/signon", "salesplan.signon.api.router")
api.add_router("/visits", "salesplan.visits.api.router")
api.add_router("", "salesplan.savedviews.api.router")
