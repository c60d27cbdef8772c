"""A departing user's scheduled reports go to their successor: the saved report a
schedule sends (it runs as its owner, so it must run as someone who still works here)
and the schedule itself."""

from django.db.models import F

from salesplan.core import audit
from salesplan.core.handover import holding
from salesplan.core.hooks import HandoverProvider, Holding

from .models import SavedReport, ScheduledReport


def _scheduled(user):
    return SavedReport.objects.filter(owner=user, schedules__active=True).distinct()


def held(user) -> list[Holding]:
    return holding("scheduled_reports", "Scheduled reports", _scheduled(user))


def hand_over(user, successor, *, by) -> dict[str, int]:
    moved = 0
    for saved in list(_scheduled(user)):
        name = saved.name
        # The successor may already keep a report under the same name.
        if SavedReport.objects.filter(owner=successor, name=name).exists():
            name = f"{saved.name} (from {user.get_full_name() or user.username})"[:120]
        SavedReport.objects.filter(pk=saved.pk).update(owner=successor, name=name,
                                                       version=F("version") + 1)
        audit.record_changes(saved, {"owner": (user, successor)}, by)
        ScheduledReport.objects.filter(saved_report=saved, created_by=user).update(
            created_by=successor, version=F("version") + 1)
        moved += 1
    return {"scheduled_reports": moved}


provider = HandoverProvider("reports", held, hand_over)
