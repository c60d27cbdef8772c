"""Lead capture from public web forms: validation, spam protection, de-duplication
against existing leads and contacts, campaign membership and routing, in one
transaction (a submission is saved whole or not at all)."""

import time
from dataclasses import dataclass

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import connection, transaction
from django.utils import timezone

from salesplan.core.audit import record_changes, record_created
from salesplan.customers.models import Contact, Lead, LeadStatus

from .models import (
    RESPONDED_STEPS,
    CampaignMember,
    CaptureForm,
    LeadEvent,
    LeadHandoff,
    MarketingPolicy,
    Stage,
)
from .routing import decide, decision_event, route_lead, routed_state
from .services import FORM_FIELDS, record_response

HONEYPOT = "website_url"  # hidden from people; bots fill every field they see
ALWAYS = ("first_name", "last_name", "email")
MAX_LENGTHS = {"first_name": 100, "last_name": 100, "email": 254, "title": 120, "phone": 40,
               "company": 200, "website": 200, "industry": 80, "city": 100, "state": 100,
               "postal_code": 20, "country": 2}
RATE_WINDOW = 60  # seconds


class RateLimited(Exception):
    """Too many submissions from one address to one form; try again after a while."""

    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        super().__init__(f"Too many submissions; try again in {retry_after} seconds.")


@dataclass
class CaptureResult:
    lead: Lead | None
    contact: Contact | None
    created: bool
    spam: bool = False


