"""Small companies for the home-page tests (page tests and browser journeys alike): each
builder returns the records and the figures a test expects, worked out here by hand
from the inputs rather than by the product's code."""

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from django.utils import timezone

from salesplan.core.clock import company_today
from salesplan.core.fiscal import CompanyCalendar
from salesplan.marketing.models import (
    Campaign,
    CampaignAttribution,
    CaptureForm,
    CaptureSubmission,
    LeadHandoff,
)
from salesplan.marketing.models import Stage as HandoffStage
from salesplan.pipeline.models import Opportunity, OpportunityChange, Pipeline
from salesplan.planning.models import Level, Measure, MonthlyTarget, Objective, Plan, PlanStatus
from salesplan.proposals.models import Approval, ApprovalStatus, ApproverLevel, QuoteStatus
from salesplan.territories.models import BoundaryException

from ..factories import make_account, make_activity, make_lead, make_opportunity

D = Decimal
CENT = D("0.01")


def stage_probability(position: int) -> int:
    return Pipeline.objects.get(is_default=True).stages.get(position=position).probability


@dataclass
class TeamData:
    """What the West manager should see: open amounts per (rep, stage position), weighted
    totals per rep, overdue counts per rep, the approval and the deals at risk."""

    open_by_rep_stage: dict = field(default_factory=dict)
    weighted_by_rep: dict = field(default_factory=dict)
    overdue_by_rep: dict = field(default_factory=dict)
    at_risk: dict = field(default_factory=dict)  # deal name -> words of its reason
    approval_quote: object = None
    east_deal: object = None


def open_deal(data: TeamData, owner, position: int, amount: str, **fields) -> Opportunity:
    deal = make_opportunity(owner, stage_position=position, amount=D(amount), **fields)
    key = (owner.pk, position)
    data.open_by_rep_stage[key] = data.open_by_rep_stage.get(key, D(0)) + D(amount)
    weighted = (D(amount) * stage_probability(position) / 100).quantize(CENT, ROUND_HALF_EVEN)
    data.weighted_by_rep[owner.pk] = data.weighted_by_rep.get(owner.pk, D(0)) + weighted
    return deal


def overdue(data: TeamData, owner, days: int, **fields) -> None:
    make_activity(owner, due_at=timezone.now() - timedelta(days=days), **fields)
    data.overdue_by_rep[owner.pk] = data.overdue_by_rep.get(owner.pk, 0) + 1


