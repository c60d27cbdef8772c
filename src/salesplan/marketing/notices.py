"""What lead routing puts in people's inboxes: a routed lead for its rep, with its
first-touch deadline, until the rep touches it, accepts it, or it goes to someone else."""

from django.urls import reverse

from salesplan.customers.models import Lead
from salesplan.inbox import services as inbox
from salesplan.inbox.models import Kind

from .models import OPEN_STAGES, LeadHandoff, Stage


def lead_key(lead_id: int) -> str:
    return f"lead:{lead_id}"


def _fields(lead: Lead, handoff: LeadHandoff) -> dict:
    return {"title": f"New lead: {lead}",
            "detail": "Touch it (log a call, an email or a meeting) or accept it before the "
                      "first-touch deadline.",
            "url": reverse("web:lead_detail", args=[lead.pk]), "due_at": handoff.sla_due_at}


def lead_routed(lead: Lead, handoff: LeadHandoff) -> None:
    """The rep the lead was routed to finds it in their inbox (and on My day)."""
    inbox.close(lead_key(lead.pk), except_user_ids=[lead.owner_id])
    inbox.post(lead.owner_id, Kind.LEAD, lead_key(lead.pk), **_fields(lead, handoff))


def leads_routed(pairs: list[tuple[Lead, LeadHandoff]]) -> None:
    """The same for a batch (a form's submissions), in a few statements."""
    inbox.post_bulk(Kind.LEAD, [(lead.owner_id, lead_key(lead.pk), _fields(lead, handoff))
                                for lead, handoff in pairs])


def settle_lead(lead_id: int, **_ignored) -> None:
    """core.hooks.lead_committed: once the lead is touched by its owner, accepted (past
    marketing-qualified), closed or given to someone else, it leaves the inbox."""
    from .sla import record_first_touches

    handoff = LeadHandoff.objects.filter(lead_id=lead_id).select_related("lead").first()
    if handoff is None:
        inbox.close(lead_key(lead_id))
        return
    if handoff.first_touch_at is None and handoff.routed_at is not None:
        record_first_touches(LeadHandoff.objects.filter(lead_id=lead_id))
        handoff.refresh_from_db()
    done = (handoff.first_touch_at is not None or handoff.stage != Stage.MQL
            or handoff.stage not in OPEN_STAGES or handoff.queued)
    if done:
        inbox.close(lead_key(lead_id))
        inbox.close(f"sla-missed:{lead_id}")
    else:
        inbox.close(lead_key(lead_id), except_user_ids=[handoff.lead.owner_id])
