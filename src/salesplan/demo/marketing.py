"""The demo company's marketing, built through the services: a lead policy, campaigns of
the past year with budgets, costs and members who responded, a capture form whose
submissions arrive as routed leads (a few from outside every territory wait in the
queue), handoffs at every stage with reasons, first touches, and the attribution."""

import random
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from salesplan.activities.services import log_activity
from salesplan.core.clock import company_datetime
from salesplan.customers.models import Account, Contact, Lead, LeadStatus
from salesplan.marketing import attribution, intake, services
from salesplan.marketing.models import CaptureForm, CaptureSubmission, LeadHandoff
from salesplan.org.models import Role, User

from .org import DemoOrg

MAX_ACCOUNTS = 200_000  # above this the demo leaves marketing out

CAMPAIGNS = [
    # name, type, channel, days ago it started, days it ran, budget, cost share
    ("Spring product webinar", "webinar", "email", 300, 30, 15_000, Decimal("0.92")),
    ("Healthcare IT summit", "event", "event", 220, 3, 60_000, Decimal("1.05")),
    ("Search ads: planning software", "advertising", "search", 180, 120, 40_000,
     Decimal("0.98")),
    ("Customer newsletter", "email", "email", 150, 150, 5_000, Decimal("0.60")),
    ("Partner referral drive", "referral", "partner", 90, 60, 10_000, Decimal("0.75")),
    ("Autumn webinar series", "webinar", "email", 40, 60, 12_000, Decimal("0.40")),
]
REASONS_DISQUALIFIED = ["No budget", "Student or job seeker", "Competitor", "Too small",
                        "Bad contact data"]
REASONS_RECYCLED = ["Timing: next fiscal year", "Not the decision maker yet",
                    "Evaluating later"]
CAPTURED = 48
UNROUTABLE = 4


def build(org: DemoOrg, *, accounts: int, today: date, rng: random.Random,
          log: Callable[[str], None]) -> None:
    if accounts > MAX_ACCOUNTS:
        log(f"Marketing: left out ({accounts:,} accounts > {MAX_ACCOUNTS:,}).")
        return
    marketer = User.objects.filter(role=Role.MARKETING, is_active=True).order_by("id").first()
    if marketer is None:
        log("Marketing: no marketing user; skipped.")
        return
    services.update_policy(by=marketer, sla_hours=24, routing_method="round_robin",
                           default_capacity=60)
    campaigns = _campaigns(marketer, today, rng)
    members = _members(campaigns, today, rng)
    form = services.create_form(by=marketer, data={
        "name": "Webinar registration", "campaign": campaigns[-1],
        "fields": ["company", "title", "phone", "state", "postal_code", "country"],
        "required_fields": ["company"], "response": "registered", "rate_limit": 20})
    leads = _captured(form, today, rng)
    _handoffs(leads, today, rng)
    outcome = attribution.refresh()
    log(f"Marketing: {len(campaigns)} campaigns, {members} members, {len(leads)} captured "
        f"leads, {LeadHandoff.objects.filter(queued=True).count()} in the queue, "
        f"{outcome['touches']} attribution touches.")


def _campaigns(marketer: User, today: date, rng: random.Random):
    made = []
    for name, kind, channel, ago, days, budget, share in CAMPAIGNS:
        start = today - timedelta(days=ago)
        end = start + timedelta(days=days)
        status = "completed" if end < today else "active"
        made.append(services.create_campaign(by=marketer, data={
            "name": name, "type": kind, "channel": channel, "status": status,
            "start_date": start, "end_date": end, "budget": Decimal(budget),
            "actual_cost": (Decimal(budget) * share).quantize(Decimal("0.01")),
            "currency": "USD", "description": f"{name}: {channel} campaign."}))
    return made


def _moment(day: date, rng: random.Random) -> datetime:
    return company_datetime(day, time(rng.randint(8, 17),
                                                          rng.randint(0, 59)))


