"""Writes about the company's people: invitations, roles, teams and managers, the selling
profile, deactivation with a hand-over, password resets and ending sessions.

Every function takes `by=` the acting user (`None` is the server operator at the command
line), checks the registry (org/permissions.py), claims the user's version and writes
the audit trail, in one transaction."""

import secrets
import smtplib
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from salesplan.core import audit
from salesplan.core.errors import StaleVersion
from salesplan.core.hooks import Holding, user_handover
from salesplan.core.records import apply_update, claim_version
from salesplan.core.registry import require

from .handover import HandoverPlan, plan_fingerprint
from .models import AccessLink, Role, Team, User
from .selectors import bump_team_tree_version
from .services_company import _working_days_text, validate_time_zone

INVITE_VALID_FOR = timedelta(days=7)
RESET_VALID_FOR = timedelta(hours=2)


class HandoverChanged(StaleVersion):
    """What the user holds changed since the preview; nothing was handed over."""

    def __init__(self) -> None:
        Exception.__init__(
            self, "What this user holds changed since the hand-over preview was drawn "
                  "(a record was added, moved or closed). Open the preview again, check it, "
                  "and apply the new one; nothing was handed over.")
        self.current_version = 0
        self.given_version = 0


def _check(by: User | None, action: str, user: User | None = None) -> None:
    """`by=None` is the operator at the command line, who may do anything."""
    if by is not None:
        require(by, "person", action, user)


# --- Links sent by email ---------------------------------------------------------------


def base_url(link_base: str | None = None) -> str:
    """Where links in emails point: the address the request came to, or the configured
    SALESPLAN_BASE_URL (the command line has no request)."""
    return (link_base or settings.SALESPLAN_BASE_URL).rstrip("/")


def _issue_link(user: User, purpose: str, *, by: User | None, link_base: str | None) -> str:
    """A fresh one-time link for the user; earlier open links of the purpose stop working."""
    now = timezone.now()
    AccessLink.objects.filter(user=user, purpose=purpose, used_at__isnull=True,
                              revoked_at__isnull=True).update(revoked_at=now)
    token = secrets.token_urlsafe(32)
    valid_for = INVITE_VALID_FOR if purpose == AccessLink.Purpose.INVITE else RESET_VALID_FOR
    AccessLink.objects.create(user=user, purpose=purpose, token_hash=AccessLink.hash_token(token),
                              expires_at=now + valid_for, created_by=by)
    route = "web:invite_accept" if purpose == AccessLink.Purpose.INVITE else "web:password_set"
    return base_url(link_base) + reverse(route, args=[token])


def _send(user: User, subject: str, body: str) -> None:
    """Send through the configured mailer; a failure refuses the whole change."""
    try:
        send_mail(subject, body, None, [user.email])
    except (smtplib.SMTPException, OSError) as exc:
        raise ValidationError({"email": f"The email to {user.email} could not be sent "
                                        f"({exc}). Check the mail settings "
                                        "(SALESPLAN_EMAIL_URL) and try again."}) from exc


def _send_invitation(user: User, *, by: User | None, link_base: str | None) -> None:
    link = _issue_link(user, AccessLink.Purpose.INVITE, by=by, link_base=link_base)
    inviter = (by.get_full_name() or by.username) if by is not None else "Your administrator"
    days = INVITE_VALID_FOR.days
    _send(user, "You are invited to Salesplan",
          f"Hello {user.get_full_name() or user.username},\n\n{inviter} invited you to "
          f"Salesplan. Set your password here (the link works once, for {days} days):\n\n"
          f"{link}\n\nYour username is {user.username}.\n")


def open_link(token: str, purpose: str) -> AccessLink | None:
    """The link a token opens, if it is still usable (not used, revoked or expired)."""
    if not token or len(token) > 200:
        return None
    link = (AccessLink.objects.select_related("user")
            .filter(token_hash=AccessLink.hash_token(token), purpose=purpose).first())
    if link is None or link.used_at or link.revoked_at or link.expires_at <= timezone.now():
        return None
    if purpose == AccessLink.Purpose.RESET and not link.user.is_active:
        return None
    return link


