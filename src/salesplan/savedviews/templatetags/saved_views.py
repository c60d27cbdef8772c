"""`{% saved_views_bar "accounts" %}`: the list's saved views and the form saving the
current one (filters, search, sort and columns as they are in the address)."""

from urllib.parse import urlencode

from django import template

from salesplan.core.registry import allowed

from ..models import LIST_KEYS
from ..selectors import saved_views

register = template.Library()


@register.inclusion_tag("savedviews/_bar.html", takes_context=True)
def saved_views_bar(context, list_key: str) -> dict:
    request = context["request"]
    user = request.user
    if list_key not in LIST_KEYS:
        return {"views": [], "can_save": False}
    views = list(saved_views(user, list_key)) if allowed(user, "saved_view", "view") else []
    current = request.GET.copy()
    current.pop("cursor", None)
    current.pop("page", None)
    params = {key: ",".join(values) for key, values in current.lists() if any(values)}
    return {
        "views": [{"view": v, "url": request.path + ("?" + urlencode(v.params) if v.params
                                                      else ""),
                   "mine": v.owner_id == user.pk} for v in views],
        "list_key": list_key, "params": urlencode(params),
        "next": request.path + ("?" + urlencode(params) if params else ""),
        "can_save": allowed(user, "saved_view", "manage"),
        "can_share": allowed(user, "saved_view", "share") and user.team_id is not None,
        "csrf_token": context.get("csrf_token"),
    }
