"""API of the marketing app (mounted at /api/v1/marketing).

    GET/POST   /campaigns                       campaigns (marketing and admins write)
    GET/PATCH/DELETE /campaigns/{id}
    GET/POST   /campaigns/{id}/members          members and their responses
    GET        /attribution?model=first|last|linear   pipeline, bookings and ROI by campaign
    POST       /attribution/refresh             recompute the touches
    GET/POST   /forms, GET/PATCH /forms/{id}    capture forms
    POST       /capture/{form_key}              public: a web-form submission (no login)
    GET        /queue, POST /queue/route        the routing queue; route pending leads
    POST       /queue/{lead_id}/assign          hand a queued lead to a rep
    GET        /leads/{id}/handoff              stage, SLA clock and routing log
    POST       /leads/{id}/accept|qualify|convert|recycle|disqualify|requalify
    GET        /sla                             first-touch clocks of routed leads
    GET        /feedback?group=campaign|source  what marketing's leads became
    GET/PUT    /policy                          SLA hours, routing method, capacity
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status

from salesplan.core.api_support import (
    Currency,
    InputSchema,
    MoneyIn,
    MoneyOut,
    Version,
    VersionParam,
    choice_of,
    full_name,
    get_record,
    problem,
)
from salesplan.core.edge import read_json, read_json_object
from salesplan.core.errors import NotFound, VersionRequired
from salesplan.core.jobs import start_job
from salesplan.core.jobs_api import ACCEPTED, accepted
from salesplan.customers.models import Lead, LeadSource
from salesplan.org.models import User

from . import access, attribution, capture, intake, selectors, services
from .models import (
    Campaign,
    CampaignStatus,
    CampaignType,
    CaptureForm,
    Channel,
    LeadHandoff,
    MarketingPolicy,
    RepCapacity,
    Response,
    RoutingMethod,
)

router = Router(tags=["marketing"])

# --- schemas -------------------------------------------------------------------------------


class CampaignIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=200)
    type: choice_of(CampaignType) = CampaignType.OTHER
    channel: choice_of(Channel) = Channel.WEB
    status: choice_of(CampaignStatus) = CampaignStatus.PLANNED
    owner_id: int | None = None
    start_date: date | None = None
    end_date: date | None = None
    budget: MoneyIn = Decimal(0)
    actual_cost: MoneyIn = Decimal(0)
    currency: Currency = "USD"
    description: str = Field("", max_length=5000)


class CampaignPatch(InputSchema):
    name: str | None = Field(None, min_length=1, max_length=200)
    type: choice_of(CampaignType) | None = None
    channel: choice_of(Channel) | None = None
    status: choice_of(CampaignStatus) | None = None
    start_date: date | None = None
    end_date: date | None = None
    budget: MoneyIn | None = None
    actual_cost: MoneyIn | None = None
    currency: Currency | None = None
    description: str | None = Field(None, max_length=5000)
    version: Version


class CampaignOut(Schema):
    id: int
    name: str
    type: str
    channel: str
    status: str
    owner_id: int
    owner_name: str
    start_date: date | None
    end_date: date | None
    budget: MoneyOut
    actual_cost: MoneyOut
    currency: str
    description: str
    version: int

    @staticmethod
    def resolve_owner_name(obj) -> str:
        return full_name(obj.owner)


class MembersIn(InputSchema):
    lead_ids: list[int] = Field(default_factory=list, max_length=10_000)
    contact_ids: list[int] = Field(default_factory=list, max_length=10_000)
    response: choice_of(Response) = Response.SENT


class CampaignMemberOut(Schema):
    id: int
    lead_id: int | None
    contact_id: int | None
    name: str
    email: str
    response: str
    responded_at: datetime | None
    version: int

    @staticmethod
    def resolve_name(obj) -> str:
        person = obj.lead or obj.contact
        return person.full_name if person else ""

    @staticmethod
    def resolve_email(obj) -> str:
        person = obj.lead or obj.contact
        return person.email if person else ""


class AttributionRow(Schema):
    campaign_id: int
    campaign: str
    currency: str
    actual_cost: MoneyOut
    pipeline: dict[str, str]
    bookings: dict[str, str]
    open_opportunities: int
    won_opportunities: int
    roi: str | None


class AttributionOut(Schema):
    model: str
    refreshed_at: datetime | None
    campaigns: list[AttributionRow]


class FormIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=120)
    campaign_id: int | None = None
    fields: list[str] = Field(default_factory=list, max_length=20)
    required_fields: list[str] = Field(default_factory=list, max_length=20)
    source: choice_of(LeadSource) = LeadSource.WEB
    response: choice_of(Response) = Response.RESPONDED
    queue_owner_id: int | None = None
    is_active: bool = True
    rate_limit: int = Field(20, ge=1, le=1_000_000)
    thank_you: str = Field("Thank you, we will be in touch.", max_length=300)


class FormPatch(InputSchema):
    name: str | None = Field(None, min_length=1, max_length=120)
    fields: list[str] | None = Field(None, max_length=20)
    required_fields: list[str] | None = Field(None, max_length=20)
    is_active: bool | None = None
    rate_limit: int | None = Field(None, ge=1, le=1_000_000)
    thank_you: str | None = Field(None, max_length=300)
    version: Version


class FormOut(Schema):
    id: int
    name: str
    key: str
    campaign_id: int | None
    fields: list[str]
    required_fields: list[str]
    source: str
    response: str
    queue_owner_id: int
    is_active: bool
    rate_limit: int
    capture_url: str
    page_url: str
    version: int

    @staticmethod
    def resolve_capture_url(obj) -> str:
        return f"/api/v1/marketing/capture/{obj.key}"

    @staticmethod
    def resolve_page_url(obj) -> str:
        from django.urls import reverse

        return reverse("web:marketing:public_form", args=[obj.key])


class CaptureOut(Schema):
    status: Literal["accepted"]
    message: str
    submission_id: int | None = Field(None, description="The stored submission (None when "
                                                        "it was taken for a bot's).")


class EventOut(Schema):
    kind: str
    at: datetime
    message: str
    territory_id: int | None
    assigned_to_id: int | None
    by_id: int | None


class HandoffOut(Schema):
    lead_id: int
    lead: str
    owner_id: int
    stage: str
    reason: str
    campaign_id: int | None
    source: str
    territory_id: int | None
    queued: bool
    queue_reason: str
    routed_at: datetime | None
    sla_due_at: datetime | None
    first_touch_at: datetime | None
    escalated_at: datetime | None
    transitions: list[str] = []
    events: list[EventOut] = []


class AssignIn(InputSchema):
    rep_id: int


class SlaOut(Schema):
    lead_id: int
    lead: str
    owner: str
    routed_at: datetime | None
    sla_due_at: datetime | None
    first_touch_at: datetime | None
    state: str


class FeedbackRow(Schema):
    name: str
    leads: int
    converted: int
    disqualified: int
    recycled: int
    open: int
    conversion_rate: float | None
    avg_hours_to_first_touch: float | None
    sla_compliance: float | None


class ReasonRow(Schema):
    name: str
    stage: str
    reason: str
    count: int


class FeedbackOut(Schema):
    group: str
    days: int
    rows: list[FeedbackRow]
    reasons: list[ReasonRow]


class PolicyIO(Schema):
    sla_hours: int = Field(..., ge=1, le=720)
    routing_method: choice_of(RoutingMethod)
    default_capacity: int = Field(..., ge=0, le=100_000)
    version: Version


class RouteOut(Schema):
    routed: int
    queued: int


# --- campaigns ---------------------------------------------------------------------------


def _campaign(request, pk: int) -> Campaign:
    access.require_view_campaigns(request.user)
    found = Campaign.objects.select_related("owner").filter(pk=pk).first()
    if found is None:
        raise NotFound(f"No campaign with id {pk}.")
    return found


def _user(pk: int | None, field: str) -> User | None:
    if pk is None:
        return None
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None:
        raise ValidationError({field: f"No active user with id {pk}."})
    return user


@router.get("/campaigns", response=list[CampaignOut])
def list_campaigns(request, status: choice_of(CampaignStatus) | None = None):
    """Campaigns, newest first (every signed-in user reads them)."""
    rows = selectors.campaigns(request.user)
    if status:
        rows = rows.filter(status=status)
    return rows[:500]


@router.post("/campaigns", response={201: CampaignOut})
def create_campaign(request, payload: CampaignIn):
    data = payload.model_dump()
    data["owner"] = _user(data.pop("owner_id"), "owner_id") or request.user
    return Status(201, services.create_campaign(by=request.user, data=data))


@router.get("/campaigns/{int:id}", response=CampaignOut)
def get_campaign(request, id: int):
    return _campaign(request, id)


@router.patch("/campaigns/{int:id}", response=CampaignOut)
def update_campaign(request, id: int, payload: CampaignPatch):
    campaign = _campaign(request, id)
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version")
    services.update_campaign(campaign, by=request.user, data=data, expected_version=version)
    return _campaign(request, id)


@router.delete("/campaigns/{int:id}", response={204: None})
def delete_campaign(request, id: int, version: VersionParam):
    services.delete_campaign(_campaign(request, id), by=request.user, expected_version=version)
    return Status(204, None)


@router.get("/campaigns/{int:id}/members", response=list[CampaignMemberOut])
def list_members(request, id: int):
    """Members you may see, most recently changed first (at most 200)."""
    return list(selectors.members(_campaign(request, id), request.user))


@router.post("/campaigns/{int:id}/members", response={200: dict[str, int]})
def add_members(request, id: int, payload: MembersIn):
    added = services.add_members(_campaign(request, id), by=request.user,
                                 lead_ids=payload.lead_ids, contact_ids=payload.contact_ids,
                                 response=payload.response)
    return {"added": added}


# --- attribution ---------------------------------------------------------------------------


def attribution_rows(results) -> list[dict[str, Any]]:
    return [{
        "campaign_id": r.campaign.pk, "campaign": r.campaign.name,
        "currency": r.campaign.currency, "actual_cost": r.campaign.actual_cost,
        "pipeline": {c: str(v) for c, v in r.pipeline.items()},
        "bookings": {c: str(v) for c, v in r.bookings.items()},
        "open_opportunities": r.open_count, "won_opportunities": r.won_count,
        "roi": str(r.roi) if r.roi is not None else None,
    } for r in results]


@router.get("/attribution", response=AttributionOut)
def get_attribution(request, model: Literal["first", "last", "linear"] = "linear"):
    """Pipeline (open) and bookings (won) each campaign influenced, shared by the model."""
    access.require_view_results(request.user)
    results = attribution.report(model, selectors.campaigns(request.user).order_by("name", "id"))
    return {"model": model, "refreshed_at": MarketingPolicy.current().attribution_refreshed_at,
            "campaigns": attribution_rows(results)}


@router.post("/attribution/refresh", **ACCEPTED)
def refresh_attribution(request, response: HttpResponse):
    """Recompute the touches in the background; follow the job at its `Location`,
    /api/v1/jobs/{id}, or on the Jobs page."""
    access.require_manage(request.user)
    return accepted(response, start_refresh(request.user))


def start_refresh(user):

    from .tasks import refresh_attribution as task

    return start_job("attribution", by=user, task=task)


# --- capture forms -----------------------------------------------------------------------


def _form(request, pk: int) -> CaptureForm:
    access.require_manage(request.user)
    found = CaptureForm.objects.filter(pk=pk).first()
    if found is None:
        raise NotFound(f"No capture form with id {pk}.")
    return found


@router.get("/forms", response=list[FormOut])
def list_forms(request):
    return list(selectors.forms(request.user)[:500])


@router.post("/forms", response={201: FormOut})
def create_form(request, payload: FormIn):
    data = payload.model_dump()
    campaign_id = data.pop("campaign_id")
    if campaign_id is not None:
        data["campaign"] = Campaign.objects.filter(pk=campaign_id).first()
        if data["campaign"] is None:
            raise ValidationError({"campaign_id": f"No campaign with id {campaign_id}."})
    data["queue_owner"] = _user(data.pop("queue_owner_id"), "queue_owner_id") or request.user
    return Status(201, services.create_form(by=request.user, data=data))


@router.get("/forms/{int:id}", response=FormOut)
def get_form(request, id: int):
    return _form(request, id)


@router.patch("/forms/{int:id}", response=FormOut)
def update_form(request, id: int, payload: FormPatch):
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version")
    return services.update_form(_form(request, id), by=request.user, data=data,
                                expected_version=version)


def client_address(request: HttpRequest) -> str:
    """The submitting address, for rate limiting. Behind N reverse proxies of our own
    (setting MARKETING_TRUSTED_PROXIES = N), the address the nearest of them saw is read
    from the right of X-Forwarded-For; entries further left were written by the visitor
    and are never trusted. Without the setting, the connection's own address."""
    from django.conf import settings

    proxies = int(getattr(settings, "MARKETING_TRUSTED_PROXIES", 0) or 0)
    if proxies > 0:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
                if h.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def rate_limited(exc: capture.RateLimited) -> HttpResponse:
    response = problem(429, "Too many submissions", str(exc), kind="rate-limited")
    response["Retry-After"] = str(exc.retry_after)
    return response