@transaction.atomic
def set_password_with_link(token: str, purpose: str, password: str) -> User:
    """Use a one-time link: set the password and spend the link (once only)."""
    link = open_link(token, purpose)
    if link is None:
        raise ValidationError({"token": "This link has expired, was already used or was "
                                        "withdrawn. Ask an administrator for a new one."})
    # Spend the link first, conditionally: of two concurrent uses only one passes.
    if not AccessLink.objects.filter(pk=link.pk, used_at__isnull=True).update(
            used_at=timezone.now()):
        raise ValidationError({"token": "This link was already used."})
    user = link.user
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    claim_version(user, None)
    user.set_password(password)
    user.save(update_fields=["password"])
    audit.record_changes(user, {"password": ("", f"set with {link.get_purpose_display().lower()}")},
                         user)
    _delete_sessions(user)
    return user


# --- Invitations -----------------------------------------------------------------------


def _unique_username(email: str) -> str:
    base = email.split("@", 1)[0][:140] or "user"
    name, n = base, 1
    while User.objects.filter(username__iexact=name).exists():
        n += 1
        name = f"{base}{n}"
    return name


@transaction.atomic
def invite_user(*, by: User | None, email: str, first_name: str = "", last_name: str = "",
                role: str = Role.REP, team: Team | None = None, manager: User | None = None,
                username: str = "", link_base: str | None = None) -> User:
    """Create the person's account without a password and email them a one-time link to
    set one. The account is active; it cannot be logged into until the password is set."""
    _check(by, "invite")
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ValidationError({"email": f"“{email}” is not an email address."}) from exc
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": f"{email} already has an account."})
    username = (username or "").strip() or _unique_username(email)
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": f"The username {username} is taken."})
    _check_role(role)
    user = User(username=username, email=email, first_name=(first_name or "").strip()[:150],
                last_name=(last_name or "").strip()[:150], role=role, team=team,
                manager=manager or (team.manager if team else None))
    user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    audit.record_created(user, by)
    bump_team_tree_version()
    _send_invitation(user, by=by, link_base=link_base)
    return user


def pending_invitation(user: User) -> AccessLink | None:
    return (AccessLink.objects.filter(user=user, purpose=AccessLink.Purpose.INVITE,
                                      used_at__isnull=True, revoked_at__isnull=True,
                                      expires_at__gt=timezone.now()).first())


@transaction.atomic
def resend_invitation(user: User, *, by: User | None, link_base: str | None = None) -> None:
    """A new invitation link by email; the earlier one stops working."""
    _check(by, "invite", user)
    if user.has_usable_password():
        raise ValidationError({"user": f"{user} has already set a password."})
    if not user.is_active:
        raise ValidationError({"user": f"{user} is deactivated; reactivate them first."})
    _send_invitation(user, by=by, link_base=link_base)
    audit.record_changes(user, {"invitation": ("", "sent again")}, by)


@transaction.atomic
def revoke_invitation(user: User, *, by: User | None) -> int:
    """Withdraw the open invitation links; the account stays, with no way to log in."""
    _check(by, "invite", user)
    revoked = AccessLink.objects.filter(user=user, purpose=AccessLink.Purpose.INVITE,
                                        used_at__isnull=True, revoked_at__isnull=True
                                        ).update(revoked_at=timezone.now())
    if not revoked:
        raise ValidationError({"user": f"{user} has no open invitation."})
    audit.record_changes(user, {"invitation": ("open", "withdrawn")}, by)
    return revoked


# --- Role, team, manager, names --------------------------------------------------------

PERSON_FIELDS = {"first_name", "last_name", "email", "title", "phone", "role", "team",
                 "manager"}
PROFILE_FIELDS = {"time_zone", "work_starts", "work_ends", "working_days", "home_address",
                  "home_latitude", "home_longitude"}


def _check_role(role: str) -> None:
    if role not in Role.values:
        raise ValidationError({"role": f"“{role}” is not a role; choose one of "
                                       f"{', '.join(Role.values)}."})


def _check_manager(user: User, manager: User | None) -> None:
    if manager is None:
        return
    if manager.pk == user.pk:
        raise ValidationError({"manager": "A person cannot be their own manager."})
    if not manager.is_active:
        raise ValidationError({"manager": f"{manager} is deactivated."})
    seen: set[int] = {user.pk}
    current: User | None = manager
    while current is not None:
        if current.pk in seen:
            raise ValidationError({"manager": f"{manager} reports to {user} (directly or "
                                              "further up); the chain would go round."})
        seen.add(current.pk)
        current = current.manager


