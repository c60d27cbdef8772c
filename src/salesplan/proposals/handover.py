"""A departing user's open quotes, and the approval steps addressed to them that are not
yet signed, go to their successor; a step whose turn has come leaves the departing
person's inbox and appears in the successor's."""

from salesplan.core.handover import field_provider
from salesplan.core.hooks import HandoverProvider, Holding

from . import notices
from .models import Approval, ApprovalStatus, Quote, QuoteStatus, QuoteVersion

OPEN = [QuoteStatus.DRAFT, QuoteStatus.IN_APPROVAL, QuoteStatus.APPROVED, QuoteStatus.SENT]


def _steps_to_sign(user):
    return Approval.objects.filter(assignee=user, status=ApprovalStatus.PENDING,
                                   quote_version__quote__status=QuoteStatus.IN_APPROVAL)


_fields = field_provider("proposals", [
    ("quotes", "Open quotes", lambda u: Quote.objects.filter(owner=u, status__in=OPEN),
     "owner"),
    ("quote_approvals", "Quote approval steps waiting on them", _steps_to_sign, "assignee"),
])


def held(user) -> list[Holding]:
    return _fields.held(user)


def hand_over(user, successor, *, by) -> dict[str, int]:
    version_ids = set(_steps_to_sign(user).values_list("quote_version_id", flat=True))
    moved = _fields.hand_over(user, successor, by=by)
    for version in QuoteVersion.objects.filter(pk__in=version_ids).select_related("quote"):
        notices.close_steps(version)  # out of the departing person's inbox
        notices.announce_turn(version)  # into the successor's, where the turn has come
    return moved


provider = HandoverProvider("proposals", held, hand_over)
