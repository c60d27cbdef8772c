"""The company's people and teams over the API.

    GET/POST          /people                         list; invite by email
    GET/PATCH         /people/{user_id}               read; role, team, manager, names
    PUT               /people/{user_id}/profile       the selling profile
    POST/DELETE       /people/{user_id}/invitation    send again; withdraw
    POST              /people/{user_id}/password-reset  email a reset link
    DELETE            /people/{user_id}/sessions      log them out everywhere
    GET               /people/{user_id}/handover      the hand-over preview
    POST              /people/{user_id}/deactivate    apply it (with its fingerprint)
    POST              /people/{user_id}/reactivate
    GET/POST          /teams                          the tree; create
    GET/PATCH         /teams/{team_id}                rename, move, set manager
"""

from datetime import datetime, time
from decimal import Decimal
from typing import Literal

from django.core.exceptions import ValidationError
from ninja import Field, Router, Schema, Status

from salesplan.core.api_support import InputSchema, Version, choice_of, full_name
from salesplan.core.errors import NotFound
from salesplan.core.registry import require

from . import selectors, services_people, services_teams
from .models import Role, Team, User

people_router = Router(tags=["people"])
team_router = Router(tags=["teams"])

MAX_ID = 2**53


class PersonOut(Schema):
    id: int
    username: str
    email: str
    first_name: str
    last_name: str
    full_name: str
    title: str
    role: str
    team_id: int | None
    manager_id: int | None
    is_active: bool
    invited: bool
    version: int
    time_zone: str
    # Local wall-clock times of the person's working day, "HH:MM" (a JSON Schema "time"
    # would need a UTC offset, which a working day in the person's own zone has not).
    work_starts: str = Field(..., pattern=r"^\d{2}:\d{2}$")
    work_ends: str = Field(..., pattern=r"^\d{2}:\d{2}$")
    working_days: list[int]
    home_address: str
    home_latitude: Decimal | None
    home_longitude: Decimal | None
    deactivated_at: datetime | None

    @staticmethod
    def resolve_work_starts(user) -> str:
        return user.work_starts.strftime("%H:%M")

    @staticmethod
    def resolve_work_ends(user) -> str:
        return user.work_ends.strftime("%H:%M")

    @staticmethod
    def resolve_full_name(user) -> str:
        return full_name(user)

    @staticmethod
    def resolve_working_days(user) -> list[int]:
        return user.working_weekdays

    @staticmethod
    def resolve_invited(user) -> bool:
        return user.is_active and not user.has_usable_password()


class InviteIn(InputSchema):
    email: str = Field(..., max_length=254)
    first_name: str = Field("", max_length=150)
    last_name: str = Field("", max_length=150)
    username: str = Field("", max_length=150)
    role: choice_of(Role) = Role.REP  # type: ignore[valid-type]
    team_id: int | None = Field(None, ge=1, le=MAX_ID)
    manager_id: int | None = Field(None, ge=1, le=MAX_ID)


class PersonPatch(InputSchema):
    version: Version
    first_name: str | None = Field(None, max_length=150)
    last_name: str | None = Field(None, max_length=150)
    email: str | None = Field(None, max_length=254)
    title: str | None = Field(None, max_length=120)
    phone: str | None = Field(None, max_length=40)
    role: choice_of(Role) | None = None  # type: ignore[valid-type]
    team_id: int | None = Field(None, ge=1, le=MAX_ID, description="null: no team")
    manager_id: int | None = Field(None, ge=1, le=MAX_ID, description="null: no manager")


class ProfileIn(InputSchema):
    version: Version
    time_zone: str = Field("", max_length=64, description="IANA name; empty: the company's")
    work_starts: time
    work_ends: time
    working_days: list[int] = Field(..., min_length=1, max_length=7)
    home_address: str = Field("", max_length=300)
    home_latitude: Decimal | None = Field(None, ge=-90, le=90)
    home_longitude: Decimal | None = Field(None, ge=-180, le=180)


class VersionIn(InputSchema):
    version: Version


