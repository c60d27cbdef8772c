"""The permission registry: every resource and every action of every app, with its rule.

An entry says, for one (resource, action) — "alignment"/"activate", "quote_approval"/
"decide", "comment"/"create" — which roles may act and on which records (the scope):

    company   any record ("all")
    visible   records the visibility rule shows the user (their team subtree and
              their territories' accounts)
    own       records the user owns (or wrote)
    none      never
    <named>   a rule the resource registers, e.g. "managed" for the territories a
              manager's teams work

Apps declare their entries in a `permissions.py` module that core collects when Django
starts (core never imports an app). Services call `require(user, resource, action, obj)`;
pages and templates ask `allowed(...)` (the `{% can %}` tag) to hide what the user may
not use. Two rules hold for every entry, centrally:
- the executive is read-only: only "view" (and personal actions, such as marking one's
  own notifications read) is ever allowed to them, whatever an entry says;
- a record the user may not view answers 404 for every action on it, exactly like a
  record that does not exist, so no message tells them it exists.

An entry may be `grantable`: an admin then grants it to one user at company scope (a
Django permission `org.grant:<resource>.<action>`, set on the user in the admin).
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied

from .errors import NotFound

ALL, VISIBLE, OWN, NONE = "all", "visible", "own", "none"
COMPANY = ALL
# Roles as stored on the user (org.Role values); kept as strings so core needs no org import
# at module load.
ADMIN, MANAGER, REP, MARKETING, EXECUTIVE = "admin", "manager", "rep", "marketing", "executive"
ROLES = (ADMIN, MANAGER, REP, MARKETING, EXECUTIVE)
VIEW = "view"

ScopeTest = Callable[[Any, Any], bool]


@dataclass(frozen=True)
class Entry:
    """One action on one resource: roles → scope, and how it may be extended."""

    resource: str
    action: str
    roles: Mapping[str, str]
    grantable: bool = False
    # Changes only the user's own state (their notifications, their saved views): the
    # executive may do it.
    personal: bool = False
    doc: str = ""

    @property
    def key(self) -> str:
        return f"{self.resource}.{self.action}"

    @property
    def grant_codename(self) -> str:
        return f"grant:{self.key}"


@dataclass
class Registry:
    entries: dict[tuple[str, str], Entry] = field(default_factory=dict)
    scopes: dict[tuple[str, str], ScopeTest] = field(default_factory=dict)
    # (METHOD, path under /api/v1) -> (resource, action); None for the few open operations.
    operations: dict[tuple[str, str], tuple[str, str] | None] = field(default_factory=dict)

    def entry(self, resource: str, action: str) -> Entry | None:
        return self.entries.get((resource, action))


REGISTRY = Registry()


def register(resource: str, action: str, roles: Mapping[str, str], *, grantable: bool = False,
             personal: bool = False, doc: str = "") -> Entry:
    """Declare an action once; a second declaration of the same key is a mistake."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"{resource}.{action}: unknown roles {sorted(unknown)}")
    if (resource, action) in REGISTRY.entries:
        raise ValueError(f"{resource}.{action} is declared twice")
    entry = Entry(resource, action, dict(roles), grantable, personal, doc)
    REGISTRY.entries[(resource, action)] = entry
    return entry


def register_actions(resource: str, table: Mapping[str, Mapping[str, str]], **options) -> None:
    """Several actions of one resource: {action: {role: scope}}."""
    for action, roles in table.items():
        register(resource, action, roles, **options)


def register_scope(resource: str, name: str, test: ScopeTest) -> None:
    """A named scope for a resource: test(user, obj) says whether obj is in it."""
    REGISTRY.scopes[(resource, name)] = test


def register_operations(table: str) -> None:
    """API operations and the entry each one enforces, one per line:
    `POST /territories/alignments/{id}/activate  alignment.activate`; `-` for an
    operation open to anyone signed in or to the public (said why, in a comment)."""
    for raw in table.strip().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        method, path, key = line.split()
        target = None if key == "-" else tuple(key.split(".", 1))
        if target is not None and target not in REGISTRY.entries:
            raise ValueError(f"{method} {path}: no registry entry {key}")
        REGISTRY.operations[(method.upper(), path)] = target


def role_of(user) -> str | None:
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    return ADMIN if user.is_superuser else user.role


def has_grant(user, entry: Entry) -> bool:
    return entry.grantable and user.has_perm(f"org.{entry.grant_codename}")


def scope_for(user, resource: str, action: str) -> str:
    """The scope in which the user may take this action (NONE if not at all)."""
    role = role_of(user)
    entry = REGISTRY.entry(resource, action)
    if role is None or entry is None:
        return NONE
    if role == EXECUTIVE and action != VIEW and not entry.personal:
        return NONE  # read-only by construction, whatever an entry says
    scope = entry.roles.get(role, NONE)
    if scope != ALL and has_grant(user, entry):
        return ALL
    return scope


def in_scope(user, resource: str, scope: str, obj) -> bool:
    if scope == ALL:
        return True
    if scope == NONE:
        return False
    test = REGISTRY.scopes.get((resource, scope))
    if test is not None:
        return bool(test(user, obj))
    if scope == OWN:
        return getattr(obj, "owner_id", None) == user.pk
    if scope == VISIBLE:
        return type(obj).objects.visible_to(user).filter(pk=obj.pk).exists()
    raise LookupError(f"{resource} has no scope {scope!r}")


