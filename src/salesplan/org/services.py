"""Writes about the organisation's people: API tokens for scripts and integrations."""

from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from salesplan.core import audit

from .models import ApiToken, User

# A token used every second would otherwise write to the database every second.
LAST_USED_PRECISION = timedelta(minutes=1)


@transaction.atomic
def create_api_token(user: User, name: str, *, by: User | None = None) -> tuple[ApiToken, str]:
    """Issue a bearer token acting as `user`. Returns the stored token and the raw key;
    only the key's hash is stored, so the raw key must be shown to the person now."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the token a name, e.g. the integration using it."})
    if len(name) > 100:
        raise ValidationError({"name": "Keep the name under 100 characters."})
    if not user.is_active:
        raise ValidationError({"user": f"{user.username} is deactivated and cannot get a token."})
    raw_key = ApiToken.new_key()
    token = ApiToken.objects.create(
        user=user, name=name, prefix=raw_key[:12], key_hash=ApiToken.hash_key(raw_key))
    audit.record_created(token, by)
    return token, raw_key


@transaction.atomic
def revoke_api_token(token: ApiToken, by: User | None) -> ApiToken:
    """Refuse the token from now on. Its owner or an admin may revoke it; `by=None` is
    the server operator (the command line). Revoking twice changes nothing."""
    if by is not None and by.pk != token.user_id and not by.is_admin:
        raise PermissionDenied("You may revoke only your own API tokens.")
    if token.revoked_at is not None:
        return token
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at", "updated_at"])
    audit.record_changes(token, {"revoked_at": (None, token.revoked_at)}, by)
    return token


def note_api_token_used(token: ApiToken) -> None:
    """Remember when the token was last used, at most once a minute."""
    now = timezone.now()
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_PRECISION:
        return
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    token.last_used_at = now
