"""Every write of sign-on apart from two-factor (see two_factor.py): the group mappings,
the policy, and signing a user in from the OpenID provider's claims."""

import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from salesplan.core.audit import record_changes, record_created, record_deleted
from salesplan.core.records import claim_version
from salesplan.core.registry import require
from salesplan.org.models import Role, Team, User

from .models import GroupMapping, ProviderAccount, SignOnPolicy

# When a user's groups map to several roles, the one that may do the most wins.
ROLE_PRECEDENCE = [Role.ADMIN, Role.MANAGER, Role.MARKETING, Role.REP, Role.EXECUTIVE]


class SignOnRefused(Exception):
    """The provider vouched for the person, but Salesplan does not let them in."""


# --- group mappings ------------------------------------------------------------------------


def _check_mapping(group: str, role: str, team_id: int | None, *, pk: int | None) -> Team | None:
    errors: dict[str, str] = {}
    if not group.strip():
        errors["group"] = "Name the provider's group."
    elif GroupMapping.objects.filter(group=group.strip()).exclude(pk=pk or 0).exists():
        errors["group"] = f"The group “{group.strip()}” is mapped already."
    if role and role not in Role.values:
        errors["role"] = f"Unknown role “{role}”."
    team = None
    if team_id is not None:
        team = Team.objects.filter(pk=team_id).first()
        if team is None:
            errors["team_id"] = f"No team with id {team_id}."
    if not errors and not role and team is None:
        errors["role"] = "A mapping gives a role, a team or both."
    if errors:
        raise ValidationError(errors)
    return team


@transaction.atomic
def create_mapping(*, by, group: str, role: str = "", team_id: int | None = None
                   ) -> GroupMapping:
    """Members of the provider's `group` get this role and/or team at each login."""
    require(by, "group_mapping", "manage")
    team = _check_mapping(group, role, team_id, pk=None)
    mapping = GroupMapping.objects.create(group=group.strip(), role=role, team=team)
    record_created(mapping, by)
    return mapping


@transaction.atomic
def update_mapping(mapping: GroupMapping, *, by, data: dict,
                   expected_version: int | None = None) -> GroupMapping:
    """Change a mapping (keys group, role, team_id; a missing key keeps its value)."""
    require(by, "group_mapping", "manage")
    claim_version(mapping, expected_version)
    group = data.get("group", mapping.group)
    role = data.get("role", mapping.role)
    team_id = data["team_id"] if "team_id" in data else mapping.team_id
    team = _check_mapping(group, role, team_id, pk=mapping.pk)
    changes = {name: (old, new) for name, old, new in (
        ("group", mapping.group, group.strip()), ("role", mapping.role, role),
        ("team", mapping.team, team)) if old != new}
    mapping.group, mapping.role, mapping.team = group.strip(), role, team
    mapping.save()
    record_changes(mapping, changes, by)
    return mapping


@transaction.atomic
def delete_mapping(mapping: GroupMapping, *, by, expected_version: int | None = None) -> None:
    require(by, "group_mapping", "manage")
    claim_version(mapping, expected_version)
    record_deleted(mapping, by)
    mapping.delete()


# --- the policy ----------------------------------------------------------------------------


@transaction.atomic
def update_policy(*, by, require_admin_two_factor: bool,
                  expected_version: int | None = None) -> SignOnPolicy:
    """Require two-factor authentication of admins (from their next password login)."""
    require(by, "sign_on_policy", "manage")
    policy = SignOnPolicy.current()
    claim_version(policy, expected_version)
    if policy.require_admin_two_factor != require_admin_two_factor:
        record_changes(policy, {"require_admin_two_factor": (
            policy.require_admin_two_factor, require_admin_two_factor)}, by)
    policy.require_admin_two_factor = require_admin_two_factor
    policy.save()
    return policy


# --- signing in from the provider --------------------------------------------------------


def _groups(claims: dict, claim: str) -> list[str]:
    value = claims.get(claim) or []
    if isinstance(value, str):
        value = [value]
    return sorted({str(v) for v in value if str(v).strip()})


def mapped_role_and_team(mappings: list[GroupMapping]) -> tuple[str | None, Team | None]:
    """The most powerful mapped role; the team of the first mapping (by group name) that
    names one."""
    roles = {m.role for m in mappings if m.role}
    role = next((r for r in ROLE_PRECEDENCE if r in roles), None)
    team = next((m.team for m in sorted(mappings, key=lambda m: m.group) if m.team), None)
    return role, team


def _new_username(claims: dict) -> str:
    email = str(claims.get("email") or "")
    base = str(claims.get("preferred_username") or email.split("@")[0] or claims["sub"])
    base = re.sub(r"[^\w.@+-]", "", base)[:140] or "user"
    name, n = base, 1
    while User.objects.filter(username__iexact=name).exists():
        n += 1
        name = f"{base}{n}"
    return name


def _find_user(issuer: str, claims: dict) -> tuple[User | None, ProviderAccount | None]:
    account = (ProviderAccount.objects.select_related("user")
               .filter(issuer=issuer, subject=str(claims["sub"])).first())
    if account is not None:
        return account.user, account
    email = str(claims.get("email") or "").strip()
    if email and claims.get("email_verified") is True:
        user = User.objects.filter(email__iexact=email).order_by("id").first()
        if user is not None and user.provider_accounts.filter(issuer=issuer).exists():
            raise SignOnRefused("Another account at the provider is already linked to the "
                                "Salesplan user with this email address.")
        return user, None
    return None, None


@transaction.atomic
def sign_in_from_provider(issuer: str, claims: dict, *, groups_claim: str = "groups") -> User:
    """The Salesplan user for a person the OpenID provider vouched for: the one linked to
    their provider account, else the one with their verified email address (an invited
    user), else a new user — only if one of their groups is mapped. Their role and team
    follow the mapped groups. A deactivated user is refused and nothing is written."""
    if not claims.get("sub"):
        raise SignOnRefused("The provider did not say who you are.")
    groups = _groups(claims, groups_claim)
    mappings = list(GroupMapping.objects.filter(group__in=groups).select_related("team"))
    user, account = _find_user(issuer, claims)
    if user is None:
        if not mappings:
            raise SignOnRefused("Your account at the provider is in no group that Salesplan "
                                "knows. Ask an administrator to map your group.")
        verified = claims.get("email_verified") is True
        user = User(username=_new_username(claims),
                    email=str(claims.get("email") or "") if verified else "",
                    first_name=str(claims.get("given_name") or "")[:150],
                    last_name=str(claims.get("family_name") or "")[:150], role=Role.REP)
        user.set_unusable_password()
        user.save()
        record_created(user, None)
    if not user.is_active:
        raise SignOnRefused("Your Salesplan account is deactivated. Ask an administrator.")
    if account is None:
        account = ProviderAccount.objects.create(user=user, issuer=issuer,
                                                 subject=str(claims["sub"]))
    role, team = mapped_role_and_team(mappings)
    changes: dict[str, tuple[object, object]] = {}
    if role is not None and role != user.role:
        changes["role"] = (user.get_role_display(), Role(role).label)
        user.role = role
    if team is not None and team.pk != user.team_id:
        changes["team"] = (user.team, team)
        user.team = team
    if changes:
        user.save(update_fields=["role", "team"])
    changes["sign_on"] = ("", f"signed in with OpenID Connect (groups: "
                              f"{', '.join(groups) or 'none'})")
    record_changes(user, changes, user)
    account.last_login_at = timezone.now()
    account.last_groups = ", ".join(groups)[:2000]
    account.save(update_fields=["last_login_at", "last_groups", "updated_at"])
    return user