def allowed(user, resource: str, action: str, obj=None) -> bool:
    """May the user take the action (on obj, or at all when obj is None)?"""
    scope = scope_for(user, resource, action)
    if scope == NONE:
        return False
    return obj is None or in_scope(user, resource, scope, obj)


def require(user, resource: str, action: str, obj=None) -> None:
    """Raise NotFound if obj is a record of a kind the user reads but not this one (it
    looks missing), PermissionDenied if they may not take the action (on any record of
    this kind, or on this one they see); services call this before anything else."""
    refusal = refusal_status(user, resource, action, obj)
    if refusal == 404:
        raise NotFound(f"No {resource.replace('_', ' ')} with id {obj.pk}.")
    if refusal == 403:
        raise PermissionDenied(refusal_reason(user, resource, action, obj))


def refusal_status(user, resource: str, action: str, obj=None) -> int | None:
    """404, 403 or None (allowed): the answer `require` gives, for pages and tests.

    A user with no view of a kind at all is refused with 403 whatever the record (that
    says nothing about which records exist); one who reads some records of the kind
    gets 404 for any record outside them, exactly as for a missing one."""
    views = (resource, VIEW) in REGISTRY.entries
    if obj is not None and views:
        view_scope = scope_for(user, resource, VIEW)
        if view_scope == NONE:
            return 403
        if not in_scope(user, resource, view_scope, obj):
            return 404
    return None if allowed(user, resource, action, obj) else 403


ROLE_NAMES = {ADMIN: "admins", MANAGER: "managers", REP: "reps",
              MARKETING: "marketing users", EXECUTIVE: "executives"}
SCOPE_NOTES = {ALL: "", VISIBLE: " (on the records they can see)",
               OWN: " (on their own records)"}
READ_ONLY = ("executives have read-only access: you can see everything here, but changes "
             "are made by the sales team")


def _names(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def refusal_reason(user, resource: str, action: str, obj=None) -> str:
    """Why the registry refuses this action, in the user's words: "You may not change
    this opportunity: only its owner, or managers or admins, may." (pages and the API's
    problem `detail` say the same)."""
    entry = REGISTRY.entry(resource, action)
    what = entry.doc if entry is not None and entry.doc else (
        f"{action} this {resource.replace('_', ' ')}")
    base = f"You may not {what}"
    role = role_of(user)
    personal = entry is not None and entry.personal
    if role == EXECUTIVE and action != VIEW and not personal:
        return f"{base}: {READ_ONLY}."
    if entry is None:
        return f"{base}."
    acting = {r: s for r, s in entry.roles.items()
              if s != NONE and (r != EXECUTIVE or action == VIEW or personal)}
    broader = [ROLE_NAMES[r] for r, s in acting.items() if s in (ALL, VISIBLE)]
    scope = scope_for(user, resource, action)
    if scope == OWN and obj is not None:
        others = f", or {_names(broader)}," if broader else ""
        return f"{base}: only its owner{others} may."
    if scope != NONE and obj is not None:
        return f"{base}: it is outside the records you may {action}."
    if not acting:
        return f"{base}: nobody may."
    who = [ROLE_NAMES[r] + SCOPE_NOTES.get(s, f" (within their {s.replace('_', ' ')})")
           for r, s in acting.items()]
    return f"{base}: only {_names(who)} may."


def roles_allowed(resource: str, action: str) -> list[str]:
    """Roles with any scope for the action (the executive only for views), for docs and
    generated tests."""
    entry = REGISTRY.entry(resource, action)
    if entry is None:
        return []
    return [r for r, s in entry.roles.items()
            if s != NONE and (r != EXECUTIVE or action == VIEW or entry.personal)]


def grantable_entries() -> Iterable[Entry]:
    return (e for e in REGISTRY.entries.values() if e.grantable)


def grant(user, resource: str, action: str) -> None:
    """Give one user this grantable action at company scope (an admin's decision)."""
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType

    entry = REGISTRY.entry(resource, action)
    if entry is None or not entry.grantable:
        raise ValueError(f"{resource}.{action} cannot be granted")
    permission = ensure_grant_permission(entry, Permission, ContentType)
    user.user_permissions.add(permission)
    for cache in ("_perm_cache", "_user_perm_cache"):
        user.__dict__.pop(cache, None)


def revoke(user, resource: str, action: str) -> None:
    """Take a grant back; the user keeps what their role allows."""
    from django.contrib.auth.models import Permission

    entry = REGISTRY.entry(resource, action)
    if entry is None or not entry.grantable:
        raise ValueError(f"{resource}.{action} cannot be granted")
    user.user_permissions.remove(*Permission.objects.filter(codename=entry.grant_codename))
    for cache in ("_perm_cache", "_user_perm_cache"):
        user.__dict__.pop(cache, None)


def ensure_grant_permission(entry: Entry, permission_model, content_type_model):
    from django.contrib.auth import get_user_model

    content_type = content_type_model.objects.get_for_model(get_user_model())
    permission, _ = permission_model.objects.get_or_create(
        content_type=content_type, codename=entry.grant_codename,
        defaults={"name": f"May {entry.doc or entry.key} company-wide"[:255]})
    return permission


def create_grant_permissions(**kwargs) -> None:
    """post_migrate: one Django permission per grantable entry, so admins can grant it."""
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType

    for entry in grantable_entries():
        ensure_grant_permission(entry, Permission, ContentType)