def build_team(org, *, copies: int = 1) -> TeamData:
    """West: two reps with open deals in two stages, overdue follow-ups, a quote waiting
    for the West manager, and one deal at risk for each reason. East: one deal and one
    overdue call that no West view may show. `copies` repeats the ordinary rows (for the
    query-count tests)."""
    from tests.proposals.conftest import stored_quote

    data = TeamData()
    today = company_today()
    for _ in range(copies):
        open_deal(data, org.west_rep, 0, "1000.00")
        open_deal(data, org.west_rep, 1, "2500.50")
        open_deal(data, org.west_rep2, 1, "4000.00")
        overdue(data, org.west_rep, 3)
        overdue(data, org.west_rep2, 1)
        # Not overdue: done, a note, due later today.
        make_activity(org.west_rep, due_at=timezone.now() - timedelta(days=2), done=True)
        make_activity(org.west_rep, kind="note", due_at=timezone.now() - timedelta(days=2))
    # At risk: close date passed; no activity for longer than the stale threshold (30
    # days by default); close date pushed back twice (the default).
    late = open_deal(data, org.west_rep, 2, "700.00", name="Late deal",
                     close_date=today - timedelta(days=5))
    data.at_risk[late.name] = "passed"
    quiet = open_deal(data, org.west_rep2, 0, "800.00", name="Quiet deal")
    Opportunity.objects.filter(pk=quiet.pk).update(
        created_at=timezone.now() - timedelta(days=60))
    data.at_risk[quiet.name] = "No activity in the last 30 days"
    pushed = open_deal(data, org.west_rep, 3, "900.00", name="Pushed deal")
    for weeks in (1, 2):
        OpportunityChange.objects.create(
            opportunity=pushed, field=OpportunityChange.Field.CLOSE_DATE,
            from_close_date=today + timedelta(weeks=weeks),
            to_close_date=today + timedelta(weeks=weeks + 1),
            changed_at=timezone.now() - timedelta(days=10 - weeks))
    data.at_risk[pushed.name] = "pushed back 2 times"
    # Stalled: five deals left Negotiation after 2 days there; this one entered it 10
    # days ago (more than twice the norm).
    pipeline = Pipeline.objects.get(is_default=True)
    negotiation = pipeline.stages.get(position=4)
    won = pipeline.stages.get(position=5)
    for _ in range(5):
        done_deal = make_opportunity(org.east_rep, stage_position=5)
        for field_name, stage_from, stage_to, days in (
                ("stage", None, negotiation, 30), ("stage", negotiation, won, 28)):
            OpportunityChange.objects.create(
                opportunity=done_deal, field=field_name, from_stage=stage_from,
                to_stage=stage_to, changed_at=timezone.now() - timedelta(days=days))
    stalled = open_deal(data, org.west_rep2, 4, "600.00", name="Stalled deal")
    OpportunityChange.objects.create(
        opportunity=stalled, field="stage", from_stage=pipeline.stages.get(position=3),
        to_stage=negotiation, changed_at=timezone.now() - timedelta(days=10))
    data.at_risk[stalled.name] = "In its stage for 10 days; deals stay 2 days on average"
    # A quote of a West rep waiting for the West manager's step.
    quote = stored_quote(org.west_rep, [("RT-100", "10", "100", "15", "60")],
                         opportunity=late)
    quote.status = QuoteStatus.IN_APPROVAL
    quote.save()
    Approval.objects.create(quote_version=quote.versions.get(), step=1,
                            approver=ApproverLevel.MANAGER, assignee=org.west_manager,
                            status=ApprovalStatus.PENDING)
    data.approval_quote = quote
    # East, which the West manager must not see.
    data.east_deal = make_opportunity(org.east_rep, stage_position=0, amount=D("7777.00"),
                                      name="East only deal",
                                      close_date=today - timedelta(days=3))
    make_activity(org.east_rep, subject="East overdue call",
                  due_at=timezone.now() - timedelta(days=4))
    return data


@dataclass
class CompanyData:
    plan: Plan
    quarter_target: Decimal
    expected: Decimal
    booked: Decimal
    previous_quarter: Decimal
    violation_account: object
    exception_account: object


def selling_days(start, end) -> int:
    """Monday to Friday from start to end, both included (the default calendar)."""
    return sum(1 for n in range((end - start).days + 1)
               if (start + timedelta(days=n)).weekday() < 5)


def build_company(org, territory_map_builder=None) -> CompanyData:
    """An active company plan with a bookings target for each month of the current
    quarter (10,000, 20,000, 30,000), deals won this quarter and last, and, when given
    the territory map builder, an account owned outside its territory and a pending
    boundary exception."""
    today = company_today()
    calendar = CompanyCalendar.current()
    fiscal_year = calendar.year_of(today)
    quarter = next(q for q in calendar.quarters(fiscal_year) if q.contains(today))
    months = calendar.months(fiscal_year)[(quarter.number - 1) * 3:quarter.number * 3]
    plan = Plan.objects.create(name="Company plan", fiscal_year=fiscal_year,
                               owner=org.admin, currency="USD", status=PlanStatus.ACTIVE)
    top = Objective.objects.create(plan=plan, measure=Measure.BOOKINGS, level=Level.COMPANY)
    expected = D(0)
    for month, target in zip(months, ("10000", "20000", "30000"), strict=True):
        MonthlyTarget.objects.create(objective=top, month=month.number, target=D(target))
        if today >= month.end:
            share = D(1)
        elif today < month.start:
            share = D(0)
        else:
            share = D(selling_days(month.start, today)) / selling_days(month.start, month.end)
        expected += D(target) * share
    booked = D(0)
    for owner, amount in ((org.west_rep, "4000.00"), (org.east_rep, "1500.00")):
        make_opportunity(owner, stage_position=5, amount=D(amount), close_date=quarter.start)
        booked += D(amount)
    previous_start = months[0].start - timedelta(days=1)
    make_opportunity(org.west_rep, stage_position=5, amount=D("2500.00"),
                     close_date=previous_start)
    violation = exception_account = None
    if territory_map_builder is not None:
        from salesplan.territories import services
        from salesplan.territories.assignment import run_full_assignment

        area = territory_map_builder(org)
        violation = make_account(org.east_rep, name="Bay Outsider Co", postal_code="94107")
        exception_account = make_account(org.west_rep, name="Harbor Co", postal_code="94110")
        run_full_assignment(area.alignment)
        services.activate_alignment(area.alignment, by=org.admin)
        BoundaryException.objects.create(rep=org.east_rep, account=exception_account,
                                         reason="Ten-year relationship",
                                         until=today + timedelta(days=60),
                                         requested_by=org.east_rep)
    return CompanyData(plan, D("60000"), expected.quantize(CENT, ROUND_HALF_EVEN), booked,
                       D("2500.00"), violation, exception_account)


