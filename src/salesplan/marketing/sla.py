"""The first-touch service level: a routed lead must get a first activity from its
owner within the policy's hours; when that fails, the owner's manager hears about it,
once."""

import importlib
import logging
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Min, OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone

from salesplan.activities.models import Activity
from salesplan.customers.models import Lead
from salesplan.inbox import services as inbox
from salesplan.inbox.models import Kind
from salesplan.org.models import User

from .models import OPEN_STAGES, LeadEvent, LeadHandoff

logger = logging.getLogger(__name__)


def first_touch_subquery():
    """The first activity the lead's owner logged on the lead (after routing)."""
    return Subquery(
        Activity.objects.filter(lead_id=OuterRef("lead_id"), owner_id=OuterRef("lead__owner_id"),
                                created_at__gte=OuterRef("routed_at"))
        .order_by().values("lead_id").annotate(first=Min("created_at")).values("first")[:1])


def record_first_touches(handoffs=None) -> int:
    """Note the first touch of routed leads that have none noted yet."""
    pending = (LeadHandoff.objects.all() if handoffs is None else handoffs).filter(
        routed_at__isnull=False, first_touch_at__isnull=True)
    found = list(pending.annotate(touch=first_touch_subquery()).filter(touch__isnull=False)
                 .values_list("lead_id", "touch"))
    for lead_id, touched in found:
        LeadHandoff.objects.filter(lead_id=lead_id).update(first_touch_at=touched)
    return len(found)


def manager_of(user: User) -> User | None:
    """The manager of the rep's team (or of the team above, when the rep manages it)."""
    team = user.team
    seen = set()
    while team is not None and team.pk not in seen:
        seen.add(team.pk)
        if team.manager_id and team.manager_id != user.pk and team.manager is not None \
                and team.manager.is_active:
            return team.manager
        team = team.parent
    return None


@dataclass
class Escalation:
    lead: Lead
    manager: User | None
    overdue_hours: float


def breached(now: datetime | None = None):
    """Open, routed leads past their first-touch deadline, not touched, not escalated."""
    now = now or timezone.now()
    return (LeadHandoff.objects.filter(sla_due_at__lt=now, first_touch_at__isnull=True,
                                       escalated_at__isnull=True, stage__in=OPEN_STAGES,
                                       queued=False)
            .select_related("lead", "lead__owner", "lead__owner__team"))


def escalate(now: datetime | None = None) -> list[Escalation]:
    """Tell each breached lead's manager (email, and an in-app notice where comments
    and notifications are installed); mark it so it is told only once."""
    now = now or timezone.now()
    record_first_touches(LeadHandoff.objects.filter(stage__in=OPEN_STAGES, queued=False))
    done = []
    for handoff in breached(now):
        with transaction.atomic():
            claimed = LeadHandoff.objects.filter(lead_id=handoff.lead_id,
                                                 escalated_at__isnull=True).update(
                escalated_at=now)
            if not claimed:  # another run got there first
                continue
            lead = handoff.lead
            manager = manager_of(lead.owner)
            hours = (now - handoff.sla_due_at).total_seconds() / 3600 if handoff.sla_due_at \
                else 0.0
            who = manager or "nobody (the rep has no manager)"
            LeadEvent.objects.create(
                lead=lead, kind=LeadEvent.Kind.ESCALATED, at=now, assigned_to=lead.owner,
                message=f"No first touch by {lead.owner} {hours:.1f} h after the deadline; "
                        f"told {who}."[:500])
            if manager is not None:
                inbox.post(manager, Kind.LEAD, f"sla-missed:{lead.pk}",
                           title=f"First touch missed: {lead} ({lead.owner})",
                           detail=f"{hours:.1f} h past the first-touch deadline.",
                           url=reverse("web:lead_detail", args=[lead.pk]))
                transaction.on_commit(partial(_notify, manager, lead, hours))
            done.append(Escalation(lead, manager, hours))
    return done


def _notify(manager: User, lead: Lead, hours: float) -> None:
    url = reverse("web:lead_detail", args=[lead.pk])
    text = (f"{lead.owner} has not touched the lead {lead} within the first-touch service "
            f"level ({hours:.1f} h overdue).")
    if manager.email:
        send_mail(f"First-touch SLA missed: {lead}", f"{text}\n\n{url}",
                  settings.DEFAULT_FROM_EMAIL, [manager.email])
    try:
        collab = importlib.import_module("salesplan.collab.services")
    except ImportError:
        return
    notify = getattr(collab, "notify", None)
    if callable(notify):
        try:
            notify(manager, text=text, url=url)
        except Exception:  # the email went out; an in-app notice is a bonus
            logger.exception("In-app notice of an SLA escalation failed")
