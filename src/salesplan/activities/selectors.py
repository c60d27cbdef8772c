"""Reads of the selling log: lists, timelines and the rep's day."""

from datetime import time, timedelta

from django.db.models import Count, Min, QuerySet

from salesplan.core.audit import history_for
from salesplan.core.clock import company_datetime, company_now
from salesplan.pipeline.models import Opportunity, StageKind
from salesplan.pipeline.selectors import stage_history

from .filters import ACTIVITY_LIST
from .models import Activity, ActivityKind


def activity_list(user, params) -> QuerySet[Activity]:
    # The owner is prefetched, not joined (see customers.selectors).
    return ACTIVITY_LIST.apply(Activity.objects.visible_to(user), params).select_related(
        "account", "contact", "opportunity", "lead").prefetch_related("owner")


def timeline(user, record, limit: int = 100, history: list | None = None) -> list[dict]:
    """Activities and recorded changes of one record, newest first. `history`: the
    record's audit entries, newest first, when the caller has read them already (at
    least `limit` of them, or all there are)."""
    field = record._meta.model_name
    activities = (Activity.objects.visible_to(user).filter(**{field: record})
                  .select_related("owner", "contact", "opportunity")
                  .order_by("-due_at", "-id")[:limit])
    entries = [{"when": a.due_at, "kind": "activity", "activity": a} for a in activities]
    entries += [{"when": h.changed_at, "kind": "change", "change": h}
                for h in (history_for(record)[:limit] if history is None else history[:limit])]
    if isinstance(record, Opportunity):
        entries += [{"when": c.changed_at, "kind": "deal_change", "deal_change": c}
                    for c in stage_history(record)[:limit]]
    entries.sort(key=lambda e: e["when"], reverse=True)
    return entries[:limit]


def my_day(user) -> dict:
    """What a rep needs this morning: today's and overdue activities, and open deals
    with no next step."""
    now = company_now()
    start = company_datetime(now.date(), time.min)
    end = start + timedelta(days=1)
    # Only the columns the page shows (`MY_DAY_*`): up to 200 activities with four
    # related records each and 100 deals, where whole rows cost a quarter of the page's
    # reading (12 → 9 ms of CPU at 187 rows). tests/web/test_activities.py checks that
    # drawing the page reads nothing more, whatever the number of rows.
    mine = Activity.objects.filter(owner=user, done=False).select_related(
        "account", "contact", "opportunity", "lead").only(*MY_DAY_ACTIVITY)
    return {
        "today": list(mine.filter(due_at__gte=start, due_at__lt=end).order_by("due_at")[:100]),
        "overdue": list(mine.filter(due_at__lt=start).order_by("due_at")[:100]),
        "no_next_step": list(
            Opportunity.objects.filter(owner=user, status=StageKind.OPEN, next_step="")
            .select_related("account", "stage").only(*MY_DAY_DEAL)
            .order_by("close_date")[:100]),
    }


# What My day shows of an activity (its kind, subject, time and the record it is about,
# named as that record names itself) and of a deal.
MY_DAY_ACTIVITY = ("kind", "subject", "due_at", "account__name", "contact__first_name",
                   "contact__last_name", "opportunity__name", "lead__first_name",
                   "lead__last_name", "lead__company")
MY_DAY_DEAL = ("name", "account__name", "stage__name", "stage__pipeline", "currency",
               "amount", "close_date")


def overdue_follow_ups(user, owner_ids: list[int], *, limit: int = 10) -> dict:
    """Open activities of these owners due before today (the company's), that the user
    sees: per owner {owner_id: (count, oldest due)} and the `limit` oldest of them. Notes
    are records, not follow-ups, and are left out. Two queries, whatever the number."""
    start = company_datetime(company_now().date(), time.min)
    overdue = (Activity.objects.visible_to(user)
               .filter(owner_id__in=owner_ids, done=False, due_at__lt=start)
               .exclude(kind=ActivityKind.NOTE))
    per_owner = {row["owner_id"]: (row["n"], row["oldest"]) for row in
                 overdue.order_by().values("owner_id").annotate(n=Count("id"),
                                                                oldest=Min("due_at"))}
    oldest = list(overdue.select_related("owner", "account", "opportunity", "lead")
                  .order_by("due_at", "id")[:limit])
    return {"per_owner": per_owner, "oldest": oldest,
            "total": sum(n for n, _ in per_owner.values())}
