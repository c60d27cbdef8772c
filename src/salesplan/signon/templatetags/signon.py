"""`{% sign_on_provider as name %}`: the provider's name when OpenID login is configured,
else an empty string (the login page then offers no button)."""

from django import template

from salesplan.signon import oidc

register = template.Library()


@register.simple_tag
def sign_on_provider() -> str:
    return oidc.provider_name() if oidc.configured() else ""