def check_rate(form: CaptureForm, address: str, now: float | None = None) -> None:
    """Count this submission against the address's allowance for the form in the current
    minute; refuse it (without counting more) when the allowance is spent."""
    now = now or time.time()
    window = int(now // RATE_WINDOW)
    key = f"capture-rate:{form.pk}:{address}:{window}"
    try:
        count = cache.incr(key)  # the usual case: the address has sent before this minute
    except ValueError:
        count = 1 if cache.add(key, 1, RATE_WINDOW + 5) else cache.incr(key)
    if count > form.rate_limit:
        raise RateLimited(max(1, int((window + 1) * RATE_WINDOW - now) + 1))


def fields_of(form: CaptureForm) -> tuple[str, ...]:
    return ALWAYS + tuple(f for f in FORM_FIELDS if f in form.fields)


def clean_submission(form: CaptureForm, raw: dict, *, strict: bool) -> dict:
    """The submitted lead fields, trimmed and checked; every wrong field is named.
    `strict` refuses fields the form does not have (the JSON API); the HTML form
    ignores them."""
    errors: dict[str, list[str]] = {}
    allowed = fields_of(form)
    if strict:
        for key in raw:
            if key not in allowed and key != HONEYPOT:
                errors[key] = ["This form has no such field."]
    data: dict = {}
    for key in allowed:
        value = raw.get(key)
        if value is None:
            continue
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            errors[key] = ["Send text."]
            continue
        text = str(value).strip()
        if len(text) > MAX_LENGTHS.get(key, 200):
            errors[key] = [f"At most {MAX_LENGTHS.get(key, 200)} characters."]
            continue
        if text:
            data[key] = text
    for key in ("last_name", "email", *form.required_fields):
        if key not in data and key not in errors:
            errors[key] = ["This field is required."]
    if "email" in data:
        try:
            validate_email(data["email"])
            data["email"] = data["email"].lower()
        except ValidationError:
            errors["email"] = ["Enter a valid email address."]
    if "employees" in data:
        if not data["employees"].isdigit() or int(data["employees"]) > 10_000_000:
            errors["employees"] = ["Enter a whole number of employees."]
        else:
            data["employees"] = int(data["employees"])
    if "country" in data:
        if len(data["country"]) != 2 or not data["country"].isalpha():
            errors["country"] = ["Use the two-letter country code, e.g. US."]
        data["country"] = data["country"].upper()
    if "website" in data:
        if "://" not in data["website"]:
            data["website"] = "https://" + data["website"]
        try:
            URLValidator()(data["website"])
        except ValidationError:
            errors["website"] = ["Enter a valid web address."]
    if errors:
        raise ValidationError(errors)
    return data


def _lock_email(email: str) -> None:
    """Serialise submissions of the same address so two at once cannot both create a
    lead. SQLite runs write transactions one at a time (IMMEDIATE); PostgreSQL takes a
    transaction-scoped advisory lock on the address."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [email])


def capture(form: CaptureForm, raw: dict, *, address: str, strict: bool = True) -> CaptureResult:
    """Take one submission: refuse floods (RateLimited) and bad input (ValidationError
    naming the fields), swallow bot submissions, then update or create the lead."""
    check_rate(form, address)
    if str(raw.get(HONEYPOT) or "").strip():
        return CaptureResult(None, None, created=False, spam=True)
    data = clean_submission(form, raw, strict=strict)
    return save_submission(form, data)


@transaction.atomic
def save_submission(form: CaptureForm, data: dict) -> CaptureResult:
    """De-duplicate by email: update the existing open lead, or record the response on an
    existing contact, or create and route a new lead."""
    email = data["email"]
    _lock_email(email)
    now = timezone.now()
    lead = (Lead.objects.filter(email=email).exclude(status=LeadStatus.CONVERTED)
            .order_by("id").first())
    campaign = form.campaign
    if lead is None:
        contact = Contact.objects.filter(email=email).order_by("id").first()
        if contact is not None:
            if campaign is not None:
                record_response(campaign, contact=contact, response=form.response, at=now)
            return CaptureResult(None, contact, created=False)
        return CaptureResult(_new_lead(form, data, now), None, created=True)
    _update_lead(lead, data, now)
    if campaign is not None:
        record_response(campaign, lead=lead, response=form.response, at=now)
    LeadEvent.objects.create(lead=lead, kind=LeadEvent.Kind.CAPTURED, at=now,
                             message=f"Submitted {form.name} again.")
    handoff = LeadHandoff.objects.filter(lead=lead).first()
    if handoff is None or handoff.queued or handoff.stage == Stage.RECYCLED:
        if handoff is not None and handoff.stage == Stage.RECYCLED:
            LeadEvent.objects.create(lead=lead, kind=LeadEvent.Kind.STAGE, at=now,
                                     message=f"Recycled → Marketing-qualified: responded to "
                                             f"{form.name}.")
        route_lead(lead, now=now)
    return CaptureResult(lead, None, created=False)


def _new_lead(form: CaptureForm, data: dict, now) -> Lead:
    """Route first, then write the lead with its owner, its handoff, its membership and
    its story in a handful of inserts (the capture endpoint's hot path)."""
    campaign = form.campaign
    policy = MarketingPolicy.current()
    lead = Lead(**data, owner_id=form.queue_owner_id, source=form.source,
                campaign=campaign.name[:120] if campaign is not None else "")
    decision = decide(lead, policy)
    if decision.rep_id is not None:
        lead.owner_id = decision.rep_id
    lead.save()
    record_created(lead, None)
    LeadHandoff.objects.create(lead=lead, stage=Stage.MQL, stage_changed_at=now,
                               campaign=campaign, source=form.source, form=form,
                               **routed_state(decision, now, policy))
    LeadEvent.objects.bulk_create([
        LeadEvent(lead=lead, kind=LeadEvent.Kind.CAPTURED, at=now,
                  message=f"Captured by {form.name}."),
        decision_event(lead, decision, now, None)])
    if campaign is not None:
        CampaignMember.objects.create(
            campaign=campaign, lead=lead, response=form.response,
            responded_at=now if form.response in RESPONDED_STEPS else None)
    return lead


def _update_lead(lead: Lead, data: dict, now) -> None:
    """Fill in what the visitor sent now; the address stays unique to this lead."""
    changes = {key: (getattr(lead, key), value) for key, value in data.items()
               if key != "email" and getattr(lead, key) != value}
    if not changes:
        return
    for key, (_, value) in changes.items():
        setattr(lead, key, value)
    lead.version += 1
    lead.save()
    record_changes(lead, changes, None)
