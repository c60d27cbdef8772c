"""Every write to the selling log."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from salesplan.core.crud import create_record, delete_record, update_record
from salesplan.core.permissions import require
from salesplan.core.references import resolve_references

from .models import Activity

ACTIVITY_FIELDS = {
    "kind", "subject", "description", "due_at", "duration_minutes", "outcome", "done", "owner",
    "account", "contact", "opportunity", "lead",
}


def _fill_links(data: dict) -> dict:
    """A call on a contact or a deal also belongs to its account, so the account's
    timeline and visibility include it."""
    data = dict(data)
    if not data.get("account"):
        for link in ("opportunity", "contact"):
            linked = data.get(link)
            if linked is not None and getattr(linked, "account_id", None):
                data["account"] = linked.account
                break
    return data


def _check_links(activity: Activity) -> None:
    if not any([activity.account_id, activity.contact_id, activity.opportunity_id,
                activity.lead_id]):
        raise ValidationError({"account": "Link the activity to an account, contact, "
                                          "opportunity or lead."})
    for link in ("contact", "opportunity"):
        linked = getattr(activity, link)
        if linked is not None and activity.account_id and linked.account_id not in (
                None, activity.account_id):
            raise ValidationError({link: f"The {link} belongs to another account."})


@transaction.atomic
def log_activity(*, by, data: dict) -> Activity:
    """Plan or record a call, meeting, email, task or note."""

    data = _fill_links(resolve_references(by, data))
    if data.get("done") and not data.get("due_at"):
        data["due_at"] = timezone.now()
    activity = create_record(Activity, "activity", by=by, data=data,
                             allowed=ACTIVITY_FIELDS)
    _check_links(activity)
    if activity.done and activity.done_at is None:
        Activity.objects.filter(pk=activity.pk).update(done_at=timezone.now())
    if activity.lead_id:  # engagement counts towards the lead's score
        from salesplan.customers.services import lead_changed

        lead_changed(activity.lead_id, by=by)
    return activity


@transaction.atomic
def update_activity(activity: Activity, *, by, data: dict,
                    expected_version: int | None = None) -> dict:

    data = resolve_references(by, data)
    changes = update_record(activity, "activity", by=by, data=data, allowed=ACTIVITY_FIELDS,
                            expected_version=expected_version)
    _check_links(activity)
    if "done" in changes:
        activity.done_at = timezone.now() if activity.done else None
        activity.save(update_fields=["done_at"])
    return changes


def complete_activity(activity: Activity, *, by, outcome: str = "") -> Activity:
    require(by, "activity", "change", activity)
    data: dict = {"done": True}
    if outcome:
        data["outcome"] = outcome
    update_activity(activity, by=by, data=data)
    activity.refresh_from_db()
    return activity


def delete_activity(activity: Activity, *, by) -> None:
    delete_record(activity, "activity", by=by)
