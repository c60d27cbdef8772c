"""API of the marketing app (mounted at /api/v1/marketing).

    /campaigns, /campaigns/{id}             campaigns (record kit: list with ?status=,
                                            export.csv, create, get, change, delete, audit;
                                            marketing users and admins write)
    GET/POST   /campaigns/{id}/members          members and their responses
    GET        /attribution?model=first|last|linear   pipeline, bookings and ROI by campaign
    POST       /attribution/refresh             recompute the touches
    /forms, /forms/{id}                     capture forms (record kit: no delete)
    POST       /capture/{form_key}              public: a web-form submission (no login)
    GET        /queue, POST /queue/route        the routing queue; route pending leads
    POST       /queue/{lead_id}/assign          hand a queued lead to a rep
    GET        /leads/{id}/handoff              stage, SLA clock and routing log
    POST       /leads/{id}/accept|qualify|convert|recycle|disqualify|requalify
    GET        /sla                             first-touch clocks of routed leads
    GET        /feedback?group=campaign|source  what marketing's leads became
    GET/PUT    /policy                          SLA hours, routing method, capacity
"""

from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Status

from salesplan.core.api_support import (
    full_name,
    get_record,
    problem,
)
from salesplan.core.edge import read_json, read_json_object
from salesplan.core.errors import NotFound, VersionRequired
from salesplan.core.jobs import start_job
from salesplan.core.jobs_api import ACCEPTED, accepted
from salesplan.core.record_kit import Actions, RecordType, install
from salesplan.customers.models import Lead
from salesplan.org.models import User

from . import access, attribution, capture, filters, intake, selectors, services
from .models import (
    Campaign,
    CaptureForm,
    LeadHandoff,
    MarketingPolicy,
    RepCapacity,
)
from .schemas import (
    AssignIn,
    AttributionOut,
    CampaignIn,
    CampaignMemberOut,
    CampaignOut,
    CampaignPatch,
    CaptureOut,
    FeedbackOut,
    FormIn,
    FormOut,
    FormPatch,
    HandoffOut,
    MembersIn,
    PolicyIO,
    RepCapacityIn,
    RepCapacityOut,
    RouteOut,
    SlaOut,
)

router = Router(tags=["marketing"])

# --- campaigns and capture forms (the record kit) -------------------------------------


def _active_user(field: str):
    """A finder of the active user a `*_id` names (the field is named if there is none)."""
    def find(user, pk: int) -> User:
        found = User.objects.filter(pk=pk, is_active=True).first()
        if found is None:
            raise ValidationError({field: f"No active user with id {pk}."})
        return found
    return find


def _user(pk: int | None, field: str) -> User | None:
    return None if pk is None else _active_user(field)(None, pk)


def _campaign(user, pk: int) -> Campaign:
    found = selectors.campaign(user, pk)
    if found is None:
        raise NotFound(f"No campaign with id {pk}.")
    return found


def _form_campaign(user, pk: int) -> Campaign:
    found = Campaign.objects.filter(pk=pk).first()
    if found is None:
        raise ValidationError({"campaign_id": f"No campaign with id {pk}."})
    return found


def _without_none(key: str, data: dict) -> dict:
    """An owner sent as null is left to the service's default (the writer)."""
    return {k: v for k, v in data.items() if k != key or v is not None}


# Everyone signed in reads campaigns; marketing users and admins manage them and their
# capture forms (whose keys and routing only they see).
MANAGE = Actions(view="view", create="manage", change="manage", delete="manage")

campaigns = RecordType(
    name="campaign", plural="campaigns", path="campaigns", resource="campaign",
    actions=MANAGE, model=Campaign, rows=selectors.campaigns, out=CampaignOut,
    listing=filters.CAMPAIGNS, paged=False, create_in=CampaignIn, patch_in=CampaignPatch,
    references={"owner_id": _active_user("owner_id")},
    create=lambda *, by, data: services.create_campaign(by=by,
                                                        data=_without_none("owner", data)),
    update=services.update_campaign, delete=services.delete_campaign,
    summaries={"list": "Campaigns, the latest start first (everyone signed in reads them)"})

forms = RecordType(
    name="form", plural="forms", path="forms", label="capture form", resource="campaign",
    actions=Actions(view="manage", create="manage", change="manage", delete="manage"),
    model=CaptureForm, rows=selectors.forms, out=FormOut, paged=False, create_in=FormIn,
    patch_in=FormPatch,
    references={"campaign_id": _form_campaign,
                "queue_owner_id": _active_user("queue_owner_id")},
    create=lambda *, by, data: services.create_form(by=by,
                                                    data=_without_none("queue_owner", data)),
    update=services.update_form,
    summaries={"list": "Capture forms (marketing users and admins)"})

install(router, "/marketing", [campaigns, forms])


@router.get("/campaigns/{int:id}/members", response=list[CampaignMemberOut])
def list_members(request, id: int):
    """Members you may see, most recently changed first (at most 200)."""
    return list(selectors.members(_campaign(request.user, id), request.user))


@router.post("/campaigns/{int:id}/members", response={200: dict[str, int]})
def add_members(request, id: int, payload: MembersIn):
    added = services.add_members(_campaign(request.user, id), by=request.user,
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
