"""`{% can "alignment" "activate" alignment as may_activate %}`: the permission registry
in templates, so a control the user may not use is not shown."""

from django import template

from salesplan.core.registry import allowed

register = template.Library()


@register.simple_tag(takes_context=True)
def can(context, resource: str, action: str, obj=None) -> bool:
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    return bool(user is not None and allowed(user, resource, action, obj))
