"""TOTP two-factor authentication: enrolment, checking a code at login, recovery codes,
switching it off, and an admin's reset.

A code is accepted for the time step it belongs to (30 s, one step either side for
clock drift) only if that step is later than the last one accepted, so a code seen over
someone's shoulder cannot be used again. Recovery codes are stored hashed and each
works once. Failed codes count per user; past `LOGIN_MAX_FAILURES` within the login
failure window every code is refused until the window passes.
"""

import hmac
import secrets
import time

import pyotp
import segno
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from salesplan.core.audit import record_changes
from salesplan.core.registry import require
from salesplan.org.models import Company

from .models import RecoveryCode, SignOnPolicy, TotpDevice

STEP_SECONDS = 30
RECOVERY_CODE_COUNT = 10
LOCKED_MESSAGE = "Too many wrong codes. Wait 15 minutes and try again, or ask an administrator."


def has_two_factor(user) -> bool:
    return TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()


def two_factor_required(user) -> bool:
    """The company requires a second factor of this user (admins, when the policy says so)."""
    return bool(user.is_admin and SignOnPolicy.objects.filter(
        require_admin_two_factor=True).exists())


def _audit(user, *, by, old: str, new: str) -> None:
    record_changes(user, {"two_factor": (old, new)}, by)


@transaction.atomic
def start_enrolment(user, *, by) -> TotpDevice:
    """A new secret for the user's authenticator (kept until they confirm it with a code);
    refused while two-factor authentication is already on."""
    require(by, "two_factor", "enrol")
    if by.pk != user.pk:
        raise ValidationError("Each user sets up their own two-factor authentication.")
    device = TotpDevice.objects.select_for_update().filter(user=user).first()
    if device is not None and device.confirmed:
        raise ValidationError("Two-factor authentication is already on.")
    if device is None:
        device = TotpDevice.objects.create(user=user, secret=pyotp.random_base32())
    return device


def provisioning_uri(device: TotpDevice) -> str:
    """The otpauth:// address an authenticator app reads (from the QR code or by hand)."""
    user = device.user
    return pyotp.TOTP(device.secret).provisioning_uri(
        name=user.email or user.username, issuer_name=Company.current().name or "Salesplan")


def qr_code_data_uri(uri: str) -> str:
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


def _failures_key(user) -> str:
    return f"signon-2fa-fail:{user.pk}"


def locked(user) -> bool:
    return (cache.get(_failures_key(user)) or 0) >= settings.LOGIN_MAX_FAILURES


def _note_failure(user) -> None:
    key = _failures_key(user)
    if not cache.add(key, 1, settings.LOGIN_FAILURE_WINDOW_SECONDS):
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, settings.LOGIN_FAILURE_WINDOW_SECONDS)


def _matching_step(device: TotpDevice, code: str, now: float) -> int | None:
    """The time step (within one of now) whose code this is and that was not used yet."""
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(device.secret, interval=STEP_SECONDS)
    current = int(now // STEP_SECONDS)
    for step in (current - 1, current, current + 1):
        if step > device.last_step and hmac.compare_digest(
                totp.at(step * STEP_SECONDS), code):
            return step
    return None


def _use_totp(device: TotpDevice, code: str) -> bool:
    step = _matching_step(device, code, time.time())
    if step is None:
        return False
    # Conditional, so two requests with the same code cannot both pass.
    return bool(TotpDevice.objects.filter(pk=device.pk, last_step__lt=step)
                .update(last_step=step))


def _use_recovery_code(user, code: str) -> bool:
    found = RecoveryCode.objects.filter(user=user, code_hash=RecoveryCode.hash_code(code),
                                        used_at__isnull=True).first()
    return found is not None and bool(
        RecoveryCode.objects.filter(pk=found.pk, used_at__isnull=True)
        .update(used_at=timezone.now()))


def verify_code(user, code: str) -> str | None:
    """Check a code typed at login: "totp" or "recovery" for the way it passed, None if
    refused (wrong, already used, or too many failures)."""
    code = "".join(code.split())
    if locked(user):
        return None
    with transaction.atomic():
        device = TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).first()
        if device is None:
            return None
        if _use_totp(device, code):
            cache.delete(_failures_key(user))
            return "totp"
        if len(code) != 6 and _use_recovery_code(user, code):
            cache.delete(_failures_key(user))
            return "recovery"
    _note_failure(user)
    return None


def _new_recovery_codes(user) -> list[str]:
    RecoveryCode.objects.filter(user=user).delete()
    codes = [f"{secrets.token_hex(4)}-{secrets.token_hex(4)}"
             for _ in range(RECOVERY_CODE_COUNT)]
    RecoveryCode.objects.bulk_create(
        RecoveryCode(user=user, code_hash=RecoveryCode.hash_code(c)) for c in codes)
    return codes


@transaction.atomic
def confirm_enrolment(user, *, by, code: str) -> list[str]:
    """Switch two-factor authentication on once the user's first code matches; answers
    the recovery codes, shown this once and stored only as hashes."""
    require(by, "two_factor", "enrol")
    device = TotpDevice.objects.select_for_update().filter(user=user).first()
    if device is None or by.pk != user.pk:
        raise ValidationError({"code": "Start the set-up again: no authenticator is waiting "
                                       "for confirmation."})
    if device.confirmed:
        raise ValidationError("Two-factor authentication is already on.")
    if not _use_totp(device, "".join(code.split())):
        raise ValidationError({"code": "That code does not match. Check the time on your "
                                       "phone and type the code now shown."})
    TotpDevice.objects.filter(pk=device.pk).update(confirmed_at=timezone.now())
    _audit(user, by=by, old="off", new="on")
    return _new_recovery_codes(user)


@transaction.atomic
def new_recovery_codes(user, *, by, password: str) -> list[str]:
    """Replace the user's recovery codes (the old ones stop working), after their password."""
    require(by, "two_factor", "enrol")
    if by.pk != user.pk or not has_two_factor(user):
        raise ValidationError("Two-factor authentication is not on.")
    if not user.check_password(password):
        raise ValidationError({"password": "That is not your password."})
    _audit(user, by=by, old="on", new="on, new recovery codes")
    return _new_recovery_codes(user)


@transaction.atomic
def disable_two_factor(user, *, by, password: str) -> None:
    """Switch off the user's own two-factor authentication, after their password."""
    require(by, "two_factor", "disable")
    if by.pk != user.pk:
        raise ValidationError("Only the user switches off their own two-factor "
                              "authentication; an admin resets it.")
    if not has_two_factor(user):
        raise ValidationError("Two-factor authentication is not on.")
    if not user.check_password(password):
        raise ValidationError({"password": "That is not your password."})
    if two_factor_required(user):
        raise ValidationError("The company requires two-factor authentication for admins.")
    _remove(user)
    _audit(user, by=by, old="on", new="off")


@transaction.atomic
def reset_two_factor(user, *, by) -> bool:
    """An admin takes away a user's authenticator and recovery codes (a lost phone); the
    user signs in with their password and sets it up again. False if there was none."""
    require(by, "two_factor", "reset")
    had = TotpDevice.objects.filter(user=user).exists()
    if had:
        _remove(user)
        _audit(user, by=by, old="on", new="off (reset by an admin)")
    cache.delete(_failures_key(user))
    return had


def _remove(user) -> None:
    TotpDevice.objects.filter(user=user).delete()
    RecoveryCode.objects.filter(user=user).delete()
