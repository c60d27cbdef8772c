"""What pay disputes put in people's inboxes: a raised dispute for the rep's nearest
manager (every administrator when nobody manages the rep), the answer and the resolution
for the rep. Called by the services inside their transaction, so a refused change leaves
nothing behind."""

from django.urls import reverse

from salesplan.inbox import services as inbox
from salesplan.inbox.models import Kind
from salesplan.org import selectors as org_reads
from salesplan.org.models import Role, User

from .models import CompDispute, DisputeStatus


def dispute_key(dispute: CompDispute) -> str:
    return f"pay-dispute:{dispute.pk}"


def _url(dispute: CompDispute) -> str:
    return reverse("web:comp:statement", args=[dispute.statement_id])


def _answerers(rep: User) -> list[User]:
    chain = org_reads.manager_chain(rep)
    if chain:
        return chain[:1]
    return list(User.objects.filter(role=Role.ADMIN, is_active=True).exclude(pk=rep.pk))


def dispute_raised(dispute: CompDispute) -> None:
    """The rep's manager has a dispute to answer."""
    statement = dispute.statement
    rep = statement.rep
    title = (f"{rep.get_full_name() or rep.username} disputes {dispute.line_label} "
             f"({statement.currency} {dispute.line_amount}) in {statement.period}")
    inbox.post_to_all(_answerers(rep), Kind.PAY_DISPUTE, dispute_key(dispute), title=title,
                      detail=dispute.text, url=_url(dispute))


def dispute_moved(dispute: CompDispute, *, by: User) -> None:
    """Answered or resolved: the manager's item is done; the rep hears how."""
    inbox.close(dispute_key(dispute))
    who = by.get_full_name() or by.username
    if dispute.status == DisputeStatus.RESOLVED:
        title, detail = f"Your dispute on {dispute.line_label} was resolved by {who}", \
            dispute.resolution
    else:
        title, detail = f"Your dispute on {dispute.line_label} was answered by {who}", \
            dispute.answer
    inbox.post(dispute.statement.rep_id, Kind.PAY_DISPUTE_ANSWER,
               f"pay-dispute-answer:{dispute.pk}", title=title, detail=detail,
               url=_url(dispute))
