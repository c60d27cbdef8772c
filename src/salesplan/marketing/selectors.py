"""Reads of marketing, already restricted to what the user may see: campaigns with
their members, the routing queue, the SLA board, feedback to marketing and the
dashboard card."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from salesplan.core.registry import ALL, require, scope_for
from salesplan.customers.models import Contact, Lead
from salesplan.org.models import Role, User

from . import access
from .models import (
    OPEN_STAGES,
    Campaign,
    CampaignMember,
    CaptureForm,
    LeadEvent,
    LeadHandoff,
    MarketingPolicy,
    RepCapacity,
    Stage,
)
from .routing import open_lead_counts
from .sla import first_touch_subquery

if TYPE_CHECKING:
    from .attribution import CampaignResult


def campaigns(user):
    access.require_view_campaigns(user)
    return Campaign.objects.select_related("owner").annotate(
        member_count=Count("members", distinct=True),
        responded_count=Count("members", filter=Q(members__responded_at__isnull=False),
                              distinct=True))


def campaign(user, pk: int) -> Campaign | None:
    access.require_view_campaigns(user)
    return Campaign.objects.select_related("owner").filter(pk=pk).first()


def members(campaign: Campaign, user, limit: int = 200):
    """The campaign's members the user may see: leads by lead visibility (marketing sees
    every lead), contacts by contact visibility (marketing sees only its own)."""

    rows = CampaignMember.objects.filter(campaign=campaign).select_related(
        "lead", "contact", "contact__account")
    if not (user.is_admin or user.role == Role.EXECUTIVE):
        rows = rows.filter(Q(lead__in=Lead.objects.visible_to(user).values("pk"))
                           | Q(contact__in=Contact.objects.visible_to(user).values("pk")))
    return rows.order_by("-updated_at", "-id")[:limit]


def response_counts(campaign: Campaign) -> dict[str, int]:
    return dict(CampaignMember.objects.filter(campaign=campaign).values_list("response")
                .annotate(n=Count("id")).order_by())


def forms(user):
    access.require_manage(user)
    return CaptureForm.objects.select_related("campaign", "queue_owner")


def capture_form(user, pk: int) -> CaptureForm | None:
    return forms(user).filter(pk=pk).first()


def queue_reps(user):
    """The active reps and managers the user may hand a queued lead to."""
    reps = User.objects.filter(is_active=True, role__in=(Role.REP, Role.MANAGER))
    if user.visible_owner_ids is not None:
        reps = reps.filter(pk__in=user.visible_owner_ids)
    return reps.order_by("last_name", "username")


def person(pk) -> User | None:
    """Anyone by id (the service says why they cannot take a lead)."""
    return User.objects.filter(pk=pk).first() if str(pk).isdigit() else None


def queued_lead(user, pk: int) -> Lead | None:
    """A lead waiting in the routing queue, for whoever works the queue."""
    access.require_work_queue(user)
    return Lead.objects.filter(pk=pk).first()


def submissions(form, limit: int = 20) -> dict:
    """The form's latest submissions and how many wait, were processed or failed."""
    from .models import CaptureSubmission

    counts = dict(CaptureSubmission.objects.filter(form=form).values_list("status")
                  .annotate(n=Count("id")).order_by())
    latest = list(CaptureSubmission.objects.filter(form=form).select_related("lead")
                  .order_by("-id")[:limit])
    return {"latest": latest, "pending": counts.get("pending", 0),
            "done": counts.get("done", 0), "failed": counts.get("failed", 0)}


def visible_handoffs(user):
    return LeadHandoff.objects.filter(lead__in=Lead.objects.visible_to(user).values("pk"))


def queue(user, limit: int = 200):
    """Leads waiting for a rep, oldest first."""
    access.require_work_queue(user)
    rows = LeadHandoff.objects.filter(queued=True)
    if scope_for(user, "lead_queue", "view") != ALL:
        # A manager works the waiting leads they may see, not every lead's name.
        rows = rows.filter(lead__in=Lead.objects.visible_to(user).values("pk"))
    return (rows.select_related("lead", "territory", "campaign")
            .order_by("lead__created_at", "lead_id")[:limit])


