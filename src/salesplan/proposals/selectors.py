"""Reads of quotes and approvals, already restricted to what the user may see."""

from django.db.models import Exists, OuterRef, Q, QuerySet

from salesplan.core.registry import require
from salesplan.org.models import User

from .access import visible_quotes
from .models import Approval, ApprovalRule, ApprovalStatus, Quote, QuoteStatus


def quote_list(user: User, *, status: str | None = None,
               opportunity_id: int | None = None) -> QuerySet[Quote]:
    queryset = visible_quotes(user).select_related("opportunity", "opportunity__account",
                                                   "owner")
    if status:
        queryset = queryset.filter(status=status)
    if opportunity_id:
        queryset = queryset.filter(opportunity_id=opportunity_id)
    return queryset


def quotes_of_opportunity(user: User, opportunity_id: int) -> QuerySet[Quote]:
    return quote_list(user, opportunity_id=opportunity_id).order_by("-created_at", "-id")


def _decidable(user: User) -> Q | None:
    """Which approvals wait for this user, as a filter; None for none. Administrators
    see the steps addressed to nobody (an admin's); they may act for anyone else from the
    quote's page, but those steps wait for their own signer."""
    if not (user.is_authenticated and user.is_active):
        return None
    if user.is_admin:
        return Q(assignee__isnull=True) | Q(assignee=user)
    return Q(assignee=user) & ~Q(quote_version__quote__owner=user) & ~Q(
        quote_version__quote__opportunity__owner=user)


def approval_inbox(user: User) -> QuerySet[Approval]:
    """Pending approvals whose turn has come (every earlier step approved) that this user
    may decide, oldest first."""
    rule = _decidable(user)
    if rule is None:
        return Approval.objects.none()
    earlier_pending = Approval.objects.filter(
        quote_version=OuterRef("quote_version"), step__lt=OuterRef("step"),
        status=ApprovalStatus.PENDING)
    return (Approval.objects.filter(rule, status=ApprovalStatus.PENDING,
                                    quote_version__quote__status=QuoteStatus.IN_APPROVAL)
            .filter(~Exists(earlier_pending))
            .select_related("quote_version", "quote_version__quote",
                            "quote_version__quote__opportunity",
                            "quote_version__quote__opportunity__account")
            .order_by("created_at", "id"))


def approval_rules(user: User) -> QuerySet[ApprovalRule]:
    """The discount approval matrix, in step order (everyone reads it)."""
    require(user, "quote_settings", "view")
    return ApprovalRule.objects.all()
