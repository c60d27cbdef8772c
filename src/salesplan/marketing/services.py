"""Every write in marketing: campaigns and their members, capture forms, the policy,
handoff transitions and manual routing from the queue."""

from datetime import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from salesplan.core.audit import record_changes
from salesplan.core.errors import NotFound
from salesplan.core.money import MAX_AMOUNT, quantize
from salesplan.core.permissions import has_permission, require
from salesplan.core.records import claim_version
from salesplan.core.registry import ALL, scope_for
from salesplan.customers.models import Contact, Lead, LeadSource, LeadStatus
from salesplan.customers.services import convert_lead
from salesplan.org.models import Role, User

from . import access, notices, selectors
from .models import (
    OPEN_STAGES,
    RESPONDED_STEPS,
    RESPONSE_ORDER,
    Campaign,
    CampaignMember,
    CampaignStatus,
    CampaignType,
    CaptureForm,
    Channel,
    LeadEvent,
    LeadHandoff,
    MarketingPolicy,
    RepCapacity,
    Response,
    RoutingMethod,
    Stage,
)
from .routing import assign, route_lead

CAMPAIGN_FIELDS = ("name", "type", "channel", "status", "owner", "start_date", "end_date",
                   "budget", "actual_cost", "currency", "description")
# Lead fields a capture form may ask for besides first name, last name and email.
FORM_FIELDS = ("title", "phone", "company", "website", "industry", "employees", "city",
               "state", "postal_code", "country")


# --- campaigns ------------------------------------------------------------------------


def _clean_campaign(data: dict) -> dict:
    errors: dict[str, str] = {}
    if "name" in data and not str(data["name"] or "").strip():
        errors["name"] = "A campaign needs a name."
    for key, choices in (("type", CampaignType), ("channel", Channel),
                         ("status", CampaignStatus)):
        if key in data and data[key] not in choices.values:
            errors[key] = f"Choose one of: {', '.join(choices.values)}."
    for key in ("budget", "actual_cost"):
        if key in data:
            value = data[key]
            if value is None or Decimal(value) < 0 or Decimal(value) >= MAX_AMOUNT:
                errors[key] = "Enter an amount of zero or more."
    if errors:
        raise ValidationError(errors)
    return data


@transaction.atomic
def create_campaign(*, by, data: dict) -> Campaign:
    """A new campaign, owned by its creator unless another marketing user is named."""
    access.require_manage(by)
    data = _clean_campaign({k: v for k, v in data.items() if k in CAMPAIGN_FIELDS})
    data.setdefault("owner", by)
    campaign = Campaign(**data)
    _save_campaign(campaign)
    return campaign


def _save_campaign(campaign: Campaign) -> None:
    for key in ("budget", "actual_cost"):
        setattr(campaign, key, quantize(Decimal(getattr(campaign, key)), campaign.currency))
    if campaign.start_date and campaign.end_date and campaign.end_date < campaign.start_date:
        raise ValidationError({"end_date": "The campaign cannot end before it starts."})
    campaign.full_clean()
    campaign.save()


@transaction.atomic
def update_campaign(campaign: Campaign, *, by, data: dict,
                    expected_version: int | None = None) -> dict:
    access.require_manage(by)
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    claim_version(campaign, expected_version)
    data = _clean_campaign({k: v for k, v in data.items() if k in CAMPAIGN_FIELDS})
    changes = {}
    for key, value in data.items():
        old = getattr(campaign, key)
        if old != value:
            changes[key] = (old, value)
            setattr(campaign, key, value)
    _save_campaign(campaign)
    return changes


@transaction.atomic
def delete_campaign(campaign: Campaign, *, by, expected_version: int | None = None) -> None:
    access.require_manage(by)
    claim_version(campaign, expected_version)
    if LeadHandoff.objects.filter(campaign=campaign).exists():
        raise ValidationError({"campaign": "Leads came from this campaign; complete or cancel "
                                           "it instead of deleting it."})
    campaign.delete()


def _response_rank(value: str) -> int:
    return RESPONSE_ORDER[value]


