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


# My day lists this many rows of each kind, the first to act on; the counts beside them
# are of every row, and a link opens the whole list. A rep with 200 overdue tasks cannot
# work through them from the home page, and drawing 300 rows was most of its cost (36 ms
# of processor time a request at 100,000 accounts, the load test's most frequent page).
MY_DAY_SHOWN = 25


def my_day(user) -> dict:
    """What a rep needs this morning: today's and overdue activities, and open deals
    with no next step; the first `MY_DAY_SHOWN` of each, with how many there are."""
    now = company_now()
    start = company_datetime(now.date(), time.min)
    end = start + timedelta(days=1)
    # Only the columns the page shows (`MY_DAY_*`), the related records read with the row:
    # tests/web/test_activities.py checks that drawing the page reads nothing more,
    # whatever the number of rows.
    mine = Activity.objects.filter(owner=user, done=False).select_related(
        "account", "contact", "opportunity", "lead").only(*MY_DAY_ACTIVITY)
    lists = {
        "today": mine.filter(due_at__gte=start, due_at__lt=end).order_by("due_at", "id"),
        "overdue": mine.filter(due_at__lt=start).order_by("due_at", "id"),
        "no_next_step": Opportunity.objects.filter(
            owner=user, status=StageKind.OPEN, next_step="").select_related(
            "account", "stage").only(*MY_DAY_DEAL).order_by("close_date", "id"),
    }
    day: dict = {"counts": {}, "today_date": now.date()}
    for name, rows in lists.items():
        day[name] = list(rows[:MY_DAY_SHOWN])
        # Counted only when the list is full: most days it is not, and its length says it.
        day["counts"][name] = (rows.order_by().count() if len(day[name]) == MY_DAY_SHOWN
                               else len(day[name]))
    return day


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