@dataclass
class SlaRow:
    handoff: LeadHandoff
    touched_at: datetime | None
    state: str  # "met", "late", "breached", "due"

    @property
    def label(self) -> str:
        return {"met": "Touched in time", "late": "Touched late", "breached": "Breached",
                "due": "Due"}[self.state]


def sla_state(due: datetime | None, touched: datetime | None, now: datetime) -> str:
    if touched is not None:
        return "met" if due is None or touched <= due else "late"
    return "breached" if due is not None and due < now else "due"


def sla_board(user, *, open_only: bool = True, limit: int = 200) -> list[SlaRow]:
    """Routed leads and their first-touch clocks, most urgent first."""
    now = timezone.now()
    rows = visible_handoffs(user).filter(routed_at__isnull=False, queued=False)
    if open_only:
        rows = rows.filter(stage__in=OPEN_STAGES)
    rows = (rows.select_related("lead", "lead__owner", "territory")
            .annotate(touch=first_touch_subquery())
            .order_by(F("first_touch_at").asc(nulls_first=True), "sla_due_at", "lead_id")[:limit])
    result = []
    for h in rows:
        touched = h.first_touch_at or h.touch
        result.append(SlaRow(h, touched, sla_state(h.sla_due_at, touched, now)))
    return result


def panel(lead: Lead, user) -> dict:
    """What the lead page shows of the handoff: stage, the steps the user may take, the
    SLA clock and the routing log."""
    from .services import allowed_transitions

    handoff = LeadHandoff.objects.filter(lead=lead).select_related("territory",
                                                                    "campaign").first()
    now = timezone.now()
    touched = None
    if handoff is not None:
        handoff.lead = lead
        touched = handoff.first_touch_at or (
            LeadHandoff.objects.filter(pk=handoff.pk).annotate(t=first_touch_subquery())
            .values_list("t", flat=True).first())
    events = (LeadEvent.objects.filter(lead=lead).select_related("by", "assigned_to",
                                                                 "territory")
              .order_by("-at", "-id")[:20])
    return {
        "lead": lead, "handoff": handoff, "events": events,
        "transitions": allowed_transitions(user, handoff) if handoff else [],
        "touched_at": touched,
        "sla_state": sla_state(handoff.sla_due_at, touched, now)
        if handoff and handoff.routed_at else "",
        "remaining": _duration(handoff.sla_due_at - now) if handoff and handoff.sla_due_at
        and not touched and handoff.sla_due_at > now else "",
    }


def _duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


# --- feedback to marketing -----------------------------------------------------------------

GROUPS = {"campaign": "campaign__name", "source": "source"}