def record_response(campaign: Campaign, *, lead: Lead | None = None,
                    contact: Contact | None = None, response: str = Response.SENT,
                    at: datetime | None = None) -> CampaignMember:
    """Add the lead or contact to the campaign, or move its response forward (a member
    never moves back: someone who attended has also registered)."""
    if (lead is None) == (contact is None):
        raise ValidationError({"member": "Name either a lead or a contact."})
    if response not in Response.values:
        raise ValidationError({"response": f"Choose one of: {', '.join(Response.values)}."})
    at = at or timezone.now()
    lookup = {"lead": lead} if lead is not None else {"contact": contact}
    member, created = CampaignMember.objects.get_or_create(
        campaign=campaign, **lookup, defaults={"response": response})
    if not created and _response_rank(response) <= _response_rank(member.response):
        return member
    member.response = response
    if response in RESPONDED_STEPS and member.responded_at is None:
        member.responded_at = at
    member.save()
    return member


@transaction.atomic
def add_members(campaign: Campaign, *, by, lead_ids=(), contact_ids=(),
                response: str = Response.SENT) -> int:
    """Add leads and contacts (that the user may see) to a campaign; contacts a user may
    not see are left out, as if they did not exist."""
    access.require_manage(by)
    added = 0
    for lead in Lead.objects.visible_to(by).filter(pk__in=list(lead_ids)):
        record_response(campaign, lead=lead, response=response)
        added += 1
    if contact_ids:
        for contact in Contact.objects.visible_to(by).filter(pk__in=list(contact_ids)):
            record_response(campaign, contact=contact, response=response)
            added += 1
    return added


@transaction.atomic
def set_member_response(member: CampaignMember, *, by, response: str,
                        expected_version: int | None = None) -> CampaignMember:
    access.require_manage(by)
    claim_version(member, expected_version)
    if response not in Response.values:
        raise ValidationError({"response": f"Choose one of: {', '.join(Response.values)}."})
    member.response = response
    if response in RESPONDED_STEPS and member.responded_at is None:
        member.responded_at = timezone.now()
    member.save()
    return member


# --- capture forms and policy --------------------------------------------------------------


def _clean_form(data: dict) -> dict:
    errors: dict[str, str] = {}
    if "name" in data and not str(data["name"] or "").strip():
        errors["name"] = "A form needs a name."
    for key in ("fields", "required_fields"):
        unknown = [f for f in data.get(key, []) if f not in FORM_FIELDS]
        if unknown:
            errors[key] = f"Unknown field(s): {', '.join(unknown)}; choose from " \
                          f"{', '.join(FORM_FIELDS)}."
    if "required_fields" in data and not errors:
        shown = set(data.get("fields", []))
        missing = [f for f in data["required_fields"] if f not in shown]
        if missing:
            errors["required_fields"] = f"Required but not shown: {', '.join(missing)}."
    if "source" in data and data["source"] not in LeadSource.values:
        errors["source"] = f"Choose one of: {', '.join(LeadSource.values)}."
    if errors:
        raise ValidationError(errors)
    return data


FORM_WRITABLE = ("name", "campaign", "fields", "required_fields", "source", "response",
                 "queue_owner", "is_active", "rate_limit", "thank_you")


@transaction.atomic
def create_form(*, by, data: dict) -> CaptureForm:
    """A capture form; its submissions become leads of its campaign."""
    access.require_manage(by)
    data = _clean_form({k: v for k, v in data.items() if k in FORM_WRITABLE})
    data.setdefault("queue_owner", by)
    form = CaptureForm(**data)
    form.full_clean()
    form.save()
    return form


@transaction.atomic
def update_form(form: CaptureForm, *, by, data: dict,
                expected_version: int | None = None) -> CaptureForm:
    access.require_manage(by)
    claim_version(form, expected_version)
    merged = {"fields": form.fields, "required_fields": form.required_fields, **data}
    data = _clean_form({k: v for k, v in merged.items() if k in FORM_WRITABLE})
    for key, value in data.items():
        setattr(form, key, value)
    form.full_clean()
    form.save()
    return form