@transaction.atomic
def update_person(user: User, *, by: User | None, data: dict,
                  expected_version: int | None) -> dict:
    """Change a person's names, contact details, role, team or manager."""
    _check(by, "change", user)
    data = dict(data)
    if "role" in data:
        _check_role(data["role"])
        if by is not None and by.pk == user.pk and data["role"] != user.role:
            raise ValidationError({"role": "You cannot change your own role; ask another "
                                           "administrator."})
    if "email" in data:
        data["email"] = (data["email"] or "").strip()
        if User.objects.filter(email__iexact=data["email"]).exclude(pk=user.pk).exists():
            raise ValidationError({"email": f"{data['email']} already has an account."})
    if "manager" in data:
        _check_manager(user, data["manager"])
    changes = apply_update(user, data, by=by, allowed=PERSON_FIELDS,
                           expected_version=expected_version)
    if {"role", "team", "manager"} & set(changes):
        bump_team_tree_version()
    return changes


def _coordinate(data: dict, field: str, limit: int) -> None:
    value = data.get(field)
    if value in (None, ""):
        data[field] = None
        return
    try:
        number = Decimal(str(value))
    except InvalidOperation as exc:
        raise ValidationError({field: f"“{value}” is not a number."}) from exc
    if not number.is_finite() or not -limit <= number <= limit:
        raise ValidationError({field: f"Must lie between -{limit} and {limit} degrees."})
    data[field] = number.quantize(Decimal("0.000001"))


@transaction.atomic
def update_selling_profile(user: User, *, by: User | None, data: dict,
                           expected_version: int | None) -> dict:
    """Change where and when the person sells: time zone, working hours and days, home
    base with its coordinates."""
    _check(by, "change_profile", user)
    data = dict(data)
    if data.get("time_zone"):
        data["time_zone"] = validate_time_zone(data["time_zone"])
    if "working_days" in data and not isinstance(data["working_days"], str):
        data["working_days"] = _working_days_text(data["working_days"])
    if "home_latitude" in data:
        _coordinate(data, "home_latitude", 90)
    if "home_longitude" in data:
        _coordinate(data, "home_longitude", 180)
    starts = data.get("work_starts", user.work_starts)
    ends = data.get("work_ends", user.work_ends)
    if starts is not None and ends is not None and starts >= ends:
        raise ValidationError({"work_ends": "Working hours must end after they start."})
    latitude = data.get("home_latitude", user.home_latitude)
    longitude = data.get("home_longitude", user.home_longitude)
    if (latitude is None) != (longitude is None):
        raise ValidationError({"home_longitude": "Give both latitude and longitude, or "
                                                 "neither."})
    return apply_update(user, data, by=by, allowed=PROFILE_FIELDS,
                        expected_version=expected_version)


# --- Deactivation with a hand-over ------------------------------------------------------


def handover_plan(user: User, successor: User | None) -> HandoverPlan:
    """What the user holds and who gets each kind, with the fingerprint to apply it."""
    holdings: list[Holding] = user_handover.held(user)
    return HandoverPlan(user=user, successor=successor, holdings=holdings,
                        fingerprint=plan_fingerprint(user, successor, holdings))


def preview_handover(user: User, *, by: User | None, successor: User | None) -> HandoverPlan:
    _check(by, "deactivate", user)
    _check_successor(user, successor)
    return handover_plan(user, successor)


def _check_successor(user: User, successor: User | None) -> None:
    if successor is None:
        return
    if successor.pk == user.pk:
        raise ValidationError({"successor": "Choose someone other than the person leaving."})
    if not successor.is_active:
        raise ValidationError({"successor": f"{successor} is deactivated."})


