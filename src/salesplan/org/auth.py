"""Log in with a username or an email address; failed attempts are throttled.

Failures count against the account the typed name or email address belongs to
(whichever of the two is typed, it is the same account and the same count) and against
the client's address. A name that matches no account is counted by the name itself, so
guessing behaves the same whether or not the account exists."""

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.db.models import Q
from django.http import HttpRequest
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer

from .models import ApiToken, User
from .services import note_api_token_used


class UsernameOrEmailBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        user = account_for_login(username)
        if user is None:
            # Spend the same time hashing as for a real user, so timing reveals nothing.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None


def account_for_login(login: str) -> User | None:
    """The account a typed username or email address names (the oldest on a tie)."""
    login = login.strip()
    if not login:
        return None
    return User.objects.filter(Q(username__iexact=login) | Q(email__iexact=login)).order_by(
        "id").first()


def _keys(username: str, address: str) -> list[str]:
    account = account_for_login(username)
    who = f"account:{account.pk}" if account is not None else \
        f"name:{username.strip().lower()}"
    return [f"login-fail:{who}", f"login-fail:addr:{address}"]


def login_locked(username: str, address: str) -> bool:
    limit = settings.LOGIN_MAX_FAILURES
    return any((cache.get(k) or 0) >= limit for k in _keys(username, address))


def note_login_failure(username: str, address: str) -> None:
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    for key in _keys(username, address):
        if cache.add(key, 1, window):
            continue
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, window)


def clear_login_failures(username: str, address: str) -> None:
    cache.delete_many(_keys(username, address))


class ApiTokenAuth(HttpBearer):
    """`Authorization: Bearer sp_…`: a token issued with `salesplan token create`.

    A token that is unknown, revoked or belongs to a deactivated user is refused outright
    (401), even if the request also carries a browser session."""

    openapi_description = "An API token created with `salesplan token create USERNAME`."

    def authenticate(self, request: HttpRequest, token: str):
        found = (ApiToken.objects.select_related("user")
                 .filter(key_hash=ApiToken.hash_key(token.strip()), revoked_at__isnull=True,
                         user__is_active=True).first())
        if found is None:
            raise AuthenticationError(message="The API token is not valid or has been revoked.")
        note_api_token_used(found)
        request.user = found.user
        return found.user