@router.post("/capture/{form_key}", auth=None, response={202: CaptureOut},
             openapi_extra={"requestBody": {"content": {"application/json": {
                 "schema": {"type": "object", "additionalProperties": {"type": "string"}}}}}})
def capture_lead(request, form_key: str):
    """A web-form submission, without login: the form's key is its credential. Fields:
    first_name, last_name, email and the fields the form shows. Invalid fields get 422
    naming them; more than the form's per-minute allowance from one address gets 429
    with Retry-After. 202 means the submission is stored; it becomes a lead moments
    later: a submission from a known email updates that lead (or records the response
    on that contact) instead of creating a duplicate, and a new lead is routed."""
    form = capture.active_form(form_key)
    if form is None:
        return problem(404, "Not found", "No active form with this key.", kind="not-found")
    body = read_json_object(request)
    try:
        receipt = intake.submit(form, body, address=client_address(request), strict=True)
    except capture.RateLimited as exc:
        return rate_limited(exc)
    except intake.IntakeUnavailable:
        response = problem(503, "Try again shortly", "The submission could not be stored "
                           "just now; nothing was saved.", kind="unavailable")
        response["Retry-After"] = "5"
        return response
    return Status(202, {"status": "accepted", "message": form.thank_you,
                        "submission_id": receipt.submission_id})


