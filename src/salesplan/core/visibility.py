"""The one visibility rule: which records a user may see.

Every list, detail page, API endpoint, export, search and report starts from
`Model.objects.visible_to(user)`. Models declare how they relate to owners and accounts;
other apps (territories) widen a user's account scope by registering a provider, so no
view has to change when a new source of visibility appears.
"""

from collections.abc import Callable

from django.core.exceptions import EmptyResultSet
from django.db import models
from django.db.models import Lookup, Q, QuerySet
from django.db.models.lookups import In

# A provider names the ids of extra accounts a user sees as a query of one column
# (`.values("account_id")`) or a list of ids, or None. Ids rather than a filter over
# accounts: the rule then tests a deal's or contact's account id against them directly,
# where a filter over accounts made PostgreSQL read the whole accounts table to
# translate it (0.83 s of a rep's weighted pipeline at 5M deals; 0.46 s without).
AccountScopeProvider = Callable[[object], QuerySet | list[int] | None]
_account_scope_providers: list[AccountScopeProvider] = []


def register_account_scope(provider: AccountScopeProvider) -> None:
    """Register a function user -> account-id query naming extra accounts the user sees."""
    if provider not in _account_scope_providers:
        _account_scope_providers.append(provider)


def extra_account_ids(user) -> list[QuerySet | list[int]]:
    """The account-id queries of every provider that widens this user's scope."""
    found = (provider(user) for provider in _account_scope_providers)
    return [ids for ids in found if ids is not None]


class InIds(Lookup):
    """`field__in_ids=[1, 2, …]`: the rows whose integer `field` is one of these ids, as
    `__in` but, on PostgreSQL, with the ids sent as one array (`= ANY(%s)`). A rep's
    territory accounts (up to 1,000 ids) are tested in most queries of every page they
    open; as `IN (…)` each query prepared, compiled and quoted every id again: a deal
    query built, compiled and run cost the web process 2.1 ms at 210 ids and 5.0 ms at
    1,000, against 1.5 and 2.1 ms with the array."""

    lookup_name = "in_ids"
    prepare_rhs = False

    def get_prep_lookup(self):
        return [int(value) for value in self.rhs]

    def as_sql(self, compiler, connection):
        if not self.rhs:
            raise EmptyResultSet
        lhs, lhs_params = self.process_lhs(compiler, connection)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s)", (*lhs_params, self.rhs)
        placeholders = ", ".join(["%s"] * len(self.rhs))
        return f"{lhs} IN ({placeholders})", (*lhs_params, *self.rhs)


models.Field.register_lookup(InIds)
models.ForeignObject.register_lookup(InIds)  # relations look up only their own kind's


class InArrayOf(In):
    """`field__in_array_of=<one-column query>`: as `__in`, but on PostgreSQL the query's
    ids are gathered first into one array (`= ANY(ARRAY(SELECT …))`), so the rows are
    found through `field`'s index, one probe per id. For the rest of a manager's
    territory accounts' records (those their teams do not own), often none: as a
    semi-join PostgreSQL read every open deal in three processes to find the deals of
    5,000 territory accounts (70 ms each at 500,000 deals, 610 ms each at 5,000,000),
    against 19 ms and 546 ms in one process through the account index."""

    lookup_name = "in_array_of"

    def get_rhs_op(self, connection, rhs):
        if connection.vendor == "postgresql" and not self.rhs_is_direct_value():
            return f"= ANY(ARRAY{rhs})"
        return super().get_rhs_op(connection, rhs)


models.Field.register_lookup(InArrayOf)
models.ForeignObject.register_lookup(InArrayOf)


def scope_rest(queryset: "VisibleQuerySet", owned: Q, in_scope: Q) -> "VisibleQuerySet":
    """The records of the account scope `in_scope` that `owned` does not cover: looked up
    from the scope's accounts (`__in_array_of`) rather than by reading every record and
    testing its account (see `InArrayOf`)."""
    return queryset.filter(_driven_by_accounts(in_scope)).exclude(owned)


