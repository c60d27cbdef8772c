"""The lists' bulk action "add to campaign": accounts (their contacts), contacts and
leads become members of a marketing campaign, each row through `record_response` with
its own outcome (already a member, do not contact, no contacts to add)."""

from django.core.exceptions import ValidationError

from salesplan.customers.bulk import BulkAction, register_action
from salesplan.customers.models import Contact

from . import access
from .models import Campaign, CampaignMember, CampaignStatus, Response
from .services import record_response

OPEN = (CampaignStatus.PLANNED, CampaignStatus.ACTIVE)


def _clean(user, resource: str, values: dict) -> dict:
    """Only those who manage campaigns add members; the campaign must be planned or
    active, the response one of the campaign's steps."""
    access.require_manage(user)
    try:
        campaign = Campaign.objects.filter(pk=int(values.get("campaign") or 0)).first()
    except (TypeError, ValueError):
        campaign = None
    if campaign is None:
        raise ValidationError({"campaign": "Choose a campaign."})
    if campaign.status not in OPEN:
        status = campaign.get_status_display().lower()
        raise ValidationError({"campaign": f"“{campaign}” is {status}; choose a planned or "
                                           "active campaign."})
    response = str(values.get("response") or Response.SENT)
    if response not in Response.values:
        raise ValidationError({"response": "Choose one of: " + ", ".join(Response.values)})
    return {"campaign": campaign, "response": response}


def _add_contact(contact: Contact, cleaned: dict) -> bool:
    """Add one contact; False when it may not be contacted or is a member already."""
    if contact.do_not_contact:
        return False
    if CampaignMember.objects.filter(campaign=cleaned["campaign"], contact=contact).exists():
        return False
    record_response(cleaned["campaign"], contact=contact, response=cleaned["response"])
    return True


def _apply(user, resource: str, obj, cleaned: dict) -> str:
    campaign = cleaned["campaign"]
    if resource == "account":
        contacts = Contact.objects.visible_to(user).filter(account=obj).order_by("pk")
        added = sum(_add_contact(contact, cleaned) for contact in contacts)
        if not added:
            raise ValidationError("No contact of this account to add (none you may see, or "
                                  "all do-not-contact or members already).")
        return f"{added} contact{'s' if added != 1 else ''} added"
    if resource == "contact" and obj.do_not_contact:
        raise ValidationError("Marked do not contact.")
    lookup = {"lead": obj} if resource == "lead" else {"contact": obj}
    if CampaignMember.objects.filter(campaign=campaign, **lookup).exists():
        raise ValidationError("Already a member of this campaign.")
    record_response(campaign, response=cleaned["response"], **lookup)
    return ""


def register() -> None:
    register_action(BulkAction(
        "add_to_campaign", "Add to campaign", ("account", "contact", "lead"), _clean, _apply,
        before=lambda resource, obj: "",
        after=lambda user, resource, obj, cleaned: str(cleaned["campaign"])))
