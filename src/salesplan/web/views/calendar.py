"""The personal iCalendar feed: a user's meetings and tasks, behind a secret address."""

from datetime import timedelta

from django.http import Http404, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from icalendar import Calendar, Event

from salesplan.activities.models import Activity, ActivityKind
from salesplan.core.clock import company_date, company_datetime
from salesplan.org.models import User
from salesplan.visits import selectors as visit_reads

FEED_PAST_DAYS = 90
FEED_LIMIT = 2000
DEFAULT_LENGTH: dict[str, int] = {ActivityKind.MEETING: 60, ActivityKind.TASK: 30}


def _event(activity: Activity, host: str) -> Event:
    event = Event()
    start = activity.due_at
    minutes = activity.duration_minutes or DEFAULT_LENGTH.get(activity.kind, 30)
    event.add("uid", f"activity-{activity.pk}@{host}")
    event.add("dtstamp", activity.updated_at)
    event.add("last-modified", activity.updated_at)
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(minutes=minutes))
    prefix = "" if activity.kind == ActivityKind.MEETING else "Task: "
    event.add("summary", f"{'✓ ' if activity.done else ''}{prefix}{activity.subject}")
    about = [str(r) for r in (activity.account, activity.contact, activity.opportunity,
                              activity.lead) if r is not None]
    description = "\n".join(filter(None, [" · ".join(about), activity.description]))
    if description:
        event.add("description", description)
    event.add("status", "CONFIRMED")
    event.add("transp", "OPAQUE" if activity.kind == ActivityKind.MEETING else "TRANSPARENT")
    return event


def _visit_event(visit, host: str) -> Event:
    """A planned field visit: its slot on the day, at the account's address."""
    event = Event()
    event.add("uid", f"visit-{visit.pk}@{host}")
    event.add("dtstamp", visit.updated_at)
    event.add("last-modified", visit.updated_at)
    event.add("dtstart", company_datetime(visit.day, visit.starts))
    event.add("dtend", company_datetime(visit.day, visit.ends or visit.starts))
    event.add("summary", f"Visit: {visit.account.name}")
    where = ", ".join(p for p in (visit.account.street, visit.account.city,
                                  visit.account.postal_code) if p)
    if where:
        event.add("location", where)
    event.add("status", "TENTATIVE")
    event.add("transp", "OPAQUE")
    return event


@require_GET
def calendar_feed(request, token):
    """No login: calendar apps cannot log in. The unguessable token is the key."""
    if len(token) < 20:
        raise Http404("No such calendar.")
    user = User.objects.filter(calendar_token=token, is_active=True).first()
    if user is None:
        raise Http404("No such calendar.")
    since = timezone.now() - timedelta(days=FEED_PAST_DAYS)
    activities = (Activity.objects.filter(owner=user, due_at__gte=since,
                                          kind__in=[ActivityKind.MEETING, ActivityKind.TASK])
                  .select_related("account", "contact", "opportunity", "lead")
                  .order_by("due_at", "id")[:FEED_LIMIT])
    calendar = Calendar()
    calendar.add("prodid", "-//Salesplan//Activities//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"Salesplan – {user}")
    host = request.get_host().split(":")[0] or "salesplan"
    for activity in activities:
        calendar.add_component(_event(activity, host))
    for visit in visit_reads.calendar_visits(user, company_date(since)):
        calendar.add_component(_visit_event(visit, host))
    response = HttpResponse(calendar.to_ical(), content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response
