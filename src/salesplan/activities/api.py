"""API for the selling log: calls, meetings, emails, tasks and notes."""

from datetime import datetime

from ninja import Field, Router, Schema

from salesplan.core.api_support import (
    DateTimeIn,
    InputSchema,
    RecordEndpoints,
    RecordId,
    choice_of,
    full_name,
    patch_schema,
)

from . import selectors, services
from .filters import ACTIVITY_LIST
from .models import Activity, ActivityKind, Outcome


class ActivityIn(InputSchema):
    kind: choice_of(ActivityKind)
    subject: str = Field(..., min_length=1, max_length=200)
    description: str = Field("", max_length=20_000)
    due_at: DateTimeIn | None = Field(
        None, description="When it happens or is due; without an offset, company time. "
                          "Default for a done activity: now.")
    duration_minutes: int = Field(0, ge=0, le=24 * 60)
    outcome: choice_of(Outcome, blank=True) = ""
    done: bool = False
    owner_id: RecordId | None = Field(None, description="Default: you.")
    account_id: RecordId | None = Field(None, description="Default: the contact's or "
                                                          "opportunity's account.")
    contact_id: RecordId | None = None
    opportunity_id: RecordId | None = None
    lead_id: RecordId | None = None


ActivityPatch = patch_schema(ActivityIn, "ActivityPatch")


class ActivityOut(Schema):
    id: int
    kind: str
    subject: str
    description: str
    due_at: datetime
    duration_minutes: int
    outcome: str
    done: bool
    done_at: datetime | None
    owner_id: int
    owner_name: str
    account_id: int | None
    contact_id: int | None
    opportunity_id: int | None
    lead_id: int | None
    version: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_owner_name(activity) -> str:
        return full_name(activity.owner)


activities = RecordEndpoints(
    name="activity", plural="activities", model=Activity, listing=ACTIVITY_LIST,
    select=selectors.activity_list, related=("owner",), out=ActivityOut,
    create_in=ActivityIn, patch_in=ActivityPatch, create=services.log_activity,
    update=services.update_activity, delete=services.delete_activity)

activity_router = Router(tags=["activities"])
activities.register(activity_router)


class CompleteIn(InputSchema):
    outcome: choice_of(Outcome, blank=True) = Field("", description="How it went.")


@activity_router.post("/{id}/complete", response=ActivityOut)
def complete_activity(request, id: int, payload: CompleteIn):
    """Mark the activity done (now), optionally with its outcome. Completing a done
    activity changes nothing."""
    activity = activities.get(request, id)
    services.complete_activity(activity, by=request.auth, outcome=payload.outcome)
    return activities.reread(activity)
