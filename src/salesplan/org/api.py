"""API about the caller: who they are and what they may do."""

from ninja import Router, Schema

from salesplan.core.permissions import ACTIONS, RESOURCES, scope_for

router = Router(tags=["me"])


class MeOut(Schema):
    id: int
    username: str
    first_name: str
    last_name: str
    full_name: str
    email: str
    role: str
    team_id: int | None
    team_name: str
    permissions: dict[str, dict[str, str]]

    @staticmethod
    def resolve_full_name(user) -> str:
        return user.get_full_name() or user.username

    @staticmethod
    def resolve_team_name(user) -> str:
        return user.team.name if user.team_id else ""

    @staticmethod
    def resolve_permissions(user) -> dict[str, dict[str, str]]:
        return {resource: {action: scope_for(user, resource, action) for action in ACTIONS}
                for resource in RESOURCES}


@router.get("", response=MeOut)
def me(request):
    """The calling user, and per record type and action the scope they may act on:
    all, visible (what they can see), own, or none."""
    return request.auth
