"""API of sign-on (mounted at /api/v1/signon).

    GET/POST      /mappings, PATCH/DELETE /mappings/{id}   the provider's groups → role, team
    GET/PUT       /policy                                   two-factor required for admins
    GET           /two-factor                               your own two-factor status
    POST          /users/{id}/two-factor/reset              an admin resets a user's

Setting up and switching off two-factor authentication happen on the pages only: they
show a secret once and ask for the password again, which an API token should not stand
in for.
"""

from ninja import Field, Router, Schema, Status

from salesplan.core.api_support import InputSchema, RecordId, Version, VersionParam, choice_of
from salesplan.core.errors import NotFound
from salesplan.core.registry import require
from salesplan.org.models import Role, User

from . import selectors, services, two_factor
from .models import GroupMapping, SignOnPolicy

router = Router(tags=["signon"])


class MappingOut(Schema):
    id: int
    group: str
    role: str = Field(description="Role given to members; empty: left as it is.")
    team_id: int | None = Field(description="Team given to members; null: left as it is.")
    team: str | None
    version: int

    @staticmethod
    def resolve_team(mapping) -> str | None:
        return mapping.team.name if mapping.team else None


class MappingIn(InputSchema):
    group: str = Field(..., min_length=1, max_length=200)
    role: choice_of(Role, blank=True) = ""
    team_id: RecordId | None = None


class MappingPatch(InputSchema):
    group: str | None = Field(None, min_length=1, max_length=200)
    role: choice_of(Role, blank=True) | None = None
    team_id: RecordId | None = None
    version: Version


def _mapping(pk: int) -> GroupMapping:
    found = GroupMapping.objects.select_related("team").filter(pk=pk).first()
    if found is None:
        raise NotFound(f"No group mapping with id {pk}.")
    return found


@router.get("/mappings", response=list[MappingOut])
def list_group_mappings(request):
    """How the provider's groups map to roles and teams (admins)."""
    require(request.user, "group_mapping", "view")
    return list(selectors.mappings())


@router.post("/mappings", response={201: MappingOut})
def create_group_mapping(request, payload: MappingIn):
    """Map a provider group to a role and/or a team; errors name the field."""
    return Status(201, services.create_mapping(by=request.user, **payload.model_dump()))


@router.patch("/mappings/{int:id}", response=MappingOut)
def update_group_mapping(request, id: int, payload: MappingPatch):
    require(request.user, "group_mapping", "manage")  # before saying whether it exists
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version")
    if data.get("group") is None:
        data.pop("group", None)
    if data.get("role") is None:
        data.pop("role", None)
    return services.update_mapping(_mapping(id), by=request.user, data=data,
                                   expected_version=version)


@router.delete("/mappings/{int:id}", response={204: None})
def delete_group_mapping(request, id: int, version: VersionParam):
    require(request.user, "group_mapping", "manage")
    services.delete_mapping(_mapping(id), by=request.user, expected_version=version)
    return Status(204, None)


class PolicyOut(Schema):
    require_admin_two_factor: bool
    version: int


class PolicyIn(InputSchema):
    require_admin_two_factor: bool
    version: Version


@router.get("/policy", response=PolicyOut)
def get_sign_on_policy(request):
    require(request.user, "sign_on_policy", "view")
    return SignOnPolicy.current()


@router.put("/policy", response=PolicyOut)
def put_sign_on_policy(request, payload: PolicyIn):
    """Require two-factor authentication of admins (from their next password login)."""
    return services.update_policy(by=request.user, expected_version=payload.version,
                                  require_admin_two_factor=payload.require_admin_two_factor)


class TwoFactorOut(Schema):
    enabled: bool
    required: bool = Field(description="The company requires it of you.")
    recovery_codes_left: int


@router.get("/two-factor", response=TwoFactorOut)
def my_two_factor(request):
    """Your own two-factor status (set it up or off on the page)."""
    require(request.user, "two_factor", "enrol")
    return {"enabled": two_factor.has_two_factor(request.user),
            "required": two_factor.two_factor_required(request.user),
            "recovery_codes_left": selectors.recovery_codes_left(request.user)}


class ResetOut(Schema):
    user_id: int
    had_two_factor: bool


@router.post("/users/{int:id}/two-factor/reset", response=ResetOut)
def reset_user_two_factor(request, id: int):
    """Take away a user's authenticator and recovery codes (a lost phone); they set it up
    again at their next login. Admins only."""
    require(request.user, "two_factor", "reset")
    user = User.objects.filter(pk=id).first()
    if user is None:
        raise NotFound(f"No user with id {id}.")
    return {"user_id": user.pk, "had_two_factor": two_factor.reset_two_factor(user,
                                                                             by=request.user)}