class HoldingOut(Schema):
    kind: str
    label: str
    count: int
    record_ids: list[int]
    examples: list[str]
    goes_to: str


class HandoverOut(Schema):
    user_id: int
    successor_id: int | None
    total: int
    holdings: list[HoldingOut]
    fingerprint: str


class DeactivateIn(InputSchema):
    successor_id: int | None = Field(None, ge=1, le=MAX_ID)
    fingerprint: str = Field(..., min_length=1, max_length=64,
                             description="The `fingerprint` of the preview you checked.")


class DeactivatedOut(Schema):
    user_id: int
    moved: dict[str, int]


class EndedOut(Schema):
    ended: int


class TeamOut(Schema):
    id: int
    name: str
    parent_id: int | None
    manager_id: int | None
    depth: int = 0
    version: int


class TeamIn(InputSchema):
    name: str = Field(..., max_length=120)
    parent_id: int | None = Field(None, ge=1, le=MAX_ID)
    manager_id: int | None = Field(None, ge=1, le=MAX_ID)


class TeamPatch(InputSchema):
    version: Version
    name: str | None = Field(None, max_length=120)
    parent_id: int | None = Field(None, ge=1, le=MAX_ID, description="null: a top team")
    manager_id: int | None = Field(None, ge=1, le=MAX_ID, description="null: no manager")


def _site(request) -> str:
    return request.build_absolute_uri("/")


def _found(request, model, resource: str, pk: int):
    """The person or team the URL names (everyone signed in reads them), else 404."""
    require(request.auth, resource, "view")
    found = model.objects.filter(pk=pk).first() if 1 <= pk <= MAX_ID else None
    if found is None:
        raise NotFound(f"No {resource} with id {pk}.")
    return found


def _person(request, pk: int) -> User:
    return _found(request, User, "person", pk)


def _team(request, pk: int) -> Team:
    return _found(request, Team, "team", pk)


def _ref(model, pk: int | None, field: str, *, active: bool = False):
    """A referenced user or team named in a body; a clear field error if it is not one."""
    if pk is None:
        return None
    what = "active person" if model is User else "team"
    if not 1 <= pk <= MAX_ID:
        raise ValidationError({field: f"No {what} with id {pk}."})
    rows = model.objects.filter(pk=pk)
    if active:
        rows = rows.filter(is_active=True)
    found = rows.first()
    if found is None:
        raise ValidationError({field: f"No {what} with id {pk}."})
    return found


def _relations(data: dict) -> dict:
    """team_id / manager_id / parent_id of a body → the records, keeping what was sent."""
    for key, model, active in (("team_id", Team, False), ("manager_id", User, True),
                               ("parent_id", Team, False)):
        if key in data:
            data[key[:-3]] = _ref(model, data.pop(key), key, active=active)
    return data


@people_router.get("", response=list[PersonOut])
def list_people(request, search: str = "", status: Literal["", "active", "deactivated"] = ""):
    """Everyone in the company, with role, team, manager and whether they are invited;
    `search` matches names, usernames and email addresses."""
    require(request.auth, "person", "view")
    return list(selectors.people(search=search.strip()[:100], status=status))


@people_router.post("", response={201: PersonOut})
def invite_person(request, payload: InviteIn):
    """Create the person and email them a one-time link to set their password."""
    data = _relations(payload.model_dump())
    user = services_people.invite_user(by=request.auth, link_base=_site(request), **data)
    return Status(201, user)


@people_router.get("/{int:user_id}", response=PersonOut)
def get_person(request, user_id: int):
    return _person(request, user_id)


@people_router.patch("/{int:user_id}", response=PersonOut)
def update_person(request, user_id: int, payload: PersonPatch):
    """Change names, contact details, role, team or manager (a cycle of managers is
    refused)."""
    user = _person(request, user_id)
    data = _relations(payload.model_dump(exclude_unset=True))
    version = data.pop("version")
    services_people.update_person(user, by=request.auth, data=data, expected_version=version)
    return user


