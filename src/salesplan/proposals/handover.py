"""A departing user's open quotes go to their successor; the approvals waiting on them
(as the manager of the owner's team, or of the team above) follow the teams they
manage, which the hand-over gives the successor too."""

from salesplan.core.handover import field_provider, holding
from salesplan.core.hooks import HandoverProvider, Holding

from .models import Approval, ApprovalStatus, ApproverLevel, Quote, QuoteStatus
from .permissions import _level

OPEN = [QuoteStatus.DRAFT, QuoteStatus.IN_APPROVAL, QuoteStatus.APPROVED, QuoteStatus.SENT]
FOLLOW_TEAMS = "whoever then manages the team (the successor, who takes over their teams)"

_quotes = field_provider("proposals", [
    ("quotes", "Open quotes", lambda u: Quote.objects.filter(owner=u, status__in=OPEN),
     "owner")])


def _waiting_on(user) -> list[int]:
    pending = (Approval.objects.filter(
        status=ApprovalStatus.PENDING, approver__in=[ApproverLevel.MANAGER,
                                                     ApproverLevel.DIRECTOR],
        quote_version__quote__status=QuoteStatus.IN_APPROVAL)
        .select_related("quote_version__quote__opportunity__owner__team"))
    return [a.pk for a in pending if _level(user, a)]


def held(user) -> list[Holding]:
    approvals = holding("quote_approvals", "Quote approvals waiting on them",
                        Approval.objects.filter(pk__in=_waiting_on(user)), FOLLOW_TEAMS)
    return _quotes.held(user) + approvals


def hand_over(user, successor, *, by) -> dict[str, int]:
    # Approvals need no write: a manager-level step is decided by whoever manages the team.
    return _quotes.hand_over(user, successor, by=by)


provider = HandoverProvider("proposals", held, hand_over)
