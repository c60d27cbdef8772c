"""Request and response bodies of the marketing API (`api.py`)."""

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from ninja import Field, Schema

from salesplan.core.api_support import (
    Currency,
    InputSchema,
    MoneyIn,
    MoneyOut,
    Version,
    choice_of,
    full_name,
)
from salesplan.customers.models import LeadSource

from .models import CampaignStatus, CampaignType, Channel, Response, RoutingMethod


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

