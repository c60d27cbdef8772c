"""The OpenID Connect client (authlib), configured from the settings.

`SALESPLAN_OIDC` in the settings (from the environment, see README): the provider's
discovery address (or its issuer, to which `/.well-known/openid-configuration` is
added), the client id and secret registered there, the name shown on the login page,
the scopes asked for and the claim that lists the user's groups. Without a discovery
address and client id, OpenID login is off and the login page does not offer it.
"""

from functools import lru_cache

from authlib.integrations.django_client import OAuth
from django.conf import settings


def _config() -> dict:
    return dict(getattr(settings, "SALESPLAN_OIDC", {}) or {})


def configured() -> bool:
    config = _config()
    return bool(discovery_url() and config.get("client_id"))


def provider_name() -> str:
    return str(_config().get("provider_name") or "single sign-on")


def groups_claim() -> str:
    return str(_config().get("groups_claim") or "groups")


def discovery_url() -> str:
    config = _config()
    url = str(config.get("discovery_url") or "")
    issuer = str(config.get("issuer") or "")
    if not url and issuer:
        url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    return url


@lru_cache(maxsize=4)
def _client(url: str, client_id: str, client_secret: str, scope: str):
    # One client per configuration: authlib keeps the provider's metadata and keys on it.
    oauth = OAuth()
    return oauth.register("salesplan", server_metadata_url=url, client_id=client_id,
                          client_secret=client_secret, client_kwargs={"scope": scope})


def client():
    config = _config()
    return _client(discovery_url(), str(config["client_id"]),
                   str(config.get("client_secret") or ""),
                   str(config.get("scopes") or "openid email profile groups"))


def claims_from(token: dict) -> tuple[str, dict]:
    """The issuer and the person's claims: the ID token's, completed from the userinfo
    endpoint when the groups (or email) are not in the ID token."""
    oidc = client()
    claims = dict(token.get("userinfo") or {})
    if groups_claim() not in claims or "email" not in claims:
        extra = dict(oidc.userinfo(token=token))
        if extra.get("sub") == claims.get("sub"):
            claims = {**extra, **claims}
    issuer = str(claims.get("iss") or oidc.load_server_metadata().get("issuer") or "")
    return issuer, claims
