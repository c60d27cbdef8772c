"""API of field visits (mounted at /api/v1/visits).

    GET    /settings                      the company's visit-planning settings
    PATCH  /settings                      change them (admins; with the version read)
    /rules                                visit frequency rules per tier and industry (record kit)
    /profiles                             how each account is visited (record kit)
    GET    /visits?rep_id&start&days      visits you may see (a rep: their own)
    GET    /today?rep_id&day              a rep's day: ordered stops with times
    GET    /visits/{id}                   one visit
    POST   /visits/{id}/check-in          at the account: logs a meeting on it
    POST   /visits/{id}/check-out         done: the meeting is done, with its outcome
    POST   /visits/{id}/skip              skip with a reason; the day is re-planned
    POST   /visits/{id}/move              move to another day with a reason; both re-planned
    POST   /plans                         plan reps' horizon in the background (202, a job)
    GET    /coverage                      required vs planned vs done per tier, driving, overdue
    GET    /workload                      selling days a month per territory vs days available
    POST   /what-if                       a rep's horizon with another home base or
                                          territories, planned in memory: before and after
"""

from datetime import date, datetime, time
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.http import HttpResponse
from ninja import Field, Query, Router, Schema
from pydantic import AfterValidator, PlainSerializer, WithJsonSchema

from salesplan.core.api_support import InputSchema, RecordId, Version
from salesplan.core.jobs_api import ACCEPTED, accepted
from salesplan.core.record_kit import Actions, RecordType, install
from salesplan.customers.models import Account

from . import selectors, services, whatif
from .models import FrequencyRule, PlannedVisit, VisitProfile

router = Router(tags=["visits"])

TierName = Literal["", "strategic", "enterprise", "mid_market", "smb"]
Outcome = Literal["", "connected", "left_message", "no_answer", "positive", "neutral",
                  "negative", "rescheduled"]


def _wall_clock(value: time) -> time:
    if value.tzinfo is not None:
        raise ValueError("Give a local time without a zone, e.g. 12:30.")
    return value


# Times of a day in the rep's or the company's own zone, as "HH:MM": a JSON Schema "time"
# would need a UTC offset, which a wall-clock time of a working day has not.
LocalTime = Annotated[
    time,
    AfterValidator(_wall_clock),
    PlainSerializer(lambda value: value.strftime("%H:%M"), return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^\d{2}:\d{2}(:\d{2})?$",
                    "examples": ["12:30"]}),
]


# --- settings ---------------------------------------------------------------------------


class VisitSettingsOut(Schema):
    circuity: Decimal
    average_speed_kmh: int
    routing_server_url: str
    horizon_days: int
    default_duration_minutes: int
    lunch_earliest: LocalTime
    lunch_latest: LocalTime
    lunch_minutes: int
    solver_solutions: int
    version: int


class SettingsPatch(InputSchema):
    circuity: Decimal | None = Field(None, ge=1, le=3, max_digits=4, decimal_places=2)
    average_speed_kmh: int | None = Field(None, ge=5, le=150)
    routing_server_url: str | None = Field(None, max_length=200)
    horizon_days: int | None = Field(None, ge=7, le=91)
    default_duration_minutes: int | None = Field(None, ge=5, le=480)
    lunch_earliest: LocalTime | None = None
    lunch_latest: LocalTime | None = None
    lunch_minutes: int | None = Field(None, ge=0, le=180)
    solver_solutions: int | None = Field(None, ge=1, le=10_000)
    version: Version


@router.get("/settings", response=VisitSettingsOut, summary="The visit-planning settings")
def get_visit_settings(request):
    from salesplan.core.permissions import require

    from . import planner

    require(request.user, "visit_settings", "view")
    return planner.settings()


@router.patch("/settings", response=VisitSettingsOut, summary="Change the visit-planning settings")
def update_visit_settings(request, payload: SettingsPatch):
    values = payload.model_dump(exclude_unset=True, exclude={"version"})
    return services.update_settings(by=request.user, version=payload.version,
                                    **{k: v for k, v in values.items() if v is not None})


# --- rules and profiles (record kit) ----------------------------------------------------


class RuleOut(Schema):
    id: int
    tier: str
    industry: str
    visits_per_month: Decimal
    duration_minutes: int | None
    version: int


class RuleIn(InputSchema):
    tier: TierName = ""
    industry: str = Field("", max_length=80)
    visits_per_month: Decimal = Field(ge=0, le=31, max_digits=5, decimal_places=2)
    duration_minutes: int | None = Field(None, ge=5, le=480)