@dataclass
class MarketingData:
    campaign: Campaign
    form: CaptureForm
    received: int
    new_leads: int
    failed: int
    missed_leads: list
    other_leads: list
    won_revenue: Decimal
    opportunities: int
    campaign_leads: int


def build_marketing(org, *, copies: int = 1) -> MarketingData:
    """A campaign with a web form (recent and old submissions), routed leads (some past
    their first-touch deadline untouched, some touched, due or queued) and its
    attribution summary (as the refresh writes it)."""
    now = timezone.now()
    campaign = Campaign.objects.create(name="Spring webinar", owner=org.marketer,
                                       start_date=company_today() - timedelta(days=20))
    form = CaptureForm.objects.create(name="Webinar sign-up", campaign=campaign,
                                      queue_owner=org.marketer)
    received = new_leads = failed = 0
    missed, others = [], []
    for n in range(copies):
        for status, outcome in (("done", "created"), ("done", "created"), ("failed", "")):
            CaptureSubmission.objects.create(
                form=form, received_at=now - timedelta(days=2), status=status, outcome=outcome,
                data={"email": f"visitor{n}{status}{outcome}@example.org"})
            received += 1
            new_leads += outcome == "created"
            failed += status == "failed"
        CaptureSubmission.objects.create(form=form, received_at=now - timedelta(days=45),
                                         status="done", outcome="created",
                                         data={"email": f"old{n}@example.org"})

        def handoff(lead, **fields):
            return LeadHandoff.objects.create(lead=lead, stage=HandoffStage.MQL,
                                              stage_changed_at=now, campaign=campaign,
                                              **fields)

        lead = make_lead(org.west_rep, last_name=f"Missed{n}")
        handoff(lead, routed_at=now - timedelta(days=2), sla_due_at=now - timedelta(days=1))
        missed.append(lead)
        touched = make_lead(org.east_rep, last_name=f"Touched{n}")
        handoff(touched, routed_at=now - timedelta(days=2),
                sla_due_at=now - timedelta(days=1))
        make_activity(org.east_rep, lead=touched, done=True)
        due = make_lead(org.west_rep2, last_name=f"Due{n}")
        handoff(due, routed_at=now - timedelta(hours=1), sla_due_at=now + timedelta(hours=20))
        waiting = make_lead(org.marketer, last_name=f"Queued{n}")
        handoff(waiting, queued=True, sla_due_at=now - timedelta(days=1))
        others += [touched, due, waiting]
    CampaignAttribution.objects.create(campaign=campaign, status="won", currency="USD",
                                       first_cents=0, last_cents=0, linear_cents=1234550,
                                       opportunities=2)
    CampaignAttribution.objects.create(campaign=campaign, status="open", currency="USD",
                                       linear_cents=500000, opportunities=1)
    return MarketingData(campaign, form, received, new_leads, failed, missed, others,
                         D("12345.50"), 3, 4 * copies)