# --- routing queue and handoff -----------------------------------------------------------


def handoff_out(handoff: LeadHandoff, user, *, detail: bool = False) -> dict[str, Any]:
    lead = handoff.lead
    data = {k: getattr(handoff, k) for k in (
        "lead_id", "stage", "reason", "campaign_id", "source", "territory_id", "queued",
        "queue_reason", "routed_at", "sla_due_at", "first_touch_at", "escalated_at")}
    data.update(lead=str(lead), owner_id=lead.owner_id)
    if detail:
        panel = selectors.panel(lead, user)
        data["first_touch_at"] = panel["touched_at"]
        data["transitions"] = panel["transitions"]
        data["events"] = list(panel["events"])
    return data


@router.get("/queue", response=list[HandoffOut])
def list_queue(request):
    """Leads no territory or rep could take, with the reason, oldest first."""
    return [handoff_out(h, request.user) for h in selectors.queue(request.user)]


@router.post("/queue/route", response=RouteOut)
def route_pending(request):
    """Route leads created or imported without routing, and retry the queue."""
    access.require_work_queue(request.user)
    from .routing import route_pending as run

    return run(by=request.user)


@router.post("/queue/{int:lead_id}/assign", response=HandoffOut)
def assign_queued(request, lead_id: int, payload: AssignIn):
    access.require_work_queue(request.user)
    lead = Lead.objects.filter(pk=lead_id).first()
    if lead is None:
        raise NotFound(f"No lead with id {lead_id}.")
    rep = _user(payload.rep_id, "rep_id")
    if rep is None:
        raise ValidationError({"rep_id": "Name the rep."})
    handoff = services.assign_from_queue(lead, rep, by=request.user)
    return handoff_out(handoff, request.user, detail=True)


