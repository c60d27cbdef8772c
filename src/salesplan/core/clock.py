"""The company's clock: what day and time it is where the company works.

Every entry point — a request, a CLI command, a background job, a cron run, the demo —
asks this module for "today" and "now". Django's ``timezone.localdate()`` answers in
whatever zone happens to be activated in the current thread, which is the company's
only inside a web request (the middleware activates it); everywhere else it silently
falls back to UTC, so a deal won at 19:00 in Chicago would close "tomorrow". These
helpers read the company's zone themselves and never depend on activation.

The zone is remembered in this process for a few seconds (it is read on every request)
and in the shared cache for a minute; saving the company forgets both, the shared entry
again once the change commits (so no other process caches the old zone meanwhile).
Other server processes see a new zone within LOCAL_SECONDS.
"""

import time
import zoneinfo
from datetime import date, datetime
from datetime import time as dt_time

from django.apps import apps
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

LOCAL_SECONDS = 5  # other server processes see a new time zone within this long
SHARED_SECONDS = 60
_CACHE_KEY = "company-time-zone"
_local: list = [0.0, None]  # [expires at (monotonic), name]


def company_time_zone() -> str:
    """The IANA name of the company's time zone ("UTC" before a company exists)."""
    now = time.monotonic()
    if _local[1] is not None and _local[0] > now:
        return _local[1]
    name = cache.get(_CACHE_KEY)
    if name is None:
        # Looked up by label: the company is an org model, and core sits below org.
        company_model = apps.get_model("org", "Company")
        company = company_model.objects.order_by("id").only("time_zone").first()
        name = (company.time_zone if company else None) or "UTC"
        cache.set(_CACHE_KEY, name, SHARED_SECONDS)
    _local[:] = [now + LOCAL_SECONDS, name]
    return name


def forget_company_time_zone(**_signal_kwargs) -> None:
    """Drop the remembered zone (after the company's settings change)."""
    _forget_shared()
    _local[:] = [0.0, None]


def _forget_shared() -> None:
    # Again after the commit: with Redis, a process reading the company between the
    # delete and the commit would cache the old zone for a minute.
    cache.delete(_CACHE_KEY)
    if connection.in_atomic_block:
        transaction.on_commit(lambda: cache.delete(_CACHE_KEY))


def company_saved(instance=None, **_signal_kwargs) -> None:
    """A company was saved or deleted: forget the zone unless it is the one this process
    remembers (saving other settings, or creating the company in the default zone, costs
    this process no re-read). The shared entry goes either way: another process may have
    stored a zone this one has not seen yet."""
    if _local[1] is None or getattr(instance, "time_zone", None) != _local[1]:
        forget_company_time_zone()
    else:
        _forget_shared()


def company_zone() -> zoneinfo.ZoneInfo:
    """The company's time zone; an unknown name (a bad import) falls back to UTC."""
    try:
        return zoneinfo.ZoneInfo(company_time_zone())
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def company_now() -> datetime:
    """The current instant, as the company's wall clock shows it (aware)."""
    return timezone.now().astimezone(company_zone())


def company_today() -> date:
    """The company's calendar date right now: the day a deal closed today closes on."""
    return company_now().date()


def in_company_time(value: datetime) -> datetime:
    """An aware instant shown on the company's wall clock."""
    return value.astimezone(company_zone())


def company_date(value: datetime) -> date:
    """The company's calendar date on which an aware instant falls."""
    return in_company_time(value).date()


def activate_company_time_zone() -> None:
    """Make the company's zone the current one in this thread, so templates and forms
    rendered outside a request (mail, PDFs, exports in jobs) show local times too."""
    timezone.activate(company_zone())


def activate_company_time_zone_if_known() -> None:
    """For a console command: activate the company's zone when the database can say it
    (before the first migration it cannot, and the command runs in UTC)."""
    from django.db import DatabaseError

    try:
        activate_company_time_zone()
    except DatabaseError:
        _local[:] = [0.0, None]


def company_datetime(day: date, at: dt_time) -> datetime:
    """The instant at a wall-clock time on a company calendar day (aware)."""
    return timezone.make_aware(datetime.combine(day, at), company_zone())


def as_company_aware(value: datetime) -> datetime:
    """An instant typed without a zone is read on the company's wall clock."""
    return value if timezone.is_aware(value) else timezone.make_aware(value, company_zone())