def feedback(user, *, group: str = "campaign", days: int = 365) -> dict:
    """What marketing's leads became, by campaign or by source: how many converted, were
    disqualified or recycled (and why), how soon they were first touched and how often
    within the SLA."""
    access.require_view_results(user)
    key = GROUPS[group]
    since = timezone.now() - timedelta(days=days)
    rows = visible_handoffs(user).filter(lead__created_at__gte=since)
    # The first touch as noted by the escalation job, or found now for leads it has not
    # looked at yet.
    touched = visible_handoffs(user).filter(lead__created_at__gte=since).annotate(
        touch=Coalesce(F("first_touch_at"), first_touch_subquery()))
    wait = ExpressionWrapper(F("touch") - F("routed_at"), output_field=DurationField())
    stats = (touched.values(key).annotate(
        leads=Count("pk"),
        converted=Count("pk", filter=Q(stage=Stage.CONVERTED)),
        disqualified=Count("pk", filter=Q(stage=Stage.DISQUALIFIED)),
        recycled=Count("pk", filter=Q(stage=Stage.RECYCLED)),
        open=Count("pk", filter=Q(stage__in=OPEN_STAGES)),
        touched=Count("pk", filter=Q(touch__isnull=False)),
        in_time=Count("pk", filter=Q(touch__lte=F("sla_due_at"))),
        measured=Count("pk", filter=Q(touch__isnull=False) | Q(sla_due_at__lt=timezone.now())),
        avg_wait=Avg(wait, filter=Q(touch__isnull=False)),
    ).order_by(key))
    table = []
    for s in stats:
        closed = s["converted"] + s["disqualified"]
        table.append({
            "name": s[key] or ("(no campaign)" if group == "campaign" else "(none)"),
            **{k: s[k] for k in ("leads", "converted", "disqualified", "recycled", "open",
                                 "touched", "in_time", "measured")},
            "conversion_rate": round(100 * s["converted"] / closed, 1) if closed else None,
            "avg_hours_to_first_touch": round(s["avg_wait"].total_seconds() / 3600, 1)
            if s["avg_wait"] is not None else None,
            "sla_compliance": round(100 * s["in_time"] / s["measured"], 1)
            if s["measured"] else None,
        })
    reasons = (rows.filter(stage__in=(Stage.DISQUALIFIED, Stage.RECYCLED))
               .values_list(key, "stage", "reason").annotate(n=Count("pk"))
               .order_by("-n", key, "reason")[:100])
    return {"group": group, "days": days, "rows": table,
            "reasons": [{"name": name or "(none)", "stage": Stage(stage).label,
                         "reason": reason, "count": n} for name, stage, reason, n in reasons]}


# --- the dashboard card ------------------------------------------------------------------


def dashboard_card(user) -> dict | None:
    """A small summary for the role dashboards: a rep's leads waiting for acceptance and
    breached SLAs; a manager's team breaches and the queue; marketing's new leads and
    conversions. None for roles with nothing to show."""
    if not (user and user.is_authenticated and user.is_active):
        return None
    now = timezone.now()
    handoffs = visible_handoffs(user)
    breached = handoffs.filter(stage__in=OPEN_STAGES, first_touch_at__isnull=True,
                               sla_due_at__lt=now, queued=False)
    link = reverse("web:marketing:sla")
    if user.role == Role.REP:
        figures = [("Leads to accept", handoffs.filter(stage=Stage.MQL, queued=False,
                                                       lead__owner=user).count()),
                   ("First touch overdue", breached.filter(lead__owner=user).count())]
        return {"title": "My new leads", "figures": figures, "url": link}
    if user.role == Role.MANAGER or user.is_admin:
        figures = [("First touch overdue", breached.count()),
                   ("Waiting in the routing queue",
                    LeadHandoff.objects.filter(queued=True).count())]
        return {"title": "Lead follow-up", "figures": figures, "url": link}
    if user.role == Role.MARKETING:
        recent = handoffs.filter(lead__created_at__gte=now - timedelta(days=30))
        figures = [("Leads in the last 30 days", recent.count()),
                   ("Converted", recent.filter(stage=Stage.CONVERTED).count()),
                   ("Waiting in the routing queue",
                    LeadHandoff.objects.filter(queued=True).count())]
        return {"title": "Marketing leads", "figures": figures,
                "url": reverse("web:marketing:feedback")}
    return None



# --- lead capacity ------------------------------------------------------------------------

@dataclass(frozen=True)
class CapacityRow:
    """A rep's limit of open leads: their own, or the policy's default, and what they hold."""

    user: User
    max_open_leads: int
    own_limit: bool
    version: int | None
    open_leads: int


def capacity_people(user):
    """The active reps whose lead capacity the user reads and may set: a manager's teams,
    everyone for an admin (and, read-only, for marketing and the executive)."""
    people = User.objects.filter(role=Role.REP, is_active=True)
    ids = user.visible_owner_ids
    return people if ids is None else people.filter(pk__in=ids)


def capacity_person(user, pk: int) -> User | None:
    """One of the reps whose capacity the user reads (None: missing or not theirs)."""
    return capacity_people(user).filter(pk=pk).first()