class RulePatch(InputSchema):
    tier: TierName | None = None
    industry: str | None = Field(None, max_length=80)
    visits_per_month: Decimal | None = Field(None, ge=0, le=31, max_digits=5,
                                             decimal_places=2)
    duration_minutes: int | None = Field(None, ge=5, le=480)
    version: Version


class ProfileOut(Schema):
    account_id: int
    visits_per_month: Decimal | None = Field(description="Set by hand; null: not set.")
    duration_minutes: int | None
    opening_hours: dict[str, list[list[str]]]
    no_visit_dates: list[str]
    frequency: Decimal = Field(description="The visits a month planning uses.")
    frequency_source: str = Field(description='"by hand", "effort plan", "rule" or "none".')
    version: int | None = Field(description="null until the profile is first saved.")


class ProfilePut(InputSchema):
    visits_per_month: Decimal | None = Field(None, ge=0, le=31, max_digits=5,
                                             decimal_places=2)
    duration_minutes: int | None = Field(None, ge=5, le=480)
    opening_hours: dict[str, list[list[str]]] = Field(
        default_factory=dict, description='Weekday (Monday "0") to ["HH:MM", "HH:MM"] '
                                          "openings; a weekday left out is closed; empty: "
                                          "open whenever the rep works.")
    no_visit_dates: list[str] = Field(default_factory=list, max_length=400)
    version: Version | None = Field(None, description="The version read; required once "
                                                      "the profile exists.")


def _rules(user):
    from salesplan.core.permissions import require

    require(user, "visit_rule", "view")
    return FrequencyRule.objects.all()


def _sent(user, data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None or k in ("duration_minutes",
                                                                   "visits_per_month")}


CHANGE = Actions(view="view", create="change", change="change", delete="change")

rules = RecordType(
    name="visit_rule", plural="visit_rules", path="rules", resource="visit_rule",
    actions=CHANGE, model=FrequencyRule, rows=_rules, out=RuleOut, paged=False,
    label="visit frequency rule", create_in=RuleIn, create=services.create_rule,
    patch_in=RulePatch, update=services.update_rule, delete=services.delete_rule,
    prepare=_sent)

install(router, "/visits", [rules])


def _profile_out(account: Account, profile: VisitProfile | None) -> dict:
    from . import planner

    found = planner.frequencies([account], planner.settings())[account.pk]
    return {"account_id": account.pk,
            "visits_per_month": profile.visits_per_month if profile else None,
            "duration_minutes": profile.duration_minutes if profile else None,
            "opening_hours": profile.opening_hours if profile else {},
            "no_visit_dates": profile.no_visit_dates if profile else [],
            "frequency": found.per_month, "frequency_source": found.source,
            "version": profile.version if profile else None}


@router.get("/accounts/{id}/profile", response=ProfileOut,
            summary="How an account is visited: frequency, duration, opening hours")
def get_visit_profile(request, id: RecordId):
    account, profile = selectors.profile(request.user, id)
    return _profile_out(account, profile)


@router.put("/accounts/{id}/profile", response=ProfileOut,
            summary="Set how an account is visited (the version once it exists)")
def set_visit_profile(request, id: RecordId, payload: ProfilePut):
    account, profile = selectors.profile(request.user, id)
    profile = services.set_profile(account, by=request.user, version=payload.version,
                                   data=payload.model_dump(exclude={"version"}))
    return _profile_out(account, profile)


# --- visits -----------------------------------------------------------------------------


class VisitOut(Schema):
    id: int
    owner_id: int
    account_id: int
    account_name: str = Field(alias="account.name")
    day: date
    sequence: int
    arrive: LocalTime | None
    starts: LocalTime | None
    ends: LocalTime | None
    travel_minutes: Decimal
    travel_km: Decimal
    status: str
    reason: str
    checked_in_at: datetime | None
    checked_out_at: datetime | None
    activity_id: int | None
    version: int


class DayOut(Schema):
    rep_id: int
    day: date
    leave_home: LocalTime | None
    back_home: LocalTime | None
    lunch_start: LocalTime | None
    travel_minutes: Decimal
    travel_km: Decimal
    stops: list[VisitOut]


class VisitsParams(Schema):
    rep_id: RecordId | None = None
    start: date | None = None
    days: int = Field(7, ge=1, le=31)