def _visible_lead(request, pk: int) -> Lead:
    return get_record(Lead, request.user, pk, related=("owner",))


@router.get("/leads/{int:id}/handoff", response=HandoffOut)
def get_handoff(request, id: int):
    lead = _visible_lead(request, id)
    handoff = LeadHandoff.objects.filter(lead=lead).first()
    if handoff is None:
        raise NotFound("This lead has not been routed.")
    handoff.lead = lead
    return handoff_out(handoff, request.user, detail=True)


def _reason(request) -> str:
    """The optional {"reason": "…"} body of a transition (an empty body is fine)."""
    if "json" not in (request.content_type or "") or not request.body:
        return str(request.POST.get("reason", ""))[:300] if request.method == "POST" else ""
    body = read_json(request)
    unknown = [k for k in body if k != "reason"] if isinstance(body, dict) else ["body"]
    if unknown:
        raise ValidationError({unknown[0]: "Only a reason may be sent."})
    reason = body.get("reason", "")
    if not isinstance(reason, str) or len(reason) > 300:
        raise ValidationError({"reason": "Send text of at most 300 characters."})
    return reason


REASON_BODY = {"requestBody": {"required": False, "content": {"application/json": {
    "schema": {"type": "object", "properties": {"reason": {"type": "string", "maxLength": 300}},
               "additionalProperties": False}}}}}