def capacity_rows(user) -> list[CapacityRow]:
    require(user, "rep_capacity", "view")
    people = list(capacity_people(user).select_related("team").order_by("last_name",
                                                                        "first_name", "id"))
    ids = [p.pk for p in people]
    default = MarketingPolicy.current().default_capacity
    own = {c.user_id: c for c in RepCapacity.objects.filter(user_id__in=ids)}
    counts = open_lead_counts(ids)
    return [CapacityRow(user=p, max_open_leads=own[p.pk].max_open_leads if p.pk in own
                        else default, own_limit=p.pk in own,
                        version=own[p.pk].version if p.pk in own else None,
                        open_leads=counts[p.pk]) for p in people]


# --- marketing's home page ----------------------------------------------------------------


def form_submissions(user, *, days: int = 30, latest: int = 5) -> dict:
    """Web-form submissions received in the last `days` days, per form (with its
    campaign): received, new leads, waiting, failed; and the `latest` few. Two queries,
    whatever the number of submissions."""
    from .models import CaptureSubmission

    access.require_manage(user)
    since = timezone.now() - timedelta(days=days)
    recent = CaptureSubmission.objects.filter(received_at__gte=since)
    per_form = list(recent.order_by().values(
        "form_id", "form__name", "form__campaign_id", "form__campaign__name").annotate(
        received=Count("id"),
        new_leads=Count("id", filter=Q(outcome=CaptureSubmission.Outcome.CREATED)),
        waiting=Count("id", filter=Q(status=CaptureSubmission.Status.PENDING)),
        failed=Count("id", filter=Q(status=CaptureSubmission.Status.FAILED)))
        .order_by("-received", "form__name", "form_id"))
    return {"days": days, "forms": per_form,
            "total": sum(row["received"] for row in per_form),
            "latest": list(recent.select_related("form", "lead").order_by("-id")[:latest])}


def sla_misses(user, *, limit: int = 10) -> dict:
    """Routed leads the user sees whose first-touch deadline has passed with no touch by
    their owner (still open, not waiting in the queue): the most overdue `limit` and
    how many. Two queries, whatever the number of leads."""
    missed = (visible_handoffs(user)
              .filter(stage__in=OPEN_STAGES, queued=False, routed_at__isnull=False,
                      first_touch_at__isnull=True, sla_due_at__lt=timezone.now())
              .annotate(touch=first_touch_subquery()).filter(touch__isnull=True))
    return {"count": missed.count(),
            "oldest": list(missed.select_related("lead", "lead__owner", "campaign")
                           .order_by("sla_due_at", "lead_id")[:limit])}


@dataclass
class CampaignOutcome:
    """A campaign's leads (those that came in through it), and its attributed open and
    won opportunities and won revenue, under the named attribution model."""

    result: "CampaignResult"
    leads: int

    @property
    def campaign(self) -> Campaign:
        return self.result.campaign

    @property
    def opportunities(self) -> int:
        return self.result.open_count + self.result.won_count


def campaign_outcomes(user, *, model: str = "linear", limit: int = 10) -> dict:
    """The latest `limit` campaigns (by start date) with their leads, opportunities and
    won revenue, attributed under `model` (named in the result). A fixed number of
    queries: the attribution is read from its summary table."""
    from .attribution import MODELS, report

    access.require_view_results(user)
    shown = list(campaigns(user).order_by(F("start_date").desc(nulls_last=True), "name",
                                          "id")[:limit])
    leads = dict(LeadHandoff.objects.filter(campaign__in=shown).order_by()
                 .values_list("campaign_id").annotate(n=Count("pk")))
    return {"model": model, "model_label": MODELS[model],
            "refreshed_at": MarketingPolicy.current().attribution_refreshed_at,
            "campaigns": [CampaignOutcome(r, leads.get(r.campaign.pk, 0))
                          for r in report(model, shown)]}
