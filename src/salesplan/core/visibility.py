"""The one visibility rule: which records a user may see.

Every list, detail page, API endpoint, export, search and report starts from
`Model.objects.visible_to(user)`. Models declare how they relate to owners and accounts;
other apps (territories) widen a user's account scope by registering a provider, so no
view has to change when a new source of visibility appears.
"""

from collections.abc import Callable

from django.db import models
from django.db.models import Q

AccountScopeProvider = Callable[[object], Q | None]
_account_scope_providers: list[AccountScopeProvider] = []


def register_account_scope(provider: AccountScopeProvider) -> None:
    """Register a function user -> Q over Account naming extra accounts the user sees."""
    if provider not in _account_scope_providers:
        _account_scope_providers.append(provider)


def extra_account_scope(user) -> Q | None:
    combined: Q | None = None
    for provider in _account_scope_providers:
        q = provider(user)
        if q is not None:
            combined = q if combined is None else combined | q
    return combined


class VisibleQuerySet(models.QuerySet):
    """A queryset that knows how to restrict itself to what a user may see.

    The model names its rule with class attributes:
    - `visibility_owner_field`: the user who owns the record (default "owner").
    - `visibility_account_field`: path to the account, for territory scopes (or None).
    - `visibility_roles_seeing_all`: roles besides admin/executive that see every row.
    - `visibility_roles_seeing_none`: roles that see no row at all unless they own it.
    """

    def visible_to(self, user) -> "VisibleQuerySet":
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        model = self.model
        role = getattr(user, "role", None)
        if role in getattr(model, "visibility_roles_seeing_all", ()):
            return self
        owner_ids = user.visible_owner_ids
        if owner_ids is None:
            return self
        owner_field = getattr(model, "visibility_owner_field", "owner")
        rule = Q(**{f"{owner_field}_id__in": owner_ids})
        if role in getattr(model, "visibility_roles_seeing_none", ()):
            return self.filter(Q(**{f"{owner_field}_id": user.pk}))
        account_field = getattr(model, "visibility_account_field", None)
        extra = extra_account_scope(user)
        if extra is not None and account_field is not None:
            from salesplan.customers.models import Account

            if account_field == "self":
                rule |= extra
            else:
                rule |= Q(**{f"{account_field}__in": Account.objects.filter(extra).values("pk")})
        return self.filter(rule)


VisibleManager = models.Manager.from_queryset(VisibleQuerySet)