def _transition_endpoint(name: str, doc: str) -> None:
    def handler(request, id: int):
        lead = _visible_lead(request, id)
        handoff = services.transition(lead, name, by=request.user, reason=_reason(request))
        handoff.lead = Lead.objects.get(pk=lead.pk)
        return handoff_out(handoff, request.user, detail=True)

    handler.__name__ = f"{name}_lead"
    handler.__doc__ = doc
    router.post(f"/leads/{{int:id}}/{name}", response=HandoffOut,
                openapi_extra=REASON_BODY)(handler)


for _name, _doc in (
        ("accept", "Sales accepts a marketing-qualified lead."),
        ("qualify", "Sales qualifies an accepted lead."),
        ("convert", "A sales-qualified lead is converted (into an account, contact and deal "
                    "unless already converted)."),
        ("recycle", "Send an open lead back to marketing for nurturing (reason required)."),
        ("disqualify", "Disqualify an open lead (reason required)."),
        ("requalify", "Marketing sends a recycled lead back to sales; it is routed again.")):
    _transition_endpoint(_name, _doc)


@router.get("/sla", response=list[SlaOut])
def sla_board(request, open_only: bool = True):
    """Routed leads you may see with their first-touch clocks, most urgent first."""
    return [{"lead_id": r.handoff.lead_id, "lead": str(r.handoff.lead),
             "owner": full_name(r.handoff.lead.owner), "routed_at": r.handoff.routed_at,
             "sla_due_at": r.handoff.sla_due_at, "first_touch_at": r.touched_at,
             "state": r.state} for r in selectors.sla_board(request.user, open_only=open_only)]


@router.get("/feedback", response=FeedbackOut)
def get_feedback(request, group: Literal["campaign", "source"] = "campaign",
                 days: int = Query(365, ge=1, le=3660)):
    """Conversion and disqualification by campaign or source, time to first touch, SLA."""
    return selectors.feedback(request.user, group=group, days=days)


@router.get("/policy", response=PolicyIO)
def get_policy(request):
    access.require_view_campaigns(request.user)
    return MarketingPolicy.current()


@router.put("/policy", response=PolicyIO)
def put_policy(request, payload: PolicyIO):
    data = payload.model_dump()
    version = data.pop("version")
    return services.update_policy(by=request.user, expected_version=version, **data)


class RepCapacityOut(Schema):
    user_id: int
    name: str
    team: str | None
    max_open_leads: int = Field(description="Most open leads routing gives this rep.")
    own_limit: bool = Field(description="False: the policy's default applies.")
    version: int | None = Field(description="Send it back to change or clear an own limit.")
    open_leads: int = Field(description="Open leads the rep holds now.")


class RepCapacityIn(InputSchema):
    max_open_leads: int | None = Field(
        ..., ge=0, le=100_000, description="The rep's own limit; null: the policy's default.")
    version: Version | None = Field(
        None, description="The version read; needed when the rep already has a limit.")


def _capacity_out(row: selectors.CapacityRow) -> dict:
    return {"user_id": row.user.pk, "name": full_name(row.user),
            "team": row.user.team.name if row.user.team is not None else None,
            "max_open_leads": row.max_open_leads, "own_limit": row.own_limit,
            "version": row.version, "open_leads": row.open_leads}


@router.get("/capacity", response=list[RepCapacityOut])
def list_capacity(request):
    """Each rep you answer for, with the open leads routing may give them and holds now."""
    return [_capacity_out(row) for row in selectors.capacity_rows(request.user)]


@router.put("/capacity/{int:user_id}", response=RepCapacityOut)
def put_capacity(request, user_id: int, payload: RepCapacityIn):
    """Set a rep's own limit of open leads, or clear it (null) to use the policy's."""
    rep = selectors.capacity_person(request.user, user_id)
    if rep is None:
        raise NotFound(f"No rep with id {user_id}.")
    if payload.version is None and RepCapacity.objects.filter(user=rep).exists():
        access.require_set_capacity(request.user)  # who may not act is told that first
        raise VersionRequired("version")  # replacing a limit someone may have just set
    services.set_capacity(rep, by=request.user, max_open_leads=payload.max_open_leads,
                          expected_version=payload.version)
    row = next(r for r in selectors.capacity_rows(request.user) if r.user.pk == rep.pk)
    return _capacity_out(row)