def _driven_by_accounts(q: Q) -> Q:
    driven = Q.create(connector=q.connector, negated=q.negated)
    for child in q.children:
        if isinstance(child, Q):
            child = _driven_by_accounts(child)
        elif isinstance(child, tuple) and child[0].endswith("__in") \
                and isinstance(child[1], QuerySet):
            child = (child[0].removesuffix("__in") + "__in_array_of", child[1])
        driven.children.append(child)
    return driven


def account_scope_q(field: str, ids: list[QuerySet | list[int]]) -> Q | None:
    """Q over a model whose `field` holds an account id ("pk" for accounts themselves):
    the records of the accounts these queries name."""
    combined: Q | None = None
    for account_ids in ids:
        lookup = "in_ids" if isinstance(account_ids, list) else "in"
        q = Q(**{f"{field}__{lookup}": account_ids})
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
        rule = self._visibility_rule(user)
        if rule is None:
            return self.none()
        owned, in_scope = rule
        if owned is None:
            return self
        restricted = self.filter(owned if in_scope is None else owned | in_scope)
        if len(user.visible_owner_ids or ()) > 1:  # a team's records: see disjoint_parts
            restricted._visibility_rule_applied = rule  # type: ignore[attr-defined]
        elif in_scope is not None:
            # One owner's records or their territory accounts': few rows, which a page
            # should sort rather than walk an index for (see `few_visible_rows`).
            restricted._few_visible_rows = True  # type: ignore[attr-defined]
        return restricted

    @property
    def few_visible_rows(self) -> bool:
        """True for a rep's view (their own records or their territory accounts'): a
        page of it is found by the owner and account indexes and sorted. PostgreSQL,
        judging the two conditions independent, walked the whole company's table along
        the list's sort index instead, to fill a page of 50: 114,000 activities read,
        165 ms (190 ms on three processes in parallel), where sorting the rep's 1,150
        took 3 ms (100,000 accounts)."""
        return getattr(self, "_few_visible_rows", False)

    def _clone(self):
        clone = super()._clone()  # type: ignore[misc]
        clone._visibility_rule_applied = getattr(self, "_visibility_rule_applied", None)
        clone._few_visible_rows = getattr(self, "_few_visible_rows", False)
        return clone

    def disjoint_parts(self) -> list["VisibleQuerySet"] | None:
        """This queryset (already `visible_to(user)`, with any filters since) as the
        disjoint parts of `visible_parts`: what the user sees by ownership, then the rest
        of their territory accounts' records; None when it is not made of two parts or
        the user owns alone. Counts and sums over the parts add up to the whole's. For
        counting: a manager's capped list count read the whole
        deals table to find 10,001 rows owned by their team or on their territories'
        accounts (54 ms of the database's processor time, 20 ms in parts, at 500,000
        deals), where the owned part reads the owner index. A rep's own records are few
        and counted at once: a second query would cost more than it saves."""
        rule = getattr(self, "_visibility_rule_applied", None)
        if rule is None or rule[1] is None:
            return None
        owned, in_scope = rule
        return [self.filter(owned), scope_rest(self, owned, in_scope)]

    def visible_parts(self, user) -> list["VisibleQuerySet"]:
        """`visible_to(user)` as disjoint querysets whose union it is: what the user sees
        by ownership, then the rest of their territory accounts' records. Sums and counts
        over the parts add up to those over the whole, and each part reads its own index
        (owner, …) or (account, …), where the one query with an OR makes PostgreSQL read
        the whole table (a rep's weighted pipeline at 5M deals: 0.46 s, in parts 0.31 s).

        The territory part is often nearly empty (reps own their accounts' deals) while
        PostgreSQL, judging its two conditions independent, expects it large: read a
        page of it sorted (`core.listing.sorted_not_walked`), not along an index."""
        rule = self._visibility_rule(user)
        if rule is None:
            return []
        owned, in_scope = rule
        if owned is None:
            return [self]
        if in_scope is None:
            return [self.filter(owned)]
        return [self.filter(owned), scope_rest(self, owned, in_scope)]

    def visible_pk_parts(self, user) -> list[QuerySet] | None:
        """The primary keys of `visible_to(user)` as one-column queries whose union it is
        (they may overlap), for `field__in=` on a model that points at this one; None
        when the user sees every row. What the user owns is read on the owner index,
        what their account scope adds as its providers name it. With the OR of
        `visible_to` instead, PostgreSQL read the whole accounts table to keep a rep's
        few thousand (0.3–0.4 s for a page of 51 health rows at 1M accounts, 0.4–0.6 s
        for its count); the accounts of a manager's territories, looked up in the accounts
        table, were 50,000 probes of its primary key (0.2 s), read as the providers'
        ids 10 ms."""
        rule = self._visibility_rule(user)
        if rule is None:
            return [self.none().values("pk")]
        owned, in_scope = rule
        if owned is None:
            return None
        parts: list[QuerySet] = [self.filter(owned).values("pk")]
        if in_scope is None:
            return parts
        if getattr(self.model, "visibility_account_field", None) == "self" \
                and not self.query.where:
            # Unfiltered accounts: the scope's ids are the answer as they are.
            parts += [self.filter(pk__in_ids=ids).values("pk") if isinstance(ids, list)
                      else ids for ids in extra_account_ids(user)]
        else:
            parts.append(self.filter(in_scope).values("pk"))
        return parts

    def visible_pks(self, user) -> QuerySet | None:
        """`visible_pk_parts` as one query (a UNION ALL; `__in` ignores the ids named
        twice), for the database to start from: a rep's few thousand visible ids, then
        the rows that point at them by key. None when the user sees every row."""
        parts = self.visible_pk_parts(user)
        if parts is None:
            return None
        return parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]

    def visible_by_owner(self, user) -> tuple[list[int] | None, list["VisibleQuerySet"]] | None:
        """`visible_to(user)` as (the owners whose records the user sees, None meaning every
        owner; the querysets of the rest, seen only through the user's account scope and
        disjoint from the owners' records); None when the user sees nothing. For sums kept
        per owner in a rollup: the owners' part read from it, the rest summed live."""
        rule = self._visibility_rule(user)
        if rule is None:
            return None
        owned, in_scope = rule
        if owned is None:
            return None, []
        sees_own_only = getattr(user, "role", None) in getattr(
            self.model, "visibility_roles_seeing_none", ())
        owners = [user.pk] if sees_own_only else list(user.visible_owner_ids or ())
        return owners, ([] if in_scope is None else [scope_rest(self, owned, in_scope)])

    def _visibility_rule(self, user) -> tuple[Q | None, Q | None] | None:
        """(what the user sees by ownership, what their account scope adds): None when the
        user sees nothing, (None, None) when they see every row."""
        if user is None or not user.is_authenticated or not user.is_active:
            return None
        model = self.model
        role = getattr(user, "role", None)
        if role in getattr(model, "visibility_roles_seeing_all", ()):
            return None, None
        owner_ids = user.visible_owner_ids
        if owner_ids is None:
            return None, None
        owner_field = getattr(model, "visibility_owner_field", "owner")
        if role in getattr(model, "visibility_roles_seeing_none", ()):
            return Q(**{f"{owner_field}_id": user.pk}), None
        owned = Q(**{f"{owner_field}_id__in": owner_ids})
        account_field = getattr(model, "visibility_account_field", None)
        if account_field is None:
            return owned, None
        field = "pk" if account_field == "self" else f"{account_field}_id"
        return owned, account_scope_q(field, extra_account_ids(user))


VisibleManager = models.Manager.from_queryset(VisibleQuerySet)
