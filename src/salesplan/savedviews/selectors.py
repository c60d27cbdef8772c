"""Reading saved views: a user sees their own and those shared with their team."""

from django.db.models import Q, QuerySet

from salesplan.core.registry import require

from .models import SavedView


def saved_views(user, list_key: str | None = None) -> QuerySet[SavedView]:
    require(user, "saved_view", "view")
    rows = SavedView.objects.filter(Q(owner=user) | Q(shared=True, team_id=user.team_id)
                                    if user.team_id else Q(owner=user))
    if list_key:
        rows = rows.filter(list_key=list_key)
    return rows.select_related("owner")