def _members(campaigns, today: date, rng: random.Random) -> int:
    """Contacts at accounts with deals, and open leads, with responses dated within each
    campaign's run (so some come before deals were opened and count as touches)."""
    contact_ids = list(Contact.objects.filter(account__opportunities__isnull=False)
                       .order_by("id").values_list("id", flat=True).distinct()[:4000])
    lead_ids = list(Lead.objects.exclude(status=LeadStatus.CONVERTED).order_by("id")
                    .values_list("id", flat=True)[:2000])
    count = 0
    for campaign in campaigns:
        chosen_contacts = rng.sample(contact_ids, min(len(contact_ids), 60))
        chosen_leads = rng.sample(lead_ids, min(len(lead_ids), 25))
        span = max(1, ((campaign.end_date or today) - campaign.start_date).days)
        for model, ids in ((Contact, chosen_contacts), (Lead, chosen_leads)):
            for person in model.objects.filter(pk__in=ids):
                day = min(today, campaign.start_date + timedelta(days=rng.randrange(span)))
                response = rng.choices(["sent", "opened", "responded", "registered",
                                        "attended"], weights=[30, 25, 20, 15, 10])[0]
                if isinstance(person, Contact):
                    services.record_response(campaign, contact=person, response=response,
                                             at=_moment(day, rng))
                else:
                    services.record_response(campaign, lead=person, response=response,
                                             at=_moment(day, rng))
                count += 1
    return count


def _captured(form: CaptureForm, today: date, rng: random.Random) -> list[Lead]:
    """Form submissions from places the territories cover (addresses of real accounts)
    and a few from abroad, which no territory covers."""
    pool = list(Account.objects.exclude(postal_code="").order_by("id")
                .values_list("state", "postal_code", "industry")[:5000])
    places = rng.sample(pool, min(len(pool), CAPTURED))
    submissions = []
    for i in range(CAPTURED + UNROUTABLE):
        state, postal, _industry = places[i] if i < len(places) else ("ON", "M5V 2T6", "")
        country = "US" if i < len(places) else "CA"
        first, last = rng.choice(FIRST), rng.choice(LAST)
        submissions.append(CaptureSubmission(form=form, received_at=timezone.now(), data={
            "first_name": first, "last_name": last,
            "email": f"{first}.{last}.{i}@demo-prospect.example".lower(),
            "company": f"{last} {rng.choice(['Labs', 'Health', 'Systems', 'Partners'])}",
            "title": rng.choice(["CFO", "VP Operations", "IT Director", "Analyst"]),
            "state": state, "postal_code": postal, "country": country}))
    CaptureSubmission.objects.bulk_create(submissions)
    intake.drain()  # what the server's intake does with stored submissions
    lead_ids = (CaptureSubmission.objects.filter(form=form, outcome="created")
                .order_by("id").values_list("lead_id", flat=True))
    by_id = Lead.objects.in_bulk(list(lead_ids))
    return [by_id[pk] for pk in lead_ids]


def _handoffs(leads: list[Lead], today: date, rng: random.Random) -> None:
    """Reps work most of their new leads: a first touch, then accept, qualify, recycle
    or disqualify; a few are left untouched (some of those will breach the SLA)."""
    for lead in leads:
        lead.refresh_from_db()
        handoff = LeadHandoff.objects.get(lead=lead)
        if handoff.queued:
            continue
        owner = lead.owner
        roll = rng.random()
        if roll < 0.2:
            continue  # untouched
        log_activity(by=owner, data={"kind": "call", "subject": f"Intro call: {lead}",
                                     "due_at": timezone.now(), "done": True, "lead": lead,
                                     "owner": owner, "outcome": "connected"})
        if roll < 0.35:
            services.transition(lead, "disqualify", by=owner,
                                reason=rng.choice(REASONS_DISQUALIFIED))
            continue
        services.transition(lead, "accept", by=owner)
        if roll < 0.5:
            services.transition(lead, "recycle", by=owner, reason=rng.choice(REASONS_RECYCLED))
        elif roll < 0.8:
            services.transition(lead, "qualify", by=owner)


FIRST = ["Ava", "Ben", "Chloe", "Diego", "Emma", "Farid", "Grace", "Hiro", "Isla", "Jonas",
         "Kira", "Liam", "Maya", "Noah", "Olga", "Priya", "Quinn", "Rosa", "Sam", "Tariq"]
LAST = ["Adams", "Baker", "Chen", "Diaz", "Evans", "Fischer", "Garcia", "Huang", "Ivanova",
        "Jensen", "Kowalski", "Lopez", "Murphy", "Nakamura", "Okafor", "Patel", "Quist",
        "Rossi", "Silva", "Tanaka"]