@people_router.put("/{int:user_id}/profile", response=PersonOut)
def put_profile(request, user_id: int, payload: ProfileIn):
    """Set the selling profile: time zone, working hours and days, home base."""
    user = _person(request, user_id)
    data = payload.model_dump()
    version = data.pop("version")
    services_people.update_selling_profile(user, by=request.auth, data=data,
                                           expected_version=version)
    return user


@people_router.post("/{int:user_id}/invitation", response={204: None})
def resend_invitation(request, user_id: int):
    """Email a new invitation link; the earlier one stops working."""
    services_people.resend_invitation(_person(request, user_id), by=request.auth,
                                      link_base=_site(request))
    return Status(204, None)


@people_router.delete("/{int:user_id}/invitation", response={204: None})
def revoke_invitation(request, user_id: int):
    """Withdraw the open invitation: its link no longer opens."""
    services_people.revoke_invitation(_person(request, user_id), by=request.auth)
    return Status(204, None)


@people_router.post("/{int:user_id}/password-reset", response={204: None})
def send_password_reset(request, user_id: int):
    """Email the person a one-time link to choose a new password."""
    services_people.send_password_reset(_person(request, user_id), by=request.auth,
                                        link_base=_site(request))
    return Status(204, None)


@people_router.delete("/{int:user_id}/sessions", response=EndedOut)
def end_sessions(request, user_id: int):
    """Log the person out of every browser at once."""
    return {"ended": services_people.end_sessions(_person(request, user_id), by=request.auth)}


def _plan_out(plan) -> dict:
    return {"user_id": plan.user.pk,
            "successor_id": plan.successor.pk if plan.successor else None,
            "total": plan.total, "holdings": plan.rows(), "fingerprint": plan.fingerprint}


@people_router.get("/{int:user_id}/handover", response=HandoverOut)
def preview_handover(request, user_id: int, successor_id: int | None = None):
    """Everything the person holds and who gets each; apply it with POST …/deactivate
    and this answer's `fingerprint`."""
    user = _person(request, user_id)
    successor = _ref(User, successor_id, "successor_id", active=True)
    return _plan_out(services_people.preview_handover(user, by=request.auth,
                                                      successor=successor))


@people_router.post("/{int:user_id}/deactivate", response=DeactivatedOut)
def deactivate_person(request, user_id: int, payload: DeactivateIn):
    """Hand over and deactivate in one transaction; 409 if what they hold changed since
    the preview."""
    user = _person(request, user_id)
    successor = _ref(User, payload.successor_id, "successor_id", active=True)
    moved = services_people.deactivate_user(user, by=request.auth, successor=successor,
                                            fingerprint=payload.fingerprint)
    return {"user_id": user.pk, "moved": moved}


@people_router.post("/{int:user_id}/reactivate", response=PersonOut)
def reactivate_person(request, user_id: int, payload: VersionIn):
    user = _person(request, user_id)
    services_people.reactivate_user(user, by=request.auth, expected_version=payload.version)
    return user


def _team_out(team: Team, depth: int = 0) -> dict:
    return {"id": team.pk, "name": team.name, "parent_id": team.parent_id,
            "manager_id": team.manager_id, "depth": depth, "version": team.version}


@team_router.get("", response=list[TeamOut])
def list_teams(request):
    """Every team in tree order, each with its depth."""
    require(request.auth, "team", "view")
    return [_team_out(team, depth) for team, depth in selectors.team_tree()]


@team_router.post("", response={201: TeamOut})
def create_team(request, payload: TeamIn):
    data = _relations(payload.model_dump())
    return Status(201, _team_out(services_teams.create_team(by=request.auth, **data)))


@team_router.get("/{int:team_id}", response=TeamOut)
def get_team(request, team_id: int):
    return _team_out(_team(request, team_id))


@team_router.patch("/{int:team_id}", response=TeamOut)
def update_team(request, team_id: int, payload: TeamPatch):
    """Rename, move under another team (a cycle is refused) or set the manager."""
    team = _team(request, team_id)
    data = _relations(payload.model_dump(exclude_unset=True))
    version = data.pop("version")
    services_teams.update_team(team, by=request.auth, data=data, expected_version=version)
    return _team_out(team)
