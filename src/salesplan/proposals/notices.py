"""What quotes put in people's inboxes: each approval step for the person who must sign
it, when its turn comes; the quote's decision for its owner. Called by the services
inside their transaction, so a refused change leaves nothing behind."""

from django.urls import reverse

from salesplan.inbox import services as inbox
from salesplan.inbox.models import Kind
from salesplan.org.models import Role, User

from .models import Approval, ApprovalStatus, Quote, QuoteVersion


def approval_key(approval: Approval) -> str:
    return f"approval:{approval.pk}"


def _url(quote: Quote) -> str:
    return reverse("web:proposals:detail", args=[quote.pk])


def announce_turn(version: QuoteVersion) -> None:
    """Post the steps whose turn has come (the lowest pending step) to their signers; a
    step addressed to nobody goes to every administrator."""
    pending = list(version.approvals.filter(status=ApprovalStatus.PENDING)
                   .select_related("assignee").order_by("step", "id"))
    if not pending:
        return
    quote = version.quote
    for approval in (a for a in pending if a.step == pending[0].step):
        title = f"Approve {quote.number} {quote.title} (step {approval.step})"
        detail = "; ".join(r.get("rule", "") for r in approval.reasons)[:500]
        signers: list[User]
        if approval.assignee is not None:
            signers = [approval.assignee]
        else:
            signers = list(User.objects.filter(role=Role.ADMIN, is_active=True)
                           .exclude(pk=quote.owner_id))
        inbox.post_to_all(signers, Kind.APPROVAL, approval_key(approval), title=title,
                          detail=detail, url=_url(quote))


def close_step(approval: Approval) -> None:
    """The step is decided: it leaves every inbox it was in."""
    inbox.close(approval_key(approval))


def close_steps(version: QuoteVersion) -> None:
    """The version's steps are decided or cancelled: nobody needs to sign them now."""
    for pk in version.approvals.values_list("pk", flat=True):
        inbox.close(f"approval:{pk}")


def tell_owner(quote: Quote, *, approved: bool, by, comment: str = "") -> None:
    """The quote's owner hears how its approval ended."""
    if approved:
        title = f"{quote.number} {quote.title} is approved: it may be sent"
    else:
        title = f"{quote.number} {quote.title} was rejected by {by}"
    inbox.post(quote.owner_id, Kind.QUOTE_DECISION, f"quote-decision:{quote.pk}",
               title=title, detail=comment, url=_url(quote))