@transaction.atomic
def deactivate_user(user: User, *, by: User | None, successor: User | None,
                    fingerprint: str) -> dict[str, int]:
    """Hand everything the user holds to the successor and deactivate them, all or
    nothing. `fingerprint` is the preview's: if what they hold changed since, nothing is
    done (HandoverChanged, a 409)."""
    _check(by, "deactivate", user)
    if by is not None and by.pk == user.pk:
        raise ValidationError({"user": "You cannot deactivate yourself."})
    if not user.is_active:
        raise ValidationError({"user": f"{user} is already deactivated."})
    _check_successor(user, successor)
    claim_version(user, None)  # locks the row: no second hand-over runs beside this one
    plan = handover_plan(user, successor)
    if plan.fingerprint != fingerprint:
        raise HandoverChanged()
    if plan.total and successor is None:
        raise ValidationError({"successor": f"{user} holds {plan.total} records; choose "
                                            "who takes them over."})
    moved = user_handover.hand_over(user, successor, by=by) if plan.total else {}
    now = timezone.now()
    user.is_active = False
    user.deactivated_at = now
    user.save(update_fields=["is_active", "deactivated_at"])
    AccessLink.objects.filter(user=user, used_at__isnull=True, revoked_at__isnull=True
                              ).update(revoked_at=now)
    _delete_sessions(user)
    audit.record_changes(user, {"is_active": (True, False),
                                "handed_over_to": ("", successor or "")}, by)
    bump_team_tree_version()
    return moved


@transaction.atomic
def reactivate_user(user: User, *, by: User | None, expected_version: int | None) -> None:
    """Let a deactivated person log in again (what was handed over stays handed over)."""
    _check(by, "deactivate", user)
    claim_version(user, expected_version)
    if user.is_active:
        raise ValidationError({"user": f"{user} is active."})
    user.is_active = True
    user.deactivated_at = None
    user.save(update_fields=["is_active", "deactivated_at"])
    audit.record_changes(user, {"is_active": (False, True)}, by)
    bump_team_tree_version()


# --- Sessions and password resets -------------------------------------------------------


def _delete_sessions(user: User) -> int:
    """Delete every stored session logged in as the user (database sessions)."""
    ids = [s.pk for s in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
           if s.get_decoded().get("_auth_user_id") == str(user.pk)]
    Session.objects.filter(pk__in=ids).delete()
    return len(ids)


@transaction.atomic
def end_sessions(user: User, *, by: User | None) -> int:
    """Log the person out everywhere: their browser sessions stop working now."""
    _check(by, "end_sessions", user)
    ended = _delete_sessions(user)
    audit.record_changes(user, {"sessions": (f"{ended} open", "ended")}, by)
    return ended


RESETS_PER_HOUR = 5


def _reset_allowed(login: str, client: str) -> bool:
    """At most a few reset emails an hour per address asked for and per client, so the
    form cannot be used to flood someone's mailbox."""
    allowed_now = True
    for key in (f"reset:to:{login.lower()}", f"reset:from:{client}"):
        if cache.add(key, 1, 3600):
            continue
        try:
            count = cache.incr(key)
        except ValueError:
            cache.set(key, 1, 3600)
            continue
        allowed_now = allowed_now and count <= RESETS_PER_HOUR
    return allowed_now


@transaction.atomic
def request_password_reset(login: str, *, link_base: str | None = None,
                           client: str = "") -> None:
    """Email a reset link to the account a typed address names. Says nothing about
    whether it exists (the page answers the same either way)."""
    login = (login or "").strip()
    if not login or not _reset_allowed(login, client or "unknown"):
        return
    user = User.objects.filter(email__iexact=login, is_active=True).order_by("id").first() \
        if login else None
    if user is None or not user.email:
        return
    _send_password_reset(user, by=None, link_base=link_base)


@transaction.atomic
def send_password_reset(user: User, *, by: User | None, link_base: str | None = None) -> None:
    """An administrator sends the person a password-reset link."""
    _check(by, "change", user)
    if not user.is_active:
        raise ValidationError({"user": f"{user} is deactivated."})
    _send_password_reset(user, by=by, link_base=link_base)
    audit.record_changes(user, {"password_reset": ("", "link sent")}, by)


def _send_password_reset(user: User, *, by: User | None, link_base: str | None) -> None:
    link = _issue_link(user, AccessLink.Purpose.RESET, by=by, link_base=link_base)
    hours = int(RESET_VALID_FOR.total_seconds() // 3600)
    _send(user, "Reset your Salesplan password",
          f"Hello {user.get_full_name() or user.username},\n\nSomeone asked to reset the "
          f"password of your Salesplan account ({user.username}). Choose a new one here "
          f"(the link works once, for {hours} hours):\n\n{link}\n\nIf it was not you, "
          "ignore this email; your password stays as it is.\n")