@transaction.atomic
def update_policy(*, by, sla_hours: int | None = None, routing_method: str | None = None,
                  default_capacity: int | None = None,
                  expected_version: int | None = None) -> MarketingPolicy:
    """Change the SLA and routing rules (admins and marketing)."""
    if not (by.is_admin or by.role == Role.MARKETING):
        raise PermissionDenied("Only admins and marketing users change the lead policy.")
    policy = MarketingPolicy.current()
    claim_version(policy, expected_version)
    if sla_hours is not None:
        policy.sla_hours = sla_hours
    if routing_method is not None:
        if routing_method not in RoutingMethod.values:
            raise ValidationError({"routing_method": "Choose round_robin or least_loaded."})
        policy.routing_method = routing_method
    if default_capacity is not None:
        policy.default_capacity = default_capacity
    policy.full_clean()
    policy.save()
    return policy


@transaction.atomic
def set_capacity(user: User, *, by, max_open_leads: int | None,
                 expected_version: int | None = None) -> RepCapacity | None:
    """A rep's own lead capacity (None: back to the policy default); managers set it for
    the people of their teams, admins for anyone. Replacing or clearing a limit someone
    set needs the version read (a first limit has none); returns the limit, or None."""
    require(by, "rep_capacity", "change")
    if not selectors.capacity_people(by).filter(pk=user.pk).exists():
        raise NotFound(f"No rep with id {user.pk}.", model=User, pk=user.pk)
    if max_open_leads is not None and not 0 <= max_open_leads <= 100_000:
        raise ValidationError({"max_open_leads": "Enter a whole number from 0 to 100,000."})
    current = RepCapacity.objects.filter(user=user).first()
    if current is not None:
        claim_version(current, expected_version)
    if max_open_leads is None:
        if current is not None:
            current.delete()
        return None
    if current is None:
        return RepCapacity.objects.create(user=user, max_open_leads=max_open_leads)
    current.max_open_leads = max_open_leads
    current.save(update_fields=["max_open_leads"])
    return current


# --- handoff -----------------------------------------------------------------------------

TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    # name: (stages it may start from, stage it reaches)
    "accept": ((Stage.MQL,), Stage.SAL),
    "qualify": ((Stage.SAL,), Stage.SQL),
    "convert": ((Stage.SQL,), Stage.CONVERTED),
    "recycle": (OPEN_STAGES, Stage.RECYCLED),
    "disqualify": (OPEN_STAGES, Stage.DISQUALIFIED),
    "requalify": ((Stage.RECYCLED,), Stage.MQL),
}
LEAD_STATUS_AFTER: dict[str, str] = {
    Stage.SAL: LeadStatus.WORKING, Stage.SQL: LeadStatus.QUALIFIED,
    Stage.RECYCLED: LeadStatus.NURTURING, Stage.DISQUALIFIED: LeadStatus.UNQUALIFIED,
    Stage.MQL: LeadStatus.NEW,
}


def can_transition(user, lead: Lead, name: str) -> bool:
    if name == "requalify":
        return has_permission(user, "lead_handoff", "requalify")
    return has_permission(user, "lead_handoff", "move", lead) and has_permission(
        user, "lead", "change", lead)


def allowed_transitions(user, handoff: LeadHandoff) -> list[str]:
    return [name for name, (sources, _) in TRANSITIONS.items()
            if handoff.stage in sources and can_transition(user, handoff.lead, name)]