@router.get("/visits", response=list[VisitOut], summary="Visits you may see, by day")
def list_visits(request, params: Query[VisitsParams]):
    from datetime import timedelta

    from salesplan.core.clock import company_today

    start = params.start or company_today()
    rows = selectors.visits(request.user).filter(day__gte=start,
                                                 day__lt=start + timedelta(days=params.days))
    if params.rep_id is not None:
        rows = rows.filter(owner=selectors.rep_for(request.user, params.rep_id))
    return list(rows.order_by("day", "owner_id", "sequence", "id")[:5000])


@router.get("/today", response=DayOut, summary="A rep's day: the stops in order, with times")
def today(request, rep_id: RecordId | None = None, day: date | None = None):
    found = selectors.day_of(request.user, rep_id, day)
    plan = found.plan
    return {"rep_id": found.rep.pk, "day": found.day, "stops": found.stops,
            "leave_home": plan.leave_home if plan else None,
            "back_home": plan.back_home if plan else None,
            "lunch_start": plan.lunch_start if plan else None,
            "travel_minutes": plan.travel_minutes if plan else Decimal(0),
            "travel_km": plan.travel_km if plan else Decimal(0)}


@router.get("/visits/{id}", response=VisitOut, summary="One visit")
def get_visit(request, id: RecordId):
    return selectors.visit(request.user, id)


class CheckInIn(InputSchema):
    version: Version
    latitude: Decimal | None = Field(None, ge=-90, le=90, max_digits=9, decimal_places=6)
    longitude: Decimal | None = Field(None, ge=-180, le=180, max_digits=10, decimal_places=6)


class CheckOutIn(InputSchema):
    version: Version
    outcome: Outcome = ""
    notes: str = Field("", max_length=2000)


class SkipIn(InputSchema):
    version: Version
    reason: str = Field(min_length=1, max_length=300)
    reschedule: bool = Field(False, description="Also put the visit on the day of the "
                                                "week with most room.")


class VisitMoveIn(InputSchema):
    version: Version
    day: date
    reason: str = Field(min_length=1, max_length=300)


def _reread(user, visit: PlannedVisit) -> PlannedVisit:
    return selectors.visit(user, visit.pk)


@router.post("/visits/{id}/check-in", response=VisitOut, summary="Check in at the account")
def check_in(request, id: RecordId, payload: CheckInIn):
    visit = selectors.visit(request.user, id)
    services.check_in(visit, by=request.user, version=payload.version,
                      latitude=payload.latitude, longitude=payload.longitude)
    return _reread(request.user, visit)


@router.post("/visits/{id}/check-out", response=VisitOut, summary="Check out: the visit is done")
def check_out(request, id: RecordId, payload: CheckOutIn):
    visit = selectors.visit(request.user, id)
    services.check_out(visit, by=request.user, version=payload.version,
                       outcome=payload.outcome, notes=payload.notes)
    return _reread(request.user, visit)


@router.post("/visits/{id}/skip", response=VisitOut,
             summary="Skip a visit with a reason; the rest of the day is re-planned")
def skip_visit(request, id: RecordId, payload: SkipIn):
    visit = selectors.visit(request.user, id)
    services.skip(visit, by=request.user, version=payload.version, reason=payload.reason,
                  reschedule=payload.reschedule)
    return _reread(request.user, visit)


@router.post("/visits/{id}/move", response=VisitOut,
             summary="Move a visit to another day with a reason; both days are re-planned")
def move_visit(request, id: RecordId, payload: VisitMoveIn):
    visit = selectors.visit(request.user, id)
    services.move(visit, by=request.user, version=payload.version, day=payload.day,
                  reason=payload.reason)
    return _reread(request.user, visit)


# --- planning, coverage, workload --------------------------------------------------------


class VisitPlanIn(InputSchema):
    rep_ids: list[RecordId] = Field(default_factory=list, max_length=5000,
                                    description="Leave empty for every rep you may plan.")
    start: date | None = Field(None, description="Default: today.")
    days: int | None = Field(None, ge=1, le=91, description="Default: the company's horizon.")


@router.post("/plans", **ACCEPTED, summary="Plan reps' visits over the horizon (background job)")
def plan_visits(request, response: HttpResponse, payload: VisitPlanIn):
    job = services.start_planning(by=request.user, rep_ids=payload.rep_ids or None,
                                  start=payload.start, days=payload.days)
    return accepted(response, job)


class VisitTierOut(Schema):
    tier: str
    label: str
    required: int
    planned: int
    done: int