@transaction.atomic
def transition(lead: Lead, name: str, *, by, reason: str = "") -> LeadHandoff:
    """Move the lead's handoff one step (accept, qualify, convert, recycle, disqualify,
    requalify). Recycling and disqualifying need a reason; converting needs the lead to
    have been converted into an account, or converts it now."""
    if name not in TRANSITIONS:
        raise ValidationError({"transition": f"Unknown step {name!r}."})
    require(by, "lead", "view", lead)
    if not can_transition(by, lead, name):
        raise PermissionDenied(f"You may not {name} this lead.")
    handoff = (LeadHandoff.objects.select_for_update().filter(lead=lead).first()
               or LeadHandoff.objects.create(lead=lead, stage_changed_at=timezone.now(),
                                             source=lead.source))
    sources, target = TRANSITIONS[name]
    if handoff.stage not in sources:
        raise ValidationError({"stage": f"A {handoff.get_stage_display().lower()} lead cannot "
                                        f"be {'re' if name == 'requalify' else ''}"
                                        f"{name.removeprefix('re')}ed."})
    reason = reason.strip()
    if target in (Stage.RECYCLED, Stage.DISQUALIFIED) and not reason:
        raise ValidationError({"reason": "Say why (marketing reads these reasons)."})
    if target == Stage.CONVERTED:
        _convert(lead, by)
    now = timezone.now()
    old = handoff.stage
    handoff.stage, handoff.stage_changed_at = target, now
    handoff.reason = reason[:300] if target in (Stage.RECYCLED, Stage.DISQUALIFIED) else ""
    handoff.save(update_fields=["stage", "stage_changed_at", "reason"])
    status = LEAD_STATUS_AFTER.get(target)
    lead.refresh_from_db()
    if status and lead.status != status and lead.status != LeadStatus.CONVERTED:
        record_changes(lead, {"status": (lead.status, status)}, by)
        Lead.objects.filter(pk=lead.pk).update(status=status, version=lead.version + 1,
                                               updated_at=now)
    message = f"{Stage(old).label} → {Stage(target).label}" + (f": {reason}" if reason else "")
    LeadEvent.objects.create(lead=lead, kind=LeadEvent.Kind.STAGE, at=now, by=by,
                             message=message[:500])
    if name == "requalify":
        route_lead(lead, by=by)
        handoff.refresh_from_db()
    else:
        notices.settle_lead(lead.pk)
    return handoff


def _convert(lead: Lead, by) -> None:
    if lead.status == LeadStatus.CONVERTED:
        return

    convert_lead(lead, by=by)


@transaction.atomic
def assign_from_queue(lead: Lead, rep: User, *, by) -> LeadHandoff:
    """Hand a queued lead to a rep by hand (a manager within their teams)."""
    require(by, "lead_queue", "assign", lead)
    if not rep.is_active:
        raise ValidationError({"rep": f"{rep} is not active."})
    # Marketing and admins work the whole queue; a manager hands leads to their teams.
    company_wide = scope_for(by, "lead_queue", "assign") == ALL
    if not company_wide and by.visible_owner_ids is not None \
            and rep.pk not in by.visible_owner_ids:
        raise PermissionDenied(f"{rep} is not in your teams.")
    handoff = LeadHandoff.objects.select_for_update().filter(lead=lead).first()
    if handoff is None or not handoff.queued:
        raise ValidationError({"lead": "This lead is not waiting in the queue."})
    now = timezone.now()
    assign(lead, handoff, rep.pk, territory_id=handoff.territory_id, by=by, now=now,
           policy=MarketingPolicy.current(), message=f"Assigned from the queue by {by}.")
    return handoff


@transaction.atomic
def add_members_by_email(campaign: Campaign, *, by, emails: list[str],
                         response: str = Response.SENT) -> tuple[int, list[str]]:
    """Add the leads (or, failing that, contacts the user may see) with these addresses;
    returns how many were added and the addresses not found."""
    access.require_manage(by)
    wanted = {e.strip().lower() for e in emails if e.strip()}
    leads = {lead.email: lead for lead in Lead.objects.filter(email__in=wanted)
             .exclude(status=LeadStatus.CONVERTED).order_by("-id")}
    contacts = {c.email: c for c in Contact.objects.visible_to(by)
                .filter(email__in=wanted - set(leads)).order_by("-id")}
    for email in wanted:
        if email in leads:
            record_response(campaign, lead=leads[email], response=response)
        elif email in contacts:
            record_response(campaign, contact=contacts[email], response=response)
    unknown = sorted(wanted - set(leads) - set(contacts))
    return len(wanted) - len(unknown), unknown