class OverdueOut(Schema):
    account_id: int
    account_name: str
    last_visit: date | None
    interval_days: int
    days_late: int | None


class UnmetOut(Schema):
    rep_id: int
    account_id: int
    day: date | None
    reason: str


class CoverageOut(Schema):
    start: date
    end: date
    tiers: list[VisitTierOut]
    driving_share: Decimal | None = Field(description="Driving minutes ÷ working minutes "
                                                      "of the planned days.")
    overdue: list[OverdueOut]
    unmet: list[UnmetOut]


@router.get("/coverage", response=CoverageOut,
            summary="Required vs planned vs done visits per tier, driving, overdue accounts")
def coverage(request, start: date | None = None, days: int = Query(28, ge=1, le=91),
             rep_id: RecordId | None = None):
    found = selectors.coverage(request.user, start=start, days=days, rep_id=rep_id)
    return {"start": found.start, "end": found.end, "driving_share": found.driving_share,
            "tiers": [t.__dict__ for t in found.tiers],
            "overdue": [{"account_id": r["account"].pk, "account_name": r["account"].name,
                         "last_visit": r["last_visit"], "interval_days": r["interval_days"],
                         "days_late": r["days_late"]} for r in found.overdue],
            "unmet": [{"rep_id": u.owner_id, "account_id": u.account_id, "day": u.day,
                       "reason": u.reason} for u in found.unmet]}


class WorkloadOut(Schema):
    name: str
    accounts: int
    visits_per_month: Decimal
    required_days: Decimal = Field(description="Selling days a month the visits take.")
    available_days: Decimal = Field(description="Working days of its reps in the month.")
    load: Decimal | None


@router.get("/workload", response=list[WorkloadOut],
            summary="Selling days a month per territory against its reps' days")
def workload(request, start: date | None = None):
    return [{**w.__dict__, "load": w.load} for w in selectors.workload(request.user,
                                                                        start=start)]


# --- what-if ------------------------------------------------------------------------------


class VisitWhatIfIn(InputSchema):
    rep_id: RecordId | None = Field(None, description="Default: yourself. A rep may ask "
                                                      "only about themselves.")
    latitude: Decimal | None = Field(None, ge=-90, le=90,
                                     description="New home base (with longitude).")
    longitude: Decimal | None = Field(None, ge=-180, le=180)
    home_account_id: RecordId | None = Field(None, description="Or start the days from "
                                                               "this account's address.")
    territory_ids: list[RecordId] | None = Field(
        None, max_length=200, description="Work these territories' accounts instead of "
                                          "the rep's own.")
    start: date | None = Field(None, description="Default: today.")
    days: int | None = Field(None, ge=1, le=91, description="Default: the company's horizon.")


class VisitPlaceOut(Schema):
    latitude: float
    longitude: float


class VisitPlanFiguresOut(Schema):
    accounts: int
    required: int = Field(description="Visits the accounts' frequencies ask for.")
    done: int = Field(description="Of those, visits in the horizon already checked in or "
                              "done: counted, not planned again.")
    planned: int
    unmet: int = Field(description="Visits the plan could not place.")
    travel_minutes: Decimal
    working_minutes: int
    driving_share: Decimal | None = Field(description="Driving ÷ working minutes.")
    km: Decimal


class VisitWhatIfOut(Schema):
    rep_id: int
    rep_name: str
    start: date
    days: int
    home_before: VisitPlaceOut
    home_after: VisitPlaceOut
    before: VisitPlanFiguresOut
    after: VisitPlanFiguresOut
    changes: list[str]


def _figures(found: whatif.PlanFigures) -> dict[str, Any]:
    return {**found.__dict__, "driving_share": found.driving_share}


@router.post("/what-if", response=VisitWhatIfOut,
             summary="A rep's visit plan with another home base or territories (nothing "
                     "is written)")
def visit_what_if(request, payload: VisitWhatIfIn):
    found = whatif.what_if(
        request.user, payload.rep_id,
        whatif.WhatIfChange(payload.latitude, payload.longitude, payload.home_account_id,
                            payload.territory_ids),
        start=payload.start, days=payload.days)
    return {"rep_id": found.rep.pk, "rep_name": str(found.rep), "start": found.start,
            "days": found.days, "changes": found.changes,
            "home_before": {"latitude": found.home_before.lat,
                            "longitude": found.home_before.lon},
            "home_after": {"latitude": found.home_after.lat,
                           "longitude": found.home_after.lon},
            "before": _figures(found.before), "after": _figures(found.after)}
